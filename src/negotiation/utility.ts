/**
 * Risk-adjusted utility of an offer for one party.
 *
 * The money a party expects per unit of gross under an offer:
 *
 *   EV = volume(f) * [ s * (1 - q*f - r + (r - claimed) * delta(w)) - exposure * (rho - claimed) ]
 *
 * with s its share, f the referral fee rate, q the part of sales that come through a referrer,
 * r the reserve rate, w the dispute window, rho the expected refund rate of the agreement's
 * business, claimed = min(r, rho * coverage(w)) the refunds taken from the reserve (refunds that
 * arrive within the window, as far as the reserve covers them), delta(w) = (1 + annualRate)^(-w/year)
 * the time value of the reserve held for the window, exposure the part of uncovered refunds this
 * party pays itself (a merchant of record: 1; a partner paid only through the ledger: 0), and
 * volume(f) = 1 + elasticity * f the extra sales a referral fee brings.
 *
 * The utility is a weighted sum in [0, 1]: weight `value` on EV normalised over the issue space,
 * and weights on how close the fee, reserve and window are to the party's ideal (preferences
 * beyond money: bookkeeping, brand, a channel it wants to reward). It is affine in the party's own
 * share for fixed other issues, so the share that reaches a target utility is solved exactly.
 */
import { DAY_SECONDS, TOTAL_BPS, issueGrid, type IssuePoint, type IssueSpace, type Offer } from "./types";

/** What a party believes about the agreement's business (from the ledger's history: see risk.ts). */
export type RiskView = {
  /** Expected refunds as a fraction of gross (posterior mean of the refund rate). */
  refundRate: number;
  /** Refunds arrive within this many days of the sale; a shorter window lets some escape the reserve. */
  refundHorizonDays: number;
  /** Annual discount rate of money held in reserve. */
  annualDiscountRate: number;
  /** Fraction of sales that come through a referrer (and pay the referral fee). */
  referredShare: number;
};

export type Preferences = {
  /** Weights: value (money), then closeness of the fee, reserve and window to their ideals; they sum to 1. */
  weights: { value: number; referralFee: number; reserve: number; disputeWindow: number };
  ideal: { referralFeeBps: number; reserveBps: number; disputeWindowDays: number };
  /** Part of refunds not covered by the reserve that this party pays. */
  refundExposure: number;
  /** Extra sales per unit of referral fee rate (volume = 1 + elasticity * fee). */
  feeElasticity: number;
  /** Utility below which the party will not agree, in [0, 1]. */
  reservation: number;
};

export type UtilityModel = {
  space: IssueSpace;
  /** Index of this party among the participants. */
  self: number;
  risk: RiskView;
  preferences: Preferences;
};

const YEAR_DAYS = 365;

function assertUnit(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new Error(`${name} must be in [0, 1], got ${v}`);
}

/** Checks a model's numbers, naming the first bad one. */
export function validateModel(model: UtilityModel): void {
  const { risk, preferences: p } = model;
  assertUnit("refundRate", risk.refundRate);
  assertUnit("referredShare", risk.referredShare);
  assertUnit("reservation", p.reservation);
  assertUnit("refundExposure", p.refundExposure);
  if (!(risk.refundHorizonDays > 0)) throw new Error(`refundHorizonDays must be > 0, got ${risk.refundHorizonDays}`);
  if (!(risk.annualDiscountRate >= 0)) throw new Error(`annualDiscountRate must be >= 0, got ${risk.annualDiscountRate}`);
  const w = p.weights;
  const sum = w.value + w.referralFee + w.reserve + w.disputeWindow;
  if (Math.abs(sum - 1) > 1e-9 || [w.value, w.referralFee, w.reserve, w.disputeWindow].some((x) => x < 0)) {
    throw new Error(`weights must be non-negative and sum to 1, got ${JSON.stringify(w)}`);
  }
  if (model.self < 0 || model.self >= model.space.parties) throw new Error(`self ${model.self} is not a participant`);
}

/** Money per unit of gross, split as (coefficient of own share, constant), for a point of the non-share issues. */
function valueTerms(model: UtilityModel, point: IssuePoint): { perShare: number; constant: number; volume: number } {
  const { risk, preferences } = model;
  const f = point.referralFeeBps / TOTAL_BPS;
  const r = point.reserveBps / TOTAL_BPS;
  const windowDays = point.disputeWindow / DAY_SECONDS;
  const coverage = Math.min(1, windowDays / risk.refundHorizonDays);
  const claimed = Math.min(r, risk.refundRate * coverage);
  const delta = Math.pow(1 + risk.annualDiscountRate, -windowDays / YEAR_DAYS);
  const volume = 1 + preferences.feeElasticity * f;
  const perShare = volume * (1 - risk.referredShare * f - r + (r - claimed) * delta);
  const constant = -volume * preferences.refundExposure * (risk.refundRate - claimed);
  return { perShare, constant, volume };
}

