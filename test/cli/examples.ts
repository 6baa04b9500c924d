import { expect } from "chai";
import { buildProgram } from "../../src/cli/main";
import { allExamples, commandsOf as commands } from "../helpers/helpExamples";

/**
 * The concord arguments of each example line ("  $ concord …"): the words after `concord` up to a
 * shell operator or a comment (`| tee`, `&& echo`, `> file`, `< file`, `)` of `<(…)`, `#`).
 */
function exampleArgs(lines: string[]): Array<{ line: string; args: string[] }> {
  return lines.map((line) => {
    const at = line.search(/(^|[\s(])concord\s/);
    const rest = line.slice(line.indexOf("concord", at) + "concord".length);
    const words = rest.split(/\s(?:\||&&|>|<|#)|\)/)[0]!.trim().split(/\s+/).filter(Boolean);
    return { line, args: words };
  });
}

describe("every example in --help is a valid command line", function () {
  const all = allExamples().map(({ path, lines }) => ({ path: path ? path.split(" ") : [], examples: exampleArgs(lines) }));

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
