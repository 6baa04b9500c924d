import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startHardhatNode, type LocalNode } from "./processes";

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

export type ShellRun = { code: number; output: string };

/** Runs `command` to the end in `cwd`, its standard output and error in one string. */
export function runProcess(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<ShellRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => resolve({ code: code ?? -1, output }));
  });
}

/**
 * Runs shell lines as a reader pastes them (bash -e -o pipefail), with `concord` as `npm link`
 * installs it (the package's bin) and `prelude` (variables) first.
 */
export function pasted(lines: string, cwd: string, env: Record<string, string>, prelude = ""): Promise<ShellRun> {
  const script = `concord() { "${process.execPath}" "${path.join(ROOT, "bin", "concord.js")}" "$@"; }\n${prelude}\n${lines}`;
  return runProcess("bash", ["-e", "-o", "pipefail", "-c", script], cwd, env);
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

/** What {@link useNodeForCli} gives a suite once its `before` hook has run. */
export type NodeForCli = {
  /** The hardhat node this suite started (its own process, on a free port). */
  node: LocalNode;
  /** The environment for `concord`: the node's URL, no CONCORD_PRIVATE_KEY (the node's accounts sign), and the suite's folder as CONCORD_HOME (the order key). */
  env: Record<string, string>;
  /** A fresh folder for the suite's files. */
  dir: string;
};

/**
 * Registers `before` and `after` hooks in the calling `describe` for a suite that runs the CLI
 * against its own dev node: before, the developer's local deployment is moved aside
 * ({@link isolateLocalDeployment}), a `hardhat node` is started and a fresh folder made (named
 * `prefix` and random characters, under `parent`, default the OS's temporary folder, created if
 * missing); after, the node is stopped, the deployment put back and the folder removed. Returns
 * an object whose fields are filled in by the `before` hook (read them inside tests and hooks).
 */
export function useNodeForCli(options: { prefix: string; parent?: string }): NodeForCli {
  const parent = options.parent ?? os.tmpdir();
  const fixture = {} as NodeForCli;
  let restore: (() => void) | undefined;
  before(async function () {
    restore = isolateLocalDeployment();
    fixture.node = await startHardhatNode();
    fs.mkdirSync(parent, { recursive: true });
    fixture.dir = fs.mkdtempSync(path.join(parent, options.prefix));
    fixture.env = { CONCORD_RPC_URL: fixture.node.url, CONCORD_PRIVATE_KEY: "", CONCORD_HOME: path.join(fixture.dir, "home") };
  });
  after(async function () {
    await fixture.node?.stop();
    restore?.();
    if (fixture.dir) fs.rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
