/**
 * Risk measured from the ledger's own history, weighted by volume.
 *
 * The ledger keeps, per agreement and token, {@link RiskCounters}: settled volume and count,
 * refunded volume, and the number of settlements refunded at least once (never above the
 * settled count). What a reserve must cover is refunded *value*, so the estimate is of the
 * refund rate by volume, refundedVolume / settledVolume, and its evidence is measured in
 * volume too: a settlement of gross g weighs g / observationGross observations. A thousand
 * settlements of a few wei therefore weigh next to nothing, and nobody can talk an agreement's
 * reserve down (or up) by settling dust; the counts are reported beside the rate, never used
 * to weigh it.
 *
 * - The refund rate is a Beta posterior: prior Beta(w p0, w (1 - p0)) (by default a 2.5%
 *   rate with the weight of 20 observations), plus the evidence n = settledVolume /
 *   observationGross of which k = n x observed rate refunded. Little history leaves the
 *   credible interval wide. Evidence beyond {@link MAX_EVIDENCE} observations is scaled down
 *   to it (rate kept), where the interval is already narrower than one basis point.
 * - A recommended reserve: the upper credible bound of the rate times a safety factor, in basis
 *   points rounded up, clamped to the ledger's 5,000 bps cap.
 * - Drift: a renegotiation is due when the recommended reserve is at least a threshold away from
 *   the reserve of the terms in force.
 *
 * A party's estimate pools the agreements it belongs to, each agreement's volumes weighted by the
 * party's share (the ledger counts per agreement only, so that a settlement's cost does not grow
 * with its parties). Every function here is pure; the counters come from the SDK's getRiskCounters.
 */

/** The ledger's counters of one agreement in one token (ISettlementLedger.RiskCounters). */
export type RiskCounters = {
  settledVolume: bigint;
  settledCount: bigint;
  refundCount: bigint;
  refundedVolume: bigint;
};

export type RiskPrior = {
  /** Prior refund rate by volume, in (0, 1). */
  refundRate: number;
  /** Weight of the prior, in observations (settlements of `observationGross`). */
  weight: number;
};

export const DEFAULT_PRIOR: RiskPrior = { refundRate: 0.025, weight: 20 };

/**
 * Gross that weighs one observation by default: 10**17 base units (0.1 of an 18-decimal token or
 * of ETH). A token with other decimals should pass its own (for 6 decimals, 100_000n is 0.1).
 */
export const DEFAULT_OBSERVATION_GROSS = 10n ** 17n;

/** Evidence above this many observations is scaled down to it (see the module comment). */
export const MAX_EVIDENCE = 1_000_000;

export type RiskOptions = {
  prior?: RiskPrior;
  /** Central credible level of the interval (default 0.9). */
  level?: number;
  /** Gross (base units of the token) that weighs one observation (default {@link DEFAULT_OBSERVATION_GROSS}). */
  observationGross?: bigint;
};

export type RiskEstimate = {
  /** Posterior Beta parameters of the refund rate by volume. */
  alpha: number;
  beta: number;
  /** Posterior mean refund rate by volume: the expected refunded fraction of gross. */
  refundRate: number;
  /** Central credible interval of the refund rate. */
  interval: { level: number; lower: number; upper: number };
  /** Observations of evidence: settled volume / observationGross (weighted by share for a party), before the cap. */
  evidence: number;
  /** refundedVolume / settledVolume as counted (weighted for a party); null without settled volume. */
  observedRefundRate: number | null;
  /** Settlements and refunded settlements as counted (weighted by share for a party): reported, not weighed. */
  settlements: number;
  refunds: number;
};

export type ReserveRecommendation = { reserveBps: number; basis: string };

export const MAX_RESERVE_BPS = 5_000;

/** Thrown for an input no ledger can produce or a parameter out of its range; the message names the value. */
export class RiskInputError extends Error {
  override name = "RiskInputError";
}

function checkCounters(c: RiskCounters, label: string): void {
  for (const k of ["settledVolume", "settledCount", "refundCount", "refundedVolume"] as const) {
    const v = c[k];
    if (typeof v !== "bigint" || v < 0n) throw new RiskInputError(`${label}: ${k} must be a non-negative bigint, got ${String(v)}`);
  }
  if (c.refundCount > c.settledCount) {
    throw new RiskInputError(`${label}: refundCount ${c.refundCount} exceeds settledCount ${c.settledCount}`);
  }
}

