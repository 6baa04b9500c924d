/**
 * One measurement of the replay benchmark against a node over HTTP, in a process of its own so
 * that its memory figures are its own (scripts/bench-replay.ts starts it). Prints one JSON line.
 *
 *   node -r ts-node/register/transpile-only scripts/bench-replay-worker.ts '{"kind":"auditor",...}'
 */
import { createPublicClient, http, type Address } from "viem";
import { agreementRegistryAbi, settlementLedgerAbi } from "../src/sdk/abi";
import { ethersContracts, measureAuditor, measureQueryFilter, measureTransportFloor, measureVerify, type Measure, type Target } from "./bench-replay-measure";

type Job = {
  kind: "auditor" | "auditor-all" | "auditor-memory" | "verify" | "ethers" | "floor";
  label: string;
  url: string;
  registry: Address;
  ledger: Address;
  fromBlock: string;
  toBlock: string;
  rangeBlocks?: number;
  /** For "floor": the auditor's eth_getLogs ranges, and the logs they hold. */
  ranges?: [number, number][];
  expectedLogs?: number;
};

async function main() {
  const job = JSON.parse(process.argv[2]!) as Job;
  const target: Target = { registry: job.registry, ledger: job.ledger, fromBlock: BigInt(job.fromBlock), toBlock: BigInt(job.toBlock) };
  let result: Measure;
  if (job.kind === "ethers") {
    const { provider, contracts } = ethersContracts(job.url, target, { registry: agreementRegistryAbi as never, ledger: settlementLedgerAbi as never });
    result = await measureQueryFilter(job.label, contracts, target, job.rangeBlocks);
    provider.destroy();
  } else {
    const client = createPublicClient({ transport: http(job.url, { timeout: 120_000 }) });
    if (job.kind === "floor" && (!job.ranges || job.expectedLogs === undefined)) throw new Error("a floor job needs ranges and expectedLogs");
    result =
      job.kind === "floor"
        ? await measureTransportFloor(job.label, client, target, job.ranges!, job.expectedLogs!)
        : job.kind === "verify"
        ? await measureVerify(job.label, client, target)
        : await measureAuditor(job.label, client, target, { liveHeap: job.kind === "auditor-memory", orderReferences: job.kind === "auditor-all" ? "all" : "reserves" });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
