/**
 * The options every command shares, and how a command reads them. This file and the command
 * definitions (src/cli/commands) import nothing but commander: `concord --help` and `--version`
 * load no SDK, no viem. Each command's action is loaded when it runs ({@link lazyAction}).
 */
import { Option, type Command } from "commander";

/** The options every command shares (see `concord --help`), after {@link optionsOf} resolved them. */
export type GlobalOptions = {
  rpcUrl: string;
  chainId?: string;
  registry?: string;
  ledger?: string;
  keystore?: string;
  passwordFile?: string;
  account?: string;
  json?: boolean;
  dryRun?: boolean;
  /** Write the call to this file (a Safe Transaction Builder batch) instead of sending it. */
  prepare?: string;
  /** The contract wallet a --prepare'd call is for. */
  from?: string;
};

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

/** Where --rpc-url comes from when it is not given, in order. */
export const RPC_URL_ENV = ["CONCORD_RPC_URL", "ETH_RPC_URL"] as const;

const GLOBAL_GROUP = "Global options:";

/** Fresh Option objects for the shared options (commander keeps one Option per command). */
export function globalOptions(): Option[] {
  return [
    new Option("--rpc-url <url>", `JSON-RPC endpoint, http(s):// or ws(s):// (default: $${RPC_URL_ENV.join(", then $")}, then ${DEFAULT_RPC_URL})`),
    new Option("--chain-id <id>", "fail unless the node is on this chain"),
    new Option("--registry <address>", "AgreementRegistry address (default: the recorded deployment)"),
    new Option("--ledger <address>", "SettlementLedger address (default: the recorded deployment)"),
    new Option("--keystore <file>", "encrypted JSON keystore of the signing account (concord wallet new)"),
    new Option("--password-file <file>", "file holding the keystore password (default: a prompt on a terminal)"),
    new Option("--account <n|address>", "an unlocked account of a local dev chain, by index or address"),
    new Option("--json", "print one JSON document (errors too, on standard error)"),
  ].map((o) => o.helpGroup(GLOBAL_GROUP));
}

/** Adds the shared options to a command, so that they are accepted after it and shown in its --help. */
export function withGlobalOptions(command: Command): Command {
  for (const option of globalOptions()) command.addOption(option);
  return command;
}

/** Adds --dry-run, --prepare and --from to a command that sends a transaction. */
export function writes(command: Command): Command {
  return command
    .option("--dry-run", "simulate and print what would be sent; send nothing")
    .option("--prepare <file>", "simulate, then write the call to FILE as a Safe Transaction Builder batch (JSON) for a multisig or relayer to execute; send nothing")
    .option("--from <address>", "with --prepare: the contract wallet (a multisig) the call is for; it is simulated as that address, no key needed");
}

/**
 * A command's own options merged with those given to its parents (`concord --account 1 settle ...`
 * and `concord settle ... --account 1` are the same), and --rpc-url resolved from the environment.
 */
export function optionsOf<T extends object>(command: Command): GlobalOptions & T {
  const merged: Record<string, unknown> = {};
  const chain: Command[] = [];
  for (let c: Command | null = command; c; c = c.parent) chain.unshift(c);
  for (const c of chain) {
    for (const [key, value] of Object.entries(c.opts())) if (value !== undefined) merged[key] = value;
  }
  const fromEnv = RPC_URL_ENV.map((name) => process.env[name]).find((v) => v !== undefined && v !== "");
  merged.rpcUrl ??= fromEnv ?? DEFAULT_RPC_URL;
  return merged as GlobalOptions & T;
}

/** Adds a block of examples to a command's --help. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText("after", `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`);
}

/** What an action module exports per command: it reads its arguments from `command.processedArgs`. */
export type CommandAction = (command: Command) => Promise<void>;

/**
 * An action loaded when its command runs: `load` is `() => import("../actions/x")`, so that the
 * SDK (and viem) load only for the command that needs them.
 */
export function lazyAction<M extends Record<K, CommandAction>, K extends keyof M & string>(load: () => Promise<M>, name: K) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const action = (await load())[name];
    await action(command);
  };
}
