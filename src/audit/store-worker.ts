/**
 * The store's thread: owns the PGlite database (src/audit/store-db.ts) and answers
 * {AuditStore}'s requests (src/audit/store.ts) one at a time, in the order they were sent, so
 * that appends commit in chain order and a close comes after every write sent before it. A
 * caller sends the next batch before the last one has committed, so once a write fails every
 * later write is refused: nothing after a missing batch is ever committed (the cursor stays
 * before the gap, and the next sync reads it again).
 * PGlite runs PostgreSQL as WebAssembly on the thread that calls it; here that is this thread,
 * so the caller's replay goes on while events are written.
 */
import { parentPort } from "node:worker_threads";
import { StoreDatabase } from "./store-db";
import type { StoreRequest, StoreResponse } from "./store";

if (!parentPort) throw new Error("src/audit/store-worker.ts runs as a worker thread of AuditStore.open");
const port = parentPort;

let database: StoreDatabase | undefined;
/** The first write that failed; later writes are refused. */
let failedWrite: Error | undefined;
const WRITES = new Set<StoreRequest["method"]>(["bind", "append", "rollbackTo", "writeSnapshot"]);

async function handle(request: StoreRequest): Promise<unknown> {
  if (request.method === "open") {
    if (database) throw new Error("the store's thread already has a database open");
    database = await StoreDatabase.open(...request.args);
    return undefined;
  }
  if (!database) throw new Error(`${request.method}: the store's database is not open`);
  if (request.method === "close") {
    const closing = database;
    database = undefined;
    await closing.close();
    return undefined;
  }
  const write = WRITES.has(request.method);
  if (write && failedWrite) {
    throw new Error(`${request.method} refused: an earlier write to the store failed (${failedWrite.message}); nothing after it is written. Close the store and sync again`);
  }
  const method = database[request.method] as (...args: unknown[]) => Promise<unknown>;
  try {
    return await method.apply(database, request.args);
  } catch (error) {
    if (write) failedWrite = error instanceof Error ? error : new Error(String(error));
    throw error;
  }
}

let queue: Promise<void> = Promise.resolve();
port.on("message", (request: StoreRequest) => {
  queue = queue.then(async () => {
    let response: StoreResponse;
    try {
      response = { id: request.id, ok: true, value: await handle(request) };
    } catch (error) {
      const e: Error & { code?: unknown } = error instanceof Error ? error : new Error(String(error));
      const code = typeof e.code === "string" ? e.code : undefined;
      response = { id: request.id, ok: false, error: { name: e.name, message: e.message, stack: e.stack, code } };
    }
    port.postMessage(response);
  });
});
