/**
 * The store's schema as numbered migrations, the same SQL on PGlite and on a PostgreSQL server.
 * Each database records the versions it has in `schema_migrations`; opening a store applies the
 * missing ones in order, in one transaction, under an advisory lock so that two auditors opening
 * the same server at once do not both apply them. A migration is never edited once released:
 * a change is a new migration.
 */
import type { SqlDatabase } from "./db";

export type Migration = { version: number; name: string; sql: string };

/** Advisory lock keys (one namespace for the auditor's locks). */
export const LOCKS = { migrate: 7_265_431_001n, sync: 7_265_431_002n } as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "events, blocks, sync cursor and the rebuilt state",
    // IF NOT EXISTS: stores made before migrations were numbered already hold these tables.
    sql: `
CREATE TABLE IF NOT EXISTS audit_meta (
  id INT PRIMARY KEY CHECK (id = 1),
  chain_id NUMERIC NOT NULL,
  registry TEXT NOT NULL,
  ledger TEXT NOT NULL,
  negotiation_hub TEXT,
  start_block NUMERIC NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_cursor (
  id INT PRIMARY KEY CHECK (id = 1),
  block_number NUMERIC NOT NULL,
  block_hash TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS blocks (
  number NUMERIC PRIMARY KEY,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  block_number NUMERIC NOT NULL,
  block_hash TEXT NOT NULL,
  tx_index INT NOT NULL,
  log_index INT NOT NULL,
  tx_hash TEXT NOT NULL,
  address TEXT NOT NULL,
  event_name TEXT NOT NULL,
  args JSONB NOT NULL,
  topics TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
ALTER TABLE events ADD COLUMN IF NOT EXISTS block_time NUMERIC;
CREATE INDEX IF NOT EXISTS events_by_name ON events (event_name, block_number);
CREATE TABLE IF NOT EXISTS balances (
  account TEXT NOT NULL,
  token TEXT NOT NULL,
  amount NUMERIC(78, 0) NOT NULL,
  PRIMARY KEY (account, token)
);
CREATE TABLE IF NOT EXISTS reserve_lots (
  lot_id NUMERIC PRIMARY KEY,
  agreement_id NUMERIC NOT NULL,
  version INT NOT NULL,
  token TEXT NOT NULL,
  held NUMERIC(78, 0) NOT NULL,
  release_at NUMERIC NOT NULL,
  entries JSONB NOT NULL
);
CREATE TABLE IF NOT EXISTS payout_pools (
  agreement_id NUMERIC NOT NULL,
  version INT NOT NULL,
  token TEXT NOT NULL,
  total NUMERIC(78, 0) NOT NULL,
  held NUMERIC(78, 0) NOT NULL,
  distributed NUMERIC(78, 0) NOT NULL,
  paid_up_to JSONB NOT NULL,
  PRIMARY KEY (agreement_id, version, token)
);
CREATE TABLE IF NOT EXISTS snapshot (
  id INT PRIMARY KEY CHECK (id = 1),
  block_number NUMERIC NOT NULL,
  events BIGINT NOT NULL,
  violations JSONB NOT NULL
);`,
  },
  {
    version: 2,
    name: "balance changes and the auditor's views",
    // Stores that already hold events get their balance changes from the next sync's replay
    // (src/audit/store.ts, backfill): the marker row says so.
    sql: `
CREATE TABLE IF NOT EXISTS balance_changes (
  block_number NUMERIC NOT NULL,
  log_index INT NOT NULL,
  seq INT NOT NULL,
  account TEXT NOT NULL,
  token TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('payout', 'referral-fee', 'refund', 'remainder', 'withdrawal')),
  agreement_id NUMERIC,
  amount NUMERIC(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index, seq)
);
CREATE INDEX IF NOT EXISTS balance_changes_by_account ON balance_changes (account, token, block_number);
CREATE TABLE IF NOT EXISTS store_backfill (name TEXT PRIMARY KEY);
INSERT INTO store_backfill (name) SELECT 'balance_changes' WHERE EXISTS (SELECT 1 FROM events) ON CONFLICT DO NOTHING;

CREATE OR REPLACE VIEW balance_history AS
SELECT account, token, block_number, log_index, seq, kind, agreement_id, amount,
       sum(amount) OVER (PARTITION BY account, token ORDER BY block_number, log_index, seq) AS balance
FROM balance_changes;

CREATE OR REPLACE FUNCTION balances_at(at_block NUMERIC)
RETURNS TABLE (account TEXT, token TEXT, balance NUMERIC)
LANGUAGE sql STABLE AS $$
  SELECT c.account, c.token, sum(c.amount) FROM balance_changes c WHERE c.block_number <= at_block GROUP BY c.account, c.token
$$;

CREATE OR REPLACE VIEW settlements AS
WITH rates AS (
  SELECT (args->>'agreementId')::numeric AS agreement_id, (args->>'version')::int AS version,
         (args->'terms'->>'referralFeeBps')::numeric AS fee_bps, (args->'terms'->>'reserveBps')::numeric AS reserve_bps,
         args->'terms'->>'orderSigner' AS order_signer
  FROM events WHERE event_name = 'VersionProposed'
), paid AS (
  SELECT e.block_number, e.tx_hash, e.log_index,
         (e.args->>'agreementId')::numeric AS agreement_id,
         (e.args->>'version')::int AS version,
         e.args->>'token' AS token,
         e.args->>'payer' AS payer,
         e.args->>'orderRef' AS order_ref,
         (e.args->>'gross')::numeric AS gross,
         NULLIF(e.args->>'referrer', '0x0000000000000000000000000000000000000000') AS referrer
  FROM events e WHERE e.event_name = 'Settled'
), booked AS (
  -- The event records the payment as paid; the version's terms give its scope, fee and reserve
  -- (the split rule: floor(gross * bps / 10,000), the fee only with a referrer).
  SELECT p.*,
         CASE WHEN r.order_signer IS NULL OR r.order_signer = '0x0000000000000000000000000000000000000000' THEN p.payer ELSE r.order_signer END AS scope,
         CASE WHEN p.referrer IS NULL THEN 0 ELSE floor(p.gross * r.fee_bps / 10000) END AS referral_fee,
         floor(p.gross * r.reserve_bps / 10000) AS reserve
  FROM paid p LEFT JOIN rates r ON r.agreement_id = p.agreement_id AND r.version = p.version
)
SELECT block_number, tx_hash, log_index, agreement_id, version, token, payer, scope, order_ref, gross, referrer,
       referral_fee, reserve, gross - referral_fee - reserve AS net
FROM booked;

CREATE OR REPLACE VIEW partner_statements AS
SELECT account AS partner, token,
       coalesce(sum(amount) FILTER (WHERE kind IN ('payout', 'remainder')), 0) AS earned,
       coalesce(sum(amount) FILTER (WHERE kind = 'referral-fee'), 0) AS referral_fees,
       coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunds_received,
       coalesce(-sum(amount) FILTER (WHERE kind = 'withdrawal'), 0) AS withdrawn,
       sum(amount) AS balance
FROM balance_changes GROUP BY account, token;

CREATE OR REPLACE VIEW partner_earnings AS
SELECT account AS partner, token, agreement_id, sum(amount) AS earned
FROM balance_changes WHERE kind IN ('payout', 'remainder') GROUP BY account, token, agreement_id;`,
  },
  {
    version: 3,
    name: "reserve lot entries and refunds as rows",
    // A sync keeps lot entries here instead of in memory (src/audit/lot-entries.ts). Stores that
    // already hold events get them from the next sync's replay (the marker row), and the snapshot's
    // JSON copy of every open lot's entries gives way to the view.
    sql: `
CREATE TABLE IF NOT EXISTS lot_entries (
  lot_id NUMERIC NOT NULL,
  block_number NUMERIC NOT NULL,
  entry_index INT NOT NULL,
  scope TEXT NOT NULL,
  order_ref TEXT NOT NULL,
  beneficiary TEXT NOT NULL,
  reserve NUMERIC(78, 0) NOT NULL,
  -- Led by the block: a sync's inserts land at the index's right edge (a lot id is a hash).
  PRIMARY KEY (block_number, lot_id, entry_index)
);
CREATE TABLE IF NOT EXISTS lot_refunds (
  block_number NUMERIC NOT NULL,
  log_index INT NOT NULL,
  lot_id NUMERIC NOT NULL,
  entry_index INT NOT NULL,
  amount NUMERIC(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX IF NOT EXISTS lot_refunds_by_lot ON lot_refunds (lot_id, entry_index);
INSERT INTO store_backfill (name) SELECT 'lot_entries' WHERE EXISTS (SELECT 1 FROM events) ON CONFLICT DO NOTHING;
ALTER TABLE reserve_lots DROP COLUMN IF EXISTS entries;

-- The entries of the open lots as they stand at the snapshot: reserve left and whether refunded.
CREATE OR REPLACE VIEW reserve_lot_entries AS
SELECT e.lot_id, e.entry_index, e.scope, e.order_ref, e.beneficiary,
       e.reserve - coalesce(r.amount, 0) AS reserve, r.refunds IS NOT NULL AS refunded
FROM reserve_lots l
JOIN lot_entries e ON e.lot_id = l.lot_id
LEFT JOIN (SELECT lot_id, entry_index, sum(amount) AS amount, count(*) AS refunds FROM lot_refunds GROUP BY lot_id, entry_index) r
  ON r.lot_id = e.lot_id AND r.entry_index = e.entry_index;`,
  },
  {
    version: 4,
    name: "settled order references under a unique index",
    // The first settlement of each order reference in its scope (src/audit/order-refs.ts): a sync
    // checks a batch's references here instead of keeping every scope's bitmap in memory. Stores
    // that already hold events fill it from the next sync's replay of them. Keys as bytes: 52 per
    // row against 108 as text, in an index that takes a row per settlement.
    sql: `
CREATE TABLE IF NOT EXISTS order_refs (
  scope BYTEA NOT NULL,
  order_ref BYTEA NOT NULL,
  block_number NUMERIC NOT NULL,
  log_index INT NOT NULL,
  PRIMARY KEY (scope, order_ref)
);
CREATE INDEX IF NOT EXISTS order_refs_by_block ON order_refs (block_number);
INSERT INTO store_backfill (name) SELECT 'order_refs' WHERE EXISTS (SELECT 1 FROM events) ON CONFLICT DO NOTHING;`,
  },
];

/** Thrown when a database was migrated by a newer auditor than this one. */
export class SchemaVersionError extends Error {
  override name = "SchemaVersionError";
}

/** The newest schema version this auditor knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Applies every migration `db` lacks, in order; returns the versions applied. */
export async function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [LOCKS.migrate.toString()]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`);
    const { rows } = await tx.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    const have = new Set(rows.map((r) => r.version));
    const newest = migrations.at(-1)?.version ?? 0;
    const ahead = rows.map((r) => r.version).filter((v) => v > newest);
    if (ahead.length > 0) {
      throw new SchemaVersionError(`store ${db.location} has schema version ${Math.max(...ahead)}, newer than this auditor's ${newest}: upgrade concord`);
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (have.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}
