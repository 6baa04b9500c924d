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
