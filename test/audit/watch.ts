import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { createPublicClient, http, numberToHex, zeroAddress, type Address, type Hex } from "viem";
import { verify } from "../../src/audit";
import { agreementRegistryAbi, settlementLedgerAbi } from "../../src/sdk/abi";
import { buildHistory } from "../../scripts/bench-replay-history";
import { ROOT } from "../helpers/cli";
import { startPostgres, type PostgresCluster } from "../helpers/postgres";
import { nodeChain, type AuditChain } from "./env";
import { startHardhatNode, type SpawnedNode } from "./node";

const INTERVAL_MS = 400;
/** What a step may take beyond the interval on a loaded 2-core machine: a few JSON-RPC calls and one commit. */
const STEP_ALLOWANCE_MS = 1_500;

type Line = { type: string; orderRef?: Hex; rolledBackTo?: string; removedEvents?: number; toBlock?: string; settlements?: number };

/** `concord audit watch --json-lines` as its own process; each line is kept with the time it came. */
function startWatch(args: string[]) {
  const child = spawn(process.execPath, [path.join(ROOT, "bin", "concord.js"), "audit", "watch", "--json-lines", "--interval", String(INTERVAL_MS), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: { line: Line; at: number }[] = [];
  const waiters: { test: (l: Line) => boolean; resolve: (v: { line: Line; at: number }) => void }[] = [];
  readline.createInterface({ input: child.stdout! }).on("line", (text) => {
    const entry = { line: JSON.parse(text) as Line, at: performance.now() };
    lines.push(entry);
    for (const w of waiters.splice(0)) {
      if (w.test(entry.line)) w.resolve(entry);
      else waiters.push(w);
    }
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on("exit", (code) => setImmediate(() => resolve({ code, stderr }))));
  /** The first line (already printed or to come) that passes `test`, within `ms`. */
  const next = (test: (l: Line) => boolean, ms = 30_000) => {
    const seen = lines.find((e) => test(e.line));
    if (seen) return Promise.resolve(seen);
    return new Promise<{ line: Line; at: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such line within ${ms} ms; lines: ${JSON.stringify(lines.map((e) => e.line))}; stderr: ${stderr}`)), ms);
      waiters.push({ test, resolve: (v) => (clearTimeout(timer), resolve(v)) });
    });
  };
  return { child, lines, exit, next };
}

const WATCHES = [
  { name: "polling over HTTP into PGlite", url: (node: SpawnedNode) => node.url, store: (dir: string) => ["--data-dir", dir] },
  { name: "eth_subscribe over WebSocket into a PostgreSQL server", url: (node: SpawnedNode) => node.url.replace(/^http/, "ws"), store: (_dir: string, cluster: string) => ["--database-url", cluster] },
];

describe("concord audit watch", function () {
  let node: SpawnedNode;
  let chain: AuditChain;
  let cluster: PostgresCluster;
  let agreementId: bigint;
  let dir: string;
  let settled = 0;

  before(async function () {
    [node, cluster] = await Promise.all([startHardhatNode(), startPostgres()]);
    chain = await nodeChain(node.url);
    await buildHistory(chain, 400);
    const proposed = await chain.publicClient.getContractEvents({ address: chain.addresses.registry, abi: agreementRegistryAbi, eventName: "AgreementProposed", fromBlock: chain.deployBlock });
    agreementId = proposed.at(-1)!.args.agreementId!; // the history's second agreement: no referrer, no reserve
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-watch-"));
  });
  after(async function () {
    await Promise.all([node?.stop(), cluster?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Settles one payment (as payer 6) and returns its order reference and when its receipt came. */
  const settleOne = async (): Promise<{ orderRef: Hex; at: number }> => {
    settled += 1;
    const orderRef = numberToHex(1_000_000 + settled, { size: 32 });
    const payment = { agreementId, version: 1, token: chain.addresses.token, gross: 5_000_000n + BigInt(settled), referrer: zeroAddress as Address, orderRef, refundBeneficiary: zeroAddress as Address, deadline: 2n ** 40n };
    await chain.write(6, { address: chain.addresses.ledger, abi: settlementLedgerAbi, functionName: "settleBatch", args: [[payment], []] });
    return { orderRef, at: performance.now() };
  };
  const send = (method: string, params: unknown[] = []) => chain.publicClient.request({ method, params } as never) as Promise<unknown>;

  for (const w of WATCHES) {
    it(`${w.name}: settlements appear within a polling interval, a reorganisation is rolled back, Ctrl-C leaves the store consistent`, async function () {
      const storeArgs = w.store(path.join(dir, `store-${settled}`), await cluster.createDatabase());
      const { registry, ledger } = chain.addresses;
      const watch = startWatch(["--rpc-url", w.url(node), "--registry", registry, "--ledger", ledger, "--from-block", chain.deployBlock.toString(), ...storeArgs]);
      try {
        await watch.next((l) => l.type === "synced", 60_000);

        // Two settlements, each printed within one interval (and a step's own time) of its receipt.
        for (let i = 0; i < 2; i += 1) {
          const { orderRef, at } = await settleOne();
          const line = await watch.next((l) => l.type === "settlement" && l.orderRef === orderRef);
          expect(line.at - at, "ms from receipt to line").to.be.lessThan(INTERVAL_MS + STEP_ALLOWANCE_MS);
        }

        // A reorganisation: a settlement the watch printed is abandoned for a longer branch without it.
        const snapshot = await send("evm_snapshot");
        const orphan = await settleOne();
        await watch.next((l) => l.type === "settlement" && l.orderRef === orphan.orderRef);
        await send("evm_revert", [snapshot]);
        await send("hardhat_mine", ["0x2"]);
        const canonical = await settleOne();
        const reorg = await watch.next((l) => l.type === "reorganisation");
        expect(reorg.line.removedEvents).to.equal(1); // the orphaned Settled
        await watch.next((l) => l.type === "settlement" && l.orderRef === canonical.orderRef);
      } finally {
        watch.child.kill("SIGINT");
      }
      const { code, stderr } = await watch.exit;
      expect(code, stderr).to.equal(0);
      const stopped = watch.lines.at(-1)!.line;
      expect(stopped.type).to.equal("stopped");
      expect(watch.lines.filter((e) => e.line.type === "violation")).to.deep.equal([]);

      // The store it left: a plain sync finds nothing to add, and every balance matches the chain.
      const client = createPublicClient({ transport: http(node.url) });
      const location = storeArgs[0] === "--data-dir" ? { dataDir: storeArgs[1] } : { databaseUrl: storeArgs[1] };
      const verified = await verify({ client, ledger, ...location });
      const { registry: r, negotiationHub } = chain.addresses;
      const onChain = await chain.publicClient.getLogs({ address: [r, ledger, negotiationHub], fromBlock: chain.deployBlock });
      expect(verified.sync.newEvents).to.equal(0);
      expect(verified.sync.storedEvents).to.equal(onChain.length);
      expect(verified.differences).to.deep.equal([]);
      expect(verified.ok).to.equal(true);
    });
  }
});
