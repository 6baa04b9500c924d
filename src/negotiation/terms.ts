/** Offers as contract terms, and back. */
import type { Address, Hex } from "viem";
import type { Terms } from "../sdk/terms";
import type { Offer } from "./types";

/** Terms in the shape the contracts take: the SDK's {@link Terms}. */
export type ChainTerms = Terms;

/** What the negotiation does not negotiate: fixed for every offer. */
export type FixedTerms = { refundAuthority: Address; documentHash: Hex };

function assertSorted(participants: readonly Address[]): void {
  for (let i = 1; i < participants.length; i++) {
    if (BigInt(participants[i]!) <= BigInt(participants[i - 1]!)) {
      throw new Error(`participants must be sorted ascending by address; ${participants[i]} follows ${participants[i - 1]}`);
    }
  }
}

/**
 * The terms of `offer` among `participants` (sorted by address, as on chain): an open referral
 * policy when there is a fee, none otherwise; rounding dust to the first party.
 */
export function offerToTerms(offer: Offer, participants: readonly Address[], fixed: FixedTerms): ChainTerms {
  assertSorted(participants);
  if (offer.shares.length !== participants.length) {
    throw new Error(`offer has ${offer.shares.length} shares for ${participants.length} participants`);
  }
  return {
    parties: participants.map((account, i) => ({ account, agreementId: 0n, shareBps: offer.shares[i]! })),
    referralFeeBps: offer.referralFeeBps,
    referrerPolicy: offer.referralFeeBps > 0 ? 1 : 0,
    referrers: [],
    reserveBps: offer.reserveBps,
    disputeWindow: offer.disputeWindow,
    refundAuthority: fixed.refundAuthority,
    dustPartyIndex: 0,
    documentHash: fixed.documentHash,
  };
}

/** The offer that `terms` express among `participants`; throws if a party is not a participant. */
export function termsToOffer(terms: ChainTerms, participants: readonly Address[]): Offer {
  const shares = participants.map(() => 0);
  for (const p of terms.parties) {
    const i = participants.findIndex((a) => a.toLowerCase() === p.account.toLowerCase());
    if (i < 0) throw new Error(`party ${p.account} (agreement ${p.agreementId}) is not a participant`);
    shares[i] = p.shareBps;
  }
  return { shares, referralFeeBps: terms.referralFeeBps, reserveBps: terms.reserveBps, disputeWindow: terms.disputeWindow };
}
