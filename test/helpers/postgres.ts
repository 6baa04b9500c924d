/**
 * A PostgreSQL server for one test run: `initdb` in a temporary folder, `postgres` on a free
 * loopback port (no Unix socket), stopped after by its pid and the folder removed. PostgreSQL
 * refuses to run as root, so as root (CI) both run as the unprivileged `nobody` user: Node's
 * spawn sets the child's uid and gid itself, so the pid is the server's own. The binaries come
 * from Debian's `postgresql` package (.ci/run installs it): the first /usr/lib/postgresql/<n>/bin
 * that has them, or the PATH.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { freePort } from "./processes";

export type PostgresCluster = {
  /** The server's URL for database `name` (default: postgres). */
  url: (name?: string) => string;
  /** Creates a fresh database and returns its URL. */
  createDatabase: (name?: string) => Promise<string>;
  pid: number;
  stop: () => Promise<void>;
};

/** Where `initdb` and `postgres` are, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (fs.existsSync(root)) {
    const versions = fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = path.join(root, v, "bin");
      if (fs.existsSync(path.join(bin, "initdb")) && fs.existsSync(path.join(bin, "postgres"))) return bin;
    }
  }
  const found = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  return found ? path.dirname(fs.realpathSync(found)) : undefined;
}

/** The user the server runs as: ourselves, or `nobody` when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "nobody"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

let databases = 0;

/** Starts a throwaway PostgreSQL server; call `stop` after (it kills exactly that server). */
export async function startPostgres(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed: apt-get install postgresql (see .ci/run)");
  const user = serverUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-pg-"));
  const data = path.join(dir, "data");
  if (user) fs.chownSync(dir, user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  const init = spawnSync(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], {
    ...asUser,
    cwd: dir,
    encoding: "utf8",
  });
  if (init.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${(init.stderr || init.stdout || String(init.error)).trim().split("\n").at(-1)}`);
  }
  const port = await freePort();
  const args = ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "max_connections=50"];
  const child: ChildProcess = spawn(path.join(bin, "postgres"), args, { ...asUser, cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4_000)));
  let spawnError: Error | undefined;
  child.on("error", (error) => (spawnError ??= error));
  const url = (name = "postgres") => `postgres://postgres@127.0.0.1:${port}/${name}`;
  const stop = async () => {
    if (!spawnError && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT"); // fast shutdown: ends the sessions, then the server
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError || child.exitCode !== null) {
      await stop();
      throw new Error(`postgres did not start: ${spawnError?.message ?? stderr.trim().split("\n").at(-1)}`);
    }
    const client = new Client({ connectionString: url() });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.end();
      break;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`postgres on port ${port} did not accept connections within 30 s: ${stderr.trim().split("\n").at(-1)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid!,
    stop,
    createDatabase: async (name) => {
      const database = name ?? `audit_${process.pid}_${(databases += 1)}`;
      const client = new Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } finally {
        await client.end();
      }
      return url(database);
    },
  };
}
