import { Command, CommanderError, Option } from "commander";
import { ConcordError, ContractRevertError, InvalidInputError, RpcError, DeploymentNotFoundError } from "../sdk";
import { agreementCommand } from "./commands/agreement";
import { auditCommand } from "./commands/audit";
import { deployCommand } from "./commands/deploy";
import { moneyCommands } from "./commands/money";
import { negotiateCommand } from "./commands/negotiate";
import { reserveCommands } from "./commands/reserve";
import { settleCommands } from "./commands/settle";
import { DEFAULT_RPC_URL } from "./context";
import { ChainError, ExitCode, UsageError, redactSecrets } from "./errors";

const HELP_FOOTER = `
Keys (commands that sign): --keystore FILE with --password-file FILE (or a prompt on a terminal),
  or CONCORD_PRIVATE_KEY, or --account N for an unlocked account of a local dev chain. Keys are never printed.
Addresses: read from deploy/deployments/chain-<id>/deployed_addresses.json, or --registry and --ledger.
Exit codes: 0 success; 1 chain-side failure (RPC down, transaction reverted); 2 bad usage or input (nothing sent);
  3 negotiate agent: the negotiation ended without agreement; 4 audit verify found a difference;
  5 negotiate agent stopped by --max-wait; 130 / 143 negotiate agent stopped by SIGINT / SIGTERM.
`;

/** The `concord` program (exported for tests and --help). */
export function buildProgram(): Command {
  const program = new Command("concord")
    .description("Concord: revenue sharing on an EVM ledger. Propose, negotiate, sign, settle, withdraw and audit.")
    .version("0.1.0")
    .addOption(new Option("--rpc-url <url>", "JSON-RPC endpoint").env("CONCORD_RPC_URL").default(DEFAULT_RPC_URL))
    .option("--chain-id <id>", "fail unless the node is on this chain")
    .option("--registry <address>", "AgreementRegistry address (default: the recorded deployment)")
    .option("--ledger <address>", "SettlementLedger address (default: the recorded deployment)")
    .option("--keystore <file>", "encrypted JSON keystore of the signing account")
    .option("--password-file <file>", "file holding the keystore password")
    .option("--account <n|address>", "an unlocked account of a local dev chain, by index or address")
    .option("--json", "print one JSON document (amounts as decimal strings)")
    .addHelpText("after", HELP_FOOTER)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.addCommand(deployCommand());
  program.addCommand(agreementCommand());
  program.addCommand(negotiateCommand());
  for (const command of [...settleCommands(), ...reserveCommands(), ...moneyCommands()]) program.addCommand(command);
  program.addCommand(auditCommand());
  // Every subcommand throws instead of exiting, so that main() maps errors to exit codes.
  const override = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Maps an error to a one-line message and an exit code. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CommanderError) return { message: "", exitCode: error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage };
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

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    const { message, exitCode } = describeError(error);
    if (message) process.stderr.write(`error: ${redactSecrets(message)}\n`);
    process.exitCode = exitCode;
  }
}
