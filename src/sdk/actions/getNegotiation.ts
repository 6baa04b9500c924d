import { pad, toHex, type Address, type Hex } from "viem";
import { negotiationHubAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import type { Terms } from "../terms";
import { contractAddresses, getConcordEvents } from "./getConcordEvents";

/** The contract's NegotiationStatus names, by enum index. */
export const NEGOTIATION_STATUS_NAMES = ["none", "open", "agreed", "broken", "expired"] as const;
export type NegotiationStatusName = (typeof NEGOTIATION_STATUS_NAMES)[number];

export type GetNegotiationParameters = {
  agreementId: bigint;
  /** Where to start looking for OfferMade events (default 0). */
  fromBlock?: bigint;
};
export type NegotiationOffer = { terms: Terms; proposer: Address; move: number; offerHash: Hex; blockNumber: bigint };
export type GetNegotiationReturnType = {
  agreementId: bigint;
  /** With expiry applied: an open negotiation that can no longer move reads "expired". */
  status: NegotiationStatusName;
  /** 0 when the agreement was never negotiated. */
  negotiationId: number;
  /** Every account of the tree in force at open, sorted. */
  participants: Address[];
  /** Those that accept the latest offer. */
  accepted: Address[];
  /** Whose turn it is (undefined unless the negotiation is live). */
  nextMover?: Address;
  moves: number;
  roundLimit: number;
  deadline: bigint;
  moveTimeout: number;
  lastMoveAt: bigint;
  baseVersion: number;
  offerHash: Hex;
  /** The latest offer, from its OfferMade event (checked against `offerHash`). */
  latestOffer?: NegotiationOffer;
};
export type GetNegotiationErrorType = ConcordReadErrorType;

/**
 * Reads an agreement's current (or last) negotiation: its state, the participants and who
 * accepts, whose turn it is, and the latest offer's full terms from its OfferMade event.
 *
 * @param context - Any context.
 * @param parameters - {@link GetNegotiationParameters}
 * @returns {@link GetNegotiationReturnType}
 *
 * @example
 * import { getNegotiation } from "./src/sdk"
 * const { status, nextMover, latestOffer } = await getNegotiation(context, { agreementId: 1n })
 */
export async function getNegotiation(context: ConcordContext, parameters: GetNegotiationParameters): Promise<GetNegotiationReturnType> {
  const { negotiationHub } = await contractAddresses(context);
  const read = { address: negotiationHub, abi: negotiationHubAbi } as const;
  const [state, participants, mover] = await withConcordErrors(() =>
    Promise.all([
      context.publicClient.readContract({ ...read, functionName: "negotiation", args: [parameters.agreementId] }),
      context.publicClient.readContract({ ...read, functionName: "participants", args: [parameters.agreementId] }),
      context.publicClient.readContract({ ...read, functionName: "nextMover", args: [parameters.agreementId] }),
    ]),
  );
  let latestOffer: NegotiationOffer | undefined;
  if (state.negotiationId !== 0) {
    const offers = await getConcordEvents(context, {
      fromBlock: parameters.fromBlock,
      events: ["OfferMade"],
      topics: [pad(toHex(parameters.agreementId)), pad(toHex(state.negotiationId))],
    });
    const last = offers.filter((e) => e.args.offerHash === state.offerHash).at(-1);
    if (last) {
      const { terms, proposer, move, offerHash } = last.args;
      latestOffer = { terms, proposer, move, offerHash, blockNumber: last.blockNumber };
    }
  }
  return {
    agreementId: parameters.agreementId,
    status: NEGOTIATION_STATUS_NAMES[state.status] ?? "none",
    negotiationId: state.negotiationId,
    participants: [...participants],
    accepted: participants.filter((_, i) => (state.acceptedMask >> BigInt(i)) & 1n),
    nextMover: BigInt(mover) === 0n ? undefined : mover,
    moves: state.moves,
    roundLimit: state.roundLimit,
    deadline: state.deadline,
    moveTimeout: state.moveTimeout,
    lastMoveAt: state.lastMoveAt,
    baseVersion: state.baseVersion,
    offerHash: state.offerHash,
    latestOffer,
  };
}
