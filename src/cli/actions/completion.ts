import type { Command } from "commander";
import { completionScript, type Shell } from "../completion";

export async function completion(command: Command): Promise<void> {
  const [shell] = command.processedArgs as [Shell];
  let root = command;
  while (root.parent) root = root.parent;
  process.stdout.write(completionScript(root, shell));
}
