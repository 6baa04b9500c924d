/**
 * The auditor's store: replayed events, the blocks they came from, the sync cursor and the
 * rebuilt balances, reserves and pools, in an embedded PostgreSQL (PGlite) in a local folder or
 * in a PostgreSQL server (src/audit/db.ts). One schema (src/audit/migrations.ts) and the same
 * SQL for both.
 */
import path from "node:path";
import type { Address, Hex } from "viem";
import { connectPostgres, jsonRows, openPglite, toJson, type SqlDatabase, type SqlSession } from "./db";
import type { ConcordLogDecoder } from "./decode";
import { insertLotWrites } from "./lot-entries";
import { LOCKS, migrate } from "./migrations";
import { firstSettlement, insertOrderRefs } from "./order-refs";
import type { ConcordAddresses, ConcordLog } from "./types";
import type { BalanceChange, OrderRefWrite, ReplayState, Violation } from "./replay";

export type StoreMeta = { chainId: bigint; addresses: ConcordAddresses; startBlock: bigint };
export type Cursor = { blockNumber: bigint; blockHash: Hex };

/** Thrown when a data folder belongs to another chain or deployment. */
export class StoreMismatchError extends Error {
  override name = "StoreMismatchError";
}

export { toJson };

/** The default data folder of a deployment: `.concord/audit/<chainId>-<ledger>`. */
export function defaultDataDir(chainId: bigint, ledger: Address, root = process.cwd()): string {
  return path.join(root, ".concord", "audit", `${chainId}-${ledger.toLowerCase()}`);
}

/** Inserts balance changes in one statement; `seq` numbers the changes of one event. */
async function insertBalanceChanges(tx: SqlSession, changes: readonly BalanceChange[]): Promise<void> {
  if (changes.length === 0) return;
  let seq = 0;
  const rows = changes.map((c, i) => {
    const prev = changes[i - 1];
    seq = prev && prev.blockNumber === c.blockNumber && prev.logIndex === c.logIndex ? seq + 1 : 0;
    return { b: c.blockNumber, li: c.logIndex, sq: seq, a: c.account, t: c.token, k: c.kind, ag: c.agreementId ?? null, am: c.amount };
  });
  await tx.query(
    `INSERT INTO balance_changes (block_number, log_index, seq, account, token, kind, agreement_id, amount)
     SELECT b, li, sq, a, t, k, ag, am
     FROM json_to_recordset($1::json) AS r(b numeric, li int4, sq int4, a text, t text, k text, ag numeric, am numeric)`,
    [jsonRows(rows)],
  );
}

export class AuditStore {
  private constructor(
    readonly db: SqlDatabase,
    /** The data folder, or undefined for an in-memory or server store. */
    readonly dataDir: string | undefined,
  ) {}

  /** Opens (creating if needed) a PGlite store in `dataDir`, or in memory when it is undefined. */
  static async open(dataDir?: string): Promise<AuditStore> {
    return AuditStore.on(await openPglite(dataDir), dataDir);
  }

  /** Connects to a store in a PostgreSQL server (`postgres://user:password@host:port/database`). */
  static async connect(databaseUrl: string): Promise<AuditStore> {
    return AuditStore.on(await connectPostgres(databaseUrl), undefined);
  }

  /** A store on an open database, migrated to this auditor's schema. */
  static async on(db: SqlDatabase, dataDir: string | undefined): Promise<AuditStore> {
    try {
      await migrate(db);
    } catch (error) {
      await db.close();
      throw error;
    }
    return new AuditStore(db, dataDir);
  }

  /** Where the store lives, fit to print: its folder, "(memory)" or the server's URL (no password). */
  get location(): string {
    return this.db.location;
  }

