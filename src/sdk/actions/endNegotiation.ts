import { negotiationHubAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { contractAddresses } from "./getConcordEvents";

export type EndNegotiationParameters = { agreementId: bigint };
export type EndNegotiationReturnType = WriteResult & { negotiationId: number; moves: number };
export type EndNegotiationErrorType = ConcordWriteErrorType;

/**
 * Ends the agreement's live negotiation without agreement; any participant, at any time. The
 * version in force stays as it was.
 *
 * @param context - A context whose account is a participant.
 * @param parameters - {@link EndNegotiationParameters}
 * @returns The transaction, the negotiation id and how many moves were made.
 *
 * @example
 * import { endNegotiation } from "./src/sdk"
 * await endNegotiation(restaurantContext, { agreementId: 1n })
 */
export async function endNegotiation(context: ConcordContext, parameters: EndNegotiationParameters): Promise<EndNegotiationReturnType> {
  const result = await sendPlanned(context, await endNegotiationCall(context, parameters));
  const broken = eventArgs(result, negotiationHubAbi, "NegotiationBroken");
  return { ...result, negotiationId: broken.negotiationId, moves: broken.moves };
}

/** The call {@link endNegotiation} sends; {@link prepareEndNegotiation} returns it encoded. */
export async function endNegotiationCall(context: ConcordContext, parameters: EndNegotiationParameters): Promise<PlannedCall> {
  const { negotiationHub } = await contractAddresses(context);
  return planCall(
    { address: negotiationHub, abi: negotiationHubAbi, functionName: "end", args: [parameters.agreementId] },
    `end the negotiation of agreement ${parameters.agreementId} without agreement`,
  );
}
