import type { Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import { eventArgs, writeConcord, type WriteResult } from "../write";
import { getSettlementRecord, type SettlementRecord } from "./getSettlementRecord";

export type RefundParameters = {
  orderRef: Hex;
  /** How much of the remaining reserve to give back to the payer. */
  amount: bigint;
  /**
   * The settlement's reserve record, as the ledger stores its hash. When absent it is rebuilt
   * from the Settled event and later ReserveRefunded events ({@link getSettlementRecord}).
   */
  record?: SettlementRecord;
};
export type RefundReturnType = WriteResult & {
  /** The reserve still held after this refund. */
  remainingReserve: bigint;
  /** The record after the refund, to pass to the next refund or release. */
  record: SettlementRecord;
};
export type RefundErrorType = ConcordWriteErrorType;

/**
 * Refunds part or all of a settlement's remaining reserve to the payer's balance, inside the
 * dispute window; only the version's refund authority may. The ledger checks the amount against
 * the reserve (LedgerRefundExceedsReserve names both).
 *
 * @param context - A context whose account is the refund authority.
 * @param parameters - {@link RefundParameters}
 * @returns The transaction, the remaining reserve and the updated record.
 *
 * @example
 * import { parseEther } from "viem"
 * import { refund } from "./src/sdk"
 * const { remainingReserve } = await refund(refundDeskContext, { orderRef, amount: parseEther("0.1") })
 */
export async function refund(context: ConcordContext, parameters: RefundParameters): Promise<RefundReturnType> {
  if (parameters.amount <= 0n) throw new InvalidInputError(`refund amount is ${parameters.amount}; it must be positive`);
  let record = parameters.record;
  if (!record) {
    const found = await getSettlementRecord(context, { orderRef: parameters.orderRef });
    if (found.state !== "held") throw new InvalidInputError(`order reference ${parameters.orderRef} holds no reserve to refund`);
    record = found.record;
  }
  const result = await writeConcord(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "refund",
    args: [parameters.orderRef, record, parameters.amount],
  });
  const { remainingReserve } = eventArgs(result, settlementLedgerAbi, "ReserveRefunded");
  return { ...result, remainingReserve, record: { ...record, reserve: remainingReserve } };
}
