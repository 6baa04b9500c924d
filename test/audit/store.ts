import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, custom } from "viem";
import { AuditStore, ConcordLogDecoder, fetchConcordLogs, sync, verify, type ConcordLog } from "../../src/audit";
import { ETH } from "../helpers/concord";
import { buildRichHistory } from "./history";

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

describe("audit store", function () {
  let dirs: string[] = [];
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-audit-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(function () {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });

  async function richHistoryFixture() {
    return buildRichHistory(await ethers.getSigners(), { increaseTime: async (s) => void (await time.increase(s)) });
  }

  const chainLogCount = async (addresses: { registry: string; ledger: string }, fromBlock: bigint) =>
    (await ethers.provider.getLogs({ address: [addresses.registry, addresses.ledger], fromBlock: Number(fromBlock), toBlock: "latest" })).length;

  describe("resume", function () {
    it("resumes an interrupted sync after its cursor and re-reads nothing it stored", async function () {
      const history = await loadFixture(richHistoryFixture);
      const dataDir = tempDir();
      const base = { ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir, fetch: { initialRange: 4n, growBelow: 0 } };

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
      const store = await AuditStore.open(dataDir);
      const cursor = (await store.cursor())!;
      const stored = await store.eventCount();
      await store.close();
      expect(cursor.blockNumber).to.equal(history.deployBlock + 11n); // three ranges of 4 blocks
      expect(stored).to.be.greaterThan(0);

      // Second run: every eth_getLogs starts after the cursor; stored events come from the store.
      const second = countingClient();
      const resumed = await sync({ ...base, client: second.client });
      const ranges = second.getLogs();
      expect(ranges.length).to.be.greaterThan(0);
      expect(ranges[0]!.fromBlock).to.equal(cursor.blockNumber + 1n);
      for (const r of ranges) expect(r.fromBlock > cursor.blockNumber).to.equal(true);
      expect(resumed.storedEvents).to.equal(stored);
      const total = await chainLogCount(history.addresses, history.deployBlock);
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
      const reopened = await AuditStore.open(dataDir);
      const balances = await reopened.snapshotBalances();
      await reopened.close();
      for (const b of balances) expect(await history.ledger.balanceOf(b.account, b.token)).to.equal(b.amount);
    });

    it("refuses a data folder that audits another ledger", async function () {
      const history = await loadFixture(richHistoryFixture);
      const dataDir = tempDir();
      const { client } = countingClient();
      await sync({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir });
      const other = await ethers.deployContract("SettlementLedger", [history.addresses.registry]);
      let error: unknown;
      try {
        await sync({ client, ledger: (await other.getAddress()) as `0x${string}`, dataDir });
      } catch (e) {
        error = e;
      }
      expect((error as Error).name).to.equal("StoreMismatchError");
    });
  });

  describe("appends", function () {
    /** The rich history's decoded events, in three batches of whole blocks. */
    async function batchesOfHistory() {
      const history = await loadFixture(richHistoryFixture);
      const addresses = { registry: history.addresses.registry, ledger: history.addresses.ledger };
      const logs: ConcordLog[] = [];
      for await (const batch of fetchConcordLogs(countingClient().client, { addresses, fromBlock: history.deployBlock })) logs.push(...batch.logs);
      const blocks = [...new Set(logs.map((l) => l.blockNumber))];
      const third = Math.ceil(blocks.length / 3);
      const inBlocks = (from: number, to: number) => logs.filter((l) => l.blockNumber >= blocks[from]! && l.blockNumber <= blocks[Math.min(to, blocks.length) - 1]!);
      const batches = [inBlocks(0, third), inBlocks(third, 2 * third), inBlocks(2 * third, blocks.length)];
      const cursorOf = (batch: ConcordLog[]) => ({ blockNumber: batch.at(-1)!.blockNumber, blockHash: batch.at(-1)!.blockHash });
      const meta = { chainId: 31337n, addresses, startBlock: history.deployBlock };
      return { batches, cursorOf, meta, decoder: new ConcordLogDecoder(addresses) };
    }
    const read = async (store: AuditStore, decoder: ConcordLogDecoder, pageSize: number) => {
      const out: ConcordLog[] = [];
      for await (const page of store.events(decoder, { pageSize })) out.push(...page);
      return out;
    };

    it("appends batches in order and reads them back page by page exactly", async function () {
      const { batches, cursorOf, meta, decoder } = await batchesOfHistory();
      const store = await AuditStore.open();
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
      const store = await AuditStore.open();
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
      const [, , , , , guest, guest2, travelSite] = await ethers.getSigners();
      const dataDir = tempDir();
      const base = { ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir };
      const ledger = history.ledger;
      const forkBlock = BigInt(await ethers.provider.getBlockNumber());
      const snapshot = (await hre.network.provider.request({ method: "evm_snapshot" })) as string;

      // The branch that will be abandoned: two settlements and a withdrawal.
      await (await ledger.connect(guest!).settle(history.ids.a, ETH, 4_000_000n, travelSite!.address, ethers.id("orphan-1"), { value: 4_000_000n })).wait();
      await (await ledger.connect(guest2!).settle(history.ids.a, ETH, 5_000_000n, ethers.ZeroAddress, ethers.id("orphan-2"), { value: 5_000_000n })).wait();
      await (await ledger.connect(travelSite!).withdraw(ETH, travelSite!.address, 1n)).wait();
      const orphanHead = BigInt(await ethers.provider.getBlockNumber());
      const before = await sync({ ...base, client: countingClient().client });
      expect(before.toBlock).to.equal(orphanHead);

      // Reorganise: back to the fork, then a different, longer branch.
      await hre.network.provider.request({ method: "evm_revert", params: [snapshot] });
      await (await ledger.connect(guest2!).settle(history.ids.a, ETH, 7_000_000n, travelSite!.address, ethers.id("canonical-1"), { value: 7_000_000n })).wait();
      await hre.network.provider.request({ method: "hardhat_mine", params: ["0x3"] });
      await (await ledger.connect(guest!).settle(history.ids.c, ETH, 9_000_000n, ethers.ZeroAddress, ethers.id("canonical-2"), { value: 9_000_000n })).wait();
      expect(BigInt(await ethers.provider.getBlockNumber()) > orphanHead).to.equal(true);

      const counting = countingClient();
      const after = await verify({ ...base, client: counting.client });
      expect(after.sync.reorg, "reorg detected").to.not.equal(undefined);
      // The fork block holds the history's last withdrawal, so it is stored and still matches.
      expect(after.sync.reorg!.rolledBackTo).to.equal(forkBlock);
      expect(after.sync.reorg!.removedEvents).to.equal(3); // two Settled and one Withdrawn of the orphaned branch
      for (const r of counting.getLogs()) expect(r.fromBlock > after.sync.reorg!.rolledBackTo).to.equal(true);
      // Exactly the canonical history, once.
      const total = await chainLogCount(history.addresses, history.deployBlock);
      expect(after.sync.state.eventsApplied).to.equal(total);
      expect(after.sync.state.settlements.has(ethers.id("orphan-1") as `0x${string}`)).to.equal(false);
      expect(after.sync.state.settlements.has(ethers.id("canonical-2") as `0x${string}`)).to.equal(true);
      expect(after.violations).to.deep.equal([]);
      expect(after.differences).to.deep.equal([]);
      expect(after.ok).to.equal(true);
    });
  });
});