function checkOptions(options: RiskOptions): { prior: RiskPrior; level: number; observationGross: bigint } {
  const prior = options.prior ?? DEFAULT_PRIOR;
  const level = options.level ?? 0.9;
  const observationGross = options.observationGross ?? DEFAULT_OBSERVATION_GROSS;
  if (!(prior.refundRate > 0 && prior.refundRate < 1)) throw new RiskInputError(`prior refundRate must be in (0, 1), got ${prior.refundRate}`);
  if (!(prior.weight > 0 && Number.isFinite(prior.weight))) throw new RiskInputError(`prior weight must be a positive number, got ${prior.weight}`);
  if (!(level > 0 && level < 1)) throw new RiskInputError(`credible level must be in (0, 1), got ${level}`);
  if (typeof observationGross !== "bigint" || observationGross <= 0n) {
    throw new RiskInputError(`observationGross must be a positive bigint, got ${String(observationGross)}`);
  }
  return { prior, level, observationGross };
}

/** a / b for bigints as a float (b > 0), exact to about 18 significant digits for any uint256 operands. */
function ratio(a: bigint, b: bigint): number {
  const scale = 10n ** 18n;
  const q = a / b;
  return Number(q) + Number(((a - q * b) * scale) / b) / 1e18;
}

/** Evidence of one agreement with a weight (1 for the agreement itself, share / 10,000 for a party). */
type Evidence = { observations: number; refunded: number; volume: bigint; refundedVolume: bigint; settlements: number; refunds: number; weight: number };

function evidenceOf(c: RiskCounters, weight: number, observationGross: bigint): Evidence {
  // Refunds come out of reserves, so refundedVolume <= settledVolume on any ledger; clamp anyway.
  const refundedVolume = c.refundedVolume > c.settledVolume ? c.settledVolume : c.refundedVolume;
  return {
    observations: weight * ratio(c.settledVolume, observationGross),
    refunded: weight * ratio(refundedVolume, observationGross),
    volume: c.settledVolume,
    refundedVolume,
    settlements: weight * Number(c.settledCount),
    refunds: weight * Number(c.refundCount),
    weight,
  };
}

function posterior(evidence: readonly Evidence[], options: RiskOptions): RiskEstimate {
  const { prior, level } = checkOptions(options);
  const n = evidence.reduce((a, e) => a + e.observations, 0);
  const k = Math.min(n, evidence.reduce((a, e) => a + e.refunded, 0));
  const scale = n > MAX_EVIDENCE ? MAX_EVIDENCE / n : 1;
  const alpha = prior.weight * prior.refundRate + k * scale;
  const beta = prior.weight * (1 - prior.refundRate) + (n - k) * scale;
  const tail = (1 - level) / 2;
  const weightedVolume = evidence.reduce((a, e) => a + e.weight * Number(e.volume), 0);
  const weightedRefunded = evidence.reduce((a, e) => a + e.weight * Number(e.refundedVolume), 0);
  return {
    alpha,
    beta,
    refundRate: alpha / (alpha + beta),
    interval: { level, lower: betaQuantile(tail, alpha, beta), upper: betaQuantile(1 - tail, alpha, beta) },
    evidence: n,
    observedRefundRate: weightedVolume > 0 ? Math.min(1, weightedRefunded / weightedVolume) : null,
    settlements: evidence.reduce((a, e) => a + e.settlements, 0),
    refunds: evidence.reduce((a, e) => a + e.refunds, 0),
  };
}

/**
 * The refund-rate estimate of one agreement (in one token) from its counters.
 * @example
 *   const counters = await getRiskCounters(context, { agreementId: 1n });
 *   const { reserveBps } = recommendReserve(estimateAgreementRisk(counters));
 */
export function estimateAgreementRisk(counters: RiskCounters, options: RiskOptions = {}): RiskEstimate {
  checkCounters(counters, "counters");
  return posterior([evidenceOf(counters, 1, checkOptions(options).observationGross)], options);
}

/** One agreement a party belongs to: its counters and the party's share in basis points. */
export type Membership = { agreementId: bigint; shareBps: number; counters: RiskCounters };

/**
 * A party's refund-rate estimate: the volumes of every agreement it belongs to, each weighted by
 * its share (a party with 10% of an agreement carries a tenth of that agreement's history).
 */
