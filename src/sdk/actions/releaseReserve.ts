import type { Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import { eventArgs, writeConcord, type WriteResult } from "../write";
import { getSettlementRecord, type SettlementRecord } from "./getSettlementRecord";

export type ReleaseReserveParameters = {
  orderRef: Hex;
  /** The reserve record; rebuilt from events when absent ({@link getSettlementRecord}). */
  record?: SettlementRecord;
};
export type ReleaseReserveReturnType = WriteResult & {
  /** The amount released into the version's pool. */
  amount: bigint;
};
export type ReleaseReserveErrorType = ConcordWriteErrorType;

/**
 * Releases a settlement's reserve after its dispute window, into the pool of the version it was
 * settled under (the parties then {@link claim} or {@link distribute}). Anyone may call it.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link ReleaseReserveParameters}
 * @returns The transaction and the released amount.
 *
 * @example
 * import { releaseReserve } from "./src/sdk"
 * const { amount } = await releaseReserve(context, { orderRef })
 */
export async function releaseReserve(context: ConcordContext, parameters: ReleaseReserveParameters): Promise<ReleaseReserveReturnType> {
  let record = parameters.record;
  if (!record) {
    const found = await getSettlementRecord(context, { orderRef: parameters.orderRef });
    if (found.state !== "held") throw new InvalidInputError(`order reference ${parameters.orderRef} holds no reserve (released, refunded or none)`);
    record = found.record;
  }
  const result = await writeConcord(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "releaseReserve",
    args: [parameters.orderRef, record],
  });
  return { ...result, amount: eventArgs(result, settlementLedgerAbi, "ReserveReleased").amount };
}
