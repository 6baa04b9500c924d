/**
 * Replay benchmark: creates >= 20,000 settlements (200 per transaction through the ledger's
 * multicall), plus releases, distributions and withdrawals, then measures the auditor's replay +
 * reconcile throughput in events per second, in process and from a `hardhat node` over HTTP,
 * side by side with ethers `queryFilter` replays of the same events in the same run (ratios per
 * round). Over HTTP every measurement runs in a process of its own, so its memory figures are
 * its own (in process, the chain shares the process). Memory is sampled every 20 ms and at
 * every batch. Writes reports/replay.json.
 *
 *   npm run bench:replay
 *   SETTLEMENTS=20000 ROUNDS=3 BACK_TO_BACK=6 PLAIN_HTTP_ETHERS=1 npm run bench:replay   (the defaults)
 *
 * Each round also times the transport's floor: the auditor's own eth_getLogs requests again, with
 * nothing decoded or checked (scripts/bench-replay-measure.ts, measureTransportFloor), so that the
 * report shows how much of the auditor's time is the chain's answers and how much its own work.
 *
 * After the in-process rounds, the auditor runs BACK_TO_BACK more times in a row, nothing else in
 * between: what a long-running process that audits again and again gets once warm (the first
 * round is a cold process's first run; later rounds follow the other measurements).
 *
 * PLAIN_HTTP_ETHERS=0 skips the one-call ethers queryFilter over HTTP (about 200 s here).
 *
 * The chain engine's allocator keeps freed memory for a second (hardhat.config.ts,
 * ENGINE_PURGE_DELAY_MS); `MIMALLOC_PURGE_DELAY=10 npm run bench:replay` measures with mimalloc's
 * own default instead, for both the in-process chain and the `hardhat node`. The table's CPU
 * seconds name the in-process engine's threads' share in brackets.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { createPublicClient, type Address } from "viem";
import { hardhatTransport } from "../src/sdk";
import { startHardhatNode } from "../test/audit/node";
import { PER_TX, buildHistory, type Deployment } from "./bench-replay-history";
import { measureAuditor, measureQueryFilter, measureTransportFloor, measureVerify, type Measure, type Target } from "./bench-replay-measure";

const SETTLEMENTS = Number(process.env.SETTLEMENTS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** In-process auditor runs back to back after the rounds (a warm, long-running process). */
const BACK_TO_BACK = Number(process.env.BACK_TO_BACK ?? 6);
const PLAIN_HTTP_ETHERS = process.env.PLAIN_HTTP_ETHERS !== "0";
const MEMORY_CHECK = "auditor memory check (full GC at each quarter; not timed)";
/** The auditor with orderReferences "all": the stored marker of every settlement is read, not only of those that held a reserve. */
const ALL_ORDER_REFS = "auditor replay + reconcile reading every order reference, in process";
/** Logs per range for the ranged ethers baseline: the auditor's default answer size. */
const LOGS_PER_RANGE = 2_000;

type Run = { round: number; measure: Measure };

async function targetOf(d: Deployment): Promise<Target> {
  return { registry: (await d.registry.getAddress()) as Address, ledger: (await d.ledger.getAddress()) as Address, fromBlock: d.fromBlock, toBlock: d.toBlock };
}

