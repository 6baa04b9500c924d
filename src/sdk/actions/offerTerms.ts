import type { Hex } from "viem";
import { negotiationHubAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type Terms } from "../terms";
import { hashTerms } from "../typedData";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { contractAddresses } from "./getConcordEvents";

export type OfferTermsParameters = { agreementId: bigint; terms: Terms };
export type OfferTermsReturnType = WriteResult & { move: number; offerHash: Hex };
export type OfferTermsErrorType = ConcordWriteErrorType;

/**
 * Makes a counter-offer on the context account's turn: it becomes the latest offer, accepted by
 * its proposer only (everyone else's acceptance is cleared).
 *
 * @param context - A context whose account is the participant to move.
 * @param parameters - {@link OfferTermsParameters}
 * @returns The transaction, the move number and the offer's hash.
 *
 * @example
 * import { offerTerms } from "./src/sdk"
 * const { move } = await offerTerms(restaurantContext, { agreementId: 1n, terms: counterOffer })
 */
export async function offerTerms(context: ConcordContext, parameters: OfferTermsParameters): Promise<OfferTermsReturnType> {
  const result = await sendPlanned(context, await offerTermsCall(context, parameters));
  const made = eventArgs(result, negotiationHubAbi, "OfferMade");
  return { ...result, move: made.move, offerHash: made.offerHash };
}

/** The call {@link offerTerms} sends; {@link prepareOfferTerms} returns it encoded. */
export async function offerTermsCall(context: ConcordContext, parameters: OfferTermsParameters): Promise<PlannedCall> {
  validateTerms(parameters.terms);
  const { negotiationHub } = await contractAddresses(context);
  return planCall(
    { address: negotiationHub, abi: negotiationHubAbi, functionName: "offer", args: [parameters.agreementId, parameters.terms] },
    `offer terms ${hashTerms(parameters.terms)} in the negotiation of agreement ${parameters.agreementId}`,
  );
}
