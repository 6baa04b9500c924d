/**
 * Negotiation benchmark: `npm run bench:negotiation`.
 *
 * 1. Agents without a chain: 300 random scenarios of 3 to 5 parties whose acceptable regions
 *    overlap (margin 0.05 utility), and 100 without overlap; prints the share that reach
 *    agreement, the median and 90th percentile of rounds, and agreement by tactic mix.
 * 2. Gas per move on the in-process network at 3 and 5 parties (scripts/bench/negotiationGas.ts).
 * A benchmark, not a test: it prints figures and asserts nothing. Writes reports/negotiation.json.
 */
import fs from "node:fs";
import path from "node:path";
import { agentsFor, randomScenario } from "../src/negotiation/scenario";
import { simulate } from "../src/negotiation/simulate";
import { benchNegotiationGas } from "./bench/negotiationGas";

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);

function play(count: number, overlap: "overlap" | "none", seedBase: number) {
  const rounds: number[] = [];
  const byParties: Record<number, { agreed: number; total: number }> = {};
  let agreed = 0;
  let belowReservation = 0;
  const started = process.hrtime.bigint();
  for (let k = 0; k < count; k++) {
    const seed = seedBase + k * 7_919;
    const parties = 3 + (k % 3);
    const scenario = randomScenario(seed, { parties, overlap, margin: 0.05 });
    const agents = agentsFor(scenario);
    const { entries, outcome } = simulate({ agents, roundLimit: scenario.roundLimit, timeLimitSeconds: scenario.timeLimitSeconds });
    const bucket = (byParties[parties] ??= { agreed: 0, total: 0 });
    bucket.total++;
    if (outcome.status === "agreed") {
      agreed++;
      bucket.agreed++;
      rounds.push(entries[entries.length - 1]!.round);
      if (agents.some((a) => a.utility.utility(outcome.offer) < a.reservation)) belowReservation++;
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  rounds.sort((a, b) => a - b);
  return { count, agreed, share: agreed / count, medianRounds: quantile(rounds, 0.5), p90Rounds: quantile(rounds, 0.9), belowReservation, byParties, msPerNegotiation: ms / count };
}

async function main(): Promise<void> {
  const withOverlap = play(300, "overlap", 1);
  const without = play(100, "none", 500_001);
  console.log("== Agents (no chain), random 3-5 party scenarios, round limits 10-20");
  console.log(`overlap (margin 0.05): ${withOverlap.agreed}/${withOverlap.count} agreed (${(withOverlap.share * 100).toFixed(1)}%), median ${withOverlap.medianRounds} rounds, p90 ${withOverlap.p90Rounds}, below reservation ${withOverlap.belowReservation}, ${withOverlap.msPerNegotiation.toFixed(1)} ms per negotiation`);
  for (const [n, b] of Object.entries(withOverlap.byParties)) console.log(`  ${n} parties: ${b.agreed}/${b.total} agreed`);
  console.log(`no overlap:            ${without.agreed}/${without.count} agreed`);

  const gas = await benchNegotiationGas();
  console.log("\n== Gas per move (receipt gasUsed, in-process Hardhat network)");
  for (const r of gas) console.log(`${r.operation.padEnd(40)} ${String(r.parties).padStart(2)} parties ${String(r.gas).padStart(9)}`);

  const out = path.join("reports", "negotiation.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ agents: { overlap: withOverlap, none: without }, gas }, null, 2) + "\n");
  console.log(`\nwrote ${out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
