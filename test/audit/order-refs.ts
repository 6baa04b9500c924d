/**
 * The idempotency law with a store: an order reference settles once per scope (DESIGN.md). A
 * sync with a store keeps settled references in the store's unique index, not in memory, so the
 * law must still be found broken wherever the repeat lands: in another batch, in the same batch,
 * on a replay from the store, and on a store that predates the index. The chain's ledger refuses
 * a repeat, so the repeat is forged: a copy of a real `Settled` log served by the provider as one
 * more log of the history's last block.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, custom, getAbiItem, toEventSelector, zeroHash, type Hex } from "viem";
import { AuditStore, sync, verify, type SyncResult, type Violation } from "../../src/audit";
import { settlementLedgerAbi } from "../../src/sdk/abi";
import { startPostgres, type PostgresCluster } from "../helpers/postgres";
import { inProcessChain } from "./env";
import { buildRichHistory, type RichHistory } from "./history";

type RawLog = { address: Hex; topics: Hex[]; data: Hex; blockNumber: Hex; blockHash: Hex; transactionHash: Hex; transactionIndex: Hex; logIndex: Hex };
type Filter = { fromBlock?: string; toBlock?: string };

const selector = (name: "Settled" | "ReservesHeld") => toEventSelector(getAbiItem({ abi: settlementLedgerAbi, name }));

/** A client whose `eth_getLogs` also returns `forged` logs inside the requested range, in order. */
function forgingClient(forged: readonly RawLog[]) {
  const request = async ({ method, params }: { method: string; params?: unknown }) => {
    const result = await hre.network.provider.request({ method, params: params as unknown[] });
    if (method !== "eth_getLogs") return result;
    const [filter] = params as [Filter];
    const from = BigInt(filter.fromBlock ?? "0x0");
    const to = filter.toBlock === undefined || filter.toBlock === "latest" ? 2n ** 64n : BigInt(filter.toBlock);
    const extra = forged.filter((log) => BigInt(log.blockNumber) >= from && BigInt(log.blockNumber) <= to);
    const position = (log: RawLog) => BigInt(log.blockNumber) * 1_000_000n + BigInt(log.logIndex);
    return [...(result as RawLog[]), ...extra].sort((a, b) => (position(a) < position(b) ? -1 : 1));
  };
  return createPublicClient({ transport: custom({ request }) });
}

type Forgery = { history: RichHistory; forged: RawLog[]; lastBlock: bigint };

/** The history, with two repeats of its first plain settlement forged at the end of its last block, then a zero reference. */
async function forgeryFixture(): Promise<Forgery> {
  const history = await buildRichHistory(await inProcessChain());
  const { addresses, deployBlock } = history.chain;
  const raw = (await hre.network.provider.request({
    method: "eth_getLogs",
    params: [{ address: [addresses.registry, addresses.ledger, addresses.negotiationHub], fromBlock: `0x${deployBlock.toString(16)}`, toBlock: "latest" }],
  })) as RawLog[];
  // A settlement whose transaction holds no reserve (a copy of one with a reserve would also open a lot).
  const held = new Set(raw.filter((l) => l.topics[0] === selector("ReservesHeld")).map((l) => l.transactionHash));
  const original = raw.find((l) => l.topics[0] === selector("Settled") && !held.has(l.transactionHash));
  if (!original) throw new Error("the rich history has no settlement without a reserve");
  const last = raw.at(-1)!;
  const at = (offset: number): RawLog => ({ ...original, blockNumber: last.blockNumber, blockHash: last.blockHash, transactionHash: last.transactionHash, transactionIndex: last.transactionIndex, logIndex: `0x${(BigInt(last.logIndex) + BigInt(offset)).toString(16)}` });
  // After the repeats, in the same batch, a settlement with a zero reference: a violation the replay
  // finds as it applies the batch, before the store checks the batch's references.
  const zero = { ...at(3), topics: original.topics.map((t, i) => (i === 1 ? zeroHash : t)) };
  return { history, forged: [at(1), at(2), zero], lastBlock: BigInt(last.blockNumber) };
}

const repeats = (violations: readonly Violation[]) =>
  violations.filter((v) => v.message.endsWith("settled twice")).map((v) => ({ block: v.event.blockNumber, logIndex: v.event.logIndex, message: v.message }));
/** Every violation's law and event, in the order found. */
const found = (violations: readonly Violation[]) => violations.map((v) => `${v.law} at ${v.event.blockNumber}:${v.event.logIndex}`);

