/**
 * The auditor's tuning knobs, measured against each other in one process on one in-process
 * history (the replay benchmark's, scripts/bench-replay-history.ts): each round runs every
 * variant once, in turn, so that a machine that speeds up or slows down during the run moves all
 * of them alike. Prints events/s per variant (median, min, max, every round), each run being the
 * replay benchmark's own auditor measurement (`measureAuditor`: replay + reconcile as `verify`
 * does it without its store).
 *
 *   npm run bench:replay:knobs
 *   SETTLEMENTS=20000 ROUNDS=6 VARIANTS='{"default":{},"answers of 1000 logs":{"targetLogs":1000}}' npm run bench:replay:knobs
 *   SETTLEMENTS=60000 ROUNDS=3 VARIANTS='{"default":{}}' npm run bench:replay:knobs   (a cold process's first run on a longer history)
 *
 * A variant sets any of: targetLogs, concurrency (eth_getLogs in flight), slotBatchSize and
 * prefetchConcurrency (settlement-state reads), orderReferences ("reserves" or "all"), and
 * client: "hardhatTransport" (the SDK's transport, the default), "slotReader" (the same transport
 * with its engineBatch hidden, so that storage words go through the slot reader's eth_call) or
 * "provider" (viem's `custom` over `hre.network.provider`, Hardhat's own request path for every
 * method), and keepShapes: false (the auditor keeps none of its object shapes alive between runs,
 * src/audit/shapes.ts; V8 then deoptimizes its hot code at each run's first full collection).
 * Keeping shapes pays off from the run after the one that kept them: when a variant's keepShapes
 * differs from the run before, one untimed run under it comes first.
 *
 *   ROUNDS=10 VARIANTS='{"shapes kept (default)":{},"shapes not kept":{"keepShapes":false}}' npm run bench:replay:knobs
 */
import hre, { ethers } from "hardhat";
import { createPublicClient, custom, type Address } from "viem";
import { hardhatTransport } from "../src/sdk";
import type { OrderReferenceReads } from "../src/audit/reconcile";
import { buildHistory } from "./bench-replay-history";
import { measureAuditor, type AuditorTuning, type Measure } from "./bench-replay-measure";
import { setShapeKeeping } from "../src/audit/shapes";

type Variant = AuditorTuning & { orderReferences?: OrderReferenceReads; client?: "hardhatTransport" | "slotReader" | "provider"; keepShapes?: boolean };

const SETTLEMENTS = Number(process.env.SETTLEMENTS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 6);
const VARIANTS: Record<string, Variant> = process.env.VARIANTS
  ? (JSON.parse(process.env.VARIANTS) as Record<string, Variant>)
  : {
      default: {},
      "answers of 1,000 logs": { targetLogs: 1_000 },
      "answers of 4,000 logs": { targetLogs: 4_000 },
      "2 eth_getLogs in flight": { concurrency: 2 },
      "4 eth_getLogs in flight": { concurrency: 4 },
      "1 state read in flight": { prefetchConcurrency: 1 },
      "state reads of 4,000": { slotBatchSize: 4_000 },
      "Hardhat's provider request": { client: "provider" },
    };

async function main() {
  const signers = await ethers.getSigners();
  console.log(`building ${SETTLEMENTS} settlements in process ...`);
  const d = await buildHistory(signers, { send: (method, params) => hre.network.provider.request({ method, params }) }, SETTLEMENTS);
  const addresses = { registry: (await d.registry.getAddress()) as Address, ledger: (await d.ledger.getAddress()) as Address };
  const clients = {
    hardhatTransport: createPublicClient({ transport: hardhatTransport(hre.network.provider) }),
    slotReader: createPublicClient({
      transport: (config) => {
        const transport = hardhatTransport(hre.network.provider)(config);
        return { ...transport, value: { engineResponseText: transport.value!.engineResponseText } }; // no engineBatch
      },
    }),
    provider: createPublicClient({ transport: custom(hre.network.provider) }),
  };

  const target = { ...addresses, fromBlock: d.fromBlock, toBlock: d.toBlock };
  /** One run through the bench's own measurement (scripts/bench-replay-measure.ts). */
  let keepingShapes = true;
  const run = async (v: Variant): Promise<Measure> => {
    const { orderReferences, client, keepShapes = true, ...tuning } = v;
    if (client !== undefined && !(client in clients)) throw new Error(`unknown client ${client}: hardhatTransport, slotReader or provider`);
    const measure = () => measureAuditor("knob", clients[client ?? "hardhatTransport"], target, { orderReferences, tuning });
    if (keepShapes !== keepingShapes) {
      setShapeKeeping(keepShapes);
      keepingShapes = keepShapes;
      await measure(); // untimed: the first run under the new setting keeps (or drops) the shapes the next one uses
    }
    const m = await measure();
    if ((m.differences ?? 0) > 0 || (m.violations ?? 0) > 0) throw new Error(`${m.differences} differences, ${m.violations} violations`);
    return m;
  };

  // The first run of each variant is not in the figures below: the process's very first run
  // compiles the hot path as it goes (a cold process, as a CLI's one run), and the first reads of
  // the ledger's storage are slower. It is printed on its own.
  for (const [name, v] of Object.entries(VARIANTS)) {
    const m = await run(v);
    console.log(`  ${name}: first run ${m.eventsPerSecond} events/s (${m.events} events, ${m.seconds.toFixed(3)} s), not in the medians`);
  }
  const figures = new Map<string, { eventsPerSecond: number[]; cpuSeconds: number[]; engineCpuSeconds: number[] }>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, v] of Object.entries(VARIANTS)) {
      const m = await run(v);
      const lists = figures.get(name) ?? { eventsPerSecond: [], cpuSeconds: [], engineCpuSeconds: [] };
      lists.eventsPerSecond.push(m.eventsPerSecond);
      lists.cpuSeconds.push(m.cpuSeconds);
      if (m.engineCpuSeconds !== undefined) lists.engineCpuSeconds.push(m.engineCpuSeconds);
      figures.set(name, lists);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`\nreplay + reconcile in process, ${ROUNDS} rounds (each round runs every variant once, in this order); CPU s of the whole process, the chain's threads included (the engine's threads alone in brackets); MIMALLOC_PURGE_DELAY=${process.env.MIMALLOC_PURGE_DELAY ?? "(mimalloc's default)"}:`);
  for (const [name, { eventsPerSecond: all, cpuSeconds, engineCpuSeconds }] of figures) {
    const sorted = [...all].sort((a, b) => a - b);
    console.log(
      `  ${name.padEnd(26)} events/s median ${sorted[Math.floor(sorted.length / 2)]}  min ${sorted[0]}  max ${sorted.at(-1)}  (${all.join(" ")});  CPU s median ${median(cpuSeconds).toFixed(2)}${engineCpuSeconds.length > 0 ? ` (${median(engineCpuSeconds).toFixed(2)})` : ""}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
