/**
 * The auditor at scale (issue 26): builds a history of EVENTS real Concord events on an anvil
 * node this script starts (settleBatch of PER_TX orders, alternating an agreement with a listed
 * referrer and a 10% reserve and one with neither; then half of the lots released, both pools
 * distributed, four withdrawals), starts a PostgreSQL server (test/helpers/postgres.ts), and
 * measures `verify` over HTTP (sync into a fresh store, then reconcile with the chain) into the
 * server and into PGlite, each in its own process (scripts/bench-audit-measure.ts): events per
 * second, and how much the process's resident memory grew between the 100,000th event and the
 * end. Writes reports/audit-scale.json. Goals: 10,000 events/s into the server, under 100 MB of
 * growth from 100,000 to 1,000,000 events.
 *
 *   npm run bench:audit-scale
 *   EVENTS=100000 PER_TX=256 npm run bench:audit-scale
 *   REFS=numbered npm run bench:audit-scale      (order references sharing bitmap words)
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { nodeChain } from "../test/audit/env";
import { startPostgres } from "../test/helpers/postgres";
import { startAnvil } from "../test/helpers/processes";
import { buildHistory } from "./bench-replay-history";

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const PER_TX = Number(process.env.PER_TX ?? 256);
const MARK = Number(process.env.MARK ?? 100_000);
/** Salted references (`makeOrderRef`, a bitmap word each: the auditor's worst case) or numbered ones (`makeOrderRefs`). */
const REFS = process.env.REFS === "numbered" ? "numbered" : "salted";

type Measured = { events: number; seconds: number; eventsPerSecond: number; cpuSeconds: number; rssAtMarkMB: number | null; peakRssAfterMarkMB: number; rssGrowthMB: number | null; checkpoints: { events: number; rssMB: number; heapUsedMB: number }[] };

function measure(options: Record<string, unknown>): Promise<Measured> {
  const script = path.join(__dirname, "bench-audit-measure.ts");
  const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", script, JSON.stringify(options)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  return new Promise((resolve, reject) =>
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1)!) as Measured) : reject(new Error(`measure exited with ${code}`)))),
  );
}

async function main() {
  // The auditor reads logs, blocks and the head's storage only: no old states are kept.
  const node = await startAnvil({ pruneHistory: true });
  const cluster = await startPostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-scale-"));
  try {
    // A loaded machine (other work on its cores) once kept a 256-settlement receipt past viem's 180 s.
    const chain = await nodeChain(node.url, { requestTimeoutMs: 120_000, receiptTimeoutMs: 900_000 });
    const started = performance.now();
    // Settlements are about all of the events: one Settled each, one ReservesHeld per lot.
    let lastPrint = 0;
    const history = await buildHistory(chain, EVENTS, {
      perTx: PER_TX,
      orderRefs: REFS,
      onBatch: (n) => {
        if (n - lastPrint >= 50_000 || n === EVENTS) {
          lastPrint = n;
          console.log(`built ${n} settlements in ${((performance.now() - started) / 1_000).toFixed(0)} s`);
        }
      },
    });
    const buildSeconds = (performance.now() - started) / 1_000;
    const { registry, ledger, negotiationHub } = chain.addresses;
    await chain.publicClient.request({ method: "evm_mine", params: [] } as never);
    console.log(`history: blocks ${history.fromBlock}..${history.toBlock}, built in ${buildSeconds.toFixed(0)} s`);
    const base = { rpcUrl: node.url, ledger, fromBlock: history.fromBlock.toString(), mark: MARK };
    const postgres = await measure({ ...base, databaseUrl: await cluster.createDatabase("scale") });
    console.log(`PostgreSQL server: ${JSON.stringify(postgres)}`);
    const pglite = await measure({ ...base, dataDir: path.join(dir, "pglite") });
    console.log(`PGlite: ${JSON.stringify(pglite)}`);
    if (postgres.events !== pglite.events) throw new Error(`the two stores replayed ${postgres.events} and ${pglite.events} events`);
    let commit = "unknown";
    try {
      commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    } catch {
      // not a git checkout
    }
    const report = {
      events: postgres.events,
      eventsPerSecond: { postgres: postgres.eventsPerSecond, pglite: pglite.eventsPerSecond },
      rssGrowthMB: postgres.rssGrowthMB,
      rssGrowthMBByStore: { postgres: postgres.rssGrowthMB, pglite: pglite.rssGrowthMB },
      runs: { postgres, pglite },
      history: { settlements: EVENTS, perTx: PER_TX, orderRefs: REFS, blocks: Number(history.toBlock - history.fromBlock + 1n), buildSeconds: Math.round(buildSeconds), node: "anvil (HTTP, loopback)", contracts: { registry, ledger, negotiationHub } },
      command: `EVENTS=${EVENTS} PER_TX=${PER_TX} REFS=${REFS} npm run bench:audit-scale`,
      date: new Date().toISOString(),
      commit,
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} at the end`,
    };
    const out = path.join(__dirname, "..", "reports", "audit-scale.json");
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    await cluster.stop();
    await node.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
