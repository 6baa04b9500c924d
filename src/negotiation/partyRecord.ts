/**
 * The chain's record of one negotiation as one participant follows it: the hub's events applied in
 * order (offers, acceptances, withdrawn acceptances, the end), what the agent sees at each move, and
 * how the terms of this party's offers are made. Used by {@link playParty}.
 */
import type { Address, Hex } from "viem";
import type { NegotiationAgent, NegotiationView, OfferRecord } from "./agent";
import { fixedTermsOf, offerToTerms, termsToOffer, type ChainTerms } from "./terms";
import type { Move, Offer } from "./types";

/** The negotiation as this party found it when it sat down. */
export type PartySetup = {
  hub: Address;
  agreementId: bigint;
  negotiationId: number;
  /** The participants in turn order (sorted by address, as on chain). */
  participants: Address[];
  account: Address;
  /** This party's index among the participants. */
  self: number;
  opener: number;
  roundLimit: number;
  /** Unix time after which no move is accepted. */
  deadline: bigint;
  /** Seconds a move may wait before anyone may expire the negotiation. */
  moveTimeout: number;
  openedAt: bigint;
  openedBlock: bigint;
  /** The opening offer: its refund authority, order signer, document hash and referrer list are kept in this party's offers. */
  opening: ChainTerms;
};

/** One move of the negotiation (by any participant), as this party saw it. */
export type PartyRound = {
  move: number;
  /** 1-based round: every participant moves once per round. */
  round: number;
  by: number;
  mover: Address;
  /** Whether this party made the move. */
  mine: boolean;
  kind: Move["kind"];
  /** The latest offer after this move, and its terms as on chain. */
  offer: Offer;
  terms: ChainTerms;
  /** This party's utility of the latest offer. */
  utility: number;
  /** Who has accepted the latest offer after this move. */
  accepted: boolean[];
  /** Why this party ended the negotiation (its own "end" moves only). */
  reason?: string;
  transactionHash: Hex;
  blockNumber: bigint;
};

/** One decoded event of the hub, as the SDK's getConcordEvents returns it. */
export type HubEvent = { eventName: string; args: Record<string, unknown>; blockNumber: bigint; transactionHash: Hex; logIndex: number };

/** The negotiation cannot be played by this party (nothing was sent): no open negotiation, not a participant, ... */
export class PartySetupError extends Error {
  override name = "PartySetupError";
}

export class NegotiationRecord {
  readonly offers: OfferRecord[] = [];
  readonly terms: ChainTerms[] = [];
  readonly rounds: PartyRound[] = [];
  accepted: boolean[];
  moves = 0;
  agreed?: { version: number; termsHash: Hex };
  broken?: { party: Address; moves: number };
  expired?: { moves: number; transactionHash: Hex };
  private readonly seen = new Set<string>();
  /** Why this party ended the negotiation, by the move count when it did (the chain does not record it). */
  readonly reasons = new Map<number, string>();

  constructor(
    private readonly setup: PartySetup,
    private readonly agent: NegotiationAgent,
    private readonly onRound?: (round: PartyRound) => void,
  ) {
    this.accepted = setup.participants.map(() => false);
  }

  private indexOf(account: unknown): number {
    const i = this.setup.participants.findIndex((p) => p.toLowerCase() === String(account).toLowerCase());
    if (i < 0) throw new Error(`${String(account)} moved in negotiation ${this.setup.negotiationId} but is not a participant`);
    return i;
  }

