import { pad, toHex } from "viem";
import type { ConcordContext } from "../client";
import { getConcordEvents, type ConcordEvent } from "./getConcordEvents";

export type GetAgreementHistoryParameters = { agreementId: bigint; fromBlock?: bigint; toBlock?: bigint };
export type GetAgreementHistoryReturnType = ConcordEvent[];

/**
 * Every registry and negotiation event of one agreement, in chain order: proposals, approvals,
 * signatures, activations, negotiation rounds and termination.
 *
 * @example
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
    contracts: ["registry", "negotiationHub"],
    topics: [pad(toHex(parameters.agreementId))],
  });
}
