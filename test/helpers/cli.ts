import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "concord.js");

export type CliRun = { code: number; stdout: string; stderr: string };
export type CliProcess = {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the process exits, with its exit code or the signal that stopped it. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves on the first complete line of standard output. */
  started: Promise<void>;
};

/** Starts the `concord` CLI as its own process, as a partner runs it. */
export function spawnConcord(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  let onStart: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStart = resolve));
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes("\n")) onStart();
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Awaited<CliProcess["done"]>>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, started };
}

/** Runs the `concord` CLI as its own process to the end and collects its output (-1 for a signal). */
export async function concord(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const { code, stdout, stderr } = await spawnConcord(args, env).done;
  return { code: code ?? -1, stdout, stderr };
}

const LOCAL_DEPLOYMENT = path.join(ROOT, "deploy", "deployments", "chain-31337");

/**
 * Gives a test that deploys to a spawned dev node (chain 31337) a clean deployment folder: a
 * deployment already recorded there (a developer's own `hardhat node`) is moved aside and put
 * back by the returned function, and whatever the test recorded is removed.
 */
export function isolateLocalDeployment(): () => void {
  const aside = fs.existsSync(LOCAL_DEPLOYMENT) ? `${LOCAL_DEPLOYMENT}.aside-${process.pid}` : undefined;
  if (aside) fs.renameSync(LOCAL_DEPLOYMENT, aside);
  return () => {
    fs.rmSync(LOCAL_DEPLOYMENT, { recursive: true, force: true });
    if (aside) fs.renameSync(aside, LOCAL_DEPLOYMENT);
  };
}
