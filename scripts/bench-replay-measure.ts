/**
 * The measurements of the replay benchmark (scripts/bench-replay.ts), shared by the in-process
 * runs and the worker that runs against a `hardhat node` in its own process
 * (scripts/bench-replay-worker.ts), so that its memory figures are the auditor's alone.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { Contract, JsonRpcProvider, type InterfaceAbi } from "ethers";
import type { Address, Client } from "viem";
import { verify } from "../src/audit";
import { AuditStore } from "../src/audit/store";
import { fetchConcordLogs } from "../src/audit/fetch";
import { prefetchSettlementStates } from "../src/audit/reads";
import { reconcile, type OrderReferenceReads } from "../src/audit/reconcile";
import { ReplayState } from "../src/audit/replay";

export type Target = { registry: Address; ledger: Address; fromBlock: bigint; toBlock: bigint };

/** node's `gc()` (--expose-gc, switched on here when the process lacks it). */
const gc: () => void = (() => {
  if (global.gc) return global.gc as () => void;
  v8.setFlagsFromString("--expose_gc");
  return vm.runInNewContext("gc") as () => void;
})();

/**
 * A full garbage collection, twice: V8 sweeps the pages a collection freed on its helper
 * threads after it returns, and the next collection first completes that sweeping. Once was not
 * enough before a timed run: after the ethers baseline's garbage, the auditor's next run was
 * measurably slower (medians of 8 alternating in one process: 41,600 events/s once, 45,000
 * twice; after another auditor run 42,600 and 42,000).
 */
const collectGarbage = (): void => {
  gc();
  gc();
};

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Memory through a run: sampled every 20 ms and at every batch, with the share of blocks done. */
export type MemoryFigures = {
  rssStartMb: number;
  rssPeakMb: number;
  heapStartMb: number;
  heapPeakMb: number;
  /** RSS and heap when a quarter, half, three quarters and all of the blocks were replayed. */
  rssAtQuartersMb: number[];
  heapAtQuartersMb: number[];
  /** With `liveHeap`: the heap after a full garbage collection at each quarter (what is really retained). */
  liveHeapAtQuartersMb?: number[];
  samples: number;
};

class MemorySampler {
  private readonly start = process.memoryUsage();
  private rssPeak = this.start.rss;
  private heapPeak = this.start.heapUsed;
  private samples = 0;
  private readonly quarters: { rss: number; heap: number; live?: number }[] = [];
  private readonly timer = setInterval(() => this.sample(), 20);

  constructor(private readonly liveHeap = false) {}

  sample(): NodeJS.MemoryUsage {
    const m = process.memoryUsage();
    this.samples += 1;
    if (m.rss > this.rssPeak) this.rssPeak = m.rss;
    if (m.heapUsed > this.heapPeak) this.heapPeak = m.heapUsed;
    return m;
  }

  /** Records the memory at the end of a batch, `done` being the share of blocks replayed. */
  progress(done: number): void {
    const m = this.sample();
    while (this.quarters.length < 4 && done >= (this.quarters.length + 1) / 4) {
      let live: number | undefined;
      if (this.liveHeap) {
        collectGarbage();
        live = process.memoryUsage().heapUsed;
      }
      this.quarters.push({ rss: m.rss, heap: m.heapUsed, live });
    }
  }

  stop(): MemoryFigures {
    clearInterval(this.timer);
    this.sample();
    return {
      rssStartMb: mb(this.start.rss),
      rssPeakMb: mb(this.rssPeak),
      heapStartMb: mb(this.start.heapUsed),
      heapPeakMb: mb(this.heapPeak),
      rssAtQuartersMb: this.quarters.map((q) => mb(q.rss)),
      heapAtQuartersMb: this.quarters.map((q) => mb(q.heap)),
      ...(this.liveHeap ? { liveHeapAtQuartersMb: this.quarters.map((q) => mb(q.live ?? 0)) } : {}),
      samples: this.samples,
    };
  }
}

