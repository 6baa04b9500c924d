import type { PartyStance } from "./stance";

/**
 * A partner that cares mostly about its share, and a little about the fee, reserve and window.
 * In a file of its own (no imports at run time) so that the CLI's option defaults cost nothing to load.
 */
export const DEFAULT_STANCE = {
  weights: { value: 0.75, referralFee: 0.1, reserve: 0.1, disputeWindow: 0.05 },
  idealReferralFeeBps: 500,
  idealDisputeWindowDays: 7,
  refundExposure: 0.5,
  feeElasticity: 1,
} as const satisfies Partial<PartyStance>;
