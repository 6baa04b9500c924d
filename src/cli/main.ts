import fs from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { ConcordError, ContractRevertError, DeploymentNotFoundError, InvalidInputError, RpcError } from "../sdk/errors/base";
import { agreementCommand } from "./commands/agreement";
import { auditCommand } from "./commands/audit";
import { completionCommand } from "./commands/completion";
import { deployCommand } from "./commands/deploy";
import { moneyCommands } from "./commands/money";
import { negotiateCommand } from "./commands/negotiate";
import { reserveCommands } from "./commands/reserve";
import { settleCommands } from "./commands/settle";
import { walletCommand } from "./commands/wallet";
import { ChainError, ExitCode, UsageError, dryRunOf, redactSecrets, type WouldSend } from "./errors";
import { toJson, toJsonLine } from "./output";
import { globalOptions, withGlobalOptions } from "./options";

const HELP_FOOTER = `
Keys (commands that sign): exactly one of --keystore FILE (with --password-file FILE, or a prompt on a
  terminal; concord wallet new|import writes one), CONCORD_PRIVATE_KEY, or --account N for an unlocked account of a
  local dev chain. Keys are never printed.
Completion: source <(concord completion bash), or concord completion zsh.
Examples: $HOTEL, $RESTAURANT, $AIRLINE and $TRAVEL_SITE are the README walkthrough's accounts; … marks a value to fill in.
Addresses: read from deploy/deployments/chain-<id>/deployed_addresses.json, or --registry and --ledger.
Exit codes: 0 success; 1 chain-side failure (RPC down, transaction reverted); 2 bad usage or input (nothing sent);
  3 negotiate agent: the negotiation ended without agreement; 4 audit verify found a difference;
  5 negotiate agent stopped by --max-wait; 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM.
`;

/** The package's version, read once from package.json (beside src/ and dist/). */
function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }).version;
}

/**
 * The `concord` program (exported for tests and --help). Building it loads only commander: each
 * command's action, and the SDK with it, is loaded when that command runs.
 *
 * The root's options count only before the command (`enablePositionalOptions`), and every command
 * has the shared options of its own: `concord agreement sign 1 --version 2` is the command's
 * --version, never the program's, and each command's --help lists the shared options.
 */
export function buildProgram(options: { json?: boolean } = {}): Command {
  const program = new Command("concord")
    .description("Concord: revenue sharing on an EVM ledger. Propose, negotiate, sign, settle, withdraw and audit.")
    .version(packageVersion(), "-V, --version")
    .enablePositionalOptions()
    .addHelpText("after", HELP_FOOTER);
  for (const option of globalOptions()) program.addOption(option);
  program.addCommand(deployCommand());
  program.addCommand(agreementCommand());
  program.addCommand(negotiateCommand());
  for (const command of [...settleCommands(), ...reserveCommands(), ...moneyCommands()]) program.addCommand(command);
  program.addCommand(auditCommand());
  program.addCommand(walletCommand());
  program.addCommand(completionCommand());
  // Every command throws instead of exiting, so that main() maps errors to exit codes; with --json,
  // commander's own error lines are left to main(), which prints them as JSON.
  const configure = (c: Command) => {
    c.exitOverride();
    if (options.json) c.configureOutput({ outputError: () => undefined });
    else c.showHelpAfterError("(run with --help for usage)");
    if (c.commands.length === 0 && c !== program) withGlobalOptions(c);
    c.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Maps an error to a one-line message and an exit code. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CommanderError) {
    return { message: error.message.replace(/^error: /, ""), exitCode: error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage };
  }
  if (error instanceof UsageError || error instanceof ChainError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof InvalidInputError || error instanceof DeploymentNotFoundError) return { message: error.shortMessage, exitCode: ExitCode.Usage };
  // A revert found while simulating: nothing was sent, the input was wrong for the chain's state.
  if (error instanceof ContractRevertError) {
    const sent = /transaction 0x[0-9a-f]{64}/i.test(error.shortMessage);
    return { message: error.shortMessage, exitCode: sent ? ExitCode.Failure : ExitCode.Usage };
  }
  if (error instanceof RpcError) return { message: error.shortMessage, exitCode: ExitCode.Failure };
  if (error instanceof ConcordError) return { message: error.shortMessage, exitCode: ExitCode.Failure };
  return { message: error instanceof Error ? error.message.split("\n")[0]! : String(error), exitCode: ExitCode.Failure };
}

const EXIT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ExitCode).map(([name, code]) => [code, name.replace(/[A-Z]/g, (c, i) => `${i ? "-" : ""}${c.toLowerCase()}`)]));

/** The JSON document of a failed command (on standard error, with --json). */
export function errorDocument(message: string, exitCode: number): { schema: number; error: { code: number; kind: string; message: string } } {
  return { schema: 1, error: { code: exitCode, kind: EXIT_NAMES[exitCode] ?? "signal", message } };
}

/** A closed pipe (`concord --help | head -1`) ends the program quietly: the reader wanted no more. */
let pipesWatched = false;
function exitQuietlyOnClosedPipe(): void {
  if (pipesWatched) return;
  pipesWatched = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
      throw error;
    });
  }
}

/** Prints what a --dry-run write would have sent (it was simulated; nothing was signed or sent). */
function printDryRun(call: WouldSend, json: boolean): void {
  const wouldSend = { to: call.to, functionName: call.functionName, args: call.args, value: call.value, gas: call.gas ?? null };
  process.stdout.write(
    json
      ? `${toJson({ schema: 1, dryRun: true, signer: call.from, wouldSend })}\n`
      : `dry run, nothing sent: ${call.from} would call ${call.functionName}(${call.args.map((a) => toJsonLine(a)).join(", ")}) on ${call.to}` +
          `${call.value ? ` with ${call.value} wei` : ""}; the simulation passed${call.gas ? `, gas ${call.gas.toLocaleString("en-US")}` : ""}\n`,
  );
}

export async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe();
  const json = argv.slice(2).includes("--json");
  try {
    await buildProgram({ json }).parseAsync(argv);
  } catch (error) {
    const dryRun = dryRunOf(error);
    if (dryRun?.prepareFile) {
      try {
        (await import("./prepared")).writePrepared(dryRun.prepareFile, dryRun.call, json);
        process.exitCode = ExitCode.Ok;
        return;
      } catch (writeError) {
        error = new UsageError(`--prepare ${dryRun.prepareFile}: cannot write it (${(writeError as Error).message})`);
      }
    } else if (dryRun) {
      printDryRun(dryRun.call, json);
      process.exitCode = ExitCode.Ok;
      return;
    }
    const { message, exitCode } = describeError(error);
    const printed = error instanceof CommanderError && !json;
    if (message && exitCode !== ExitCode.Ok && !printed) {
      const text = redactSecrets(message);
      process.stderr.write(json ? `${JSON.stringify(errorDocument(text, exitCode))}\n` : `error: ${text}\n`);
    }
    process.exitCode = exitCode;
  }
}