  /**
   * Holds the store's sync lock (a PostgreSQL advisory lock of this connection) until the returned
   * function is called: a second auditor syncing the same database waits here, then resumes after
   * the cursor the first one left. A connection that dies releases it.
   */
  async lockForSync(): Promise<() => Promise<void>> {
    await this.db.query("SELECT pg_advisory_lock($1::bigint)", [LOCKS.sync.toString()]);
    return async () => void (await this.db.query("SELECT pg_advisory_unlock($1::bigint)", [LOCKS.sync.toString()]));
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async meta(): Promise<StoreMeta | undefined> {
    const { rows } = await this.db.query<{ chain_id: string; registry: string; ledger: string; negotiation_hub: string | null; start_block: string }>(
      "SELECT chain_id::text, registry, ledger, negotiation_hub, start_block::text FROM audit_meta WHERE id = 1",
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      chainId: BigInt(row.chain_id),
      addresses: {
        registry: row.registry as Address,
        ledger: row.ledger as Address,
        negotiationHub: (row.negotiation_hub ?? undefined) as Address | undefined,
      },
      startBlock: BigInt(row.start_block),
    };
  }

  /** Records which deployment this store audits; refuses a store that audits another one. */
  async bind(meta: StoreMeta): Promise<StoreMeta> {
    const existing = await this.meta();
    if (existing) {
      if (existing.chainId !== meta.chainId || existing.addresses.ledger.toLowerCase() !== meta.addresses.ledger.toLowerCase()) {
        throw new StoreMismatchError(
          `store ${this.location} audits ledger ${existing.addresses.ledger} on chain ${existing.chainId}, not ${meta.addresses.ledger} on chain ${meta.chainId}`,
        );
      }
      return existing;
    }
    await this.db.query(
      "INSERT INTO audit_meta (id, chain_id, registry, ledger, negotiation_hub, start_block) VALUES (1, $1, $2, $3, $4, $5)",
      [meta.chainId.toString(), meta.addresses.registry, meta.addresses.ledger, meta.addresses.negotiationHub ?? null, meta.startBlock.toString()],
    );
    return meta;
  }

  async cursor(): Promise<Cursor | undefined> {
    const { rows } = await this.db.query<{ block_number: string; block_hash: Hex }>(
      "SELECT block_number::text, block_hash FROM sync_cursor WHERE id = 1",
    );
    const row = rows[0];
    return row ? { blockNumber: BigInt(row.block_number), blockHash: row.block_hash } : undefined;
  }

  async eventCount(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>("SELECT count(*)::int AS n FROM events");
    return rows[0]?.n ?? 0;
  }

  /** Stored blocks at or below `blockNumber`, newest first (what a reorg check walks back through). */
  async blocksDescending(blockNumber: bigint, limit = 1_000): Promise<Cursor[]> {
    const { rows } = await this.db.query<{ number: string; hash: Hex }>(
      "SELECT number::text, hash FROM blocks WHERE number <= $1 ORDER BY blocks.number DESC LIMIT $2",
      [blockNumber.toString(), limit],
    );
    return rows.map((r) => ({ blockNumber: BigInt(r.number), blockHash: r.hash }));
  }

  /**
   * Appends one batch of logs (and the balance changes, lot entries, refunds and order
   * references the replay derived from them) and moves the cursor, atomically: an interrupted
   * sync resumes after the last batch that committed. Returns the positions in `orderRefs` of
   * references settled before in their scope ({insertOrderRefs}).
   */
  async append(
    logs: readonly ConcordLog[],
    cursor: Cursor,
    changes: readonly BalanceChange[] = [],
    lots?: ReplayState["lotWrites"],
    orderRefs: readonly OrderRefWrite[] = [],
  ): Promise<number[]> {
    return this.db.transaction(async (tx) => {
      await insertBalanceChanges(tx, changes);
      if (lots) await insertLotWrites(tx, lots);
      const repeated = await insertOrderRefs(tx, orderRefs);
      if (logs.length > 0) {
        const rows = logs.map((l) => ({
          b: l.blockNumber,
          bh: l.blockHash,
          ti: l.transactionIndex,
          li: l.logIndex,
          th: l.transactionHash,
          a: l.address,
          n: l.eventName,
          j: l.args,
          t: l.topics.join(","),
          d: l.data,
          bt: l.blockTimestamp ?? null,
        }));
        await tx.query(
          `INSERT INTO events (block_number, block_hash, tx_index, log_index, tx_hash, address, event_name, args, topics, data, block_time)
           SELECT b, bh, ti, li, th, a, n, j, t, d, bt
           FROM json_to_recordset($1::json) AS r(b numeric, bh text, ti int4, li int4, th text, a text, n text, j jsonb, t text, d text, bt numeric)`,
          [jsonRows(rows)],
        );
      }
      // Every block the batch has events in, and the block the cursor moves to.
      const blocks = new Map<string, Hex>();
      for (const log of logs) blocks.set(log.blockNumber.toString(), log.blockHash);
      blocks.set(cursor.blockNumber.toString(), cursor.blockHash);
      await tx.query(
        `INSERT INTO blocks (number, hash) SELECT n, h FROM json_to_recordset($1::json) AS r(n numeric, h text)
         ON CONFLICT (number) DO UPDATE SET hash = EXCLUDED.hash`,
        [jsonRows([...blocks].map(([n, h]) => ({ n, h })))],
      );
      await tx.query(
        `INSERT INTO sync_cursor (id, block_number, block_hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET block_number = EXCLUDED.block_number, block_hash = EXCLUDED.block_hash, updated_at = now()`,
        [cursor.blockNumber.toString(), cursor.blockHash],
      );
      return repeated;
    });
  }

  /** Forgets everything after `cursor.blockNumber` (a reorganisation) and moves the cursor back; returns the events removed. */
  async rollbackTo(cursor: Cursor | undefined): Promise<number> {
    return this.db.transaction(async (tx) => {
      const after = cursor ? cursor.blockNumber.toString() : "-1";
      const removed = await tx.query("DELETE FROM events WHERE block_number > $1", [after]);
      await tx.query("DELETE FROM balance_changes WHERE block_number > $1", [after]);
      await tx.query("DELETE FROM lot_entries WHERE block_number > $1", [after]);
      await tx.query("DELETE FROM lot_refunds WHERE block_number > $1", [after]);
      await tx.query("DELETE FROM order_refs WHERE block_number > $1", [after]);
      await tx.query("DELETE FROM blocks WHERE number > $1", [after]);
      if (cursor) {
        await tx.query("UPDATE sync_cursor SET block_number = $1, block_hash = $2, updated_at = now() WHERE id = 1", [
          cursor.blockNumber.toString(),
          cursor.blockHash,
        ]);
      } else {
        await tx.query("DELETE FROM sync_cursor");
      }
      return removed.affectedRows ?? 0;
    });
  }

  /**
   * Streams the stored events in chain order, re-decoded from their raw topics and data with the
   * same decoder the fetcher uses, in pages (memory stays flat).
   */
  async *events(decoder: ConcordLogDecoder, options: { toBlock?: bigint; pageSize?: number } = {}): AsyncGenerator<ConcordLog[]> {
    const pageSize = options.pageSize ?? 5_000;
    const toBlock = options.toBlock?.toString() ?? null;
    let after: [string, number] = ["-1", -1];
    for (;;) {
      const { rows } = await this.db.query<{
        block_number: string;
        block_hash: Hex;
        tx_index: number;
        log_index: number;
        tx_hash: Hex;
        address: string;
        topics: string;
        data: Hex;
        block_time: string | null;
      }>(
        `SELECT block_number::text, block_hash, tx_index, log_index, tx_hash, address, topics, data, block_time::text FROM events
         WHERE (block_number, log_index) > ($1::numeric, $2::int) AND ($3::numeric IS NULL OR block_number <= $3::numeric)
         ORDER BY events.block_number, events.log_index LIMIT $4`,
        [after[0], after[1], toBlock, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map((row) =>
        decoder.decode({
          address: row.address,
          topics: row.topics.split(",") as Hex[],
          data: row.data,
          blockNumber: `0x${BigInt(row.block_number).toString(16)}`,
          blockHash: row.block_hash,
          transactionHash: row.tx_hash,
          transactionIndex: `0x${row.tx_index.toString(16)}`,
          logIndex: `0x${row.log_index.toString(16)}`,
          blockTimestamp: row.block_time === null ? undefined : `0x${BigInt(row.block_time).toString(16)}`,
        }),
      );
      const last = rows.at(-1)!;
      after = [last.block_number, last.log_index];
      if (rows.length < pageSize) return;
    }
  }

  /**
   * Whether the store's events predate its `balance_changes` table (a store made before schema
   * version 2): the next sync derives them while it replays the stored events.
   */
  async needsBalanceChanges(): Promise<boolean> {
    return this.needsBackfill("balance_changes");
  }

  /** Whether the store's events predate its `lot_entries` table (schema version 3), as {needsBalanceChanges}. */
  async needsLotEntries(): Promise<boolean> {
    return this.needsBackfill("lot_entries");
  }

  /** Whether the store's events predate its `order_refs` table (schema version 4), as {needsBalanceChanges}. */
  async needsOrderRefs(): Promise<boolean> {
    return this.needsBackfill("order_refs");
  }

  private async needsBackfill(name: string): Promise<boolean> {
    const { rows } = await this.db.query<{ name: string }>("SELECT name FROM store_backfill WHERE name = $1", [name]);
    return rows.length > 0;
  }

  /** Starts a backfill of lot entries over: forgets those written by an interrupted one. */
  async startLotEntries(): Promise<void> {
    await this.db.exec("DELETE FROM lot_entries; DELETE FROM lot_refunds;");
  }

  /** Writes lot entries and refunds of events already stored (a backfill), `done` when they are all written. */
  async backfillLotEntries(writes: NonNullable<ReplayState["lotWrites"]>, done: boolean): Promise<void> {
    await this.db.transaction(async (tx) => {
      await insertLotWrites(tx, writes);
      if (done) await tx.exec("DELETE FROM store_backfill WHERE name = 'lot_entries'");
    });
  }

  /** Starts a backfill of order references over: forgets those written by an interrupted one. */
  async startOrderRefs(): Promise<void> {
    await this.db.exec("DELETE FROM order_refs");
  }

  /**
   * Writes the order references of events already stored (a backfill), `done` when they are all
   * written; returns the positions of those settled before ({insertOrderRefs}).
   */
  async backfillOrderRefs(refs: readonly OrderRefWrite[], done: boolean): Promise<number[]> {
    return this.db.transaction(async (tx) => {
      const repeated = await insertOrderRefs(tx, refs);
      if (done) await tx.exec("DELETE FROM store_backfill WHERE name = 'order_refs'");
      return repeated;
    });
  }

  /** Starts a backfill of balance changes over: forgets those written by an interrupted one. */
  async startBalanceChanges(): Promise<void> {
    await this.db.exec("DELETE FROM balance_changes");
  }

  /** Writes balance changes of events already stored (a backfill), `done` when they are all written. */
  async backfillBalanceChanges(changes: readonly BalanceChange[], done: boolean): Promise<void> {
    await this.db.transaction(async (tx) => {
      await insertBalanceChanges(tx, changes);
      if (done) await tx.exec("DELETE FROM store_backfill WHERE name = 'balance_changes'");
    });
  }

  /** Replaces the rebuilt balances, open reserve lots and pools with the state at `blockNumber`. */
  async writeSnapshot(state: ReplayState, blockNumber: bigint, violations: readonly Violation[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.exec("DELETE FROM balances; DELETE FROM reserve_lots; DELETE FROM payout_pools; DELETE FROM snapshot;");
      const balances = [...state.balances.values()].map((b) => ({ a: b.account, t: b.token, am: b.amount }));
      await tx.query(
        `INSERT INTO balances (account, token, amount) SELECT a, t, am FROM json_to_recordset($1::json) AS r(a text, t text, am numeric)`,
        [jsonRows(balances)],
      );
      // The open lots' entries are the `reserve_lot_entries` view over `lot_entries` (migration 3).
      const lots = [...state.lots.values()].filter((lot) => lot.open).map((l) => ({ l: l.lotId, ag: l.agreementId, v: l.version, t: l.token, h: l.held, r: l.releaseAt }));
      await tx.query(
        `INSERT INTO reserve_lots (lot_id, agreement_id, version, token, held, release_at)
         SELECT l, ag, v, t, h, r FROM json_to_recordset($1::json) AS j(l numeric, ag numeric, v int4, t text, h numeric, r numeric)`,
        [jsonRows(lots)],
      );
      const pools = [...state.pools.values()].map((p) => ({ ag: p.agreementId, v: p.version, t: p.token, tot: p.total, h: p.held, d: p.distributed, u: p.paidUpTo }));
      await tx.query(
        `INSERT INTO payout_pools (agreement_id, version, token, total, held, distributed, paid_up_to)
         SELECT ag, v, t, tot, h, d, u FROM json_to_recordset($1::json) AS j(ag numeric, v int4, t text, tot numeric, h numeric, d numeric, u jsonb)`,
        [jsonRows(pools)],
      );
      await tx.query("INSERT INTO snapshot (id, block_number, events, violations) VALUES (1, $1, $2, $3)", [
        blockNumber.toString(),
        state.eventsApplied,
        toJson(violations),
      ]);
    });
  }

  /**
   * Where `orderRef` first settled in `scope` (the order signer of the version's terms, else the
   * payer), as the store recorded it; undefined if it never did.
   */
  async firstSettlement(scope: Address, orderRef: Hex): Promise<{ blockNumber: bigint; logIndex: number } | undefined> {
    return firstSettlement(this.db, scope, orderRef);
  }

  /** The stored snapshot of balances (for queries and tests). */
  async snapshotBalances(): Promise<{ account: Address; token: Address; amount: bigint }[]> {
    const { rows } = await this.db.query<{ account: Address; token: Address; amount: string }>(
      "SELECT account, token, amount::text FROM balances ORDER BY account, token",
    );
    return rows.map((r) => ({ account: r.account, token: r.token, amount: BigInt(r.amount) }));
  }
}
