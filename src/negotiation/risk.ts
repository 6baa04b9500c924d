/**
 * Risk measured from the ledger's history.
 *
 * The ledger keeps, per agreement and token, {@link RiskCounters}: settled volume and count,
 * refunded volume and count. From them:
 *
 * - the refund probability of a settlement, a Beta-Binomial posterior: prior Beta(a0, b0)
 *   (by default mean 5% with the weight of 20 settlements), posterior Beta(a0 + refunds,
 *   b0 + settlements - refunds); little history leaves the credible interval wide;
 * - the refund severity, the refunded volume per refund relative to the average gross, shrunk
 *   towards a prior severity with the same kind of pseudo-count;
 * - the refund rate by volume = probability x severity, with a credible interval from the
 *   probability's interval;
 * - a recommended reserve: the upper credible bound of the refund rate times a safety factor,
 *   in basis points, rounded up, clamped to the ledger's 5,000 bps cap;
 * - drift: a renegotiation is due when the recommended reserve is at least a threshold away from
 *   the reserve of the terms in force.
 *
 * A party's estimate pools the agreements it belongs to, each weighted by the party's share (the
 * ledger counts per agreement only, so that a settlement's cost does not grow with its parties).
 * Everything here is pure except {@link readRiskCounters}, a thin viem reader.
 */
import { parseAbi, type Address, type PublicClient } from "viem";

/** The ledger's counters of one agreement in one token (ISettlementLedger.RiskCounters). */
export type RiskCounters = {
  settledVolume: bigint;
  settledCount: bigint;
  refundCount: bigint;
  refundedVolume: bigint;
};

export type RiskPrior = {
  /** Prior refund probability of a settlement. */
  refundProbability: number;
  /** Prior severity: refunded volume per refund as a fraction of the average gross. */
  severity: number;
  /** Weight of the prior, in settlements. */
  weight: number;
};

export const DEFAULT_PRIOR: RiskPrior = { refundProbability: 0.05, severity: 0.5, weight: 20 };

export type RiskEstimate = {
  /** Posterior Beta parameters of the refund probability. */
  alpha: number;
  beta: number;
  /** Posterior mean refund probability. */
  refundProbability: number;
  /** Refund severity (refunded volume per refund / average gross), shrunk towards the prior. */
  severity: number;
  /** Expected refunded fraction of gross volume: probability x severity. */
  refundRate: number;
  /** Central credible interval of the refund rate. */
  interval: { level: number; lower: number; upper: number };
  /** Settlements of evidence (weighted for a party). */
  evidence: number;
};

export type ReserveRecommendation = { reserveBps: number; basis: string };

export const MAX_RESERVE_BPS = 5_000;

function checkCounters(c: RiskCounters, label: string): void {
  for (const [k, v] of Object.entries(c)) {
    if (typeof v !== "bigint" || v < 0n) throw new Error(`${label}: ${k} must be a non-negative bigint, got ${String(v)}`);
  }
  if (c.refundCount > c.settledCount) {
    throw new Error(`${label}: refundCount ${c.refundCount} exceeds settledCount ${c.settledCount}`);
  }
}

function checkPrior(prior: RiskPrior): void {
  if (!(prior.refundProbability > 0 && prior.refundProbability < 1)) {
    throw new Error(`prior refundProbability must be in (0, 1), got ${prior.refundProbability}`);
  }
  if (!(prior.severity > 0 && prior.severity <= 1)) throw new Error(`prior severity must be in (0, 1], got ${prior.severity}`);
  if (!(prior.weight > 0)) throw new Error(`prior weight must be > 0, got ${prior.weight}`);
}

/** a / b for bigints as a float, exact enough for ratios of volumes up to 2**256. */
function ratio(a: bigint, b: bigint): number {
  if (b === 0n) return 0;
  const scale = 10n ** 18n;
  return Number((a * scale) / b) / 1e18;
}

/** Evidence of one agreement, scaled by `weight` (1 for the agreement itself, share for a party). */
type Evidence = { settlements: number; refunds: number; severitySum: number };

function evidenceOf(c: RiskCounters, weight: number): Evidence {
  const settlements = Number(c.settledCount);
  const refunds = Number(c.refundCount);
  // Severity of the refunds seen: refunded volume per refund relative to the average gross.
  const perRefund = refunds === 0 ? 0 : ratio(c.refundedVolume * c.settledCount, c.settledVolume * c.refundCount);
  return { settlements: weight * settlements, refunds: weight * refunds, severitySum: weight * refunds * Math.min(1, perRefund) };
}

