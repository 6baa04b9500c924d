import { negotiationHubAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { contractAddresses } from "./getConcordEvents";

export type ExpireNegotiationParameters = { agreementId: bigint };
export type ExpireNegotiationReturnType = WriteResult & { negotiationId: number; moves: number };
export type ExpireNegotiationErrorType = ConcordWriteErrorType;

/**
 * Closes an open negotiation that can no longer move (past its deadline, its round limit or its
 * move timeout, or the agreement changed under it); anyone may call it.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link ExpireNegotiationParameters}
 * @returns The transaction, the negotiation id and how many moves were made.
 *
 * @example
 * import { expireNegotiation } from "./src/sdk"
 * await expireNegotiation(anyoneContext, { agreementId: 1n })
 */
export async function expireNegotiation(
  context: ConcordContext,
  parameters: ExpireNegotiationParameters,
): Promise<ExpireNegotiationReturnType> {
  const result = await sendPlanned(context, await expireNegotiationCall(context, parameters));
  const expired = eventArgs(result, negotiationHubAbi, "NegotiationExpired");
  return { ...result, negotiationId: expired.negotiationId, moves: expired.moves };
}

/** The call {@link expireNegotiation} sends; {@link prepareExpireNegotiation} returns it encoded. */
export async function expireNegotiationCall(context: ConcordContext, parameters: ExpireNegotiationParameters): Promise<PlannedCall> {
  const { negotiationHub } = await contractAddresses(context);
  return planCall(
    { address: negotiationHub, abi: negotiationHubAbi, functionName: "expire", args: [parameters.agreementId] },
    `close the expired negotiation of agreement ${parameters.agreementId}`,
  );
}
