import { negotiationHubAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { InvalidInputError } from "../errors/base";
import { validateTerms, type Terms } from "../terms";
import { hashTerms } from "../typedData";
import { eventArgs, eventsArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { contractAddresses } from "./getConcordEvents";
import { getNegotiation } from "./getNegotiation";

export type AcceptOfferParameters = {
  agreementId: bigint;
  /** The latest offer's terms (default: read from its OfferMade event). */
  terms?: Terms;
};
export type AcceptOfferReturnType = WriteResult & {
  move: number;
  /** Whether this acceptance was the last one: the offer became the agreement's `version`. */
  agreed: boolean;
  version?: number;
};
export type AcceptOfferErrorType = ConcordWriteErrorType;

/**
 * Accepts the latest offer on the context account's turn. The last participant's acceptance
 * activates the offer in the registry as the agreement's next version, in the same transaction.
 *
 * @param context - A context whose account is the participant to move.
 * @param parameters - {@link AcceptOfferParameters}
 * @returns The transaction, the move number, and the new version when the negotiation was agreed.
 *
 * @example
 * import { acceptOffer } from "./src/sdk"
 * const { agreed, version } = await acceptOffer(airlineContext, { agreementId: 1n })
 */
export async function acceptOffer(context: ConcordContext, parameters: AcceptOfferParameters): Promise<AcceptOfferReturnType> {
  const result = await sendPlanned(context, await acceptOfferCall(context, parameters));
  const accepted = eventArgs(result, negotiationHubAbi, "OfferAccepted");
  const [agreed] = eventsArgs(result, negotiationHubAbi, "NegotiationAgreed");
  return { ...result, move: accepted.move, agreed: agreed !== undefined, version: agreed?.version };
}

/** The call {@link acceptOffer} sends (the latest offer read when no terms are given); {@link prepareAcceptOffer} returns it encoded. */
export async function acceptOfferCall(context: ConcordContext, parameters: AcceptOfferParameters): Promise<PlannedCall> {
  let terms = parameters.terms;
  if (!terms) {
    const { latestOffer } = await getNegotiation(context, { agreementId: parameters.agreementId });
    if (!latestOffer) throw new InvalidInputError(`agreement ${parameters.agreementId} has no offer to accept`);
    terms = latestOffer.terms;
  }
  validateTerms(terms);
  const { negotiationHub } = await contractAddresses(context);
  return planCall(
    { address: negotiationHub, abi: negotiationHubAbi, functionName: "accept", args: [parameters.agreementId, terms] },
    `accept the latest offer (terms ${hashTerms(terms)}) in the negotiation of agreement ${parameters.agreementId}`,
  );
}
