/**
 * A negotiating agent: a utility over the issues, a reservation value, a concession tactic and
 * an offer generator. `decide` is a pure function of what the agent sees (the moves so far) and
 * its seed, so the same seed replays the same negotiation on any machine or chain.
 */
import { createRng, type Rng } from "./prng";
import { relativeTime, timeDependentTarget, titForTatTarget, type Tactic } from "./tactics";
import { TOTAL_BPS, issueGrid, type IssuePoint, type IssueSpace, type Move, type Offer } from "./types";
import type { Utility } from "./utility";

/** What a participant sees when it is its turn. */
export type NegotiationView = {
  /** The mover's participant index. */
  self: number;
  participants: number;
  /** The number this move will get (the opening offer is move 1). */
  move: number;
  roundLimit: number;
  elapsedSeconds: number;
  timeLimitSeconds: number;
  /** Every offer so far, oldest first: its proposer, its move number and who accepted it since. Empty when opening. */
  offers: OfferRecord[];
  /** Who has accepted the latest offer. */
  accepted: boolean[];
};

export type OfferRecord = { by: number; move: number; offer: Offer; acceptedBy: number[] };

export type AgentConfig = {
  name: string;
  utility: Utility;
  tactic: Tactic;
  seed: number;
  /** Grid points sampled per offer search (besides the others' and its own last points). */
  searchSamples?: number;
};

const DEFAULT_SAMPLES = 96;

export class NegotiationAgent {
  readonly name: string;
  readonly utility: Utility;
  readonly tactic: Tactic;
  private readonly rng: Rng;
  private readonly grid: IssuePoint[];
  private readonly samples: number;
  /** The highest utility any offer gives this agent: Pmax of its tactic. */
  readonly maxUtility: number;

  constructor(config: AgentConfig) {
    this.name = config.name;
    this.utility = config.utility;
    this.tactic = config.tactic;
    this.rng = createRng(config.seed);
    this.grid = issueGrid(config.utility.model.space);
    this.samples = config.searchSamples ?? DEFAULT_SAMPLES;
    const { space } = config.utility.model;
    const maxShare = TOTAL_BPS - (space.parties - 1) * space.minShareBps;
    let best = 0;
    for (const point of this.grid) {
      const { slope, intercept } = config.utility.affine(point);
      best = Math.max(best, intercept + slope * maxShare, intercept + slope * space.minShareBps);
    }
    this.maxUtility = Math.min(1, best);
    if (this.utility.reservation > this.maxUtility) {
      // Nothing is acceptable: the agent still negotiates (and never agrees), which is what a
      // reservation above every offer means.
    }
  }

  get self(): number {
    return this.utility.model.self;
  }

  get reservation(): number {
    return this.utility.reservation;
  }

  /** The utility this agent aims for at this move. */
  target(view: NegotiationView): number {
    const t = relativeTime(view);
    const pMin = Math.min(this.reservation, this.maxUtility);
    const pMax = this.maxUtility;
    if (this.tactic.kind === "time") return timeDependentTarget(this.tactic.e, t, pMin, pMax);
    const mine = view.offers.filter((o) => o.by === view.self);
    const previousTarget = mine.length === 0 ? undefined : this.utility.utility(mine[mine.length - 1]!.offer);
    const concessions: number[] = [];
    for (let j = 0; j < view.participants; j++) {
      if (j === view.self) continue;
      const theirs = view.offers.filter((o) => o.by === j);
      if (theirs.length < 2) continue;
      concessions.push(
        this.utility.utility(theirs[theirs.length - 1]!.offer) - this.utility.utility(theirs[theirs.length - 2]!.offer),
      );
    }
    return titForTatTarget({ previousTarget, othersConcessions: concessions, nudge: this.tactic.nudge, t, pMin, pMax });
  }

  /** The agent's move at `view`. */
  decide(view: NegotiationView): Move {
    if (view.self !== this.self) throw new Error(`agent ${this.name} is participant ${this.self}, asked to move as ${view.self}`);
    const next = this.generateOffer(view, this.target(view));
    const latest = view.offers[view.offers.length - 1];
    if (!latest) return { kind: "offer", offer: next };

    const latestUtility = this.utility.utility(latest.offer);
    const acceptable = latestUtility >= this.reservation;
    if (acceptable && latest.by !== view.self && latestUtility >= this.utility.utility(next)) return { kind: "accept" };

    // An offer made now needs every other participant's turn to be accepted.
    const movesLeftAfterThis = view.roundLimit * view.participants - view.move;
    if (movesLeftAfterThis < view.participants - 1) {
      if (acceptable) return { kind: "accept" };
      return {
        kind: "end",
        reason:
          `no counter-offer can collect every acceptance in the ${movesLeftAfterThis} moves left, and the latest offer ` +
          `gives ${this.name} utility ${latestUtility.toFixed(3)} < reservation ${this.reservation.toFixed(3)}`,
      };
    }
    return { kind: "offer", offer: next };
  }

