/**
 * `concord audit watch`: follows the chain live through the auditor's `watch` (src/audit/watch.ts)
 * and prints one line per settlement, reorganisation and law violation, or one JSON object per
 * line with --json-lines. Ctrl-C (or SIGTERM) stops after the step in flight.
 */
import type { Command } from "commander";
import type { Address } from "viem";
import { watch, type SettlementLanded } from "../../audit";
import { ExitCode, UsageError } from "../errors";
import { optionsOf } from "../options";
import { toJsonLine as toJson } from "../output";
import { auditParameters } from "./audit";

type Formatter = (token: Address, amount: bigint) => string;

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

/** `concord audit watch` (its options are defined in src/cli/commands/audit.ts). */
export async function watchStore(cmd: Command): Promise<void> {
  const o = optionsOf<WatchOptions>(cmd);
  const intervalMs = Number(o.interval);
  if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 3_600_000) {
    throw new UsageError(`--interval "${o.interval}" is not a whole number of milliseconds between 10 and 3600000`);
  }
  const { parameters, amountFormatter, transport, publicClient } = await auditParameters(o);
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
}
