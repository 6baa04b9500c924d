import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { withConcordErrors } from "../errors/decode";

export type GetRiskCountersParameters = { agreementId: bigint; token?: Address; blockNumber?: bigint };
export type GetRiskCountersReturnType = { settledVolume: bigint; settledCount: bigint; refundCount: bigint; refundedVolume: bigint };

/**
 * Reads an agreement's risk counters in a token: settled and refunded volume and counts.
 *
 * @example
 * const risk = await getRiskCounters(context, { agreementId: 1n })
 */
export async function getRiskCounters(context: ConcordContext, parameters: GetRiskCountersParameters): Promise<GetRiskCountersReturnType> {
  return withConcordErrors(async () => {
    const c = await context.publicClient.readContract({
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "riskCounters",
      args: [parameters.agreementId, parameters.token ?? zeroAddress],
      blockNumber: parameters.blockNumber,
    });
    return { settledVolume: c.settledVolume, settledCount: c.settledCount, refundCount: c.refundCount, refundedVolume: c.refundedVolume };
  });
}
