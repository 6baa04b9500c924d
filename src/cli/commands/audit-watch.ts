/**
 * `concord audit watch`: follows the chain live through the auditor's `watch` (src/audit/watch.ts)
 * and prints one line per settlement, reorganisation and law violation, or one JSON object per
 * line with --json-lines. Ctrl-C (or SIGTERM) stops after the step in flight.
 */
import { Command } from "commander";
import type { Address, PublicClient, Transport } from "viem";
import { watch, type AuditParameters, type SettlementLanded } from "../../audit";
import type { GlobalOptions } from "../context";
import { ExitCode, UsageError } from "../errors";
import { toJsonLine as toJson } from "../output";
import { examples, optionsOf } from "./shared";

type Formatter = (token: Address, amount: bigint) => string;

/** What `concord audit`'s shared option handling gives a command (src/cli/commands/audit.ts). */
export type AuditSetup = (o: GlobalOptions & { dataDir?: string; databaseUrl?: string }) => Promise<{
  parameters: Omit<AuditParameters, "onEvents">;
  amountFormatter: (tokens: Iterable<Address>) => Promise<Formatter>;
  transport: Transport;
  publicClient: PublicClient;
}>;

type WatchOptions = { interval: string; jsonLines?: boolean; dataDir?: string; databaseUrl?: string };

const short = (address: string) => `${address.slice(0, 8)}…${address.slice(-4)}`;

function settlementLine(s: SettlementLanded, format: Formatter): string {
  const parts = [
    `settled in block ${s.blockNumber}`,
    `agreement ${s.agreementId} v${s.version}`,
    `${format(s.token, s.gross)} from ${short(s.payer)}`,
    s.referralFee > 0n ? `referral fee ${format(s.token, s.referralFee)} to ${short(s.referrer)}` : "no referral fee",
    s.reserve > 0n ? `reserve ${format(s.token, s.reserve)}` : "no reserve",
    `tx ${short(s.transactionHash)}`,
  ];
  return parts.join(", ");
}

export function watchCommand(setup: AuditSetup): Command {
  const command = new Command("watch")
    .description("follow the chain live: apply each new block, check every law, roll back reorganisations, one line per settlement (Ctrl-C stops; the store stays consistent)")
    .option("--interval <ms>", "polling interval in milliseconds (over ws:// the node's newHeads subscription wakes the watch)", "1000")
    .option("--json-lines", "one JSON object per line: synced, settlement, reorganisation, violation, stopped");
  examples(command, [
    "concord audit watch --rpc-url http://127.0.0.1:8545",
    "concord audit watch --rpc-url ws://127.0.0.1:8545 --json-lines",
    "concord audit watch --database-url postgres://auditor@db.internal/concord",
  ]);
  return command.action(async (_o, cmd: Command) => {
    const o = optionsOf<WatchOptions>(cmd);
    const intervalMs = Number(o.interval);
    if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 3_600_000) {
      throw new UsageError(`--interval "${o.interval}" is not a whole number of milliseconds between 10 and 3600000`);
    }
    const { parameters, amountFormatter, transport, publicClient } = await setup(o);
    const jsonLines = o.jsonLines === true;
    const write = (line: string) => void process.stdout.write(`${line}\n`);
    // Token symbols are read once per token, in order: lines are printed as their promises settle.
    const formats = new Map<string, Promise<Formatter>>();
    const formatterFor = (token: Address) => {
      let f = formats.get(token);
      if (!f) formats.set(token, (f = amountFormatter([token])));
      return f;
    };
    let printing = Promise.resolve();
    const print = (line: () => string | Promise<string>) => {
      printing = printing.then(async () => write(await line()));
    };

    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      const result = await watch({
        ...parameters,
        transport,
        intervalMs,
        signal: controller.signal,
        onCaughtUp: (r) =>
          print(() =>
            jsonLines
              ? toJson({ type: "synced", toBlock: r.toBlock, events: r.storedEvents + r.newEvents, violations: r.violations.length })
              : `synced to block ${r.toBlock} (${r.storedEvents + r.newEvents} events); watching for new blocks, Ctrl-C to stop`,
          ),
        onSettlement: (s) => print(async () => (jsonLines ? toJson({ type: "settlement", ...s }) : settlementLine(s, await formatterFor(s.token)))),
        onReorg: (r) =>
          print(() =>
            jsonLines
              ? toJson({ type: "reorganisation", storedBlock: r.storedCursor.blockNumber, rolledBackTo: r.rolledBackTo, removedEvents: r.removedEvents })
              : `reorganisation: block ${r.storedCursor.blockNumber} is no longer on the chain; rolled back to block ${r.rolledBackTo}, removed ${r.removedEvents} events`,
          ),
        onViolation: (v) => print(() => (jsonLines ? toJson({ type: "violation", ...v }) : `VIOLATION (${v.law}): ${v.message}`)),
        onError: (error) => process.stderr.write(`watch: ${(error as Error).message.split("\n")[0]} (retrying at the next block)\n`),
      });
      await printing;
      write(jsonLines ? toJson({ type: "stopped", toBlock: result.last.toBlock, settlements: result.settlements }) : `stopped at block ${result.last.toBlock} after ${result.settlements} new settlements; the store is consistent`);
      if (result.violations.length > 0) process.exitCode = ExitCode.Mismatch;
    } finally {
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
      // A WebSocket keeps the process alive until closed.
      const value = (publicClient.transport as { getRpcClient?: () => Promise<{ close: () => void }> }).getRpcClient;
      if (value) (await value()).close();
    }
  });
}
