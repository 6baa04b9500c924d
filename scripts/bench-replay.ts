/**
 * Replay benchmark over HTTP: builds a history of SETTLEMENTS settlements (200 per settleBatch)
 * on a `hardhat node` this script starts, then, ROUNDS times and side by side, replays it with
 * ethers `queryFilter` (every event of the three contracts decoded, nothing checked) and with
 * the auditor's `verify` (fetch, decode, replay with every law checked, then reconcile every
 * balance, pool, lot and risk counter through `extsload`), and prints events per second, CPU
 * seconds and peak RSS. Writes reports/replay.json. The goal (issue 25): at least 18,000
 * events/s for the auditor.
 *
 *   npm run bench:replay
 *   SETTLEMENTS=20000 ROUNDS=3 ETHERS_RANGE=10 npm run bench:replay   (the defaults)
 */
import fs from "node:fs";
import path from "node:path";
import { Contract, JsonRpcProvider, type InterfaceAbi } from "ethers";
import { createPublicClient, http } from "viem";
import { verify } from "../src/audit";
import { agreementRegistryAbi, negotiationHubAbi, settlementLedgerAbi } from "../src/sdk/abi";
import { nodeChain } from "../test/audit/env";
import { startHardhatNode } from "../test/helpers/processes";
import { buildHistory } from "./bench-replay-history";

const SETTLEMENTS = Number(process.env.SETTLEMENTS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** Blocks per ethers queryFilter call: about 2,000 logs (200 settlements a block), the auditor's own answer size; one call over the whole range took 245 s for 20,000 settlements. */
const ETHERS_RANGE = Number(process.env.ETHERS_RANGE ?? 10);

type Measure = { label: string; round: number; events: number; seconds: number; eventsPerSecond: number; cpuSeconds: number; peakRssMb: number };

/** Runs `work` (which returns the events it handled) and measures it; RSS sampled every 20 ms. */
async function measure(label: string, round: number, work: () => Promise<number>): Promise<Measure> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const events = await work();
    const seconds = (performance.now() - started) / 1_000;
    const used = process.cpuUsage(cpu);
    return { label, round, events, seconds, eventsPerSecond: Math.round(events / seconds), cpuSeconds: (used.user + used.system) / 1e6, peakRssMb: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(sampler);
  }
}

async function main() {
  const node = await startHardhatNode();
  try {
    const chain = await nodeChain(node.url);
    const built = performance.now();
    const history = await buildHistory(chain, SETTLEMENTS);
    const { registry, ledger, negotiationHub } = chain.addresses;
    console.log(`history: ${SETTLEMENTS} settlements in blocks ${history.fromBlock}..${history.toBlock}, built in ${((performance.now() - built) / 1_000).toFixed(1)} s`);

    const runs: Measure[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      runs.push(
        await measure(`ethers queryFilter over HTTP, ${ETHERS_RANGE} blocks a call (decode only)`, round, async () => {
          const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
          try {
            let events = 0;
            for (const [address, abi] of [[registry, agreementRegistryAbi], [ledger, settlementLedgerAbi], [negotiationHub, negotiationHubAbi]] as const) {
              const contract = new Contract(address, abi as unknown as InterfaceAbi, provider);
              for (let from = Number(history.fromBlock); from <= Number(history.toBlock); from += ETHERS_RANGE) {
                events += (await contract.queryFilter("*", from, Math.min(Number(history.toBlock), from + ETHERS_RANGE - 1))).length;
              }
            }
            return events;
          } finally {
            provider.destroy();
          }
        }),
      );
      runs.push(
        await measure("auditor verify over HTTP (replay + reconcile)", round, async () => {
          const client = createPublicClient({ transport: http(node.url, { timeout: 120_000 }) });
          const result = await verify({ client, ledger, fromBlock: history.fromBlock, toBlock: history.toBlock, dataDir: null });
          if (!result.ok) throw new Error(`the auditor found ${result.violations.length} violations and ${result.differences.length} differences`);
          return result.sync.newEvents;
        }),
      );
      for (const m of runs.slice(-2)) console.log(`round ${round}: ${m.label}: ${m.events} events in ${m.seconds.toFixed(2)} s, ${m.eventsPerSecond} events/s, ${m.cpuSeconds.toFixed(2)} CPU s, peak RSS ${m.peakRssMb} MB`);
    }
    const report = { date: new Date().toISOString(), settlements: SETTLEMENTS, rounds: ROUNDS, node: "hardhat node (HTTP, loopback)", runs };
    const out = path.join(__dirname, "..", "reports", "replay.json");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    await node.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