/** Runs one HTTP measurement in its own node process. */
async function inWorker(job: Record<string, unknown>): Promise<Measure> {
  const worker = path.join(__dirname, "bench-replay-worker.ts");
  const child = spawn(process.execPath, ["--expose-gc", "-r", "ts-node/register/transpile-only", worker, JSON.stringify(job)], {
    cwd: path.join(__dirname, ".."),
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`worker ${String(job.kind)} exited with ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as Measure;
}

const range = (values: number[], digits = 0) => {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(digits);
  return sorted.length === 1 ? f(sorted[0]!) : `${f(sorted[0]!)}-${f(sorted.at(-1)!)} (median ${f(sorted[Math.floor(sorted.length / 2)]!)})`;
};

function summarise(runs: Run[]) {
  const labels = [...new Set(runs.map((r) => r.measure.label))];
  return labels.map((label) => {
    const ms = runs.filter((r) => r.measure.label === label).map((r) => r.measure);
    return {
      label,
      runs: ms.length,
      eventsPerSecond: { min: Math.min(...ms.map((m) => m.eventsPerSecond)), max: Math.max(...ms.map((m) => m.eventsPerSecond)), all: ms.map((m) => m.eventsPerSecond) },
      text: range(ms.map((m) => m.eventsPerSecond)),
      peakRssMb: Math.max(...ms.map((m) => m.memory.rssPeakMb)),
    };
  });
}

async function main() {
  const runs: Run[] = [];
  const ratios: { round: number; where: string; auditor: number; baseline: string; ratio: number }[] = [];
  /** The auditor's events/s against the transport's floor in the same round (1 = the auditor's own work costs nothing). */
  const floorShares: { round: number; where: string; auditor: number; floor: number; share: number; auditorCpuSeconds: number; floorCpuSeconds: number }[] = [];
  const floorOf = (round: number, where: string, aud: Measure, floor: Measure) =>
    floorShares.push({ round, where, auditor: aud.eventsPerSecond, floor: floor.eventsPerSecond, share: aud.eventsPerSecond / floor.eventsPerSecond, auditorCpuSeconds: aud.cpuSeconds, floorCpuSeconds: floor.cpuSeconds });
  const started = performance.now();
  console.log(`the chain engine's allocator gives freed memory back after MIMALLOC_PURGE_DELAY=${process.env.MIMALLOC_PURGE_DELAY ?? "(mimalloc's default, 10)"} ms`);
  console.log(`building ${SETTLEMENTS} settlements in process ...`);
  const signers = await ethers.getSigners();
  const inProcess = await buildHistory(signers, { send: (m, p) => hre.network.provider.request({ method: m, params: p }) }, SETTLEMENTS);
  const local = await targetOf(inProcess);
  const inProcessClient = createPublicClient({ transport: hardhatTransport(hre.network.provider) });
  const contracts = [inProcess.registry, inProcess.ledger] as unknown as Parameters<typeof measureQueryFilter>[1];
  for (let round = 1; round <= ROUNDS; round += 1) {
    // Alternate which goes first, so that neither always runs on a warmer process. (Round 1's
    // auditor is the first to read the ledger's storage after the build: Hardhat's first reads
    // of those slots are slower, as they would be for a first `concord audit verify`.)
    const auditor = () => measureAuditor("auditor replay + reconcile, in process", inProcessClient, local);
    const baseline = () => measureQueryFilter("ethers queryFilter (decode only), in process", contracts, local);
    let aud: Measure;
    let b: Measure;
    if (round % 2 === 1) {
      aud = await auditor();
      b = await baseline();
    } else {
      b = await baseline();
      aud = await auditor();
    }
    const floor = await measureTransportFloor("transport floor: the auditor's eth_getLogs, nothing decoded, in process", inProcessClient, local, aud.getLogsRanges!, aud.events);
    runs.push({ round, measure: aud }, { round, measure: b }, { round, measure: floor });
    ratios.push({ round, where: "in process", auditor: aud.eventsPerSecond, baseline: b.label, ratio: aud.eventsPerSecond / b.eventsPerSecond });
    floorOf(round, "in process", aud, floor);
    const all = await measureAuditor(ALL_ORDER_REFS, inProcessClient, local, { orderReferences: "all" });
    runs.push({ round, measure: all });
    runs.push({ round, measure: await measureVerify("auditor verify() into a PGlite store in a new data folder (created before timing), in process", inProcessClient, local) });
    console.log(`  round ${round} in process: auditor ${aud.eventsPerSecond} events/s (every order reference read: ${all.eventsPerSecond}), transport floor ${floor.eventsPerSecond}, ethers ${b.eventsPerSecond} events/s`);
  }
  const memoryChecks: Measure[] = [await measureAuditor(`${MEMORY_CHECK}, in process`, inProcessClient, local, { liveHeap: true })];
  // A long-running process (an integrator's service that audits again and again): the auditor
  // back to back with nothing in between, after the rounds. Round 1 above is a cold process's
  // first run, and each later round's auditor follows the other measurements.
  for (let run = 1; run <= BACK_TO_BACK; run += 1) {
    const m = await measureAuditor(`auditor replay + reconcile, in process, ${BACK_TO_BACK} runs back to back after the rounds`, inProcessClient, local);
    runs.push({ round: run, measure: m });
    console.log(`  back to back ${run}: auditor ${m.eventsPerSecond} events/s, ${m.cpuSeconds.toFixed(2)} CPU s (the engine's threads ${m.engineCpuSeconds?.toFixed(2) ?? "-"})`);
  }

  console.log("starting hardhat node ...");
  const node = await startHardhatNode();
  try {
    const provider = new ethers.JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const nodeSigners = await Promise.all(Array.from({ length: 12 }, (_, i) => provider.getSigner(i)));
    console.log(`building ${SETTLEMENTS} settlements on the node ...`);
    const onNode = await buildHistory(nodeSigners, { send: (m, p) => provider.send(m, p) }, SETTLEMENTS);
    provider.destroy();
    const remote = await targetOf(onNode);
    const job = { url: node.url, registry: remote.registry, ledger: remote.ledger, fromBlock: remote.fromBlock.toString(), toBlock: remote.toBlock.toString() };
    let rangeBlocks = 1;
    for (let round = 1; round <= ROUNDS; round += 1) {
      const aud = await inWorker({ ...job, kind: "auditor", label: "auditor replay + reconcile, hardhat node over HTTP" });
      rangeBlocks = Math.max(1, Math.floor((Number(remote.toBlock - remote.fromBlock + 1n) * LOGS_PER_RANGE) / aud.events));
      const ranged = await inWorker({ ...job, kind: "ethers", rangeBlocks, label: `ethers queryFilter (decode only) in ${rangeBlocks}-block ranges, hardhat node over HTTP` });
      const floor = await inWorker({ ...job, kind: "floor", ranges: aud.getLogsRanges, expectedLogs: aud.events, label: "transport floor: the auditor's eth_getLogs, nothing decoded, hardhat node over HTTP" });
      runs.push({ round, measure: aud }, { round, measure: ranged }, { round, measure: floor });
      ratios.push({ round, where: "over HTTP", auditor: aud.eventsPerSecond, baseline: ranged.label, ratio: aud.eventsPerSecond / ranged.eventsPerSecond });
      floorOf(round, "over HTTP", aud, floor);
      const all = await inWorker({ ...job, kind: "auditor-all", label: `${ALL_ORDER_REFS.replace(", in process", "")}, hardhat node over HTTP` });
      runs.push({ round, measure: all });
      runs.push({ round, measure: await inWorker({ ...job, kind: "verify", label: "auditor verify() into a PGlite store in a new data folder (created before timing), hardhat node over HTTP" }) });
      console.log(`  round ${round} over HTTP: auditor ${aud.eventsPerSecond} events/s (every order reference read: ${all.eventsPerSecond}), transport floor ${floor.eventsPerSecond}, ethers in ranges ${ranged.eventsPerSecond} events/s`);
    }
    memoryChecks.push(await inWorker({ ...job, kind: "auditor-memory", label: `${MEMORY_CHECK}, hardhat node over HTTP` }));
    if (PLAIN_HTTP_ETHERS) {
      console.log("ethers queryFilter in one call per contract over HTTP (slow) ...");
      const plain = await inWorker({ ...job, kind: "ethers", label: "ethers queryFilter (decode only), one call per contract, hardhat node over HTTP" });
      runs.push({ round: ROUNDS, measure: plain });
      const last = runs.filter((r) => r.round === ROUNDS && r.measure.label === "auditor replay + reconcile, hardhat node over HTTP")[0]!.measure;
      ratios.push({ round: ROUNDS, where: "over HTTP", auditor: last.eventsPerSecond, baseline: plain.label, ratio: last.eventsPerSecond / plain.eventsPerSecond });
    }
  } finally {
    await node.stop();
  }

  console.log(`\nsettlements: ${SETTLEMENTS} (${PER_TX} per transaction), ${ROUNDS} rounds, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
  console.log("| round | run | events | seconds | events/s | replay s | reconcile s | CPU s (engine) | requests (logs+reads) | RSS start/peak MB | RSS at 1/4..4/4 of blocks MB | differences | violations |");
  console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const { round, measure: r } of runs) {
    // The transport floor reads no state: its requests are its eth_getLogs alone.
    const requests = r.getLogsRequests === undefined ? "-" : `${r.getLogsRequests}+${r.reconcileRequests ?? 0}`;
    console.log(
      `| ${round} | ${r.label} | ${r.events} | ${r.seconds.toFixed(3)} | ${r.eventsPerSecond} | ${r.replaySeconds?.toFixed(3) ?? "-"} | ${r.reconcileSeconds?.toFixed(3) ?? "-"} | ${r.cpuSeconds.toFixed(2)}${r.engineCpuSeconds === undefined ? "" : ` (${r.engineCpuSeconds.toFixed(2)})`} | ${requests} | ${r.memory.rssStartMb}/${r.memory.rssPeakMb} | ${r.memory.rssAtQuartersMb.join(" ")} | ${r.differences ?? "-"} | ${r.violations ?? "-"} |`,
    );
  }
  console.log("\n| round | where | auditor events/s | baseline | ratio |");
  console.log("|---:|---|---:|---|---:|");
  for (const r of ratios) console.log(`| ${r.round} | ${r.where} | ${r.auditor} | ${r.baseline} | ${r.ratio.toFixed(1)}x |`);
  console.log("\n| round | where | auditor events/s | transport floor events/s | auditor / floor | CPU s auditor / floor |");
  console.log("|---:|---|---:|---:|---:|---:|");
  for (const f of floorShares) console.log(`| ${f.round} | ${f.where} | ${f.auditor} | ${f.floor} | ${f.share.toFixed(2)} | ${f.auditorCpuSeconds.toFixed(2)} / ${f.floorCpuSeconds.toFixed(2)} |`);
  const summary = summarise(runs);
  console.log("\nevents/s over the rounds:");
  for (const s of summary) console.log(`  ${s.label}: ${s.text} (peak RSS ${s.peakRssMb} MB)`);
  const storageModes = [...new Set(runs.map((r) => r.measure.storage).filter(Boolean))];
  console.log(`reconcile reads: ${storageModes.join("; ")}`);
  console.log("\nmemory (the auditor run again, with a full garbage collection at each quarter of the blocks; not timed):");
  for (const m of memoryChecks) {
    const live = m.memory.liveHeapAtQuartersMb ?? [];
    const perSettlement = live.length === 4 ? Math.round(((live[3]! - live[0]!) * 1024 * 1024) / (SETTLEMENTS * 0.75)) : NaN;
    console.log(`  ${m.label}: live heap ${live.join(" / ")} MB at 1/4..4/4 (about ${perSettlement} bytes retained per settlement), RSS ${m.memory.rssAtQuartersMb.join(" / ")} MB, peak RSS ${m.memory.rssPeakMb} MB`);
  }

  const out = path.join(__dirname, "..", "reports", "replay.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    `${JSON.stringify(
      {
        settlements: SETTLEMENTS,
        perTransaction: PER_TX,
        rounds: ROUNDS,
        backToBack: BACK_TO_BACK,
        node: process.version,
        cpus: os.cpus().length,
        engineAllocatorPurgeDelayMs: process.env.MIMALLOC_PURGE_DELAY,
        loadAverageAtEnd: os.loadavg(),
        measuredAt: new Date().toISOString(),
        wallSeconds: (performance.now() - started) / 1_000,
        goal: { inProcessEventsPerSecond: 50_000, httpEventsPerSecond: 10_000 },
        summary: summary.map(({ text: _text, ...rest }) => rest),
        ratios,
        floorShares,
        memoryChecks,
        runs,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
  const bad = runs.some((r) => (r.measure.differences ?? 0) > 0 || (r.measure.violations ?? 0) > 0);
  if (bad) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
