/**
 * Settled order references kept in the store instead of in the replay's memory: with salted
 * references (`makeOrderRef`) every settlement sets a bit in a bitmap word of its own, about 113
 * bytes of live heap per settlement had the replay kept the ledger's bitmaps (measured), so a
 * history of millions would not fit in flat memory. The store's `order_refs` table keeps the first
 * settlement of each (scope, order reference) under a unique index; a batch's references are
 * inserted with it (in the batch's transaction), and every one that the index already held at
 * another event is a reference settled twice (DESIGN.md, idempotency).
 */
import { getAddress, type Address, type Hex } from "viem";
import { jsonRows, type SqlSession } from "./db";
import { settledTwice, type OrderRefWrite, type ReplayState } from "./replay";

const rowsOf = (refs: readonly OrderRefWrite[]) =>
  jsonRows(refs.map((r, i) => ({ i, s: r.scope, o: r.orderRef, b: r.event.blockNumber, li: r.event.logIndex })));

const RECORDS = "json_to_recordset($1::json) AS r(i int4, s text, o text, b numeric, li int4)";
/** The table's key (scope, order reference as bytes) from two 0x-prefixed hex texts. */
const keyOf = (scope: string, orderRef: string) => `decode(substr(${scope}, 3), 'hex'), decode(substr(${orderRef}, 3), 'hex')`;
const KEY = keyOf("r.s", "r.o");

/**
 * Records the first settlement of each reference in `refs` (in chain order) and returns the
 * positions in `refs` of those settled before, at another event: earlier in the store, earlier
 * in `refs`, or, for events the store holds already (a replay from it), at an earlier event.
 * One statement when nothing repeats, which is every batch of a sound ledger's new events.
 */
export async function insertOrderRefs(tx: SqlSession, refs: readonly OrderRefWrite[]): Promise<number[]> {
  if (refs.length === 0) return [];
  const rows = rowsOf(refs);
  // In chain order, so that of two settlements of one reference in a batch the first is the row.
  const inserted = await tx.query(
    `INSERT INTO order_refs (scope, order_ref, block_number, log_index) SELECT ${KEY}, r.b, r.li FROM ${RECORDS} ORDER BY r.i ON CONFLICT DO NOTHING`,
    [rows],
  );
  return inserted.affectedRows === refs.length ? [] : repeatedIn(tx, rows);
}

/**
 * The positions in `refs` (settlements the store holds already, in chain order: a replay from
 * it) of those whose reference the store records at an earlier event of their scope.
 */
export async function repeatedOrderRefs(db: SqlSession, refs: readonly OrderRefWrite[]): Promise<number[]> {
  return refs.length === 0 ? [] : repeatedIn(db, rowsOf(refs));
}

async function repeatedIn(db: SqlSession, rows: string): Promise<number[]> {
  const { rows: repeated } = await db.query<{ i: number }>(
    `SELECT r.i FROM ${RECORDS}
     JOIN order_refs f ON (f.scope, f.order_ref) = (${KEY})
     WHERE (f.block_number, f.log_index) <> (r.b, r.li)
     ORDER BY r.i`,
    [rows],
  );
  return repeated.map((r) => r.i);
}

/** Empties the batch's references once the store has checked them. */
export function takeOrderRefs(state: ReplayState): OrderRefWrite[] {
  const refs = state.orderRefWrites!;
  state.orderRefWrites = [];
  return refs;
}

/**
 * Records a violation for each repeated reference of a batch, then puts the batch's violations
 * back in chain order (the store's check comes after the batch's other findings).
 * `since` is how many violations the state held before the batch.
 */
export function reportRepeated(state: ReplayState, refs: readonly OrderRefWrite[], repeated: readonly number[], since: number): void {
  if (repeated.length === 0) return;
  for (const i of repeated) settledTwice(state, refs[i]!);
  const batch = state.violations.splice(since);
  batch.sort((a, b) => (a.event.blockNumber === b.event.blockNumber ? a.event.logIndex - b.event.logIndex : a.event.blockNumber < b.event.blockNumber ? -1 : 1));
  state.violations.push(...batch);
}

/**
 * Fills `state.orderBitmaps` from the store, as the ledger keeps them (what a reconciliation of
 * every word compares), reading the references in pages in key order.
 */
export async function loadOrderBitmaps(db: SqlSession, state: ReplayState, pageSize = 50_000): Promise<void> {
  let after: [string, string] = ["", ""];
  let scopeHex = "";
  let scope: Address | undefined;
  for (;;) {
    const { rows } = await db.query<{ s: string; o: string }>(
      `SELECT encode(scope, 'hex') AS s, encode(order_ref, 'hex') AS o FROM order_refs
       WHERE (scope, order_ref) > (decode($1, 'hex'), decode($2, 'hex')) ORDER BY scope, order_ref LIMIT $3`,
      [after[0], after[1], pageSize],
    );
    for (const row of rows) {
      if (row.s !== scopeHex || !scope) {
        scopeHex = row.s;
        scope = getAddress(`0x${row.s}`); // once per scope: rows come in key order
      }
      state.setOrderBit(scope, BigInt(`0x${row.o}`));
    }
    if (rows.length < pageSize) return;
    const last = rows.at(-1)!;
    after = [last.s, last.o];
  }
}

/** Where the store saw `orderRef` first settle in `scope`, or undefined if it never did. */
export async function firstSettlement(db: SqlSession, scope: Address, orderRef: Hex): Promise<{ blockNumber: bigint; logIndex: number } | undefined> {
  const { rows } = await db.query<{ b: string; li: number }>(
    `SELECT block_number::text AS b, log_index AS li FROM order_refs WHERE (scope, order_ref) = (${keyOf("$1", "$2")})`,
    [scope, orderRef],
  );
  const row = rows[0];
  return row ? { blockNumber: BigInt(row.b), logIndex: row.li } : undefined;
}
