import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "concord.js");

export type CliRun = { code: number; stdout: string; stderr: string };

/** Runs the `concord` CLI as its own process, as a partner would, and collects its output. */
export function concord(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
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
