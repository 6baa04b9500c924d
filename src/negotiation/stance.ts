/**
 * A party's negotiating stance as a partner states it (its tactic, what it wants beyond money,
 * the least it will agree to), the agent that stance makes once the negotiation's participants
 * are known, and what the party believes about refunds: measured from the ledger's history of
 * every agreement it belongs to, as in the demo (risk.ts), and read from the chain through the
 * SDK by {@link readPartyRisk}.
 */
import { getAddress, zeroAddress, type Address } from "viem";
import { getAgreementsOfParty } from "../sdk/actions/getAgreementsOfParty";
import { getRiskCounters } from "../sdk/actions/getRiskCounters";
import type { ConcordContext } from "../sdk/client";
import { InvalidInputError } from "../sdk/errors/base";
import { NegotiationAgent } from "./agent";
import { estimatePartyRisk, recommendReserve, type Membership, type RiskCounters, type RiskEstimate } from "./risk";
import type { Tactic } from "./tactics";
import { DAY_SECONDS, TOTAL_BPS, defaultIssueSpace, type IssuePoint, type IssueSpace } from "./types";
import { Utility, type Preferences, type RiskView } from "./utility";

/**
 * The least a party agrees to: a utility in [0, 1], or a walk-away share, the smallest share it
 * would sign for at its ideal fee, reserve and window.
 */
export type Reservation = { utility: number } | { walkAwayShareBps: number };

export type PartyStance = {
  tactic: Tactic;
  weights: Preferences["weights"];
  idealReferralFeeBps: number;
  /** The reserve it asks for: by default the one its measured risk recommends. */
  idealReserveBps: number;
  idealDisputeWindowDays: number;
  /** Part of refunds beyond the reserve that it pays itself (1 for the merchant of record, 0 for a partner paid only through the ledger). */
  refundExposure: number;
  /** Extra sales per unit of referral fee rate. */
  feeElasticity: number;
  reservation: Reservation;
};

export { DEFAULT_STANCE } from "./stanceDefaults";

/** What the utility assumes besides the measured refund rate (as in the demo). */
export const DEFAULT_RISK_ASSUMPTIONS: Omit<RiskView, "refundRate"> = { refundHorizonDays: 7, annualDiscountRate: 0.05, referredShare: 0.5 };

/** The stance cannot make an agent: a reservation no offer reaches, a bad weight, ... */
export class StanceError extends Error {
  override name = "StanceError";
}

export type PartyAgentParameters = {
  /** The participants (only their number matters) and this party's index among them. */
  participants: readonly unknown[];
  self: number;
  stance: PartyStance;
  /** The refund rate this party believes in (the measured estimate's refundRate). */
  refundRate: number;
  seed: number;
  name?: string;
  /** The offers it may make (default: {@link defaultIssueSpace}). */
  space?: IssueSpace;
};

export type PartyAgentReturnType = {
  agent: NegotiationAgent;
  /** The reservation as a utility. */
  reservation: number;
  /** The walk-away share at the ideal point that this reservation amounts to, in basis points (undefined when even the largest share does not reach it). */
  walkAwayShareBps: number | undefined;
  /** The ideal fee, reserve and window, as the utility weighs them. */
  ideal: IssuePoint;
  /** The highest utility any offer gives this party. */
  maxUtility: number;
};

/**
 * The agent of a party with `stance`, participant `self` of the negotiation. Throws a
 * {@link StanceError} naming the problem when the stance is inconsistent or its reservation is
 * out of reach of every offer.
 *
 * @example
 *   const { agent, reservation } = partyAgent({ participants, self: 1, refundRate: 0.025, seed: 7,
 *     stance: { ...DEFAULT_STANCE, tactic: boulware, idealReserveBps: 750, reservation: { walkAwayShareBps: 3_000 } } });
 */
