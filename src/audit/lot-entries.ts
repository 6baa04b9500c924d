/**
 * Reserve lot entries kept in the store instead of in the replay's memory: a history holds one
 * entry per settlement with a reserve (372 bytes of live heap each, measured), and the replay
 * reads one again only when a refund names it or when a reconciliation hashes an open lot.
 * A sync writes the entries and refunds a batch produced with the batch's events (one
 * transaction, so a crash or a reorganisation rolls them back with the events), loads the
 * entries a batch refunds from before applying it, and hashes the open lots' entries at the end.
 */
import type { Address, Hex } from "viem";
import { jsonRows, type SqlSession } from "./db";
import { entriesHashOf, wasmKeccak, type LotEntry, type LotState, type ReplayState } from "./replay";
import type { ConcordLog } from "./types";

type Writes = NonNullable<ReplayState["lotWrites"]>;

/** Inserts the entries and refunds of one batch (what the replay pushed into `state.lotWrites`). */
export async function insertLotWrites(tx: SqlSession, writes: Writes): Promise<void> {
  const { entries, refunds } = writes;
  if (entries.length > 0) {
    await tx.query(
      `INSERT INTO lot_entries (lot_id, block_number, entry_index, scope, order_ref, beneficiary, reserve)
       SELECT l, b, i, s, o, bf, r
       FROM json_to_recordset($1::json) AS j(l numeric, b numeric, i int4, s text, o text, bf text, r numeric)
       ON CONFLICT DO NOTHING`,
      [jsonRows(entries.map((e) => ({ l: e.lotId, b: e.blockNumber, i: e.entryIndex, s: e.scope, o: e.orderRef, bf: e.beneficiary, r: e.reserve })))],
    );
  }
  if (refunds.length > 0) {
    await tx.query(
      `INSERT INTO lot_refunds (block_number, log_index, lot_id, entry_index, amount)
       SELECT b, li, l, i, a
       FROM json_to_recordset($1::json) AS j(b numeric, li int4, l numeric, i int4, a numeric)`,
      [jsonRows(refunds.map((r) => ({ b: r.blockNumber, li: r.logIndex, l: r.lotId, i: r.entryIndex, a: r.amount })))],
    );
  }
}

/** Empties the batch's writes once stored (or when the store has them already: a replay from it). */
export function takeLotWrites(state: ReplayState): Writes {
  const writes = state.lotWrites!;
  state.lotWrites = { entries: [], refunds: [] };
  return writes;
}

type EntryRow = { lot_id: string; entry_index: number; scope: Address; order_ref: Hex; beneficiary: Address; reserve: string; refunded: boolean };

/**
 * The entries of `lots` as they stood just before the event at (blockNumber, logIndex): each
 * reserve less the refunds stored before it (a replay from the store has the later ones too).
 */
async function entriesBefore(db: SqlSession, lots: readonly LotState[], before: { blockNumber: bigint; logIndex: number } | undefined): Promise<Map<bigint, LotEntry[]>> {
  const { rows } = await db.query<EntryRow>(
    `SELECT e.lot_id::text, e.entry_index, e.scope, e.order_ref, e.beneficiary,
            (e.reserve - coalesce(r.amount, 0))::text AS reserve, r.refunds IS NOT NULL AS refunded
     FROM json_to_recordset($1::json) AS l(lot_id numeric, block_number numeric)
     JOIN lot_entries e ON e.lot_id = l.lot_id AND e.block_number = l.block_number
     LEFT JOIN LATERAL (
       SELECT sum(f.amount) AS amount, count(*) AS refunds FROM lot_refunds f
       WHERE f.lot_id = e.lot_id AND f.entry_index = e.entry_index AND f.block_number >= e.block_number
         AND ($2::numeric IS NULL OR (f.block_number, f.log_index) < ($2::numeric, $3::int))
       HAVING count(*) > 0
     ) r ON true
     ORDER BY e.lot_id, e.entry_index`,
    [jsonRows(lots.map((l) => ({ lot_id: l.lotId, block_number: l.blockNumber }))), before?.blockNumber.toString() ?? null, before?.logIndex ?? 0],
  );
  const out = new Map<bigint, LotEntry[]>();
  for (const row of rows) {
    const lotId = BigInt(row.lot_id);
    let entries = out.get(lotId);
    if (!entries) out.set(lotId, (entries = []));
    entries.push({ scope: row.scope, orderRef: row.order_ref, beneficiary: row.beneficiary, reserve: BigInt(row.reserve), refunded: row.refunded });
  }
  return out;
}

/** A lot's entries as loaded from the store, refused unless there are as many as the replay made. */
function storedEntries(loaded: ReadonlyMap<bigint, LotEntry[]>, lot: LotState): LotEntry[] {
  const entries = loaded.get(lot.lotId) ?? [];
  if (entries.length !== lot.entryCount) throw new Error(`the store holds ${entries.length} entries of lot ${lot.lotId}; the replay made ${lot.entryCount}`);
  return entries;
}

/** The lots whose entries a batch's refunds read and that are not in memory (open and announced: a refund of another is a violation without them). */
export function lotsToLoad(state: ReplayState, logs: readonly ConcordLog[]): LotState[] {
  const wanted = new Set<LotState>();
  for (const log of logs) {
    if (log.eventName !== "ReserveRefunded" || log.contract !== "ledger") continue;
    const lot = state.lots.get(log.args.lotId as bigint);
    if (lot && lot.open && lot.announced && !lot.entries) wanted.add(lot);
  }
  return [...wanted];
}

/** Loads the entries of the lots a batch refunds from, as they stood before its first event. */
export async function loadLotEntries(db: SqlSession, state: ReplayState, logs: readonly ConcordLog[]): Promise<void> {
  const lots = lotsToLoad(state, logs);
  if (lots.length === 0) return;
  const first = logs[0]!;
  const loaded = await entriesBefore(db, lots, first);
  for (const lot of lots) {
    lot.entries = storedEntries(loaded, lot);
    state.lotsWithEntries.add(lot);
  }
}

/**
 * Hashes the entries of every open lot whose hash is not known (what a reconciliation compares
 * with the ledger's stored lot), reading them from the store a few lots at a time.
 */
export async function hashOpenLots(db: SqlSession, state: ReplayState, lotsPerQuery = 64): Promise<void> {
  const lots = [...state.lots.values()].filter((lot) => lot.open && lot.entriesHash === undefined && !lot.entries);
  if (lots.length === 0) return;
  const keccak = await wasmKeccak();
  for (let i = 0; i < lots.length; i += lotsPerQuery) {
    const some = lots.slice(i, i + lotsPerQuery);
    const loaded = await entriesBefore(db, some, undefined);
    for (const lot of some) lot.entriesHash = entriesHashOf(storedEntries(loaded, lot), keccak);
  }
}