export type Measure = {
  label: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** CPU time of the whole process (all threads: with an in-process chain, the chain's too). */
  cpuSeconds: number;
  /** Of which the in-process chain engine's threads ({engineThreadsCpu}); absent over HTTP (the node's are another process's). */
  engineCpuSeconds?: number;
  memory: MemoryFigures;
  replaySeconds?: number;
  reconcileSeconds?: number;
  getLogsRequests?: number;
  /** The block ranges the auditor's eth_getLogs answered, in order (what {measureTransportFloor} requests again). */
  getLogsRanges?: [number, number][];
  reconcileRequests?: number;
  storage?: string;
  checked?: Record<string, number>;
  differences?: number;
  violations?: number;
};

const cpu = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

/**
 * CPU seconds so far of this process's threads that Hardhat's in-process engine runs on (EDR's
 * tokio workers, named "tokio-runtime-w"), from /proc in nanoseconds; undefined where there is no
 * /proc (not Linux) or no such thread (no in-process chain here).
 */
export function engineThreadsCpu(): number | undefined {
  let tasks: string[];
  try {
    tasks = fs.readdirSync("/proc/self/task");
  } catch {
    return undefined;
  }
  let ns = 0;
  let found = false;
  for (const tid of tasks) {
    try {
      if (!fs.readFileSync(`/proc/self/task/${tid}/comm`, "utf8").startsWith("tokio-runtime")) continue;
      ns += Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      found = true;
    } catch {
      // the thread ended meanwhile
    }
  }
  return found ? ns / 1e9 : undefined;
}

const engineSince = (start: number | undefined): number | undefined => {
  const now = start === undefined ? undefined : engineThreadsCpu();
  return now === undefined ? undefined : now - start!;
};

/** The auditor's settings a run may override: answer size, eth_getLogs in flight, settlement-state reads per request and in flight. */
export type AuditorTuning = { targetLogs?: number; concurrency?: number; slotBatchSize?: number; prefetchConcurrency?: number };

/**
 * The auditor: adaptive eth_getLogs + decode + replay with the laws after every event, with the
 * settlement states read at the target block meanwhile (as `verify` does), then reconcile.
 * `orderReferences: "all"` also reads the marker of every settlement that never held a reserve;
 * `tuning` overrides the fetch's and the state reads' defaults (scripts/bench-replay-knobs.ts).
 */
export async function measureAuditor(
  label: string,
  client: Pick<Client, "request">,
  t: Target,
  options: { liveHeap?: boolean; orderReferences?: OrderReferenceReads; tuning?: AuditorTuning } = {},
): Promise<Measure> {
  const tuning = options.tuning ?? {};
  collectGarbage();
  const memory = new MemorySampler(options.liveHeap);
  const cpuStart = process.cpuUsage();
  const engineStart = engineThreadsCpu();
  const started = performance.now();
  const state = new ReplayState();
  const prefetched = prefetchSettlementStates(client, {
    ledger: t.ledger,
    blockNumber: t.toBlock,
    orderReferences: options.orderReferences,
    slotBatchSize: tuning.slotBatchSize,
    concurrency: tuning.prefetchConcurrency,
  });
  let getLogsRequests = 0;
  const getLogsRanges: [number, number][] = [];
  const blocks = Number(t.toBlock - t.fromBlock + 1n);
  for await (const batch of fetchConcordLogs(client, {
    addresses: { registry: t.registry, ledger: t.ledger },
    fromBlock: t.fromBlock,
    toBlock: t.toBlock,
    head: t.toBlock,
    targetLogs: tuning.targetLogs,
    concurrency: tuning.concurrency,
    onRange: (e) => {
      getLogsRequests += 1;
      if (e.kind === "ok") getLogsRanges.push([Number(e.fromBlock), Number(e.toBlock)]);
    },
  })) {
    state.applyBatch(batch.logs);
    prefetched.observe(batch.logs);
    memory.progress(Number(batch.toBlock - t.fromBlock + 1n) / blocks);
  }
  state.finish();
  const replayed = performance.now();
  const result = await reconcile(client, state, { ledger: t.ledger, blockNumber: t.toBlock, prefetched, orderReferences: options.orderReferences });
  const done = performance.now();
  const seconds = (done - started) / 1_000;
  return {
    label,
    events: state.eventsApplied,
    seconds,
    eventsPerSecond: Math.round(state.eventsApplied / seconds),
    cpuSeconds: cpu(cpuStart),
    engineCpuSeconds: engineSince(engineStart),
    memory: memory.stop(),
    replaySeconds: (replayed - started) / 1_000,
    reconcileSeconds: (done - replayed) / 1_000,
    getLogsRequests,
    getLogsRanges,
    reconcileRequests: result.requests,
    storage: `balances ${result.storage.balances}, reserves ${result.storage.reserves}${result.storage.via ? ` via ${result.storage.via}` : ""}${result.storage.fallbackReason ? ` (${result.storage.fallbackReason})` : ""}`,
    checked: result.checked,
    differences: result.differences.length,
    violations: state.violations.length,
  };
}

/**
 * The transport's floor: the auditor's own `eth_getLogs` requests (the same block ranges, as many
 * in flight as the auditor's default), answered and turned into JavaScript by the client, with
 * nothing decoded, replayed, checked or read back. What any replay through this client pays before
 * doing anything with the logs; the auditor's events/s against it is the share of the time its own
 * work adds. Throws unless the answers hold exactly `expectedLogs` logs.
 */
export async function measureTransportFloor(
  label: string,
  client: Pick<Client, "request">,
  t: Target,
  ranges: readonly (readonly [number, number])[],
  expectedLogs: number,
  concurrency = 3,
): Promise<Measure> {
  collectGarbage();
  const memory = new MemorySampler();
  const cpuStart = process.cpuUsage();
  const engineStart = engineThreadsCpu();
  const started = performance.now();
  const request = client.request as unknown as (args: { method: string; params: unknown[] }) => Promise<unknown>;
  const address = [t.registry, t.ledger];
  const first = ranges[0]?.[0] ?? 0;
  const blocks = (ranges.at(-1)?.[1] ?? first) - first + 1;
  const inFlight: { to: number; answer: Promise<unknown> }[] = [];
  let next = 0;
  const fill = () => {
    while (inFlight.length < concurrency && next < ranges.length) {
      const [from, to] = ranges[next]!;
      next += 1;
      const answer = request({ method: "eth_getLogs", params: [{ address, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }] });
      answer.catch(() => undefined); // a failure is thrown where it is awaited, not reported as unhandled before
      inFlight.push({ to, answer });
    }
  };
  let logs = 0;
  fill();
  while (inFlight.length > 0) {
    const { to, answer } = inFlight.shift()!;
    const got = await answer;
    fill();
    if (!Array.isArray(got)) throw new Error(`eth_getLogs up to block ${to} answered ${typeof got}`);
    logs += got.length;
    memory.progress((to - first + 1) / blocks);
  }
  const seconds = (performance.now() - started) / 1_000;
  if (logs !== expectedLogs) throw new Error(`the transport floor read ${logs} logs, the auditor ${expectedLogs}`);
  return { label, events: logs, seconds, eventsPerSecond: Math.round(logs / seconds), cpuSeconds: cpu(cpuStart), engineCpuSeconds: engineSince(engineStart), memory: memory.stop(), getLogsRequests: ranges.length };
}

/**
 * `concord audit verify`'s path: sync into a PGlite store in a new data folder (what the CLI
 * keeps by default), then reconcile. The store is created before the clock starts: creating one
 * (PostgreSQL's initdb) is a one-off of seconds that `npm run bench:store` measures, where a
 * data folder that exists opens in about a second. The folder is removed after the run.
 */
export async function measureVerify(label: string, client: Pick<Client, "request">, t: Target): Promise<Measure> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-bench-verify-"));
  const store = await AuditStore.open(dataDir);
  try {
    collectGarbage();
    const memory = new MemorySampler();
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const blocks = Number(t.toBlock - t.fromBlock + 1n);
    const result = await verify({
      client,
      ledger: t.ledger,
      registry: t.registry,
      negotiationHub: null,
      fromBlock: t.fromBlock,
      toBlock: t.toBlock,
      store,
      onProgress: (p) => memory.progress(Number(p.block - t.fromBlock + 1n) / blocks),
    });
    const seconds = (performance.now() - started) / 1_000;
    const events = result.sync.state.eventsApplied;
    return {
      label,
      events,
      seconds,
      eventsPerSecond: Math.round(events / seconds),
      cpuSeconds: cpu(cpuStart),
      memory: memory.stop(),
      replaySeconds: result.sync.elapsedMs / 1_000,
      reconcileSeconds: seconds - result.sync.elapsedMs / 1_000,
      getLogsRequests: result.sync.getLogsRequests,
      reconcileRequests: result.reconcile.requests,
      storage: `balances ${result.reconcile.storage.balances}, reserves ${result.reconcile.storage.reserves}${result.reconcile.storage.via ? ` via ${result.reconcile.storage.via}` : ""}`,
      checked: result.reconcile.checked,
      differences: result.differences.length,
      violations: result.violations.length,
    };
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

type QueryFilterable = { queryFilter: (event: string, fromBlock?: number, toBlock?: number) => Promise<unknown[]> };

/**
 * The ethers baseline: `queryFilter("*")` on the registry and the ledger, decoding every event
 * (no state, no checks). `rangeBlocks` splits it into block ranges (the plain form is one call
 * per contract, which is what ethers users write).
 */
export async function measureQueryFilter(label: string, contracts: QueryFilterable[], t: Target, rangeBlocks?: number): Promise<Measure> {
  collectGarbage();
  const memory = new MemorySampler();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  let decoded = 0;
  const from = Number(t.fromBlock);
  const to = Number(t.toBlock);
  const step = rangeBlocks ?? to - from + 1;
  for (let start = from; start <= to; start += step) {
    const end = Math.min(to, start + step - 1);
    for (const contract of contracts) {
      for (const e of await contract.queryFilter("*", start, end)) if (e && typeof e === "object" && "args" in e && e.args) decoded += 1;
    }
    memory.progress((end - from + 1) / (to - from + 1));
  }
  const seconds = (performance.now() - started) / 1_000;
  return { label, events: decoded, seconds, eventsPerSecond: Math.round(decoded / seconds), cpuSeconds: cpu(cpuStart), memory: memory.stop() };
}

/** ethers contracts for the baseline over JSON-RPC. */
export function ethersContracts(url: string, t: Target, abis: { registry: InterfaceAbi; ledger: InterfaceAbi }) {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
  return {
    provider,
    contracts: [new Contract(t.registry, abis.registry, provider), new Contract(t.ledger, abis.ledger, provider)] as unknown as QueryFilterable[],
  };
}
