import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { createPublicClient, http } from "viem";
import { AuditStore, verify } from "../../src/audit";
import { buildHistory, type History } from "../../scripts/bench-replay-history";
import { startPostgres, type PostgresCluster } from "../helpers/postgres";
import { nodeChain, type AuditChain } from "./env";
import { startAnvil, type SpawnedNode } from "./node";

const SYNC_PROCESS = path.join(__dirname, "..", "helpers", "sync-process.js");

type Location = { databaseUrl?: string; dataDir?: string };
type Line = { block?: string; events?: number; done?: boolean; newEvents?: number; storedEvents?: number; toBlock?: string; violations?: number };
type Run = { lines: Line[]; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>; kill: () => void; onLine: (f: (line: Line) => void) => void };

/** Starts one auditor process (test/helpers/sync-process.js, from dist/) syncing into `location`. */
function startSync(node: SpawnedNode, chain: AuditChain, location: Location, range: number): Run {
  const child = spawn(process.execPath, [SYNC_PROCESS, JSON.stringify({ rpcUrl: node.url, ledger: chain.addresses.ledger, fromBlock: chain.deployBlock.toString(), range, ...location })], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Line[] = [];
  const listeners: ((line: Line) => void)[] = [];
  readline.createInterface({ input: child.stdout! }).on("line", (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const f of listeners) f(line);
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => setImmediate(() => resolve({ code, signal, stderr }))),
  );
  return { lines, exit, kill: () => child.kill("SIGKILL"), onLine: (f) => listeners.push(f) };
}

/** Runs an auditor process to its end and returns its summary line. */
async function syncToEnd(node: SpawnedNode, chain: AuditChain, location: Location, range: number): Promise<Line> {
  const run = startSync(node, chain, location, range);
  const { code, stderr } = await run.exit;
  expect(code, stderr).to.equal(0);
  return run.lines.at(-1)!;
}

const openAt = (location: Location) => (location.databaseUrl ? AuditStore.connect(location.databaseUrl) : AuditStore.open(location.dataDir));

/** Everything a sync leaves in a store but the per-batch cursor blocks: events, the rebuilt state and the cursor. */
async function contents(location: Location) {
  const store = await openAt(location);
  try {
    const q = async (sql: string) => (await store.db.query<Record<string, unknown>>(sql)).rows;
    return {
      events: await q(
        "SELECT block_number::text, block_hash, tx_index, log_index, tx_hash, address, event_name, args::text, topics, data, block_time::text FROM events ORDER BY block_number, log_index",
      ),
      balances: await q("SELECT account, token, amount::text FROM balances ORDER BY account, token"),
      lots: await q("SELECT lot_id::text, agreement_id::text, version, token, held::text, release_at::text FROM reserve_lots ORDER BY lot_id"),
      lotEntries: await q("SELECT lot_id::text, entry_index, scope, order_ref, beneficiary, reserve::text, refunded FROM reserve_lot_entries ORDER BY lot_id, entry_index"),
      allLotEntries: await q("SELECT lot_id::text, block_number::text, entry_index, scope, order_ref, beneficiary, reserve::text FROM lot_entries ORDER BY lot_id, block_number, entry_index"),
      lotRefunds: await q("SELECT block_number::text, log_index, lot_id::text, entry_index, amount::text FROM lot_refunds ORDER BY block_number, log_index"),
      pools: await q("SELECT agreement_id::text, version, token, total::text, held::text, distributed::text, paid_up_to::text FROM payout_pools ORDER BY agreement_id, version, token"),
      snapshot: await q("SELECT block_number::text, events::text, violations::text FROM snapshot"),
      cursor: await q("SELECT block_number::text, block_hash FROM sync_cursor"),
    };
  } finally {
    await store.close();
  }
}

