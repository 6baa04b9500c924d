/** The examples that each command's --help prints, read from the program in process. */
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/main";

/** Every command of a program with its path from the root (["agreement", "sign"]; [] for the root). */
export function commandsOf(root: Command): Array<{ path: string[]; command: Command }> {
  const out: Array<{ path: string[]; command: Command }> = [];
  const walk = (command: Command, path: string[]) => {
    out.push({ path, command });
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(root, []);
  return out;
}

/** A command's --help as printed (its "after" text, the examples, included), captured through commander's output hooks. */
export function helpOf(command: Command): string {
  let text = "";
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

/** A command's example lines as a reader would paste them (the "  $ " prompt removed). */
export function exampleLines(help: string): string[] {
  const examples = help.split("\nExamples:\n")[1] ?? "";
  return examples
    .split("\n")
    .filter((l) => l.trimStart().startsWith("$ "))
    .map((l) => l.trim().slice(2));
}

/** The examples of every command of the `concord` program, by command path ("agreement sign"). */
export function allExamples(): Array<{ path: string; lines: string[] }> {
  return commandsOf(buildProgram()).map(({ path, command }) => ({ path: path.join(" "), lines: exampleLines(helpOf(command)) }));
}

/** The commands that only read the chain: their examples run after the README's walkthrough (test/readme.ts); every other command's run in test/cli/writeExamples.ts. */
export const CHAIN_READS = ["agreement show", "agreement list", "agreement history", "negotiate show", "quote", "balance", "risk", "reserve show", "audit sync", "audit verify", "audit report"];
