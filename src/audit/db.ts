/**
 * The two databases the auditor's store runs on, behind one small interface: PGlite (embedded
 * PostgreSQL in a local folder, the default) and a PostgreSQL server through `pg`. The store's
 * SQL is the same for both, bulk inserts included ({jsonRows}).
 */
import fs from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Client } from "pg";

export type SqlResult<T> = { rows: T[]; affectedRows: number };

/** What the store sends: parameterised statements and plain scripts. */
export interface SqlSession {
  query<T>(sql: string, params?: readonly unknown[]): Promise<SqlResult<T>>;
  /** Runs a script of one or more statements without parameters. */
  exec(sql: string): Promise<void>;
}

export interface SqlDatabase extends SqlSession {
  readonly kind: "pglite" | "postgres";
  /** Where the data lives, fit to print: a folder, "(memory)", or the server's URL without its password. */
  readonly location: string;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The rows of a bulk insert as one `json` parameter, read by
 * `INSERT … SELECT … FROM json_to_recordset($1::json) AS r(column type, …)`: PostgreSQL's own
 * JSON parser takes the rows apart, in PGlite and on a server alike, and `JSON.stringify` writes
 * them. Not text array parameters: both drivers escape those element by element in JavaScript
 * (docs/performance.md, "The auditor at scale"). Bigints, anywhere in a row, are written as
 * decimal strings, which a NUMERIC column reads exactly.
 */
export function jsonRows(rows: readonly object[]): string {
  return toJson(rows);
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Thrown when the server cannot be reached or refuses the connection. */
export class DatabaseConnectionError extends Error {
  override name = "DatabaseConnectionError";
}

/** A `postgres://` URL with its password replaced by `***` (for messages). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unreadable URL)";
  }
}

/** Opens PGlite in `dataDir` (created if needed), or in memory when it is undefined. */
export async function openPglite(dataDir: string | undefined): Promise<SqlDatabase> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const session = (s: Pick<PGlite, "query" | "exec">): SqlSession => ({
    query: async <T>(sql: string, params?: readonly unknown[]) => {
      const result = await s.query<T>(sql, params ? [...params] : undefined);
      return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    },
    exec: async (sql: string) => void (await s.exec(sql)),
  });
  return {
    kind: "pglite",
    location: dataDir ?? "(memory)",
    ...session(db),
    transaction: (work) => db.transaction((tx) => work(session(tx))),
    close: () => db.close(),
  };
}

/**
 * Connects to a PostgreSQL server at `url` (`postgres://user:password@host:port/database`, or
 * the libpq variables `pg` reads when parts are left out). One connection per store: the
 * sync's advisory lock belongs to its session.
 */
export async function connectPostgres(url: string): Promise<SqlDatabase> {
  const location = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseConnectionError(`database URL "${location}" is not a URL (expected postgres://user@host:port/database)`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new DatabaseConnectionError(`database URL ${location} is not a postgres:// URL`);
  }
  const client = new Client({ connectionString: url, application_name: "concord-audit" });
  // A connection the server drops later (a restart) is reported by the next query; without a
  // listener the client's "error" event would end the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseConnectionError(`cannot connect to the PostgreSQL server at ${location}: ${(error as Error).message}`, { cause: error });
  }
  const session: SqlSession = {
    query: async <T>(sql: string, params?: readonly unknown[]) => {
      const result = await client.query(sql, params ? [...params] : undefined);
      return { rows: result.rows as T[], affectedRows: result.rowCount ?? 0 };
    },
    exec: async (sql: string) => void (await client.query(sql)),
  };
  return {
    kind: "postgres",
    location,
    ...session,
    transaction: async (work) => {
      await client.query("BEGIN");
      try {
        const result = await work(session);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
    },
    close: () => client.end(),
  };
}
