/**
 * One measured run of scripts/bench-audit-scale.ts, in its own process so that its resident
 * memory is its own: `verify` (sync over HTTP into a fresh store, then reconcile with the chain)
 * of the history the parent built. Prints one JSON line: events, seconds, events/s, RSS when
 * the sync had stored 100,000 events, the peak after, and the growth between them.
 *
 *   node --require ts-node/register/transpile-only scripts/bench-audit-measure.ts '{"rpcUrl":…,"ledger":…,"fromBlock":…,"databaseUrl"|"dataDir":…}'
 */
import { createPublicClient, http, type Address } from "viem";
import { verify } from "../src/audit";

type Options = { rpcUrl: string; ledger: Address; fromBlock: string; databaseUrl?: string; dataDir?: string; mark?: number };

async function main() {
  const options = JSON.parse(process.argv[2]!) as Options;
  const mark = options.mark ?? 100_000;
  const mb = () => process.memoryUsage().rss / 2 ** 20;
  let atMark: number | undefined;
  let peak = 0;
  // Resident memory and live heap every `mark` events (stderr): how the growth spreads over the sync.
  const checkpoints: { events: number; rssMB: number; heapUsedMB: number }[] = [];
  const checkpoint = (events: number) => {
    const m = process.memoryUsage();
    checkpoints.push({ events, rssMB: Math.round(m.rss / 2 ** 20), heapUsedMB: Math.round(m.heapUsed / 2 ** 20) });
    process.stderr.write(`checkpoint ${JSON.stringify(checkpoints.at(-1))}\n`);
  };
  const sampler = setInterval(() => {
    if (atMark !== undefined) peak = Math.max(peak, mb());
  }, 50);
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    const result = await verify({
      client: createPublicClient({ transport: http(options.rpcUrl, { timeout: 300_000 }) }),
      ledger: options.ledger,
      fromBlock: BigInt(options.fromBlock),
      databaseUrl: options.databaseUrl,
      dataDir: options.dataDir,
      onProgress: (p) => {
        if (atMark === undefined && p.events >= mark) peak = atMark = mb();
        if (p.events >= (checkpoints.length + 1) * mark) checkpoint(p.events);
      },
    });
    const seconds = (performance.now() - started) / 1_000;
    if (!result.ok) throw new Error(`verify found ${result.violations.length} violations and ${result.differences.length} differences`);
    peak = Math.max(peak, mb());
    checkpoint(result.sync.newEvents); // after the snapshot and the reconciliation
    const used = process.cpuUsage(cpu);
    const events = result.sync.newEvents;
    process.stdout.write(
      `${JSON.stringify({
        events,
        seconds: Math.round(seconds * 100) / 100,
        eventsPerSecond: Math.round(events / seconds),
        cpuSeconds: Math.round(((used.user + used.system) / 1e6) * 100) / 100,
        rssAtMarkMB: atMark === undefined ? null : Math.round(atMark),
        peakRssAfterMarkMB: Math.round(peak),
        rssGrowthMB: atMark === undefined ? null : Math.round((peak - atMark) * 10) / 10,
        checkpoints,
      })}\n`,
    );
  } finally {
    clearInterval(sampler);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
