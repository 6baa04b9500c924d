import type { Address } from "viem";
import { negotiationHubAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type NestedTerms, type Terms } from "../terms";
import { hashTerms } from "../typedData";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { contractAddresses } from "./getConcordEvents";
import { getNestedTerms } from "./getNestedTerms";
import { readTermsInForce } from "./getVersion";

export type OpenNegotiationParameters = {
  agreementId: bigint;
  /** Rounds allowed; a round is one turn of every participant. */
  roundLimit: number;
  /** Seconds from now until the deadline (at most the hub's MAX_DURATION, 90 days). */
  duration: number;
  /** Seconds a move may wait before anyone may expire the negotiation (at least MIN_MOVE_TIMEOUT, 5 minutes). */
  moveTimeout: number;
  /** The opener's offer; it counts as the opener's acceptance. */
  initialOffer: Terms;
  /** The terms of the version in force (default: read from its VersionProposed event). */
  currentTerms?: Terms;
  /** The nested terms reachable from `currentTerms` (default: read with {@link getNestedTerms}). */
  children?: readonly NestedTerms[];
};
export type OpenNegotiationReturnType = WriteResult & {
  negotiationId: number;
  /** Every account of the tree in force, sorted: all must accept the final offer. */
  participants: Address[];
  deadline: bigint;
  /** The agreement's active version at open (0 for a proposed agreement). */
  baseVersion: number;
};
export type OpenNegotiationErrorType = ConcordWriteErrorType;

/**
 * Opens a negotiation on an agreement with the context account's opening offer. The participants
 * are the consenters of the version in force (members of nested parties included); offers may
 * name only participants as accounts and only the nested parties of the version in force, with
 * the same pins. The current terms and their children are read here unless given.
 *
 * @param context - A context whose account is a consenter of the version in force.
 * @param parameters - {@link OpenNegotiationParameters}
 * @returns The transaction, the negotiation id, the participants, the deadline and the base version.
 *
 * @example
 * import { openNegotiation } from "./src/sdk"
 * const { negotiationId, participants } = await openNegotiation(hotelContext, {
 *   agreementId: 1n, roundLimit: 4, duration: 7 * 86_400, moveTimeout: 86_400, initialOffer: v2,
 * })
 */
export async function openNegotiation(
  context: ConcordContext,
  parameters: OpenNegotiationParameters,
): Promise<OpenNegotiationReturnType> {
  const result = await sendPlanned(context, await openNegotiationCall(context, parameters));
  const opened = eventArgs(result, negotiationHubAbi, "NegotiationOpened");
  return {
    ...result,
    negotiationId: opened.negotiationId,
    participants: [...opened.participants],
    deadline: opened.deadline,
    baseVersion: opened.baseVersion,
  };
}

/** The call {@link openNegotiation} sends (terms in force and nested terms read when not given); {@link prepareOpenNegotiation} returns it encoded. */
export async function openNegotiationCall(context: ConcordContext, parameters: OpenNegotiationParameters): Promise<PlannedCall> {
  validateTerms(parameters.initialOffer);
  const currentTerms = parameters.currentTerms ?? (await readTermsInForce(context, { agreementId: parameters.agreementId })).terms;
  const children = parameters.children ?? (await getNestedTerms(context, { terms: currentTerms }));
  const { negotiationHub } = await contractAddresses(context);
  return planCall(
    {
      address: negotiationHub,
      abi: negotiationHubAbi,
      functionName: "open",
      args: [
        parameters.agreementId,
        parameters.roundLimit,
        parameters.duration,
        parameters.moveTimeout,
        parameters.initialOffer,
        currentTerms,
        children,
      ],
    },
    `open a negotiation of agreement ${parameters.agreementId} (${parameters.roundLimit} rounds, ${parameters.duration} s, ${parameters.moveTimeout} s a move) with terms ${hashTerms(parameters.initialOffer)}`,
  );
}
