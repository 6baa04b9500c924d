import { pad, toHex } from "viem";
import type { ConcordContext } from "../client";
import type { ConcordReadErrorType } from "../errors/base";
import { getConcordEvents, type ConcordEvent } from "./getConcordEvents";

export type GetAgreementHistoryParameters = { agreementId: bigint; fromBlock?: bigint; toBlock?: bigint; chunkSize?: bigint };
export type GetAgreementHistoryReturnType = ConcordEvent[];
export type GetAgreementHistoryErrorType = ConcordReadErrorType;

/**
 * Every registry and negotiation event of one agreement, in chain order: proposals, approvals,
 * signatures, activations, negotiation rounds and termination.
 *
 * @param context - Any context.
 * @param parameters - {@link GetAgreementHistoryParameters}
 * @returns The agreement's events, ordered by (block, transaction index, log index).
 *
 * @example
 * import { getAgreementHistory } from "./src/sdk"
 * const history = await getAgreementHistory(context, { agreementId: 1n })
 * history.map((e) => e.eventName) // ["AgreementProposed", "VersionProposed", "ConsentSigned", ..., "VersionActivated"]
 */
export async function getAgreementHistory(
  context: ConcordContext,
  parameters: GetAgreementHistoryParameters,
): Promise<GetAgreementHistoryReturnType> {
  // agreementId is the first indexed argument of every registry and hub event.
  return getConcordEvents(context, {
    fromBlock: parameters.fromBlock,
    toBlock: parameters.toBlock,
    chunkSize: parameters.chunkSize,
    contracts: ["registry", "negotiationHub"],
    topics: [pad(toHex(parameters.agreementId))],
  });
}
