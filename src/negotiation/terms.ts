/** Offers as contract terms, and back. */
import { zeroAddress, type Address, type Hex } from "viem";
import type { Terms } from "../sdk/terms";
import type { Offer } from "./types";

/** Terms in the shape the contracts take: the SDK's {@link Terms}. */
export type ChainTerms = Terms;

/**
 * What the negotiation does not negotiate: fixed for every offer. With an order signer, its intents
 * attest the referrer and the terms list none; without one, a fee is earned only by the listed
 * referrers, so offers with a fee carry `referrers` and offers without one an empty list.
 */
export type FixedTerms = { refundAuthority: Address; documentHash: Hex; orderSigner?: Address; referrers?: readonly Address[] };

/** The fixed part of `terms` (an opening offer, the version in force). */
export function fixedTermsOf(terms: ChainTerms): FixedTerms {
  return { refundAuthority: terms.refundAuthority, documentHash: terms.documentHash, orderSigner: terms.orderSigner, referrers: [...terms.referrers] };
}

function assertSorted(participants: readonly Address[]): void {
  for (let i = 1; i < participants.length; i++) {
    if (BigInt(participants[i]!) <= BigInt(participants[i - 1]!)) {
      throw new Error(`participants must be sorted ascending by address; ${participants[i]} follows ${participants[i - 1]}`);
    }
  }
}

/**
 * The terms of `offer` among `participants` (sorted by address, as on chain), every participant an
 * account party; the final remainder of a pool to the first party.
 */
export function offerToTerms(offer: Offer, participants: readonly Address[], fixed: FixedTerms): ChainTerms {
  assertSorted(participants);
  if (offer.shares.length !== participants.length) {
    throw new Error(`offer has ${offer.shares.length} shares for ${participants.length} participants`);
  }
  const orderSigner = fixed.orderSigner ?? zeroAddress;
  const referrers = orderSigner === zeroAddress && offer.referralFeeBps > 0 ? [...(fixed.referrers ?? [])] : [];
  if (orderSigner === zeroAddress && offer.referralFeeBps > 0 && referrers.length === 0) {
    throw new Error(`an offer with a ${offer.referralFeeBps} bps referral fee and no order signer needs the referrers who may earn it`);
  }
  return {
    parties: participants.map((account, i) => ({ account, agreementId: 0n, version: 0, shareBps: offer.shares[i]! })),
    referralFeeBps: offer.referralFeeBps,
    referrers,
    reserveBps: offer.reserveBps,
    disputeWindow: offer.disputeWindow,
    refundAuthority: fixed.refundAuthority,
    orderSigner,
    dustPartyIndex: 0,
    documentHash: fixed.documentHash,
  };
}

/** The offer that `terms` express among `participants`; throws if a party is not a participant (a nested party included). */
export function termsToOffer(terms: ChainTerms, participants: readonly Address[]): Offer {
  const shares = participants.map(() => 0);
  for (const p of terms.parties) {
    if (p.agreementId !== 0n) throw new Error(`party agreement #${p.agreementId} (version ${p.version}) is nested: an agent negotiates shares among account parties only`);
    const i = participants.findIndex((a) => a.toLowerCase() === p.account.toLowerCase());
    if (i < 0) throw new Error(`party ${p.account} is not a participant`);
    shares[i] = p.shareBps;
  }
  return { shares, referralFeeBps: terms.referralFeeBps, reserveBps: terms.reserveBps, disputeWindow: terms.disputeWindow };
}
