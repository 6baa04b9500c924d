import { expect } from "chai";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/main";

/** Every command of the program with its path from the root ("agreement sign"). */
function commands(root: Command): Array<{ path: string[]; command: Command }> {
  const out: Array<{ path: string[]; command: Command }> = [];
  const walk = (command: Command, path: string[]) => {
    out.push({ path, command });
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(root, []);
  return out;
}

/** A command's --help as printed (its "after" text, the examples, included), captured through commander's output hooks. */
function helpOf(command: Command): string {
  let text = "";
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

/**
 * The concord arguments of each example line ("  $ concord …"): the words after `concord` up to a
 * shell operator or a comment (`| tee`, `&& echo`, `> file`, `< file`, `)` of `<(…)`, `#`).
 */
function exampleArgs(help: string): Array<{ line: string; args: string[] }> {
  const examples = help.split("\nExamples:\n")[1] ?? "";
  return examples
    .split("\n")
    .filter((l) => l.trimStart().startsWith("$ "))
    .map((l) => {
      const line = l.trim().slice(2);
      const at = line.search(/(^|[\s(])concord\s/);
      const rest = line.slice(line.indexOf("concord", at) + "concord".length);
      const words = rest.split(/\s(?:\||&&|>|<|#)|\)/)[0]!.trim().split(/\s+/).filter(Boolean);
      return { line, args: words };
    });
}

describe("every example in --help is a valid command line", function () {
  const all = commands(buildProgram()).map(({ path, command }) => ({ path, examples: exampleArgs(helpOf(command)) }));

  it("every command that runs something has examples", function () {
    const leaves = commands(buildProgram()).filter(({ command }) => command.commands.length === 0);
    const without = leaves.filter(({ path }) => all.find((a) => a.path.join(" ") === path.join(" "))!.examples.length === 0).map(({ path }) => path.join(" "));
    expect(without).to.deep.equal([]);
  });

  for (const { path, examples } of all) {
    for (const { line, args } of examples) {
      it(`${path.join(" ") || "concord"}: ${line}`, async function () {
        // A fresh program whose actions only record what commander parsed: options, arguments and
        // choices are checked as when the example runs, and nothing is sent.
        const program = buildProgram({ json: true });
        let ran: string | undefined;
        for (const { path: p, command } of commands(program)) {
          if (command.commands.length === 0) command.action(() => void (ran = p.join(" ")));
        }
        await program.parseAsync(["node", "concord", ...args]);
        expect(ran, `${line} ran no command`).to.equal(path.join(" "));
        // Placeholders a reader must replace are written as such (0xHotel, 1234…), never as something that looks real.
        expect(args.join(" ")).to.not.match(/\b0x[0-9a-fA-F]{1,39}\b(?![0-9a-fA-F…])/);
      });
    }
  }
});
