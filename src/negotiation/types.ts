/**
 * The negotiated issues and the record of a negotiation, independent of any chain.
 *
 * An offer assigns a share to every participant (in the participants' order: sorted by address
 * on chain), a referral fee rate, a reserve rate and a dispute window. Everything else in the
 * terms (refund authority, referrer policy, document hash) is fixed by the negotiation's setup.
 */

/** One offer over the negotiated issues. */
export type Offer = {
  /** Basis points per participant, in participant order; every share >= the space's minimum, sum 10,000. */
  shares: number[];
  /** Referral fee rate in basis points (0: no referral fee). */
  referralFeeBps: number;
  /** Reserve rate in basis points (0: no reserve and a zero dispute window). */
  reserveBps: number;
  /** Dispute window in seconds (0 exactly when reserveBps is 0). */
  disputeWindow: number;
};

/** The ranges an offer may take; values off the grid are never offered. */
export type IssueSpace = {
  parties: number;
  /** Share granularity and the smallest share any participant may be offered (keeps every participant a party). */
  shareStepBps: number;
  minShareBps: number;
  referralFeeBps: { min: number; max: number; step: number };
  reserveBps: { min: number; max: number; step: number };
  /** Allowed dispute windows in seconds when the reserve is not zero (each within 1 hour .. 365 days). */
  disputeWindows: number[];
};

export const TOTAL_BPS = 10_000;
export const DAY_SECONDS = 86_400;

/** A sensible default space: fee 0-15%, reserve 0-30%, windows 1-60 days, shares in 50 bps steps, at least 5%. */
export function defaultIssueSpace(parties: number): IssueSpace {
  if (!Number.isInteger(parties) || parties < 2 || parties > 20) {
    throw new Error(`a negotiation needs 2 to 20 parties, got ${parties}`);
  }
  return {
    parties,
    shareStepBps: 50,
    minShareBps: 500,
    referralFeeBps: { min: 0, max: 1_500, step: 100 },
    reserveBps: { min: 0, max: 3_000, step: 250 },
    disputeWindows: [1, 3, 7, 14, 30, 60].map((d) => d * DAY_SECONDS),
  };
}

/** The grid of the non-share issues: every (fee, reserve, window) an offer may use. */
export type IssuePoint = { referralFeeBps: number; reserveBps: number; disputeWindow: number };

export function issueGrid(space: IssueSpace): IssuePoint[] {
  const points: IssuePoint[] = [];
  const { referralFeeBps: f, reserveBps: r } = space;
  for (let fee = f.min; fee <= f.max; fee += f.step) {
    for (let reserve = r.min; reserve <= r.max; reserve += r.step) {
      const windows = reserve === 0 ? [0] : space.disputeWindows;
      for (const disputeWindow of windows) points.push({ referralFeeBps: fee, reserveBps: reserve, disputeWindow });
    }
  }
  return points;
}

/** Throws, naming the bad value, unless `offer` lies in `space`. */
export function assertOfferInSpace(offer: Offer, space: IssueSpace): void {
  if (offer.shares.length !== space.parties) {
    throw new Error(`offer has ${offer.shares.length} shares, the space has ${space.parties} parties`);
  }
  let sum = 0;
  offer.shares.forEach((s, i) => {
    if (!Number.isInteger(s) || s < space.minShareBps) throw new Error(`share ${i} is ${s}, below ${space.minShareBps}`);
    sum += s;
  });
  if (sum !== TOTAL_BPS) throw new Error(`shares sum to ${sum}, not ${TOTAL_BPS}`);
  const { referralFeeBps: f, reserveBps: r } = space;
  if (offer.referralFeeBps < f.min || offer.referralFeeBps > f.max) {
    throw new Error(`referral fee ${offer.referralFeeBps} outside [${f.min}, ${f.max}]`);
  }
  if (offer.reserveBps < r.min || offer.reserveBps > r.max) {
    throw new Error(`reserve ${offer.reserveBps} outside [${r.min}, ${r.max}]`);
  }
  if ((offer.reserveBps === 0) !== (offer.disputeWindow === 0)) {
    throw new Error(`dispute window ${offer.disputeWindow} does not match reserve ${offer.reserveBps}`);
  }
}

export function offersEqual(a: Offer, b: Offer): boolean {
  return (
    a.referralFeeBps === b.referralFeeBps &&
    a.reserveBps === b.reserveBps &&
    a.disputeWindow === b.disputeWindow &&
    a.shares.length === b.shares.length &&
    a.shares.every((s, i) => s === b.shares[i])
  );
}

/** A move in the stacked alternating-offers protocol. */
export type Move = { kind: "offer"; offer: Offer } | { kind: "accept" } | { kind: "end"; reason: string };

/** One move as recorded in a transcript. */
export type TranscriptEntry = {
  /** 1-based move number (the opening offer is move 1), as on chain. */
  move: number;
  /** 1-based round: every participant moves once per round. */
  round: number;
  /** Participant index of the mover. */
  by: number;
  kind: Move["kind"];
  /** The latest offer after this move. */
  offer: Offer;
  /** Each participant's own utility of the latest offer after this move. */
  utilities: number[];
  /** Who has accepted the latest offer after this move. */
  accepted: boolean[];
  /** Why the mover ended the negotiation (kind "end" only). */
  reason?: string;
};

export type Outcome =
  | { status: "agreed"; offer: Offer; moves: number }
  | { status: "expired"; moves: number; reason: string }
  | { status: "broken"; moves: number; by: number; reason: string };

export type Transcript = { entries: TranscriptEntry[]; outcome: Outcome };
