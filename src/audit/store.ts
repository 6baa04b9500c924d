/**
 * The auditor's store: replayed events, the blocks they came from, the sync cursor and the
 * rebuilt balances, reserves and pools, in an embedded PostgreSQL (PGlite) in a local folder
 * (src/audit/store-db.ts holds the SQL).
 *
 * PGlite runs PostgreSQL as WebAssembly on the thread that calls it, and writing an event costs
 * about as much as fetching, decoding and replaying it (`npm run bench:store`). So the database
 * lives in a thread of its own (src/audit/store-worker.ts): {AuditStore} sends it requests and
 * awaits the answers, and a sync can go on replaying the next batch while the last one is being
 * written. Requests are answered in the order they were sent: appends commit in chain order,
 * and `close` waits for every write sent before it.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Address } from "viem";
import type { ConcordLog, ConcordLogDecoder } from "./fetch";
import type { ReplayState, Violation } from "./replay";
import { StoreMismatchError, eventColumns, toJson, type Cursor, type SnapshotRows, type StoreDatabase, type StoreMeta } from "./store-db";

export { StoreMismatchError, toJson, type Cursor, type StoreMeta } from "./store-db";

/** The default data folder of a deployment: `.concord/audit/<chainId>-<ledger>`. */
export function defaultDataDir(chainId: bigint, ledger: Address, root = process.cwd()): string {
  return path.join(root, ".concord", "audit", `${chainId}-${ledger.toLowerCase()}`);
}

/** What the store's thread does for its caller: a {StoreDatabase} method, or opening and closing it. */
type DatabaseMethod = "meta" | "bind" | "cursor" | "eventCount" | "blocksDescending" | "append" | "rollbackTo" | "eventsPage" | "writeSnapshot" | "snapshotBalances";
type Method = DatabaseMethod | "open" | "close";
type Arguments<M extends Method> = M extends DatabaseMethod ? Parameters<StoreDatabase[M]> : M extends "open" ? Parameters<typeof StoreDatabase.open> : [];
type Answer<M extends Method> = M extends DatabaseMethod ? Awaited<ReturnType<StoreDatabase[M]>> : undefined;

/** A request to the store's thread (src/audit/store-worker.ts). */
export type StoreRequest = { [M in Method]: { id: number; method: M; args: Arguments<M> } }[Method];
/** Its answer: the method's value, or the error it threw. */
export type StoreResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ThreadError };
/** An error as it crosses from the store's thread: PostgreSQL's errors keep their SQLSTATE `code`. */
export type ThreadError = { name: string; message: string; stack?: string | undefined; code?: string | undefined };

// The worker runs the same sources as its caller: TypeScript (under Hardhat's ts-node or the
// CLI's loader) is loaded in the worker through the CLI's loader, bin/register-ts.js.
const EXTENSION = path.extname(__filename);
const WORKER = {
  entry: path.join(__dirname, `store-worker${EXTENSION}`),
  loader: EXTENSION === ".ts" ? path.join(__dirname, "..", "..", "bin", "register-ts.js") : undefined,
};
const BOOTSTRAP = `"use strict";
const { workerData } = require("node:worker_threads");
if (workerData.loader) require(workerData.loader);
require(workerData.entry);`;

/** An error thrown in the store's thread, as its caller sees it (a mismatch keeps its class, a database error its code). */
function revive(error: ThreadError): Error {
  const revived: Error & { code?: string } = error.name === "StoreMismatchError" ? new StoreMismatchError(error.message) : new Error(error.message);
  if (revived.name !== error.name) revived.name = error.name;
  if (error.code !== undefined) revived.code = error.code;
  if (error.stack) revived.stack = `${error.stack}\n    (in the audit store's thread)`;
  return revived;
}

/**
 * The store's thread and the requests waiting for its answers. The thread keeps the process
 * alive only while a request waits: an open store left idle does not hold a finished CLI run.
 */
class StoreThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(private readonly where: string) {
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData: WORKER });
    this.worker.unref();
    this.worker.on("message", (response: StoreResponse) => this.answer(response));
    this.worker.on("error", (error) => this.fail(new Error(`the audit store's thread (${where}) failed: ${error.message}`, { cause: error })));
    this.worker.on("exit", (code) => this.fail(new Error(`the audit store's thread (${where}) stopped (exit code ${code})`)));
  }

  call<M extends Method>(method: M, ...args: Arguments<M>): Promise<Answer<M>> {
    return this.send(method, args, []);
  }

  /** {call}, moving `transfer`'s buffers to the store's thread instead of copying them (they are unusable here after). */
  send<M extends Method>(method: M, args: Arguments<M>, transfer: ArrayBuffer[]): Promise<Answer<M>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Answer<M>>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.waiting.size === 1) this.worker.ref();
      try {
        this.worker.postMessage({ id, method, args }, transfer);
      } catch (error) {
        // Nothing was sent (a value that cannot cross threads): the store is unchanged.
        this.settle(id);
        reject(new Error(`${method}: its arguments cannot be sent to the audit store's thread (${this.where}): ${(error as Error).message}`, { cause: error }));
      }
    });
  }

  /** Ends the thread (after `close` has closed the database). */
  async stop(): Promise<void> {
    this.failure ??= new Error(`the audit store (${this.where}) is closed`);
    await this.worker.terminate();
  }

  private settle(id: number) {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker.unref();
    return waiter;
  }

  private answer(response: StoreResponse) {
    const waiter = this.settle(response.id);
    if (!waiter) return;
    if (response.ok) waiter.resolve(response.value);
    else waiter.reject(revive(response.error));
  }

  private fail(error: Error) {
    this.failure ??= error;
    const waiters = [...this.waiting.values()];
    this.waiting.clear();
    this.worker.unref();
    for (const waiter of waiters) waiter.reject(this.failure);
  }
}

