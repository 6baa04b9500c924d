import { decodeEventLog, type Abi, type Hex, type Log, type TransactionReceipt } from "viem";
import { accountAddress, signerOf, walletOf, type ConcordContext } from "./client";
import { ContractRevertError } from "./errors/base";
import { withConcordErrors } from "./errors/decode";

/** A decoded event of a receipt. */
export type DecodedEvent = { eventName: string; args: Record<string, unknown>; log: Log };

/** What every write action returns: the transaction, its receipt and its decoded Concord events. */
export type WriteResult = { hash: Hex; receipt: TransactionReceipt; events: DecodedEvent[] };

/**
 * Simulates the call first (a revert becomes a decoded ContractRevertError before any gas is
 * spent), then sends it, waits for the receipt and decodes the events of `abi`.
 */
export async function simulateAndWrite(
  context: ConcordContext,
  call: { address: Hex; abi: Abi; functionName: string; args: readonly unknown[]; value?: bigint },
): Promise<WriteResult> {
  const wallet = walletOf(context);
  const account = signerOf(context);
  return withConcordErrors(async () => {
    const { request } = await context.publicClient.simulateContract({
      address: call.address,
      abi: call.abi,
      functionName: call.functionName,
      args: call.args,
      value: call.value,
      account,
    } as Parameters<typeof context.publicClient.simulateContract>[0]);
    const hash = await wallet.writeContract({ ...(request as Parameters<typeof wallet.writeContract>[0]), account });
    const receipt = await context.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") {
      throw new ContractRevertError(`transaction ${hash} from ${accountAddress(account)} reverted`, {});
    }
    return { hash, receipt, events: decodeEvents(call.abi, receipt.logs) };
  });
}

/** Decodes the logs that belong to `abi`; others are skipped. */
export function decodeEvents(abi: Abi, logs: readonly Log[]): DecodedEvent[] {
  const out: DecodedEvent[] = [];
  for (const log of logs) {
    try {
      const decoded = decodeEventLog({ abi, data: log.data, topics: log.topics });
      out.push({ eventName: decoded.eventName ?? "", args: decoded.args as unknown as Record<string, unknown>, log });
    } catch {
      // a log of another contract (a token's Transfer, say)
    }
  }
  return out;
}
