import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, custom, zeroAddress, type Address } from "viem";
import { AuditStore, ConcordLogDecoder, fetchConcordLogs, migrate, MIGRATIONS, SCHEMA_VERSION, sync, verify, type ConcordLog } from "../../src/audit";
import { settlementLedgerAbi } from "../../src/sdk/abi";
import { startPostgres, type PostgresCluster } from "../helpers/postgres";
import { inProcessChain } from "./env";
import { buildRichHistory, ETH, orderRef, type RichHistory } from "./history";

/** Settles one direct ETH payment under agreement `agreementId`'s `version` as account `payer`. */
const settleEth = (history: RichHistory, payer: number, agreementId: bigint, version: number, gross: bigint, label: string, referrer: Address = zeroAddress) =>
  history.chain.write(payer, {
    address: history.chain.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "settle",
    args: [{ agreementId, version, token: ETH, gross, referrer, orderRef: orderRef(label), refundBeneficiary: zeroAddress, deadline: 2n ** 40n }, "0x"],
    value: gross,
  });

type Counted = { method: string; params: unknown };

/** A viem client over the in-process provider that records every JSON-RPC request. */
function countingClient() {
  const requests: Counted[] = [];
  const client = createPublicClient({
    transport: custom({
      request: async ({ method, params }: { method: string; params?: unknown }) => {
        requests.push({ method, params });
        return hre.network.provider.request({ method, params: params as unknown[] });
      },
    }),
  });
  const getLogs = () =>
    requests
      .filter((r) => r.method === "eth_getLogs")
      .map((r) => {
        const [filter] = r.params as [{ fromBlock: string; toBlock: string }];
        return { fromBlock: BigInt(filter.fromBlock), toBlock: BigInt(filter.toBlock) };
      });
  return { client, requests, getLogs };
}

let dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-audit-"));
  dirs.push(dir);
  return dir;
};

/** Where a store lives: what `sync` takes, and how a test opens it itself. */
type Location = { dataDir?: string; databaseUrl?: string };

/** The databases every store test runs on: one suite, one row per backend. */
const BACKENDS: { name: string; start?: () => Promise<void>; stop?: () => Promise<void>; fresh: () => Promise<Location>; memory: () => Promise<AuditStore> }[] = (() => {
  let cluster: PostgresCluster | undefined;
  const server = async () => AuditStore.connect(await cluster!.createDatabase());
  return [
    { name: "PGlite", fresh: async () => ({ dataDir: tempDir() }), memory: () => AuditStore.open() },
    {
      name: "a PostgreSQL server",
      start: async () => void (cluster = await startPostgres()),
      stop: async () => cluster?.stop(),
      fresh: async () => ({ databaseUrl: await cluster!.createDatabase() }),
      memory: server,
    },
  ];
})();

const openAt = (location: Location) => (location.databaseUrl ? AuditStore.connect(location.databaseUrl) : AuditStore.open(location.dataDir));

