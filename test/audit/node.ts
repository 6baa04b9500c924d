import http from "node:http";
import { freePort } from "../helpers/processes";

export { freePort, startAnvil, startHardhatNode } from "../helpers/processes";
/** A node process this test started; `stop` kills exactly that process. */
export type { LocalNode as SpawnedNode } from "../helpers/processes";

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