export class AuditStore {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly thread: StoreThread,
    /** The data folder, or undefined for an in-memory store. */
    readonly dataDir: string | undefined,
  ) {}

  /** Opens (creating if needed) the store in `dataDir`, or in memory when it is undefined. */
  static async open(dataDir?: string): Promise<AuditStore> {
    const thread = new StoreThread(dataDir ?? "in memory");
    try {
      await thread.call("open", dataDir);
    } catch (error) {
      await thread.stop();
      throw error;
    }
    return new AuditStore(thread, dataDir);
  }

  /** Closes the database once every request sent before has been answered, and ends its thread. */
  close(): Promise<void> {
    this.closing ??= this.thread.call("close").finally(() => this.thread.stop());
    return this.closing;
  }

  meta(): Promise<StoreMeta | undefined> {
    return this.thread.call("meta");
  }

  /** Records which deployment this store audits; refuses (StoreMismatchError) a store that audits another one. */
  bind(meta: StoreMeta): Promise<StoreMeta> {
    return this.thread.call("bind", meta);
  }

  cursor(): Promise<Cursor | undefined> {
    return this.thread.call("cursor");
  }

  eventCount(): Promise<number> {
    return this.thread.call("eventCount");
  }

  /** Stored blocks at or below `blockNumber`, newest first (what a reorg check walks back through). */
  blocksDescending(blockNumber: bigint, limit = 1_000): Promise<Cursor[]> {
    return this.thread.call("blocksDescending", blockNumber, limit);
  }

  /**
   * Appends one batch of logs and moves the cursor, atomically: an interrupted sync resumes
   * after the last batch that committed. The rows are built here, when this is called, and
   * handed to the store's thread; the promise settles when they are committed.
   */
  append(logs: readonly ConcordLog[], cursor: Cursor): Promise<void> {
    const events = eventColumns(logs);
    return this.thread.send("append", [events, cursor], events.columns.map((c) => c.buffer as ArrayBuffer));
  }

  /** Forgets everything after `cursor.blockNumber` (a reorganisation) and moves the cursor back; returns the events removed. */
  rollbackTo(cursor: Cursor | undefined): Promise<number> {
    return this.thread.call("rollbackTo", cursor);
  }

  /**
   * Streams the stored events in chain order, re-decoded from their raw topics and data with the
   * same decoder the fetcher uses, in pages (memory stays flat); the next page is read while the
   * caller works on this one.
   */
  async *events(decoder: ConcordLogDecoder, options: { toBlock?: bigint; pageSize?: number } = {}): AsyncGenerator<ConcordLog[]> {
    const pageSize = options.pageSize ?? 5_000;
    const toBlock = options.toBlock ?? null;
    let next = this.thread.call("eventsPage", ["-1", -1], toBlock, pageSize);
    for (;;) {
      const page = await next;
      const more = page.logs.length === pageSize && page.last !== undefined;
      if (more) {
        next = this.thread.call("eventsPage", page.last!, toBlock, pageSize);
        next.catch(() => undefined); // thrown when awaited, above; not if the caller stops early
      }
      if (page.logs.length > 0) yield page.logs.map((log) => decoder.decode(log));
      if (!more) return;
    }
  }

  /** Replaces the rebuilt balances, held reserves and pools with the state at `blockNumber`. */
  writeSnapshot(state: ReplayState, blockNumber: bigint, violations: readonly Violation[]): Promise<void> {
    const snapshot: SnapshotRows = {
      blockNumber,
      events: state.eventsApplied,
      balances: [...state.balances.values()].map((b) => ({ account: b.account, token: b.token, amount: b.amount })),
      reserves: [...state.settlements.values()]
        .filter((s) => !s.closed)
        .map((s) => ({ orderRef: s.orderRef, agreementId: s.agreementId, version: s.version, token: s.token, payer: s.payer, amount: s.reserve, releaseAt: s.releaseAt })),
      pools: [...state.pools.values()].map((p) => ({ agreementId: p.agreementId, version: p.version, token: p.token, distributable: p.distributable, dust: p.dust, released: p.released })),
      violationsJson: toJson(violations),
    };
    return this.thread.call("writeSnapshot", snapshot);
  }

  /** The stored snapshot of balances (for queries and tests). */
  snapshotBalances(): Promise<{ account: Address; token: Address; amount: bigint }[]> {
    return this.thread.call("snapshotBalances");
  }
}
