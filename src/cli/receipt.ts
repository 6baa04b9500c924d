/**
 * What every write prints, in one place: the signer, and for each transaction its hash, block,
 * gas used and status (human text and --json). Commands hand their results here.
 */
import type { Address, Hex, TransactionReceipt } from "viem";
import { emit } from "./output";

/** A transaction the command sent, with its receipt (every SDK write returns both). */
export type Sent = { hash: Hex; receipt: TransactionReceipt };

/** A receipt as --json prints it (bigints as decimal strings). */
export function receiptJson(sent: Sent) {
  const r = sent.receipt;
  return { hash: sent.hash, blockNumber: r.blockNumber, gasUsed: r.gasUsed, effectiveGasPrice: r.effectiveGasPrice ?? null, status: r.status };
}

/** One line per transaction: "tx 0x…: block 12, gas used 57,166, success". */
export function describeReceipt(sent: Sent): string {
  return `tx ${sent.hash}: block ${sent.receipt.blockNumber}, gas used ${sent.receipt.gasUsed.toLocaleString("en-US")}, ${sent.receipt.status}`;
}

/**
 * Prints a write's result: `data` and `human()` as the command describes it, then the signer and
 * every receipt. --json carries `signer`, `transactionHash` (the last transaction) and `transactions`.
 */
export function emitWrite(
  options: { json?: boolean },
  write: { signer: Address; sent: readonly Sent[]; data: Record<string, unknown>; human: () => string },
): void {
  const { signer, sent } = write;
  emit(options, { ...write.data, signer, transactionHash: sent.at(-1)?.hash ?? null, transactions: sent.map(receiptJson) }, () =>
    [write.human(), `signed by ${signer}`, ...sent.map(describeReceipt)].join("\n"),
  );
}