  /**
   * An offer reaching `target` for this agent that maximises the others' estimated utility:
   * for each candidate point of the non-share issues, the smallest own share reaching the target
   * is solved exactly and the rest is split among the others in proportion to what each last
   * asked for itself; candidates are scored by the sum of the logs of the others' estimated utilities.
   */
  generateOffer(view: NegotiationView, target: number): Offer {
    const { space } = this.utility.model;
    const n = view.participants;
    const lastBy: Array<Offer | undefined> = Array.from({ length: n }, () => undefined);
    for (const o of view.offers) lastBy[o.by] = o.offer;
    const demands = estimateDemands(view);

    const rng = this.rng.fork(`move-${view.move}`);
    const candidates: IssuePoint[] = [];
    const seen = new Set<string>();
    const add = (p: IssuePoint) => {
      const key = `${p.referralFeeBps}/${p.reserveBps}/${p.disputeWindow}`;
      if (!seen.has(key)) {
        seen.add(key);
        candidates.push({ referralFeeBps: p.referralFeeBps, reserveBps: p.reserveBps, disputeWindow: p.disputeWindow });
      }
    };
    for (const o of lastBy) if (o) add(o);
    for (let k = 0; k < this.samples; k++) add(this.grid[rng.int(0, this.grid.length - 1)]!);

    let best: { offer: Offer; score: number } | undefined;
    const consider = (point: IssuePoint, own: number) => {
      const shares = this.splitRest(own, demands, view.self);
      const offer: Offer = { shares, ...point };
      let score = 0;
      for (let j = 0; j < n; j++) if (j !== view.self) score += Math.log(estimatedUtility(offer, j, lastBy[j], space) + 1e-9);
      if (!best || score > best.score) best = { offer, score };
    };
    for (const point of candidates) {
      const own = this.utility.shareFor(point, target);
      if (own !== undefined) consider(point, own);
    }
    if (best) return best.offer;
    // The target is out of reach at every sampled point: the agent's own best offer.
    const maxShare = TOTAL_BPS - (space.parties - 1) * space.minShareBps;
    let bestPoint = this.grid[0]!;
    let bestUtility = -Infinity;
    for (const point of this.grid) {
      const { slope, intercept } = this.utility.affine(point);
      const u = intercept + slope * maxShare;
      if (u > bestUtility) {
        bestUtility = u;
        bestPoint = point;
      }
    }
    consider(bestPoint, maxShare);
    return best!.offer;
  }

  /**
   * Own share `own`; the rest goes to the others by their estimated demands, most recently stated
   * first (a recent demand is closer to what a party needs now): while the demands fit, each gets
   * its demand and any surplus is shared in proportion to the demands; a party whose demand no
   * longer fits, or that stated none, shares what is left.
   */
  private splitRest(own: number, demands: Demand[], self: number): number[] {
    const { space } = this.utility.model;
    const n = space.parties;
    const step = space.shareStepBps;
    const min = space.minShareBps;
    const rest = TOTAL_BPS - own;
    const others = demands.filter((d) => d.party !== self).sort((a, b) => b.move - a.move || a.party - b.party);
    const shares = Array.from({ length: n }, () => 0);
    shares[self] = own;
    let left = rest;
    const unmet: number[] = [];
    others.forEach((d, i) => {
      const reserveForLater = (others.length - i - 1) * min;
      if (d.share !== undefined && d.share <= left - reserveForLater) {
        shares[d.party] = d.share;
        left -= d.share;
      } else {
        unmet.push(d.party);
        shares[d.party] = min;
        left -= min;
      }
    });
    // Share what is left: among the unmet parties if any, else among all others by their demands.
    const takers = unmet.length > 0 ? unmet : others.map((d) => d.party);
    const weightOf = (j: number) => others.find((d) => d.party === j)?.share ?? rest / others.length;
    const weightSum = takers.reduce((a, j) => a + weightOf(j), 0);
    const raw = takers.map((j) => (left * weightOf(j)) / weightSum);
    const extra = raw.map((r) => Math.floor(r / step) * step);
    let given = extra.reduce((a, b) => a + b, 0);
    while (given < left) {
      let k = 0;
      for (let i = 1; i < extra.length; i++) if (raw[i]! - extra[i]! > raw[k]! - extra[k]!) k = i;
      extra[k]! += step;
      given += step;
    }
    takers.forEach((j, i) => (shares[j]! += extra[i]!));
    return shares;
  }
}

/** A participant's demand for itself as far as the others can tell, and when it was stated. */
export type Demand = { party: number; share: number | undefined; move: number };

/**
 * Each participant's demand: the share it gave itself in its last offer, lowered to any smaller
 * share it accepted in a later offer (an acceptance shows that share suffices).
 */
export function estimateDemands(view: NegotiationView): Demand[] {
  const demands: Demand[] = Array.from({ length: view.participants }, (_, party) => ({ party, share: undefined, move: 0 }));
  for (const record of view.offers) {
    const own = demands[record.by]!;
    own.share = record.offer.shares[record.by];
    own.move = record.move;
    for (const j of record.acceptedBy) {
      if (j === record.by) continue;
      const d = demands[j]!;
      const share = record.offer.shares[j]!;
      if (d.share === undefined || share <= d.share) {
        d.share = share;
        d.move = record.move;
      }
    }
  }
  return demands;
}

/**
 * What this agent guesses participant j thinks of `offer`: the fraction of its last ask for itself
 * that it gets, lowered by how far the fee, reserve and window are from its last offer's.
 * Without an offer from j yet, only its share counts (relative to an equal split).
 */
export function estimatedUtility(offer: Offer, j: number, lastOfJ: Offer | undefined, space: IssueSpace): number {
  const share = offer.shares[j] ?? 0;
  if (!lastOfJ) return Math.min(1, share / (TOTAL_BPS / space.parties));
  const ask = lastOfJ.shares[j] ?? TOTAL_BPS;
  const shareScore = Math.min(1, share / ask);
  const span = (range: { min: number; max: number }) => Math.max(1, range.max - range.min);
  const distance =
    (Math.abs(offer.referralFeeBps - lastOfJ.referralFeeBps) / span(space.referralFeeBps) +
      Math.abs(offer.reserveBps - lastOfJ.reserveBps) / span(space.reserveBps) +
      Math.abs(offer.disputeWindow - lastOfJ.disputeWindow) / Math.max(1, ...space.disputeWindows)) /
    3;
  return shareScore * (1 - distance);
}
