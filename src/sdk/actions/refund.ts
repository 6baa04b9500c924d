import type { Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
import { simulateAndWrite, type WriteResult } from "../write";
import { getSettlementRecord, type SettlementRecord } from "./getSettlementRecord";

export type RefundParameters = { orderRef: Hex; amount: bigint; record?: SettlementRecord };
export type RefundReturnType = WriteResult & { remainingReserve: bigint };

/**
 * Refunds part or all of a settlement's remaining reserve to the payer's balance, inside the
 * dispute window; only the version's refund authority may.
 *
 * @example
 * await refund(refundDeskContext, { orderRef, amount: parseEther("0.1") })
 */
export async function refund(context: ConcordContext, parameters: RefundParameters): Promise<RefundReturnType> {
  if (parameters.amount <= 0n) throw new InvalidInputError(`refund amount is ${parameters.amount}; it must be positive`);
  let record = parameters.record;
  if (!record) {
    const found = await getSettlementRecord(context, { orderRef: parameters.orderRef });
    if (found.state !== "held") throw new InvalidInputError(`order reference ${parameters.orderRef} holds no reserve to refund`);
    record = found.record;
  }
  if (parameters.amount > record.reserve) {
    throw new InvalidInputError(`refund of ${parameters.amount} exceeds the remaining reserve of ${record.reserve}`);
  }
  const result = await simulateAndWrite(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "refund",
    args: [parameters.orderRef, record, parameters.amount],
  });
  return { ...result, remainingReserve: record.reserve - parameters.amount };
}