let dirs: string[] = [];
let cluster: PostgresCluster | undefined;
type Location = { dataDir?: string; databaseUrl?: string };
const backends: { name: string; fresh: () => Promise<Location> }[] = [
  { name: "PGlite", fresh: async () => ({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "concord-refs-")) }) },
  { name: "a PostgreSQL server", fresh: async () => ({ databaseUrl: await cluster!.createDatabase() }) },
];

describe("audit: an order reference settled twice, with a store", function () {
  before(async function () {
    cluster = await startPostgres();
  });
  after(async function () {
    await cluster?.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });

  for (const backend of backends) {
    it(`is found in the same batch, in a later batch, from the store and in a store older than the index (${backend.name})`, async function () {
      const { history, forged, lastBlock } = await loadFixture(forgeryFixture);
      const client = forgingClient(forged);
      const base = { client, ledger: history.chain.addresses.ledger, fromBlock: history.chain.deployBlock };
      // The oracle is the law itself: exactly the two forged settlements repeat a reference, each once.
      const memory = await sync({ ...base, dataDir: null });
      const expected = forged.slice(0, 2).map((log) => ({ block: lastBlock, logIndex: Number(BigInt(log.logIndex)) }));
      expect(repeats(memory.violations).map(({ block, logIndex }) => ({ block, logIndex }))).to.deep.equal(expected);
      const want = repeats(memory.violations);
      for (const w of want) expect(w.message).to.match(/^settlement 0x[0-9a-f]{64} in scope 0x[0-9a-fA-F]{40} settled twice$/);

      // One batch: the original and both repeats are checked in one insert.
      const oneBatch = await backend.fresh();
      if (oneBatch.dataDir) dirs.push(oneBatch.dataDir);
      const together = await sync({ ...base, ...oneBatch, fetch: { initialRange: 100_000n } });
      expect(repeats(together.violations)).to.deep.equal(want);
      expect(found(together.violations)).to.deep.equal(found(memory.violations)); // in chain order

      // Small ranges: the original is stored batches before its repeats.
      const manyBatches = await backend.fresh();
      if (manyBatches.dataDir) dirs.push(manyBatches.dataDir);
      const apart = await sync({ ...base, ...manyBatches, fetch: { initialRange: 2n, maxRange: 2n } });
      expect(repeats(apart.violations)).to.deep.equal(want);
      expect(found(apart.violations)).to.deep.equal(found(memory.violations));

      // A second sync replays the stored events: the index still names the first settlement.
      const again: SyncResult = await sync({ ...base, ...manyBatches });
      expect(again.storedEvents).to.equal(apart.storedEvents + apart.newEvents);
      expect(found(again.violations)).to.deep.equal(found(memory.violations));

      // A store from before the index: the next sync fills it from the stored events.
      const store = manyBatches.databaseUrl ? await AuditStore.connect(manyBatches.databaseUrl) : await AuditStore.open(manyBatches.dataDir);
      const count = async () => (await store.db.query<{ n: number }>("SELECT count(*)::int AS n FROM order_refs")).rows[0]!.n;
      try {
        const settlements = apart.state.settlementCount;
        expect(await count()).to.equal(settlements - forged.length); // one row per reference: the repeats and the zero one are not rows
        await store.db.exec("DELETE FROM order_refs; INSERT INTO store_backfill (name) VALUES ('order_refs')");
        expect(await store.needsOrderRefs()).to.equal(true);
        const backfilled = await sync({ ...base, store });
        expect(found(backfilled.violations)).to.deep.equal(found(memory.violations));
        expect(await store.needsOrderRefs()).to.equal(false);
        expect(await count()).to.equal(settlements - forged.length);
      } finally {
        await store.close();
      }
    });
  }

  it("reads every bitmap word back from the store for a full reconciliation, equal to the ledger's", async function () {
    const { history } = await loadFixture(forgeryFixture);
    const location = { databaseUrl: await cluster!.createDatabase() };
    const base = { client: history.chain.publicClient, ledger: history.chain.addresses.ledger, fromBlock: history.chain.deployBlock };
    const inMemory = await verify({ ...base, dataDir: null, orderReferences: "all" });
    const stored = await verify({ ...base, ...location, orderReferences: "all" });
    expect(stored.ok).to.equal(true);
    expect(stored.reconcile.checked.orderBitmaps).to.equal(inMemory.reconcile.checked.orderBitmaps);
    expect(stored.reconcile.checked.orderBitmaps).to.be.greaterThan(3);
    expect(stored.sync.state.orderBitmaps).to.deep.equal(inMemory.sync.state.orderBitmaps);
    // Only a full reconciliation reads them into memory.
    const reserves = await verify({ ...base, ...location });
    expect(reserves.sync.state.orderBitmaps.size).to.equal(0);
  });
});