describe("audit store: two auditors at once, and a crash mid-sync", function () {
  let node: SpawnedNode;
  let chain: AuditChain;
  let history: History;
  let cluster: PostgresCluster;
  let total: number;
  const dirs: string[] = [];
  const fresh = async (backend: "postgres" | "pglite"): Promise<Location> => {
    if (backend === "postgres") return { databaseUrl: await cluster.createDatabase() };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-audit-crash-"));
    dirs.push(dir);
    return { dataDir: dir };
  };

  before(async function () {
    [node, cluster] = await Promise.all([startAnvil(), startPostgres()]);
    chain = await nodeChain(node.url);
    history = await buildHistory(chain, 6_000); // 30 batches of 200 settlements, a block each
    const { registry, ledger, negotiationHub } = chain.addresses;
    // One more block: anvil may answer eth_getLogs for its newest block before it indexed every log.
    await chain.publicClient.request({ method: "evm_mine", params: [] } as never);
    total = (await chain.publicClient.getLogs({ address: [registry, ledger, negotiationHub], fromBlock: chain.deployBlock, toBlock: history.toBlock })).length;
  });
  after(async function () {
    await Promise.all([node?.stop(), cluster?.stop()]);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("two sync processes on one server database: one waits for the other, nothing counted twice or lost", async function () {
    const location = await fresh("postgres");
    // A third connection watches for an auditor waiting on the sync lock: proof the two overlapped.
    const watcher = await openAt(location);
    let waited = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const { rows } = await watcher.db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
        waited = Math.max(waited, rows[0]!.n);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const [a, b] = await Promise.all([syncToEnd(node, chain, location, 2), syncToEnd(node, chain, location, 2)]);
    watching = false;
    await watch;
    await watcher.close();
    expect(waited, "one auditor waited on the other's lock").to.equal(1);
    expect(a.done && b.done).to.equal(true);
    expect(a.violations).to.equal(0);
    expect(b.violations).to.equal(0);
    // One read the chain, the other then found it all in the store.
    expect([a.newEvents, b.newEvents].sort((x, y) => x! - y!)).to.deep.equal([0, total]);
    expect(a.newEvents! + a.storedEvents!).to.equal(total);
    expect(b.newEvents! + b.storedEvents!).to.equal(total);
    const stored = await contents(location);
    expect(stored.events.length).to.equal(total);
    const verified = await verify({ client: createPublicClient({ transport: http(node.url) }), ledger: chain.addresses.ledger, databaseUrl: location.databaseUrl });
    expect(verified.sync.newEvents).to.equal(0);
    expect(verified.differences).to.deep.equal([]);
    expect(verified.ok).to.equal(true);
  });

  for (const backend of ["postgres", "pglite"] as const) {
    it(`kill -9 in the middle of a sync (${backend === "postgres" ? "PostgreSQL server" : "PGlite"}), then a new sync: the store equals a clean full sync`, async function () {
      const crashed = await fresh(backend);
      const run = startSync(node, chain, crashed, 1);
      // Killed a random few milliseconds after its fifth batch committed: often inside the next one's transaction.
      run.onLine((line) => {
        if (run.lines.length === 5 && !line.done) setTimeout(run.kill, Math.floor(Math.random() * 15));
      });
      const killed = await run.exit;
      expect(killed.signal, killed.stderr).to.equal("SIGKILL");
      expect(run.lines.some((l) => l.done)).to.equal(false);

      const resumed = await syncToEnd(node, chain, crashed, 3);
      expect(resumed.storedEvents, "the resumed sync found the batches that committed").to.be.greaterThan(0);
      expect(resumed.storedEvents! + resumed.newEvents!).to.equal(total);
      expect(resumed.violations).to.equal(0);

      const clean = await fresh(backend);
      const full = await syncToEnd(node, chain, clean, 10_000);
      expect(full.newEvents).to.equal(total);
      const [after, expected] = [await contents(crashed), await contents(clean)];
      expect(after.events.length).to.equal(total);
      expect(after).to.deep.equal(expected);
    });
  }
});
