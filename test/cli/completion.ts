import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildProgram } from "../../src/cli/main";
import { concord } from "../helpers/cli";

/** Every command path of the program and its subcommand names, read from commander's public tree. */
function commandPaths(): Array<{ words: string[]; children: string[] }> {
  const out: Array<{ words: string[]; children: string[] }> = [];
  const walk = (command: ReturnType<typeof buildProgram>, words: string[]) => {
    out.push({ words, children: command.commands.map((c) => c.name()) });
    for (const sub of command.commands) walk(sub, [...words, sub.name()]);
  };
  walk(buildProgram(), []);
  return out;
}

/** Both shells are required (.ci/run installs Debian's zsh): a missing one fails the suite, it is not skipped. */
const SHELLS = ["bash", "zsh"];

describe("concord completion bash|zsh", function () {
  this.timeout(120_000);
  let dir: string;
  const scripts: Record<string, string> = {};

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-completion-"));
    fs.writeFileSync(path.join(dir, "booking-1001.intent.json"), "{}");
    for (const shell of ["bash", "zsh"]) {
      const run = await concord(["completion", shell]);
      expect(run.code, run.stderr).to.equal(0);
      scripts[shell] = path.join(dir, `concord.${shell}`);
      fs.writeFileSync(scripts[shell]!, run.stdout);
    }
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What bash offers for `words` (the last one being completed): the script sourced, its function called as `complete -F` would. */
  const bashOffers = (words: string[]): string[] => {
    const array = words.map((w) => `'${w}'`).join(" ");
    const script = `source '${scripts.bash}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _concord_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const run = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8" });
    expect(run.status, run.stderr).to.equal(0);
    return run.stdout.split("\n").filter(Boolean);
  };
  /** What zsh offers: the script sourced with compadd, compdef and _files stubbed (zsh filters by prefix itself). */
  const zshOffers = (words: string[]): string[] => {
    const array = words.map((w) => `'${w}'`).join(" ");
    const script = `compdef() {}; compadd() { print -rl -- "\${@:2}" }; _files() { print -r -- '<files>' }; source '${scripts.zsh}'; words=(${array}); CURRENT=${words.length}; _concord_complete`;
    const run = spawnSync("zsh", ["-f", "-c", script], { cwd: dir, encoding: "utf8" });
    expect(run.status, run.stderr).to.equal(0);
    const last = words.at(-1)!;
    return run.stdout.split("\n").filter(Boolean).filter((w) => w === "<files>" || w.startsWith(last));
  };

  it("prints scripts the shells parse (bash -n, zsh -n)", function () {
    for (const shell of SHELLS) {
      const run = spawnSync(shell, ["-n", scripts[shell]!], { encoding: "utf8" });
      expect(run.status, `${shell}: ${run.stderr}`).to.equal(0);
    }
  });

  const cases: Array<{ typed: string[]; offers: string[]; exactly?: boolean }> = [
    { typed: ["concord", "agr"], offers: ["agreement"], exactly: true },
    { typed: ["concord", "w"], offers: ["wallet", "withdraw"], exactly: true },
    { typed: ["concord", "wallet", ""], offers: ["new", "import", "address", "--help"] },
    { typed: ["concord", "agreement", "s"], offers: ["sign", "show"], exactly: true },
    // Options and their values before the command do not hide it.
    { typed: ["concord", "--account", "1", "agreement", "pro"], offers: ["propose"], exactly: true },
    { typed: ["concord", "negotiate", "agent", "--tac"], offers: ["--tactic"], exactly: true },
    { typed: ["concord", "settle", "--order-"], offers: ["--order-id", "--order-ref"], exactly: true },
    // Each command offers the shared options too.
    { typed: ["concord", "audit", "report", "--c"], offers: ["--chain-id", "--confirmations", "--csv"], exactly: true },
    { typed: ["concord", "completion", "--h"], offers: ["--help"], exactly: true },
  ];
  for (const c of cases) {
    it(`completes "${c.typed.slice(1).join(" ")}" to ${c.offers.join(", ")} in bash and zsh`, function () {
      for (const offers of [bashOffers, zshOffers]) {
        const got = offers(c.typed);
        if (c.exactly) expect([...got].sort()).to.deep.equal([...c.offers].sort());
        else expect(got).to.include.members(c.offers);
      }
    });
  }

  it("offers file names after an option that takes a value", function () {
    expect(bashOffers(["concord", "settle", "--intent", "book"])).to.deep.equal(["booking-1001.intent.json"]);
    expect(zshOffers(["concord", "settle", "--intent", ""])).to.deep.equal(["<files>"]);
  });

  it("knows every command of the program: each path completes to its subcommands", function () {
    for (const { words, children } of commandPaths()) {
      if (children.length === 0) continue;
      expect(bashOffers(["concord", ...words, ""]), words.join(" ")).to.include.members(children);
      expect(zshOffers(["concord", ...words, ""]), words.join(" ")).to.include.members(children);
    }
  });

  it("completes in an interactive zsh: compinit, the script sourced, a Tab typed (zsh/zpty)", function () {
    for (const [typed, completed] of [["concord wall", "concord wallet"], ["concord agreement acti", "concord agreement activate"], ["concord --json audit rep", "concord --json audit report"]]) {
      const session = [
        "zmodload zsh/zpty",
        "zpty z 'zsh -f -i'",
        `zpty -w z 'PS1="> "; autoload -U compinit; compinit -u -D; source ${scripts.zsh}'`,
        `zpty -w -n z $'${typed}\\t'`,
        "sleep 1",
        `zpty -w -n z $'\\C-e\\C-u print -r -- END-OF-TEST\\n'`,
        "sleep 1",
        'out=""; while zpty -r -t z line; do out+="$line"; done; print -r -- "$out"; zpty -d z',
      ].join("\n");
      // spawnSync stops the shell by its pid if it outlives the timeout.
      const run = spawnSync("zsh", ["-f", "-c", session], { cwd: dir, encoding: "utf8", timeout: 30_000 });
      expect(run.stdout).to.include("END-OF-TEST");
      // The line as zsh redrew it after the Tab, terminal escapes removed.
      expect(run.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]|[\b\r]/g, "")).to.include(`${completed} `);
    }
  });

  it("refuses a shell it has no script for (exit 2)", async function () {
    const run = await concord(["completion", "fish"]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/'fish' is invalid for argument 'shell'\. Allowed choices are bash, zsh/);
  });
});
