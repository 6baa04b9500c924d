/**
 * Shell completion scripts generated from the program's command tree, through commander's public
 * fields only (`commands`, `options`, `name()`): the scripts hold, for each command path, the
 * words that may follow it (its subcommands and options), and the options that take a value (after
 * which file names are offered).
 */
import type { Command, Option } from "commander";

export const SHELLS = ["bash", "zsh"] as const;
export type Shell = (typeof SHELLS)[number];

/** One command of the tree: its path from the root ("" for the root), the words that may follow it, and its options that take a value. */
type Node = { path: string; words: string[]; values: string[] };

const visible = (options: readonly Option[]) => options.filter((o) => !o.hidden);
const flagsOf = (o: Option) => [o.long, o.short].filter((f): f is string => Boolean(f));

function walk(command: Command, path: string, out: Node[]): Node[] {
  const options = visible(command.options);
  const words = [...command.commands.map((c) => c.name()), ...options.flatMap(flagsOf), "--help"];
  // Options that take a value (`--out <file>`, `--account <n|address>`): file names are offered after them.
  const values = options.filter((o) => o.required || o.optional).flatMap(flagsOf);
  out.push({ path, words: [...new Set(words)], values });
  for (const sub of command.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name(), out);
  return out;
}

/** Single-quotes a word for the shell (the tree's names and flags hold no quote, but a path may). */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** The bash script: `source <(concord completion bash)`; the function is `_<name>_complete`. */
function bashScript(root: Command): string {
  const name = root.name();
  const fn = `_${name}_complete`;
  const nodes = walk(root, "", []);
  const cases = nodes.map((n) => `    ${quote(n.path)}) words=${quote(n.words.join(" "))} values=${quote(` ${n.values.join(" ")} `)} ;;`).join("\n");
  return `# bash completion for ${name}: source <(${name} completion bash), or save it in ~/.local/share/bash-completion/completions/${name}
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" candidate words="" values="" i
  (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for (( i = 1; i < COMP_CWORD; i++ )); do
    [[ "\${COMP_WORDS[i]}" == -* ]] && continue
    candidate="\${path:+$path }\${COMP_WORDS[i]}"
    case "$candidate" in
${nodes.filter((n) => n.path).map((n) => `      ${quote(n.path)}) path="$candidate" ;;`).join("\n")}
    esac
  done
  case "$path" in
${cases}
  esac
  if [[ "$prev" == -* && "$values" == *" $prev "* ]]; then
    COMPREPLY=( $(compgen -f -- "$cur") )
    return 0
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F ${fn} ${name}
`;
}

/** The zsh script: `source <(concord completion zsh)` after compinit, or saved as _<name> in $fpath. */
function zshScript(root: Command): string {
  const name = root.name();
  const fn = `_${name}_complete`;
  const nodes = walk(root, "", []);
  return `#compdef ${name}
# zsh completion for ${name}: source <(${name} completion zsh) after compinit, or save it as _${name} in a folder of $fpath
typeset -gA ${fn}_words
${fn}_words=(
${nodes.map((n) => `  ${quote(n.path)} ${quote(n.words.join(" "))}`).join("\n")}
)
typeset -gA ${fn}_values
${fn}_values=(
${nodes.map((n) => `  ${quote(n.path)} ${quote(` ${n.values.join(" ")} `)}`).join("\n")}
)
${fn}() {
  local path_="" candidate i
  for (( i = 2; i < CURRENT; i++ )); do
    [[ "\${words[i]}" == -* ]] && continue
    candidate="\${path_:+$path_ }\${words[i]}"
    (( \${+${fn}_words[$candidate]} )) && path_="$candidate"
  done
  if [[ "\${words[CURRENT-1]}" == -* && "\${${fn}_values[$path_]}" == *" \${words[CURRENT-1]} "* ]]; then
    _files
    return
  fi
  compadd -- \${=${fn}_words[$path_]}
}
# Autoloaded from $fpath as _${name}: complete now (compinit has bound it already); sourced: bind it.
if [[ "\${funcstack[1]}" == "_${name}" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

/** The completion script of `shell` for the program `root`. */
export function completionScript(root: Command, shell: Shell): string {
  return shell === "bash" ? bashScript(root) : zshScript(root);
}
