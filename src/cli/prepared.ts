/**
 * `--prepare FILE`: a simulated write written out instead of sent, as a batch that Safe's
 * Transaction Builder imports (and any wallet or relayer can read: `to`, `value`, `data`).
 */
import fs from "node:fs";
import type { WouldSend } from "./errors";
import { toJson, toJsonLine } from "./output";

/** The Transaction Builder's batch file (version 1.0) of one call. */
export type TransactionBuilderBatch = {
  version: "1.0";
  chainId: string;
  createdAt: number;
  meta: { name: string; description: string; createdFromSafeAddress: string };
  transactions: Array<{ to: string; value: string; data: string; contractMethod: null; contractInputsValues: null }>;
};

/** What the call does, in words: the function, its arguments and the ETH it sends. */
export function describeCall(call: WouldSend): string {
  return `${call.functionName}(${call.args.map((a) => toJsonLine(a)).join(", ")}) on ${call.to}${call.value ? ` with ${call.value} wei` : ""}`;
}

export function transactionBuilderBatch(call: WouldSend, createdAt = Date.now()): TransactionBuilderBatch {
  return {
    version: "1.0",
    chainId: String(call.chainId),
    createdAt,
    meta: { name: `Concord: ${call.functionName}`, description: describeCall(call), createdFromSafeAddress: call.from },
    transactions: [{ to: call.to, value: call.value.toString(), data: call.data, contractMethod: null, contractInputsValues: null }],
  };
}

/** Writes the batch to `file` (never over an existing one) and prints what was written. */
export function writePrepared(file: string, call: WouldSend, json: boolean): void {
  const batch = transactionBuilderBatch(call);
  fs.writeFileSync(file, `${toJson(batch)}\n`, { flag: "wx" });
  process.stdout.write(
    json
      ? `${toJson({ schema: 1, prepared: true, file, from: call.from, gas: call.gas ?? null, transactions: batch.transactions })}\n`
      : `prepared, nothing sent: ${file} holds ${describeCall(call)} for ${call.from} to execute (a Safe Transaction Builder batch); the simulation passed${call.gas ? `, gas ${call.gas.toLocaleString("en-US")}` : ""}\n`,
  );
}