function posterior(evidence: Evidence[], prior: RiskPrior, level: number): RiskEstimate {
  checkPrior(prior);
  if (!(level > 0 && level < 1)) throw new Error(`credible level must be in (0, 1), got ${level}`);
  const n = evidence.reduce((a, e) => a + e.settlements, 0);
  const k = evidence.reduce((a, e) => a + e.refunds, 0);
  const sev = evidence.reduce((a, e) => a + e.severitySum, 0);
  const alpha = prior.weight * prior.refundProbability + k;
  const beta = prior.weight * (1 - prior.refundProbability) + (n - k);
  const refundProbability = alpha / (alpha + beta);
  // Severity shrunk towards the prior with a pseudo-count of prior.weight * prior probability refunds.
  const priorRefunds = prior.weight * prior.refundProbability;
  const severity = (priorRefunds * prior.severity + sev) / (priorRefunds + k);
  const tail = (1 - level) / 2;
  return {
    alpha,
    beta,
    refundProbability,
    severity,
    refundRate: refundProbability * severity,
    interval: {
      level,
      lower: betaQuantile(tail, alpha, beta) * severity,
      upper: betaQuantile(1 - tail, alpha, beta) * severity,
    },
    evidence: n,
  };
}

/** The refund-rate estimate of one agreement (in one token) from its counters. */
export function estimateAgreementRisk(counters: RiskCounters, options: { prior?: RiskPrior; level?: number } = {}): RiskEstimate {
  checkCounters(counters, "counters");
  return posterior([evidenceOf(counters, 1)], options.prior ?? DEFAULT_PRIOR, options.level ?? 0.9);
}

/** One agreement a party belongs to: its counters and the party's share in basis points. */
export type Membership = { agreementId: bigint; shareBps: number; counters: RiskCounters };

/**
 * A party's refund-rate estimate: the evidence of every agreement it belongs to, each weighted by
 * its share (a party with 10% of an agreement carries a tenth of that agreement's history).
 */
export function estimatePartyRisk(memberships: Membership[], options: { prior?: RiskPrior; level?: number } = {}): RiskEstimate {
  const evidence = memberships.map((m) => {
    if (!(Number.isInteger(m.shareBps) && m.shareBps >= 0 && m.shareBps <= 10_000)) {
      throw new Error(`agreement ${m.agreementId}: shareBps must be an integer in [0, 10000], got ${m.shareBps}`);
    }
    checkCounters(m.counters, `agreement ${m.agreementId}`);
    return evidenceOf(m.counters, m.shareBps / 10_000);
  });
  return posterior(evidence, options.prior ?? DEFAULT_PRIOR, options.level ?? 0.9);
}

/**
 * The reserve to ask for: the upper credible bound of the refund rate times `safetyFactor`, in
 * basis points rounded up, at most the ledger's cap of 5,000.
 */
export function recommendReserve(estimate: RiskEstimate, safetyFactor = 1.25): ReserveRecommendation {
  if (!(safetyFactor >= 1)) throw new Error(`safetyFactor must be >= 1, got ${safetyFactor}`);
  const raw = Math.ceil(estimate.interval.upper * safetyFactor * 10_000 - 1e-9);
  const reserveBps = Math.min(MAX_RESERVE_BPS, Math.max(0, raw));
  return {
    reserveBps,
    basis:
      `upper ${Math.round(estimate.interval.level * 100)}% bound ${(estimate.interval.upper * 100).toFixed(2)}% ` +
      `x safety ${safetyFactor}` +
      (raw > MAX_RESERVE_BPS ? ` = ${raw} bps, capped at ${MAX_RESERVE_BPS}` : ` = ${reserveBps} bps`) +
      ` (evidence ${estimate.evidence.toFixed(1)} settlements)`,
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
  if (!(Number.isInteger(thresholdBps) && thresholdBps > 0)) throw new Error(`thresholdBps must be a positive integer, got ${thresholdBps}`);
  if (!(Number.isInteger(currentReserveBps) && currentReserveBps >= 0 && currentReserveBps <= MAX_RESERVE_BPS)) {
    throw new Error(`currentReserveBps must be an integer in [0, ${MAX_RESERVE_BPS}], got ${currentReserveBps}`);
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
  for (let m = 1; m <= 300; m++) {
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
  if (!(p >= 0 && p <= 1)) throw new Error(`quantile level must be in [0, 1], got ${p}`);
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (betaCdf(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// ---------------------------------------------------------------- reader

/** The ledger's `riskCounters` view (ISettlementLedger). */
export const riskCountersAbi = parseAbi([
  "struct RiskCounters { uint128 settledVolume; uint64 settledCount; uint64 refundCount; uint256 refundedVolume; }",
  "function riskCounters(uint64 agreementId, address token) view returns (RiskCounters)",
]);

/**
 * Reads an agreement's risk counters in `token` from the ledger.
 * @example
 *   const counters = await readRiskCounters(publicClient, { ledger, agreementId: 1n, token: zeroAddress });
 *   const reserve = recommendReserve(estimateAgreementRisk(counters));
 */
export async function readRiskCounters(
  client: PublicClient,
  args: { ledger: Address; agreementId: bigint; token: Address },
): Promise<RiskCounters> {
  const c = await client.readContract({
    address: args.ledger,
    abi: riskCountersAbi,
    functionName: "riskCounters",
    args: [args.agreementId, args.token],
  });
  return { settledVolume: c.settledVolume, settledCount: c.settledCount, refundCount: c.refundCount, refundedVolume: c.refundedVolume };
}
