import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

/** A free TCP port on loopback, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function waitForRpc(url: string, child: ChildProcess, timeoutMs: number, spawnError: () => Error | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const failed = spawnError();
    if (failed) throw new Error(`node at ${url} could not start: ${failed.message}`, { cause: failed });
    if (child.exitCode !== null) throw new Error(`node at ${url} exited with code ${child.exitCode} before it answered`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`node at ${url} did not answer within ${timeoutMs} ms`);
}

/** A node process this test started; `stop` kills exactly that process. */
export type LocalNode = { url: string; port: number; pid: number; stop: () => Promise<void> };

/**
 * Starts `hardhat node` on a free loopback port, as a direct child (not through npx, so that
 * killing the pid stops the node itself).
 */
export async function startHardhatNode(): Promise<LocalNode> {
  const port = await freePort();
  const cli = require.resolve("hardhat/internal/cli/cli");
  const child = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: path.join(__dirname, "..", ".."),
    stdio: "ignore",
  });
  return track(child, port);
}

/**
 * Starts anvil (Foundry's node, a second EVM implementation) on a free loopback port: the platform
 * package's binary itself, not the npm wrapper (killing the wrapper would leave anvil running).
 * `chainId` sets its chain id (anvil's default: 31337, the same as Hardhat's). `pruneHistory`
 * keeps only recent states: by default anvil writes the state of older blocks to a temporary
 * folder, which a history of a million settlements with a storage word each grows past 100 GB.
 */
export async function startAnvil(options: { chainId?: number; pruneHistory?: boolean } = {}): Promise<LocalNode> {
  const port = await freePort();
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const binary = path.join(__dirname, "..", "..", "node_modules", "@foundry-rs", `anvil-${process.platform}-${arch}`, "bin", "anvil");
  if (!fs.existsSync(binary)) throw new Error(`anvil binary not found at ${binary}: run npm ci`);
  const args = ["--port", String(port), "--host", "127.0.0.1", "--hardfork", "cancun", "--silent"];
  if (options.chainId !== undefined) args.push("--chain-id", String(options.chainId));
  if (options.pruneHistory) args.push("--prune-history");
  const child = spawn(binary, args, { stdio: "ignore" });
  return track(child, port);
}

/** Watches a node process until it answers JSON-RPC; a process that fails to spawn is an error, not a crash. */
async function track(child: ChildProcess, port: number): Promise<LocalNode> {
  const url = `http://127.0.0.1:${port}`;
  let spawnError: Error | undefined;
  child.on("error", (error) => (spawnError ??= error));
  const stop = async () => {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  try {
    await waitForRpc(url, child, 60_000, () => spawnError);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: child.pid!, stop };
}