/** Risk-adjusted expected money per unit of gross that `offer` gives this party. */
export function expectedValue(model: UtilityModel, offer: Offer): number {
  const share = (offer.shares[model.self] ?? 0) / TOTAL_BPS;
  const { perShare, constant } = valueTerms(model, offer);
  return perShare * share + constant;
}

function closeness(x: number, ideal: number, range: number): number {
  return range <= 0 ? 1 : 1 - Math.min(1, Math.abs(x - ideal) / range);
}

function preferenceScore(model: UtilityModel, point: IssuePoint): number {
  const { space, preferences: p } = model;
  const w = p.weights;
  return (
    w.referralFee * closeness(point.referralFeeBps, p.ideal.referralFeeBps, space.referralFeeBps.max - space.referralFeeBps.min) +
    w.reserve * closeness(point.reserveBps, p.ideal.reserveBps, space.reserveBps.max - space.reserveBps.min) +
    w.disputeWindow *
      closeness(
        point.disputeWindow / DAY_SECONDS,
        p.ideal.disputeWindowDays,
        Math.max(...space.disputeWindows) / DAY_SECONDS,
      )
  );
}

/**
 * A party's utility function with its normalisation precomputed: `utility(offer)` in [0, 1], and
 * `shareFor(point, target)`, the smallest own share (on the share grid) reaching `target`.
 */
export class Utility {
  readonly model: UtilityModel;
  private readonly evMin: number;
  private readonly evMax: number;

  constructor(model: UtilityModel) {
    validateModel(model);
    this.model = model;
    const { space } = model;
    const maxShare = (TOTAL_BPS - (space.parties - 1) * space.minShareBps) / TOTAL_BPS;
    const minShare = space.minShareBps / TOTAL_BPS;
    let lo = Infinity;
    let hi = -Infinity;
    for (const point of issueGrid(space)) {
      const { perShare, constant } = valueTerms(model, point);
      lo = Math.min(lo, perShare * minShare + constant, perShare * maxShare + constant);
      hi = Math.max(hi, perShare * minShare + constant, perShare * maxShare + constant);
    }
    this.evMin = lo;
    this.evMax = hi;
  }

  get reservation(): number {
    return this.model.preferences.reservation;
  }

  /** Utility in [0, 1] of `offer` for this party. */
  utility(offer: Offer): number {
    const ev = expectedValue(this.model, offer);
    const normalised = this.evMax > this.evMin ? (ev - this.evMin) / (this.evMax - this.evMin) : 1;
    return this.model.preferences.weights.value * normalised + preferenceScore(this.model, offer);
  }

  /** utility = slope * ownShareBps + intercept at a point of the non-share issues. */
  affine(point: IssuePoint): { slope: number; intercept: number } {
    const { perShare, constant } = valueTerms(this.model, point);
    const span = this.evMax - this.evMin;
    const wv = this.model.preferences.weights.value;
    if (span <= 0) return { slope: 0, intercept: wv + preferenceScore(this.model, point) };
    return {
      slope: (wv * perShare) / TOTAL_BPS / span,
      intercept: (wv * (constant - this.evMin)) / span + preferenceScore(this.model, point),
    };
  }

  /**
   * The smallest own share on the grid of `space` that reaches `target` at `point`, at least the
   * minimum share; `undefined` if even the largest possible share does not.
   */
  shareFor(point: IssuePoint, target: number): number | undefined {
    const { space } = this.model;
    const maxShare = TOTAL_BPS - (space.parties - 1) * space.minShareBps;
    const { slope, intercept } = this.affine(point);
    // Tolerance: utilities are floats; a share that misses the target by 1e-12 still reaches it.
    const eps = 1e-12;
    if (intercept + slope * space.minShareBps >= target - eps) return space.minShareBps;
    if (slope <= 0) return undefined;
    const exact = (target - intercept) / slope;
    const step = space.shareStepBps;
    let share = Math.max(space.minShareBps, Math.ceil((exact - 1e-9) / step) * step);
    while (share <= maxShare && intercept + slope * share < target - eps) share += step;
    return share <= maxShare ? share : undefined;
  }
}

/**
 * Whether some offer in the space gives every party at least its reservation (the parties'
 * acceptable regions overlap), with a witness offer if so. Exact over the space's grid: for each
 * point of the non-share issues, each party's smallest acceptable share is solved exactly.
 */
export function findOverlap(utilities: Utility[], space: IssueSpace, margin = 0): Offer | undefined {
  for (const point of issueGrid(space)) {
    const needs: number[] = [];
    for (const u of utilities) {
      const s = u.shareFor(point, u.reservation + margin);
      if (s === undefined) break;
      needs.push(s);
    }
    if (needs.length !== utilities.length) continue;
    const sum = needs.reduce((a, b) => a + b, 0);
    if (sum > TOTAL_BPS) continue;
    // Give the slack to the first party (more share never lowers a party's utility).
    const shares = [...needs];
    shares[0]! += TOTAL_BPS - sum;
    return { shares, ...point };
  }
  return undefined;
}
