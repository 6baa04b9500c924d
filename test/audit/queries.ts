import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, custom, zeroAddress } from "viem";
import { auditReport, AuditStore, ConcordLogDecoder, ReplayState, storedLotHash, sync } from "../../src/audit";
import { hashOpenLots, loadLotEntries, lotsToLoad, takeLotWrites } from "../../src/audit/lot-entries";
import { settlementLedgerAbi } from "../../src/sdk/abi";
import { quoteSplit } from "../../src/sdk/split";
import { startPostgres, type PostgresCluster } from "../helpers/postgres";
import { inProcessChain } from "./env";
import { buildRichHistory, type RichHistory } from "./history";

/** The SQL blocks of docs/auditor.md's "Querying the store", exactly as written there. */
function documentedQueries(): string[] {
  const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "auditor.md"), "utf8");
  const start = doc.indexOf("## Querying the store");
  const section = doc.slice(start, doc.indexOf("\n## ", start + 1));
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

type Row = Record<string, string>;
/** Rows with every value as text: the drivers give NUMERIC and bigint counts as strings or numbers. */
const query = async (store: AuditStore, sql: string): Promise<Row[]> =>
  (await store.db.query<Record<string, unknown>>(sql)).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])));
const byKey = (rows: Row[], ...keys: string[]) => new Map(rows.map((r) => [keys.map((k) => r[k]).join("/"), r]));

async function richHistoryFixture(): Promise<RichHistory> {
  return buildRichHistory(await inProcessChain());
}

const BACKENDS: { name: string; start?: () => Promise<PostgresCluster>; open: (cluster?: PostgresCluster) => Promise<AuditStore> }[] = [
  { name: "PGlite", open: () => AuditStore.open() },
  { name: "a PostgreSQL server", start: startPostgres, open: async (cluster) => AuditStore.connect(await cluster!.createDatabase()) },
];

describe("the documented SQL queries", function () {
  it("documents the five queries of the section", function () {
    const queries = documentedQueries();
    expect(queries).to.have.length(5);
    for (const name of ["balances_at(", "sum(net) AS net", "floor(block_number / 7200)", "FROM partner_statements", "FROM partner_earnings"]) {
      expect(queries.filter((q) => q.includes(name)), name).to.have.length(1);
    }
  });
});

