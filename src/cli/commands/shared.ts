import type { Command } from "commander";
import type { GlobalOptions } from "../context";

/** The global options of the root program, merged with a command's own options. */
export function optionsOf<T extends object>(command: Command): GlobalOptions & T {
  return command.optsWithGlobals() as GlobalOptions & T;
}

/** Adds a block of examples to a command's --help. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText("after", `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`);
}