export function partyAgent(params: PartyAgentParameters): PartyAgentReturnType {
  const { stance, self } = params;
  const n = params.participants.length;
  let space: IssueSpace;
  try {
    space = params.space ?? defaultIssueSpace(n);
  } catch (error) {
    throw new StanceError((error as Error).message);
  }
  const maxShare = TOTAL_BPS - (n - 1) * space.minShareBps;
  const ideal: IssuePoint = {
    referralFeeBps: stance.idealReferralFeeBps,
    reserveBps: stance.idealReserveBps,
    disputeWindow: stance.idealReserveBps === 0 ? 0 : Math.round(stance.idealDisputeWindowDays * DAY_SECONDS),
  };
  const model = {
    space,
    self,
    risk: { ...DEFAULT_RISK_ASSUMPTIONS, refundRate: params.refundRate },
    preferences: {
      weights: stance.weights,
      ideal: { referralFeeBps: stance.idealReferralFeeBps, reserveBps: stance.idealReserveBps, disputeWindowDays: stance.idealDisputeWindowDays },
      refundExposure: stance.refundExposure,
      feeElasticity: stance.feeElasticity,
      reservation: 0,
    },
  };
  let probe: Utility;
  try {
    probe = new Utility(model);
  } catch (error) {
    throw new StanceError((error as Error).message);
  }
  const atIdeal = (shareBps: number) => {
    const shares = Array.from({ length: n }, () => 0);
    shares[self] = shareBps;
    return probe.utility({ shares, ...ideal });
  };

  let reservation: number;
  if ("walkAwayShareBps" in stance.reservation) {
    const share = stance.reservation.walkAwayShareBps;
    if (!(Number.isInteger(share) && share > 0 && share <= TOTAL_BPS)) {
      throw new StanceError(`a walk-away share must be more than 0% and at most 100%, got ${share / 100}%`);
    }
    if (share > maxShare) {
      throw new StanceError(
        `a walk-away share of ${share / 100}% is more than any offer gives one of ${n} participants (at most ${maxShare / 100}%: every other participant keeps at least ${space.minShareBps / 100}%)`,
      );
    }
    reservation = atIdeal(share);
  } else {
    reservation = stance.reservation.utility;
    if (!(reservation >= 0 && reservation <= 1)) throw new StanceError(`a reservation utility must be from 0 to 1, got ${reservation}`);
  }

  const utility = new Utility({ ...model, preferences: { ...model.preferences, reservation } });
  const agent = new NegotiationAgent({ name: params.name ?? `participant ${self}`, utility, tactic: stance.tactic, seed: params.seed });
  if (reservation > agent.maxUtility + 1e-12) {
    throw new StanceError(`reservation ${reservation.toFixed(3)} is above the most any offer gives this party (${agent.maxUtility.toFixed(3)}): it could never agree`);
  }
  const walkAwayShareBps = utility.shareFor(ideal, reservation);
  return { agent, reservation, walkAwayShareBps, ideal, maxUtility: agent.maxUtility };
}

/** One version of an agreement that names the party (the SDK's getAgreementsOfParty returns these). */
export type PartyVersion = { agreementId: bigint; version: number; shareBps: number };

/**
 * A party's memberships for its risk estimate: each agreement once, with the party's share in
 * the latest version that names it, and that agreement's counters (absent counters: no history).
 */
export function membershipsOf(versions: readonly PartyVersion[], counters: ReadonlyMap<bigint, RiskCounters>): Membership[] {
  const latest = new Map<bigint, PartyVersion>();
  for (const v of versions) {
    const seen = latest.get(v.agreementId);
    if (!seen || v.version > seen.version) latest.set(v.agreementId, v);
  }
  const none: RiskCounters = { settledVolume: 0n, settledCount: 0n, refundCount: 0n, refundedVolume: 0n };
  return [...latest.values()].map((v) => ({ agreementId: v.agreementId, shareBps: v.shareBps, counters: counters.get(v.agreementId) ?? none }));
}

export type MeasuredRisk = { estimate: RiskEstimate; reserveBps: number; basis: string };

/** The party's refund-rate estimate over its memberships and the reserve it therefore asks for. */
export function measuredRisk(memberships: readonly Membership[], safetyFactor?: number): MeasuredRisk {
  const estimate = estimatePartyRisk([...memberships]);
  return { estimate, ...recommendReserve(estimate, safetyFactor) };
}

export type ReadPartyRiskParameters = {
  /** The party: an account (EOA or contract wallet). */
  account: Address;
  /** The token whose counters are read (default: ETH, the zero address). */
  token?: Address;
  /** First block to read the registry's VersionProposed events from (default: 0; on a long chain, the deployment's block). */
  fromBlock?: bigint;
};

/**
 * The party's refund risk measured from the ledger: every agreement `account` is a party of (the
 * latest version naming it, see {@link membershipsOf}), each with its risk counters in `token`,
 * pooled by {@link measuredRisk}. Throws the SDK's InvalidInputError naming an account or token
 * that is not an address.
 *
 * @example
 *   const risk = await readPartyRisk(context, { account: hotel, fromBlock: deploymentBlock });
 *   // risk.estimate.refundRate: the refund rate it believes in; risk.reserveBps: the reserve it asks for
 */
export async function readPartyRisk(context: ConcordContext, parameters: ReadPartyRiskParameters): Promise<MeasuredRisk> {
  let token: Address;
  try {
    token = getAddress(parameters.token ?? zeroAddress);
  } catch (error) {
    throw new InvalidInputError(`token "${parameters.token}" is not an address`, { cause: error });
  }
  const versions = await getAgreementsOfParty(context, { account: parameters.account, fromBlock: parameters.fromBlock });
  const ids = [...new Set(versions.map((v) => v.agreementId))];
  const counters = new Map(await Promise.all(ids.map(async (agreementId) => [agreementId, await getRiskCounters(context, { agreementId, token })] as const)));
  return measuredRisk(membershipsOf(versions, counters));
}

/** A seed that is the same for the same party in the same negotiation (so a restarted agent decides alike). */
export function partySeed(agreementId: bigint, negotiationId: number, account: string): number {
  const text = `${agreementId}/${negotiationId}/${account.toLowerCase()}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}