for (const backend of BACKENDS) describe(`the documented SQL queries on ${backend.name}`, function () {
  let cluster: PostgresCluster | undefined;
  before(async function () {
    cluster = await backend.start?.();
  });
  after(async function () {
    await cluster?.stop();
  });

  async function synced() {
    const history = await loadFixture(richHistoryFixture);
    const client = createPublicClient({ transport: custom(hre.network.provider) });
    const store = await backend.open(cluster);
    const parameters = { client, ledger: history.chain.addresses.ledger, fromBlock: history.chain.deployBlock, store };
    const result = await sync(parameters);
    expect(result.violations).to.deep.equal([]);
    const report = await auditReport({ ...parameters, sync: false });
    return { history, store, result, report, parameters };
  }

  it("answers each documented query as the replay and the chain do", async function () {
    const { history, store, report } = await synced();
    try {
      const find = (name: string) => documentedQueries().find((q) => q.includes(name))!;

      // Balances at the synced block: the rebuilt balances (which verify checks against the chain).
      const balances = await query(store, find("balances_at("));
      const snapshot = await store.snapshotBalances();
      expect(balances).to.deep.equal(snapshot.map((b) => ({ account: b.account, token: b.token, balance: b.amount.toString() })));
      expect(balances.length).to.be.greaterThan(5);

      // Settlements per agreement: from the chain's own Settled logs, read here with viem.
      const settled = await history.chain.publicClient.getContractEvents({ address: history.chain.addresses.ledger, abi: settlementLedgerAbi, eventName: "Settled", fromBlock: history.chain.deployBlock });
      const expected = new Map<string, { settlements: bigint; gross: bigint; referral_fees: bigint; reserves: bigint; net: bigint }>();
      // Each payment's fee and reserve from the terms the history activated (the split rule).
      const { ids, terms } = history;
      const termsOf = new Map([[`${ids.a}:1`, terms.a1], [`${ids.a}:2`, terms.a2], [`${ids.b}:1`, terms.b], [`${ids.c}:1`, terms.c], [`${ids.d}:1`, terms.d], [`${ids.e}:1`, terms.e1], [`${ids.e}:2`, terms.e2]]);
      for (const { args } of settled) {
        const key = `${args.agreementId}/${args.token}`;
        const t = termsOf.get(`${args.agreementId}:${args.version}`)!;
        const split = quoteSplit(args.gross!, t.referralFeeBps, t.reserveBps, args.referrer !== zeroAddress);
        const e = expected.get(key) ?? { settlements: 0n, gross: 0n, referral_fees: 0n, reserves: 0n, net: 0n };
        e.settlements += 1n;
        e.gross += args.gross!;
        e.referral_fees += split.referralFee;
        e.reserves += split.reserve;
        e.net += split.net;
        expected.set(key, e);
      }
      const perAgreement = byKey(await query(store, find("sum(net) AS net")), "agreement_id", "token");
      expect([...perAgreement.keys()].sort()).to.deep.equal([...expected.keys()].sort());
      for (const [key, e] of expected) {
        const row = perAgreement.get(key)!;
        expect(row, key).to.include(Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v.toString()])));
      }

      // Periods of 7,200 blocks: the same settlements, each in the period of its block.
      const periods = await query(store, find("floor(block_number / 7200)"));
      const expectedPeriods = new Map<string, bigint>();
      for (const log of settled) {
        const key = `${log.args.agreementId}/${log.args.token}/${log.blockNumber / 7200n}`;
        expectedPeriods.set(key, (expectedPeriods.get(key) ?? 0n) + 1n);
      }
      expect(new Map(periods.map((r) => [`${r.agreement_id}/${r.token}/${r.period}`, BigInt(r.settlements!)]))).to.deep.equal(expectedPeriods);

      // Each partner's statement and earnings: the report's figures over the whole history, and the balance.
      const statements = byKey(await query(store, find("FROM partner_statements")), "partner", "token");
      const earnings = byKey(await query(store, find("FROM partner_earnings")), "partner", "token", "agreement_id");
      const balanceOf = new Map(snapshot.map((b) => [`${b.account}/${b.token}`, b.amount]));
      let checked = 0;
      for (const p of report.partners) {
        for (const [token, t] of p.tokens) {
          const earned = [...t.earnedByAgreement.values()].reduce((x, y) => x + y, 0n);
          const row = statements.get(`${p.partner}/${token}`);
          if (!row) {
            // A partner the report names only for reserves or amounts to claim has no balance change.
            expect(earned + t.referralFees + t.refundsReceived + t.withdrawn, `${p.partner} ${token}`).to.equal(0n);
            continue;
          }
          expect(row, `${p.partner} ${token}`).to.deep.equal({
            partner: p.partner,
            token,
            earned: earned.toString(),
            referral_fees: t.referralFees.toString(),
            refunds_received: t.refundsReceived.toString(),
            withdrawn: t.withdrawn.toString(),
            balance: balanceOf.get(`${p.partner}/${token}`)!.toString(),
          });
          for (const [agreementId, amount] of t.earnedByAgreement) {
            expect(earnings.get(`${p.partner}/${token}/${agreementId}`)?.earned, `${p.partner} ${token} ${agreementId}`).to.equal(amount.toString());
          }
          checked += 1;
        }
      }
      expect(checked).to.equal(statements.size);
      expect([...earnings.values()].filter((r) => r.earned !== "0").length).to.equal(report.partners.flatMap((p) => [...p.tokens.values()].flatMap((t) => [...t.earnedByAgreement.values()])).filter((a) => a !== 0n).length);
    } finally {
      await store.close();
    }
  });

  it("gives balances at any earlier block as a replay stopped there does", async function () {
    const { store, result } = await synced();
    try {
      const blocks = (await query(store, "SELECT DISTINCT block_number::text AS b FROM balance_changes ORDER BY 1")).map((r) => BigInt(r.b!));
      const decoder = new ConcordLogDecoder(result.addresses);
      for (const at of [blocks[0]!, blocks[Math.floor(blocks.length / 2)]!, blocks.at(-2)! ]) {
        const state = new ReplayState();
        for await (const page of store.events(decoder, { toBlock: at })) state.applyBatch(page);
        const expected = [...state.balances.values()].map((b) => ({ account: b.account, token: b.token, balance: b.amount.toString() }));
        const rows = await query(store, `SELECT account, token, balance FROM balances_at(${at}) ORDER BY account, token`);
        expect(rows, `block ${at}`).to.deep.equal(expected.sort((x, y) => (x.account + x.token < y.account + y.token ? -1 : x.account + x.token > y.account + y.token ? 1 : 0)));
      }
    } finally {
      await store.close();
    }
  });

  it("derives the balance changes of a store that predates them on its next sync", async function () {
    const { store, parameters } = await synced();
    try {
      const all = "SELECT block_number::text, log_index, seq, account, token, kind, agreement_id::text, amount::text FROM balance_changes ORDER BY block_number, log_index, seq";
      const before = await query(store, all);
      // A store of schema version 1 held events and no balance changes; migration 2 marks it.
      await store.db.exec("DELETE FROM balance_changes; INSERT INTO store_backfill (name) VALUES ('balance_changes')");
      expect(await store.needsBalanceChanges()).to.equal(true);
      const again = await sync(parameters);
      expect(again.newEvents).to.equal(0);
      expect(await store.needsBalanceChanges()).to.equal(false);
      expect(await query(store, all)).to.deep.equal(before);
    } finally {
      await store.close();
    }
  });

  it("keeps lot entries and refunds as rows, derived again for a store that predates them", async function () {
    const { store, parameters, result } = await synced();
    try {
      const entries = "SELECT lot_id::text, block_number::text, entry_index, scope, order_ref, beneficiary, reserve::text FROM lot_entries ORDER BY lot_id, block_number, entry_index";
      const refunds = "SELECT block_number::text, log_index, lot_id::text, entry_index, amount::text FROM lot_refunds ORDER BY block_number, log_index";
      const before = { entries: await query(store, entries), refunds: await query(store, refunds) };
      // One row per settlement with a reserve, one per refund, as the events give them.
      const events = await query(store, "SELECT event_name, count(*)::text AS n FROM events GROUP BY event_name");
      const count = (name: string) => Number(events.find((r) => r.event_name === name)?.n ?? 0);
      expect(before.entries).to.have.length([...result.state.lots.values()].reduce((n, lot) => n + lot.entryCount, 0));
      expect(before.refunds).to.have.length(count("ReserveRefunded")).and.to.have.length.greaterThan(0);
      // The open lots' entries as they stand: what the ledger's lot hashes commit to.
      const open = [...result.state.lots.values()].filter((lot) => lot.open);
      expect(open.every((lot) => lot.entries === undefined && lot.entriesHash !== undefined)).to.equal(true);
      const standing = await query(store, "SELECT lot_id::text, reserve::text, refunded::text FROM reserve_lot_entries ORDER BY lot_id, entry_index");
      expect(standing).to.have.length(open.reduce((n, lot) => n + lot.entryCount, 0));
      // A store of schema version 2 held events and no lot entries; migration 3 marks it.
      await store.db.exec("DELETE FROM lot_entries; DELETE FROM lot_refunds; INSERT INTO store_backfill (name) VALUES ('lot_entries')");
      expect(await store.needsLotEntries()).to.equal(true);
      const again = await sync(parameters);
      expect(again.newEvents).to.equal(0);
      expect(again.violations).to.deep.equal([]);
      expect(await store.needsLotEntries()).to.equal(false);
      expect({ entries: await query(store, entries), refunds: await query(store, refunds) }).to.deep.equal(before);
      expect([...again.state.lots.values()].map((lot) => lot.entriesHash)).to.deep.equal([...result.state.lots.values()].map((lot) => lot.entriesHash));
    } finally {
      await store.close();
    }
  });

  it("replays from the store in small pages with lot entries loaded as they stood before each page", async function () {
    const { store, result } = await synced();
    try {
      const decoder = new ConcordLogDecoder(result.addresses);
      // In memory, as a replay without a store keeps them.
      const inMemory = new ReplayState();
      for await (const page of store.events(decoder)) inMemory.applyBatch(page);
      inMemory.finish();
      // From the store: the entries a page refunds from are loaded (the table has the later refunds too), then dropped.
      const paged = new ReplayState();
      paged.lotWrites = { entries: [], refunds: [] };
      let loads = 0;
      for await (const page of store.events(decoder, { pageSize: 3 })) {
        loads += lotsToLoad(paged, page).length;
        await loadLotEntries(store.db, paged, page);
        paged.applyBatch(page);
        takeLotWrites(paged);
        paged.dropLotEntries();
      }
      paged.finish();
      expect(loads).to.be.greaterThan(0);
      expect(paged.violations).to.deep.equal([]);
      expect(paged.lotsWithEntries.size).to.equal(0);
      await hashOpenLots(store.db, paged);
      const lots = (state: ReplayState) => [...state.lots.values()].map((lot) => ({ lotId: lot.lotId, held: lot.held, open: lot.open, hash: storedLotHash(lot) }));
      expect(lots(paged)).to.deep.equal(lots(inMemory));
      expect([...paged.risk.values()].map((r) => [r.refundCount, r.refundedVolume])).to.deep.equal([...inMemory.risk.values()].map((r) => [r.refundCount, r.refundedVolume]));
    } finally {
      await store.close();
    }
  });
});
