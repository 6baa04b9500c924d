import { Argument, Command } from "commander";
import { examples, lazyAction } from "../options";

export function completionCommand(): Command {
  return examples(
    new Command("completion")
      .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh"]))
      .description("print a shell completion script for concord's commands and options"),
    [
      "source <(concord completion bash)   # in ~/.bashrc",
      "concord completion zsh > \"${fpath[1]}/_concord\"   # zsh, then start a new shell",
    ],
  ).action(lazyAction(() => import("../actions/completion"), "completion"));
}
