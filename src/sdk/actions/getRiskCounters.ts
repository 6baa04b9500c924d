import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";

export type GetRiskCountersParameters = { agreementId: bigint; token?: Address; blockNumber?: bigint };
export type GetRiskCountersReturnType = { settledVolume: bigint; settledCount: bigint; refundCount: bigint; refundedVolume: bigint };
export type GetRiskCountersErrorType = ConcordReadErrorType;

/**
 * Reads an agreement's risk counters in a token: settled and refunded volume and counts, the
 * ledger's own history from which the refund rate (and so the reserve to ask for) is estimated.
 *
 * @param context - Any context.
 * @param parameters - {@link GetRiskCountersParameters}
 * @returns {@link GetRiskCountersReturnType}
 *
 * @example
 * import { getRiskCounters } from "./src/sdk"
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
