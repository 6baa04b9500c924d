/**
 * The three partners' negotiating agents for the evening bundle. What each one wants beyond
 * money is written here (its tactic, ideal fee and window, how much it cares, the smallest share
 * it would take); what it believes about refunds and the reserve it asks for come from the
 * ledger's measured history (risk.ts via {@link PartnerRisk}).
 */
import {
  DAY_SECONDS,
  DEFAULT_RISK_ASSUMPTIONS,
  NegotiationAgent,
  Utility,
  boulware,
  conceder,
  defaultIssueSpace,
  findOverlap,
  issueGrid,
  titForTat,
  type IssueSpace,
  type Offer,
  type Preferences,
  type MeasuredRisk,
  type Tactic,
} from "../negotiation";

export type PartnerName = "hotel" | "restaurant" | "airline";

/** A partner's measured risk: its estimate of the refund rate by volume and the reserve it therefore asks for. */
export type PartnerRisk = MeasuredRisk;

/** Who a partner is at the table, apart from its measured risk. */
export type PartnerStance = {
  tactic: Tactic;
  weights: Preferences["weights"];
  idealReferralFeeBps: number;
  idealDisputeWindowDays: number;
  /** Part of refunds beyond the reserve that it pays itself (the hotel is the merchant of record). */
  refundExposure: number;
  /** Extra sales per unit of referral fee rate. */
  feeElasticity: number;
  /** The smallest share it would sign for, at its ideal fee, reserve and window: sets its reservation value. */
  walkAwayShareBps: number;
};

export const STANCES: Record<PartnerName, PartnerStance> = {
  hotel: {
    tactic: boulware,
    weights: { value: 0.75, referralFee: 0.1, reserve: 0.1, disputeWindow: 0.05 },
    idealReferralFeeBps: 800,
    idealDisputeWindowDays: 7,
    refundExposure: 0.8,
    feeElasticity: 2,
    walkAwayShareBps: 3_400,
  },
  restaurant: {
    tactic: conceder,
    weights: { value: 0.8, referralFee: 0.1, reserve: 0.05, disputeWindow: 0.05 },
    idealReferralFeeBps: 300,
    idealDisputeWindowDays: 3,
    refundExposure: 0.2,
    feeElasticity: 0.8,
    walkAwayShareBps: 2_000,
  },
  airline: {
    tactic: titForTat,
    weights: { value: 0.7, referralFee: 0.05, reserve: 0.15, disputeWindow: 0.1 },
    idealReferralFeeBps: 500,
    idealDisputeWindowDays: 14,
    refundExposure: 0.5,
    feeElasticity: 1,
    walkAwayShareBps: 2_000,
  },
};

/**
 * What may be offered: a referral fee of 3-12% (the bundle is sold through travel sites, so
 * there is always one), a reserve of 2.5-20% and a 1 to 14 day dispute window.
 */
export function bundleIssueSpace(): IssueSpace {
  return {
    ...defaultIssueSpace(3),
    referralFeeBps: { min: 300, max: 1_200, step: 100 },
    reserveBps: { min: 250, max: 2_000, step: 250 },
    disputeWindows: [1, 3, 7, 14].map((d) => d * DAY_SECONDS),
  };
}

export type BundleAgent = { name: PartnerName; agent: NegotiationAgent; reservation: number; risk: PartnerRisk; stance: PartnerStance };

/** The grid point nearest to a partner's ideal fee, reserve and window. */
function idealPoint(space: IssueSpace, stance: PartnerStance, reserveBps: number): Omit<Offer, "shares"> {
  const nearest = <T>(values: T[], score: (v: T) => number) => values.reduce((a, b) => (score(b) < score(a) ? b : a));
  const grid = issueGrid(space);
  return nearest(
    grid.filter((p) => p.reserveBps > 0),
    (p) =>
      Math.abs(p.referralFeeBps - stance.idealReferralFeeBps) / 100 +
      Math.abs(p.reserveBps - reserveBps) / 100 +
      Math.abs(p.disputeWindow / DAY_SECONDS - stance.idealDisputeWindowDays),
  );
}

/**
 * The agents, in participant order (`names[i]` is the partner at sorted address i). Each one's
 * utility counts expected refunds at its measured refund rate and prefers a reserve close to the
 * one its measured risk recommends; its reservation value is the utility of its walk-away share
 * at its own ideal point. Throws when no offer satisfies all three (nothing to negotiate).
 */
export function bundleAgents(names: readonly PartnerName[], risks: Record<PartnerName, PartnerRisk>, seed: number): BundleAgent[] {
  const space = bundleIssueSpace();
  const utilities = names.map((name, self) => {
    const stance = STANCES[name];
    const risk = risks[name];
    const model = {
      space,
      self,
      risk: { ...DEFAULT_RISK_ASSUMPTIONS, refundRate: risk.estimate.refundRate },
      preferences: {
        weights: stance.weights,
        ideal: { referralFeeBps: stance.idealReferralFeeBps, reserveBps: risk.reserveBps, disputeWindowDays: stance.idealDisputeWindowDays },
        refundExposure: stance.refundExposure,
        feeElasticity: stance.feeElasticity,
        reservation: 0,
      },
    };
    const probe = new Utility(model);
    const shares = names.map(() => 0);
    shares[self] = stance.walkAwayShareBps;
    const reservation = probe.utility({ shares, ...idealPoint(space, stance, risk.reserveBps) });
    return new Utility({ ...model, preferences: { ...model.preferences, reservation } });
  });
  if (!findOverlap(utilities, space)) {
    throw new Error(`no offer gives ${names.join(", ")} their reservation values: the walk-away shares leave nothing to agree on`);
  }
  return names.map((name, i) => ({
    name,
    agent: new NegotiationAgent({ name, utility: utilities[i]!, tactic: STANCES[name].tactic, seed: (seed * 31 + i) | 0 }),
    reservation: utilities[i]!.reservation,
    risk: risks[name],
    stance: STANCES[name],
  }));
}
