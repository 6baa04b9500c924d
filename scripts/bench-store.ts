/**
 * What the auditor's store (src/audit/store.ts, PGlite) costs: creating a store (PostgreSQL's
 * initdb inside PGlite), opening an existing data folder, and appending events in the sync's
 * batches (each with its block hashes and the cursor, as `sync` does). The events are the ledger's `Settled` logs, ABI-encoded and
 * decoded by the auditor's own decoder, so that every row has the size and shape of a real one.
 *
 *   npm run bench:store
 *   EVENTS=50000 BATCH=2000 ROUNDS=3 npm run bench:store
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { encodeAbiParameters, encodeEventTopics, getAddress, numberToHex, type AbiEvent, type Address, type Hex } from "viem";
import { ConcordLogDecoder, type ConcordLog } from "../src/audit/fetch";
import { AuditStore, toJson } from "../src/audit/store";
import { settlementLedgerAbi } from "../src/sdk/abi";

const EVENTS = Number(process.env.EVENTS ?? 25_000);
const BATCH = Number(process.env.BATCH ?? 2_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PER_BLOCK = 200;

const LEDGER = getAddress("0xe7f1725e7734ce288f8367e1bb143e90bb3f0512");
const REGISTRY = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const word = (n: bigint): Hex => numberToHex(n, { size: 32 });
const account = (n: number): Address => getAddress(`0x${(0x1000 + n).toString(16).padStart(40, "0")}`);

/** `count` decoded `Settled` logs, 200 a block, with distinct order references. */
function settledLogs(count: number): ConcordLog[] {
  const event = (settlementLedgerAbi as readonly { type: string; name?: string }[]).find((x) => x.type === "event" && x.name === "Settled") as AbiEvent;
  const decoder = new ConcordLogDecoder({ registry: REGISTRY, ledger: LEDGER });
  const value = (name: string, type: string, i: number): unknown => {
    if (type === "address") return account(name === "referrer" ? 1 : name === "payer" || name === "scope" || name === "refundBeneficiary" ? 2 + (i % 10) : 3);
    if (type === "bytes32") return word(BigInt(i + 1));
    if (type === "bool") return i % 2 === 0;
    const bits = Number(type.replace(/^u?int/, "") || 256);
    const n = name === "agreementId" || name === "version" ? 1n : 1_000_003n + BigInt(i);
    return bits <= 48 ? Number(n % 2n ** BigInt(bits - 1)) : n;
  };
  const logs: ConcordLog[] = [];
  for (let i = 0; i < count; i += 1) {
    const args = Object.fromEntries(event.inputs.map((input) => [input.name!, value(input.name!, input.type, i)]));
    const plain = event.inputs.filter((input) => !input.indexed);
    const block = 100 + Math.floor(i / PER_BLOCK);
    logs.push(
      decoder.decode({
        address: LEDGER.toLowerCase(),
        topics: encodeEventTopics({ abi: [event], eventName: "Settled", args: args as never }) as Hex[],
        data: encodeAbiParameters(plain, plain.map((input) => args[input.name!])),
        blockNumber: `0x${block.toString(16)}`,
        blockHash: word(BigInt(block) * 7919n),
        transactionHash: word(BigInt(block) * 104_729n),
        transactionIndex: "0x0",
        logIndex: `0x${(i % PER_BLOCK).toString(16)}`,
      }),
    );
  }
  return logs;
}

const ms = (from: number) => performance.now() - from;

async function main() {
  const logs = settledLogs(EVENTS);
  // What the store writes of each event besides its keys: topics, data and args (as `append` encodes them).
  const bytes = logs.reduce((n, l) => n + l.data.length + l.topics.join(",").length + toJson(l.args).length, 0);
  const meta = { chainId: 31337n, addresses: { registry: REGISTRY, ledger: LEDGER }, startBlock: 0n };
  console.log(`${EVENTS} Settled events (${Math.round(bytes / EVENTS)} characters of topics, data and args each), appended ${BATCH} a transaction, ${ROUNDS} rounds\n`);
  console.log("| round | store | create or open ms | append ms | append µs/event |");
  console.log("|---:|---|---:|---:|---:|");
  for (let round = 1; round <= ROUNDS; round += 1) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-bench-store-"));
    try {
      for (const [name, dataDir] of [
        ["new, in memory", undefined],
        ["new data folder", dir],
        ["the same folder again (appends to the first run's events)", dir],
      ] as const) {
        let t = performance.now();
        const store = await AuditStore.open(dataDir);
        const opened = ms(t);
        await store.bind(meta);
        const offset = dataDir && name.startsWith("the same") ? BigInt(Math.ceil(EVENTS / PER_BLOCK)) : 0n;
        t = performance.now();
        for (let i = 0; i < logs.length; i += BATCH) {
          const batch = offset === 0n ? logs.slice(i, i + BATCH) : logs.slice(i, i + BATCH).map((l) => ({ ...l, blockNumber: l.blockNumber + offset }));
          const last = batch.at(-1)!;
          await store.append(batch, { blockNumber: last.blockNumber, blockHash: last.blockHash });
        }
        const appended = ms(t);
        const stored = await store.eventCount();
        const expected = name.startsWith("the same") ? 2 * EVENTS : EVENTS;
        if (stored !== expected) throw new Error(`${name}: ${stored} events stored, ${expected} expected`);
        await store.close();
        console.log(`| ${round} | ${name} | ${opened.toFixed(0)} | ${appended.toFixed(0)} | ${((appended * 1_000) / EVENTS).toFixed(0)} |`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
