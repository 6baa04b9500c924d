import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port"))));
    });
  });
}

/** A `hardhat node` this process started; `stop` kills exactly its pid. */
export type SpawnedNode = { url: string; pid: number; stop: () => Promise<void> };

/** Starts `hardhat node` on a free loopback port as a direct child (not through npx). */
export async function startHardhatNode(): Promise<SpawnedNode> {
  const port = await freePort();
  const cli = require.resolve("hardhat/internal/cli/cli");
  const child: ChildProcess = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: path.join(__dirname, "..", ".."),
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid!, "SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited with code ${child.exitCode} before answering on ${url}`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`hardhat node did not answer on ${url} within 90 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, pid: child.pid!, stop };
}

/** anvil (Foundry's node, a second EVM implementation) on a free loopback port; `stop` kills exactly its pid. */
export async function startAnvil(): Promise<SpawnedNode> {
  const port = await freePort();
  // The platform package's binary itself, not the npm wrapper (killing the wrapper would leave anvil running).
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const binary = path.join(__dirname, "..", "..", "node_modules", "@foundry-rs", `anvil-${process.platform}-${arch}`, "bin", "anvil");
  const child: ChildProcess = spawn(binary, ["--port", String(port), "--host", "127.0.0.1", "--hardfork", "cancun", "--silent"], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid!, "SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with code ${child.exitCode} before answering on ${url}`);
    try {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`anvil did not answer on ${url} within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid!, stop };
}

type RpcBody = { jsonrpc: string; id: number | string; method: string; params?: unknown[] };

export type FaultPolicy = {
  /** eth_getLogs spanning more blocks than this is rejected with a -32005 "too many results" error. */
  maxLogRange: bigint;
  /** Every n-th eth_getLogs (after range checks) fails with a JSON-RPC internal error. */
  failEveryNthGetLogs: number;
  /** Every n-th other request fails with HTTP 503 (the client's transport retries it). */
  failEveryNthOther: number;
};

export type FaultStats = { getLogs: number; rangeRejected: number; getLogsFailed: number; otherFailed: number; forwarded: number };

/** A JSON-RPC proxy on a free loopback port that injects faults in front of `target`. */
export async function startFaultyProxy(target: string, policy: FaultPolicy) {
  const stats: FaultStats = { getLogs: 0, rangeRejected: 0, getLogsFailed: 0, otherFailed: 0, forwarded: 0 };
  let others = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const body = JSON.parse(raw) as RpcBody;
        const reply = (status: number, payload: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(payload));
        };
        if (!Array.isArray(body) && body.method === "eth_getLogs") {
          stats.getLogs += 1;
          const [filter] = body.params as [{ fromBlock: string; toBlock: string }];
          if (BigInt(filter.toBlock) - BigInt(filter.fromBlock) + 1n > policy.maxLogRange) {
            stats.rangeRejected += 1;
            reply(200, { jsonrpc: "2.0", id: body.id, error: { code: -32005, message: "query returned more than 10000 results" } });
            return;
          }
          if (stats.getLogs % policy.failEveryNthGetLogs === 0) {
            stats.getLogsFailed += 1;
            reply(200, { jsonrpc: "2.0", id: body.id, error: { code: -32000, message: "upstream request timed out" } });
            return;
          }
        } else {
          others += 1;
          if (others % policy.failEveryNthOther === 0) {
            stats.otherFailed += 1;
            reply(503, { error: "service unavailable" });
            return;
          }
        }
        stats.forwarded += 1;
        const upstream = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
        reply(upstream.status, await upstream.json());
      })().catch((error: unknown) => {
        res.writeHead(502);
        res.end(String(error));
      });
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