for (const backend of BACKENDS) describe(`audit store on ${backend.name}`, function () {
  before(async function () {
    await backend.start?.();
  });
  after(async function () {
    await backend.stop?.();
  });
  afterEach(function () {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });

  async function richHistoryFixture() {
    return buildRichHistory(await inProcessChain());
  }

  const chainLogCount = async (history: RichHistory) => {
    const { addresses, deployBlock, publicClient } = history.chain;
    return (await publicClient.getLogs({ address: [addresses.registry, addresses.ledger, addresses.negotiationHub], fromBlock: deployBlock })).length;
  };

  describe("resume", function () {
    it("resumes an interrupted sync after its cursor and re-reads nothing it stored", async function () {
      const history = await loadFixture(richHistoryFixture);
      const location = await backend.fresh();
      const base = { ledger: history.chain.addresses.ledger, fromBlock: history.chain.deployBlock, ...location, fetch: { initialRange: 4n, growBelow: 0 } };

      // First run: crash after the third batch has been stored.
      const first = countingClient();
      let batches = 0;
      let error: unknown;
      try {
        await sync({ ...base, client: first.client, onProgress: () => {
          batches += 1;
          if (batches === 3) throw new Error("interrupted");
        } });
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.equal("interrupted");
      const store = await openAt(location);
      const cursor = (await store.cursor())!;
      const stored = await store.eventCount();
      await store.close();
      expect(cursor.blockNumber).to.equal(history.chain.deployBlock + 11n); // three ranges of 4 blocks
      expect(stored).to.be.greaterThan(0);

      // Second run: every eth_getLogs starts after the cursor; stored events come from the store.
      const second = countingClient();
      const resumed = await sync({ ...base, client: second.client });
      const ranges = second.getLogs();
      expect(ranges.length).to.be.greaterThan(0);
      expect(ranges[0]!.fromBlock).to.equal(cursor.blockNumber + 1n);
      for (const r of ranges) expect(r.fromBlock > cursor.blockNumber).to.equal(true);
      expect(resumed.storedEvents).to.equal(stored);
      const total = await chainLogCount(history);
      expect(resumed.storedEvents + resumed.newEvents).to.equal(total);
      expect(resumed.state.eventsApplied).to.equal(total);
      expect(resumed.violations).to.deep.equal([]);

      // Third run at the same head: no eth_getLogs at all, and verify still matches the chain.
      const third = countingClient();
      const again = await verify({ ...base, client: third.client });
      expect(third.getLogs()).to.deep.equal([]);
      expect(again.sync.storedEvents).to.equal(total);
      expect(again.ok).to.equal(true);

      // The snapshot tables hold the rebuilt balances.
      const reopened = await openAt(location);
      const balances = await reopened.snapshotBalances();
      await reopened.close();
      expect(balances.length).to.be.greaterThan(10);
      for (const b of balances) {
        expect(await history.chain.publicClient.readContract({ address: history.chain.addresses.ledger, abi: settlementLedgerAbi, functionName: "balanceOf", args: [b.account, b.token] })).to.equal(b.amount);
      }
    });

    it("refuses a data folder that audits another ledger", async function () {
      const history = await loadFixture(richHistoryFixture);
      const location = await backend.fresh();
      const { client } = countingClient();
      await sync({ client, ledger: history.chain.addresses.ledger, fromBlock: history.chain.deployBlock, ...location });
      const other = await ethers.deployContract("SettlementLedger", [history.chain.addresses.registry]);
      let error: unknown;
      try {
        await sync({ client, ledger: (await other.getAddress()) as `0x${string}`, ...location });
      } catch (e) {
        error = e;
      }
      expect((error as Error).name).to.equal("StoreMismatchError");
    });
  });

  describe("migrations", function () {
    it("records every version once, applies nothing twice and refuses a schema newer than its own", async function () {
      const store = await backend.memory();
      try {
        const versions = async () => (await store.db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version")).rows.map((r) => r.version);
        expect(await versions()).to.deep.equal(MIGRATIONS.map((m) => m.version));
        expect(await migrate(store.db)).to.deep.equal([]);
        await store.db.query("INSERT INTO schema_migrations (version, name) VALUES ($1, 'from a newer auditor')", [SCHEMA_VERSION + 1]);
        let error: unknown;
        try {
          await migrate(store.db);
        } catch (e) {
          error = e;
        }
        expect((error as Error).name).to.equal("SchemaVersionError");
        expect((error as Error).message).to.contain(`schema version ${SCHEMA_VERSION + 1}, newer than this auditor's ${SCHEMA_VERSION}`);
      } finally {
        await store.close();
      }
    });

    it("applies only the later migrations to a store that has the first", async function () {
      const store = await backend.memory();
      try {
        const later = MIGRATIONS.slice(1).map((m) => m.version);
        await store.db.exec(`DELETE FROM schema_migrations WHERE version > ${MIGRATIONS[0]!.version}`);
        // Later migrations may be re-run on tables that exist (CREATE ... IF NOT EXISTS or OR REPLACE).
        expect(await migrate(store.db)).to.deep.equal(later);
      } finally {
        await store.close();
      }
    });
  });

  describe("appends", function () {
    /** The rich history's decoded events, in three batches of whole blocks. */
    async function batchesOfHistory() {
      const history = await loadFixture(richHistoryFixture);
      const { registry, ledger, negotiationHub } = history.chain.addresses;
      const addresses = { registry, ledger, negotiationHub };
      const logs: ConcordLog[] = [];
      for await (const batch of fetchConcordLogs(countingClient().client, { addresses, fromBlock: history.chain.deployBlock })) logs.push(...batch.logs);
      const blocks = [...new Set(logs.map((l) => l.blockNumber))];
      const third = Math.ceil(blocks.length / 3);
      const inBlocks = (from: number, to: number) => logs.filter((l) => l.blockNumber >= blocks[from]! && l.blockNumber <= blocks[Math.min(to, blocks.length) - 1]!);
      const batches = [inBlocks(0, third), inBlocks(third, 2 * third), inBlocks(2 * third, blocks.length)];
      const cursorOf = (batch: ConcordLog[]) => ({ blockNumber: batch.at(-1)!.blockNumber, blockHash: batch.at(-1)!.blockHash });
      const meta = { chainId: 31337n, addresses, startBlock: history.chain.deployBlock };
      return { batches, cursorOf, meta, decoder: new ConcordLogDecoder(addresses) };
    }
    const read = async (store: AuditStore, decoder: ConcordLogDecoder, pageSize: number) => {
      const out: ConcordLog[] = [];
      for await (const page of store.events(decoder, { pageSize })) out.push(...page);
      return out;
    };

    it("appends batches in order and reads them back page by page exactly", async function () {
      const { batches, cursorOf, meta, decoder } = await batchesOfHistory();
      const store = await backend.memory();
      try {
        await store.bind(meta);
        for (const b of batches) await store.append(b, cursorOf(b));
        expect(await store.cursor()).to.deep.equal(cursorOf(batches[2]!));
        const all = batches.flat();
        expect(await store.eventCount()).to.equal(all.length);
        // Pages of 7, and one page: the same events as fetched, decoded again from what was stored.
        expect(await read(store, decoder, 7)).to.deep.equal(all);
        expect(await read(store, decoder, all.length + 1)).to.deep.equal(all);
      } finally {
        await store.close();
      }
    });

    it("leaves the store as it was when an append fails", async function () {
      const { batches, cursorOf, meta, decoder } = await batchesOfHistory();
      const [first, second] = batches as [ConcordLog[], ConcordLog[]];
      const store = await backend.memory();
      try {
        await store.bind(meta);
        await store.append(first, cursorOf(first));
        // The second batch repeats the first one's keys: nothing of it is written, the cursor stays.
        let error: unknown;
        try {
          await store.append([...second, ...first], cursorOf(second));
        } catch (e) {
          error = e;
        }
        expect((error as Error).message).to.match(/duplicate key/);
        expect((error as { code?: string }).code).to.equal("23505"); // unique_violation
        expect(await store.cursor()).to.deep.equal(cursorOf(first));
        expect(await read(store, decoder, 1_000)).to.deep.equal(first);
      } finally {
        await store.close();
      }
    });
  });

  describe("reorganisation", function () {
    it("detects a reorganisation, rolls back to the last matching block and never double counts", async function () {
      const history = await loadFixture(richHistoryFixture);
      const { ids, people } = history;
      const location = await backend.fresh();
      const base = { ledger: history.chain.addresses.ledger, fromBlock: history.chain.deployBlock, ...location };
      const publicClient = history.chain.publicClient;
      const forkBlock = await publicClient.getBlockNumber();
      const snapshot = (await hre.network.provider.request({ method: "evm_snapshot" })) as string;

      // The branch that will be abandoned: two settlements and a withdrawal.
      await settleEth(history, 5, ids.a, 2, 4_000_000n, "orphan-1", people.travelSite);
      await settleEth(history, 6, ids.a, 2, 5_000_000n, "orphan-2");
      await history.chain.write(7, { address: history.chain.addresses.ledger, abi: settlementLedgerAbi, functionName: "withdraw", args: [ETH, people.travelSite, 1n] });
      const orphanHead = await publicClient.getBlockNumber();
      const before = await sync({ ...base, client: countingClient().client });
      expect(before.toBlock).to.equal(orphanHead);

      // Reorganise: back to the fork, then a different, longer branch.
      await hre.network.provider.request({ method: "evm_revert", params: [snapshot] });
      await settleEth(history, 6, ids.a, 2, 7_000_000n, "canonical-1", people.travelSite);
      await hre.network.provider.request({ method: "hardhat_mine", params: ["0x3"] });
      await settleEth(history, 5, ids.c, 1, 9_000_000n, "canonical-2");
      expect((await publicClient.getBlockNumber()) > orphanHead).to.equal(true);

      const counting = countingClient();
      const after = await verify({ ...base, client: counting.client });
      expect(after.sync.reorg, "reorg detected").to.not.equal(undefined);
      // The fork block holds the history's last withdrawal, so it is stored and still matches.
      expect(after.sync.reorg!.rolledBackTo).to.equal(forkBlock);
      expect(after.sync.reorg!.removedEvents).to.equal(5); // two Settled, a ReservesHeld each, and one Withdrawn of the orphaned branch
      for (const r of counting.getLogs()) expect(r.fromBlock > after.sync.reorg!.rolledBackTo).to.equal(true);
      // Exactly the canonical history, once.
      const total = await chainLogCount(history);
      expect(after.sync.state.eventsApplied).to.equal(total);
      expect(after.violations).to.deep.equal([]);
      expect(after.differences).to.deep.equal([]);
      expect(after.ok).to.equal(true);
      // The orphaned branch's balance changes went with its events: the history sums to the rebuilt balances.
      const store = await openAt(location);
      try {
        const { rows } = await store.db.query<{ account: string; token: string; balance: string }>(
          "SELECT account, token, balance::text FROM balances_at((SELECT block_number FROM sync_cursor)) ORDER BY account, token",
        );
        expect(rows).to.deep.equal((await store.snapshotBalances()).map((b) => ({ account: b.account, token: b.token, balance: b.amount.toString() })));
        // The orphaned settlement's order reference went with it; the canonical ones are recorded.
        expect(await store.firstSettlement(people.guest, orderRef("orphan-1"))).to.equal(undefined);
        expect(await store.firstSettlement(people.guest, orderRef("canonical-2"))).to.not.equal(undefined);
      } finally {
        await store.close();
      }
    });
  });
});