  apply(events: readonly HubEvent[]): void {
    for (const e of events) {
      const id = `${e.transactionHash}:${e.logIndex}`;
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      let kind: Move["kind"] | undefined;
      let by = -1;
      let move = this.moves;
      if (e.eventName === "OfferMade") {
        kind = "offer";
        by = this.indexOf(e.args.proposer);
        move = Number(e.args.move);
        const terms = e.args.terms as ChainTerms;
        this.offers.push({ by, move, offer: offerOf(terms, this.setup, move), acceptedBy: [by] });
        this.terms.push(terms);
        this.accepted = this.accepted.map((_, i) => i === by);
      } else if (e.eventName === "OfferAccepted") {
        kind = "accept";
        by = this.indexOf(e.args.party);
        move = Number(e.args.move);
        this.offers[this.offers.length - 1]!.acceptedBy.push(by);
        this.accepted[by] = true;
      } else if (e.eventName === "AcceptanceWithdrawn") {
        // Not a move: the turn stays where it is; the party no longer accepts the latest offer.
        by = this.indexOf(e.args.party);
        const latest = this.offers[this.offers.length - 1];
        if (latest) latest.acceptedBy = latest.acceptedBy.filter((i) => i !== by);
        this.accepted[by] = false;
      } else if (e.eventName === "NegotiationBroken") {
        kind = "end";
        by = this.indexOf(e.args.party);
        move = Number(e.args.moves);
        this.broken = { party: this.setup.participants[by]!, moves: move };
      } else if (e.eventName === "NegotiationAgreed") {
        this.agreed = { version: Number(e.args.version), termsHash: e.args.termsHash as Hex };
      } else if (e.eventName === "NegotiationExpired") {
        this.expired = { moves: Number(e.args.moves), transactionHash: e.transactionHash };
      }
      if (!kind) continue;
      this.moves = move;
      const latest = this.offers[this.offers.length - 1]!;
      const reason = kind === "end" && by === this.setup.self ? this.reasons.get(move) : undefined;
      const round: PartyRound = {
        move,
        round: Math.floor((Math.max(move, 1) - 1) / this.setup.participants.length) + 1,
        by,
        mover: this.setup.participants[by]!,
        mine: by === this.setup.self,
        kind,
        offer: latest.offer,
        terms: this.terms[this.terms.length - 1]!,
        utility: this.agent.utility.utility(latest.offer),
        accepted: [...this.accepted],
        ...(reason === undefined ? {} : { reason }),
        transactionHash: e.transactionHash,
        blockNumber: e.blockNumber,
      };
      this.rounds.push(round);
      this.onRound?.(round);
    }
  }

  view(move: number, elapsedSeconds: number): NegotiationView {
    const { setup } = this;
    return {
      self: setup.self,
      participants: setup.participants.length,
      move,
      roundLimit: setup.roundLimit,
      elapsedSeconds,
      timeLimitSeconds: Number(setup.deadline - setup.openedAt),
      offers: this.offers.map((o) => ({ ...o, acceptedBy: [...o.acceptedBy] })),
      accepted: [...this.accepted],
    };
  }
}

/** The offer that `terms` make among the participants; only account parties can be negotiated by an agent. */
export function offerOf(terms: ChainTerms, setup: Pick<PartySetup, "participants" | "agreementId" | "negotiationId">, move: number): Offer {
  const nested = terms.parties.find((p) => p.agreementId !== 0n);
  if (nested || terms.parties.length !== setup.participants.length) {
    throw new PartySetupError(
      `the offer at move ${move} of negotiation ${setup.negotiationId} on agreement ${setup.agreementId} ` +
        (nested ? `gives a share to nested agreement #${nested.agreementId}` : `names ${terms.parties.length} of the ${setup.participants.length} participants`) +
        "; an agent negotiates shares among participants that are all account parties",
    );
  }
  return termsToOffer(terms, setup.participants);
}

/** The terms of this party's offer: the negotiated issues from the agent, the rest as in the opening offer. */
export function termsForOffer(offer: Offer, setup: Pick<PartySetup, "participants" | "opening">): ChainTerms {
  return offerToTerms(offer, setup.participants, fixedTermsOf(setup.opening));
}

/** Why a negotiation that is no longer open expired. */
export function expiryReason(setup: PartySetup, moves: number, timestamp: bigint, lastMoveAt: bigint): string {
  const n = setup.participants.length;
  if (moves >= setup.roundLimit * n) {
    return `round limit reached: ${setup.roundLimit} rounds x ${n} participants = ${moves} moves without a unanimous acceptance`;
  }
  if (timestamp > setup.deadline) return `deadline passed: no move after ${new Date(Number(setup.deadline) * 1000).toISOString()}`;
  if (timestamp > lastMoveAt + BigInt(setup.moveTimeout)) return `move timeout: nobody moved for ${setup.moveTimeout} s after move ${moves}`;
  return "the agreement changed since the negotiation opened (a new active version, or a termination)";
}