export function estimatePartyRisk(memberships: readonly Membership[], options: RiskOptions = {}): RiskEstimate {
  const { observationGross } = checkOptions(options);
  const evidence = memberships.map((m) => {
    if (!(Number.isInteger(m.shareBps) && m.shareBps >= 0 && m.shareBps <= 10_000)) {
      throw new RiskInputError(`agreement ${m.agreementId}: shareBps must be an integer in [0, 10000], got ${m.shareBps}`);
    }
    checkCounters(m.counters, `agreement ${m.agreementId}`);
    return evidenceOf(m.counters, m.shareBps / 10_000, observationGross);
  });
  return posterior(evidence, options);
}

/**
 * The reserve to ask for: the upper credible bound of the refund rate times `safetyFactor`, in
 * basis points rounded up, at most the ledger's cap of 5,000.
 */
export function recommendReserve(estimate: RiskEstimate, safetyFactor = 1.25): ReserveRecommendation {
  if (!(safetyFactor >= 1)) throw new RiskInputError(`safetyFactor must be >= 1, got ${safetyFactor}`);
  const raw = Math.ceil(estimate.interval.upper * safetyFactor * 10_000 - 1e-9);
  const reserveBps = Math.min(MAX_RESERVE_BPS, Math.max(0, raw));
  return {
    reserveBps,
    basis:
      `upper ${Math.round(estimate.interval.level * 100)}% bound ${(estimate.interval.upper * 100).toFixed(2)}% ` +
      `x safety ${safetyFactor}` +
      (raw > MAX_RESERVE_BPS ? ` = ${raw} bps, capped at ${MAX_RESERVE_BPS}` : ` = ${reserveBps} bps`) +
      ` (evidence ${estimate.evidence.toFixed(1)} observations)`,
  };
}

export type DriftReport = {
  due: boolean;
  currentReserveBps: number;
  recommendedReserveBps: number;
  /** recommended - current, in basis points. */
  driftBps: number;
  reason: string;
};

/** Whether the observed risk has drifted `thresholdBps` or more from the reserve of the terms in force. */
export function detectDrift(args: {
  estimate: RiskEstimate;
  currentReserveBps: number;
  thresholdBps: number;
  safetyFactor?: number;
}): DriftReport {
  const { estimate, currentReserveBps, thresholdBps } = args;
  if (!(Number.isInteger(thresholdBps) && thresholdBps > 0)) throw new RiskInputError(`thresholdBps must be a positive integer, got ${thresholdBps}`);
  if (!(Number.isInteger(currentReserveBps) && currentReserveBps >= 0 && currentReserveBps <= MAX_RESERVE_BPS)) {
    throw new RiskInputError(`currentReserveBps must be an integer in [0, ${MAX_RESERVE_BPS}], got ${currentReserveBps}`);
  }
  const rec = recommendReserve(estimate, args.safetyFactor);
  const driftBps = rec.reserveBps - currentReserveBps;
  const due = Math.abs(driftBps) >= thresholdBps;
  const direction = driftBps > 0 ? "above" : "below";
  return {
    due,
    currentReserveBps,
    recommendedReserveBps: rec.reserveBps,
    driftBps,
    reason: due
      ? `renegotiation due: recommended reserve ${rec.reserveBps} bps is ${Math.abs(driftBps)} bps ${direction} the terms' ${currentReserveBps} bps (threshold ${thresholdBps}); ${rec.basis}`
      : `no renegotiation: recommended reserve ${rec.reserveBps} bps is within ${thresholdBps} bps of the terms' ${currentReserveBps} bps`,
  };
}

// ---------------------------------------------------------------- Beta distribution

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xx = x - 1;
  let a = c[0]!;
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (Numerical Recipes, betacf). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  // Converges in O(sqrt(max(a, b))) steps; evidence is capped at MAX_EVIDENCE, so 20,000 suffice.
  for (let m = 1; m <= 20_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-14) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b): the Beta(a, b) CDF at x. */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** The p-quantile of Beta(a, b), by bisection on the CDF (60 halvings: below 1e-17). */
export function betaQuantile(p: number, a: number, b: number): number {
  if (!(p >= 0 && p <= 1)) throw new RiskInputError(`quantile level must be in [0, 1], got ${p}`);
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (betaCdf(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
