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
 *
 * A variant sets any of: targetLogs, concurrency (eth_getLogs in flight), slotBatchSize and
 * prefetchConcurrency (settlement-state reads), orderReferences ("reserves" or "all").
 */
import hre, { ethers } from "hardhat";
import { createPublicClient, type Address } from "viem";
import { hardhatTransport } from "../src/sdk";
import type { OrderReferenceReads } from "../src/audit/reconcile";
import { buildHistory } from "./bench-replay-history";
import { measureAuditor, type AuditorTuning } from "./bench-replay-measure";

type Variant = AuditorTuning & { orderReferences?: OrderReferenceReads };

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
    };

async function main() {
  const signers = await ethers.getSigners();
  console.log(`building ${SETTLEMENTS} settlements in process ...`);
  const d = await buildHistory(signers, { send: (method, params) => hre.network.provider.request({ method, params }) }, SETTLEMENTS);
  const addresses = { registry: (await d.registry.getAddress()) as Address, ledger: (await d.ledger.getAddress()) as Address };
  const client = createPublicClient({ transport: hardhatTransport(hre.network.provider) });

  const target = { ...addresses, fromBlock: d.fromBlock, toBlock: d.toBlock };
  /** One run through the bench's own measurement (scripts/bench-replay-measure.ts). */
  const run = async (v: Variant): Promise<number> => {
    const { orderReferences, ...tuning } = v;
    const m = await measureAuditor("knob", client, target, { orderReferences, tuning });
    if ((m.differences ?? 0) > 0 || (m.violations ?? 0) > 0) throw new Error(`${m.differences} differences, ${m.violations} violations`);
    return m.eventsPerSecond;
  };

  for (const v of Object.values(VARIANTS)) await run(v); // the first reads of the ledger's storage are slower: not timed
  const figures = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, v] of Object.entries(VARIANTS)) {
      const list = figures.get(name) ?? [];
      list.push(await run(v));
      figures.set(name, list);
    }
  }
  console.log(`\nreplay + reconcile in process, events/s, ${ROUNDS} rounds (each round runs every variant once, in this order):`);
  for (const [name, all] of figures) {
    const sorted = [...all].sort((a, b) => a - b);
    console.log(`  ${name.padEnd(26)} median ${sorted[Math.floor(sorted.length / 2)]}  min ${sorted[0]}  max ${sorted.at(-1)}  (${all.join(" ")})`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
