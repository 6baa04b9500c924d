import type { Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
import { simulateAndWrite, type WriteResult } from "../write";
import { getSettlementRecord, type SettlementRecord } from "./getSettlementRecord";

export type ReleaseReserveParameters = { orderRef: Hex; record?: SettlementRecord };
export type ReleaseReserveReturnType = WriteResult & { amount: bigint };

/**
 * Releases a settlement's reserve after its dispute window, into the pool of the version it was
 * settled under. Anyone may call it.
 *
 * @example
 * await releaseReserve(context, { orderRef })
 */
export async function releaseReserve(context: ConcordContext, parameters: ReleaseReserveParameters): Promise<ReleaseReserveReturnType> {
  let record = parameters.record;
  if (!record) {
    const found = await getSettlementRecord(context, { orderRef: parameters.orderRef });
    if (found.state !== "held") throw new InvalidInputError(`order reference ${parameters.orderRef} holds no reserve`);
    record = found.record;
  }
  const result = await simulateAndWrite(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "releaseReserve",
    args: [parameters.orderRef, record],
  });
  return { ...result, amount: record.reserve };
}
