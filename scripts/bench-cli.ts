/**
 * CLI start-up benchmark: the CPU time (user + system, as bash's `time` reports it for the child)
 * of `node bin/concord.js --version` and `--help`, RUNS times each (default 10), median and range.
 * The goal is at most 0.4 s for `--version` (docs/performance.md).
 *
 *   npm run bench:cli            (RUNS=20 npm run bench:cli for more)
 *
 * It runs the build (dist/): `npm run build:ts` first after changing src/cli.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "..");
const RUNS = Number(process.env.RUNS ?? 10);
const GOAL_SECONDS = 0.4;

/** CPU seconds of one run of the CLI with `args`, read from bash's `time` (TIMEFORMAT user and system). */
function cpuSeconds(args: string[]): number {
  const script = `TIMEFORMAT='%3U %3S'; time node bin/concord.js ${args.join(" ")} > /dev/null`;
  const run = spawnSync("bash", ["-c", script], { cwd: ROOT, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`concord ${args.join(" ")} failed: ${run.stderr}`);
  const [user, system] = run.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  return user! + system!;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

for (const args of [["--version"], ["--help"]]) {
  const samples = Array.from({ length: RUNS }, () => cpuSeconds(args));
  const m = median(samples);
  const goal = args[0] === "--version" ? `; goal at most ${GOAL_SECONDS} s: ${m <= GOAL_SECONDS ? "met" : "MISSED"}` : "";
  console.log(`concord ${args.join(" ")}: median ${m.toFixed(3)} s CPU (user + system) over ${RUNS} runs, from ${Math.min(...samples).toFixed(3)} to ${Math.max(...samples).toFixed(3)}${goal}`);
}
