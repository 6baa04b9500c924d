import { getAddress, isAddress, isHex, zeroAddress, zeroHash, type Address, type Hex } from "viem";
import { InvalidInputError } from "./errors/base";

/** Who may earn the referral fee (the contract's ReferrerPolicy enum). */
export const ReferrerPolicy = { None: 0, Open: 1, Allowlist: 2 } as const;
export type ReferrerPolicy = (typeof ReferrerPolicy)[keyof typeof ReferrerPolicy];

/** An agreement's status (the contract's AgreementStatus enum). */
export const AgreementStatus = { None: 0, Proposed: 1, Active: 2, Terminated: 3 } as const;
export type AgreementStatus = (typeof AgreementStatus)[keyof typeof AgreementStatus];
export const AGREEMENT_STATUS_NAMES = ["none", "proposed", "active", "terminated"] as const;

/** One party, exactly as the contracts take it: an account, or a nested agreement (account zero). */
export type Party = { account: Address; agreementId: bigint; shareBps: number };

/** One version of an agreement, exactly as the contracts take it. */
export type Terms = {
  parties: readonly Party[];
  referralFeeBps: number;
  referrerPolicy: number;
  referrers: readonly Address[];
  reserveBps: number;
  disputeWindow: number;
  refundAuthority: Address;
  dustPartyIndex: number;
  documentHash: Hex;
};

/** The contracts' limits (contracts/libraries/TermsLib.sol). */
export const LIMITS = {
  totalBps: 10_000,
  maxParties: 255,
  maxReferralFeeBps: 2_000,
  maxReserveBps: 5_000,
  minDisputeWindow: 3_600,
  maxDisputeWindow: 365 * 86_400,
  maxNestingDepth: 4,
} as const;

export type PartyInput = { account: Address | string; shareBps: number } | { agreementId: bigint | number; shareBps: number };

export type BuildTermsParameters = {
  parties: readonly PartyInput[];
  /** Referral fee in basis points (0 with policy "none"). */
  referralFeeBps?: number;
  /** "none" | "open" | "allowlist"; default "open" when a fee is set, else "none". */
  referrerPolicy?: "none" | "open" | "allowlist";
  referrers?: readonly (Address | string)[];
  reserveBps?: number;
  /** Seconds; required with a reserve. */
  disputeWindow?: number;
  refundAuthority?: Address | string;
  /** The party (account address or nested agreement id) that receives rounding dust; default the first after sorting. */
  dustParty?: Address | string | bigint;
  documentHash?: Hex;
};

const fmt = (v: number) => v.toLocaleString("en-US");

function partyKey(p: Party): bigint {
  return p.agreementId !== 0n ? (1n << 160n) | p.agreementId : BigInt(p.account);
}

/**
 * Builds terms the contracts accept: parties sorted by the contract's key (accounts by address,
 * then nested agreements by id), referrers sorted, and every rule of TermsLib checked here first,
 * with an error that names the offending value.
 *
 * @example
 * const terms = buildTerms({
 *   parties: [{ account: hotel, shareBps: 5_000 }, { account: restaurant, shareBps: 3_000 }, { account: airline, shareBps: 2_000 }],
 *   referralFeeBps: 500,
 *   reserveBps: 1_000,
 *   disputeWindow: 7 * 86_400,
 *   refundAuthority: hotel,
 * })
 */
export function buildTerms(parameters: BuildTermsParameters): Terms {
  const parties: Party[] = parameters.parties.map((p, i) => {
    if (!Number.isInteger(p.shareBps) || p.shareBps <= 0 || p.shareBps > LIMITS.totalBps) {
      throw new InvalidInputError(`share of party ${i} is ${p.shareBps} basis points; it must be a whole number from 1 to 10,000`);
    }
    if ("agreementId" in p) {
      const id = BigInt(p.agreementId);
      if (id <= 0n) throw new InvalidInputError(`nested agreement id of party ${i} is ${id}; it must be positive`);
      return { account: zeroAddress, agreementId: id, shareBps: p.shareBps };
    }
    if (!isAddress(p.account, { strict: false }) || BigInt(p.account) === 0n) {
      throw new InvalidInputError(`party ${i} account "${p.account}" is not a non-zero address`);
    }
    return { account: getAddress(p.account), agreementId: 0n, shareBps: p.shareBps };
  });
  parties.sort((a, b) => (partyKey(a) < partyKey(b) ? -1 : partyKey(a) > partyKey(b) ? 1 : 0));
  const fee = parameters.referralFeeBps ?? 0;
  const policyName = parameters.referrerPolicy ?? (fee > 0 ? "open" : "none");
  const policy = { none: ReferrerPolicy.None, open: ReferrerPolicy.Open, allowlist: ReferrerPolicy.Allowlist }[policyName];
  if (policy === undefined) throw new InvalidInputError(`referrer policy "${String(policyName)}" is not none, open or allowlist`);
  const referrers = (parameters.referrers ?? []).map((r, i) => {
    if (!isAddress(r, { strict: false })) throw new InvalidInputError(`referrer ${i} "${r}" is not an address`);
    return getAddress(r);
  });
  referrers.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  let dustPartyIndex = 0;
  if (parameters.dustParty !== undefined) {
    const target = parameters.dustParty;
    dustPartyIndex = parties.findIndex((p) =>
      typeof target === "bigint" ? p.agreementId === target : p.agreementId === 0n && p.account === getAddress(target),
    );
    if (dustPartyIndex < 0) throw new InvalidInputError(`dust party ${String(target)} is not a party of the terms`);
  }
  const refundAuthority = parameters.refundAuthority ?? zeroAddress;
  if (!isAddress(refundAuthority, { strict: false })) {
    throw new InvalidInputError(`refund authority "${refundAuthority}" is not an address`);
  }
  const documentHash = parameters.documentHash ?? zeroHash;
  if (!isHex(documentHash) || documentHash.length !== 66) {
    throw new InvalidInputError(`document hash "${documentHash}" is not 32 bytes of hex`);
  }
  const terms: Terms = {
    parties,
    referralFeeBps: fee,
    referrerPolicy: policy,
    referrers,
    reserveBps: parameters.reserveBps ?? 0,
    disputeWindow: parameters.disputeWindow ?? 0,
    refundAuthority: getAddress(refundAuthority),
    dustPartyIndex,
    documentHash,
  };
  validateTerms(terms);
  return terms;
}

/**
 * Checks every rule the registry checks without reading the chain (TermsLib.validate), so that
 * bad terms fail here with a clear message instead of as a revert.
 */
export function validateTerms(terms: Terms): void {
  const count = terms.parties.length;
  if (count === 0 || count > LIMITS.maxParties) {
    throw new InvalidInputError(`terms have ${fmt(count)} parties; they must have 1 to ${LIMITS.maxParties}`);
  }
  let sum = 0;
  terms.parties.forEach((p, i) => {
    const isAccount = BigInt(p.account) !== 0n;
    if (!isAccount && p.agreementId === 0n) throw new InvalidInputError(`party ${i} has neither an account nor an agreement id`);
    if (isAccount && p.agreementId !== 0n) throw new InvalidInputError(`party ${i} has both an account and an agreement id`);
    if (p.shareBps <= 0) throw new InvalidInputError(`party ${i} has a share of ${p.shareBps} basis points; every share must be positive`);
    if (i > 0) {
      const prev = partyKey(terms.parties[i - 1]!);
      const key = partyKey(p);
      if (key === prev) throw new InvalidInputError(`party ${i} (${isAccount ? p.account : `agreement ${p.agreementId}`}) appears twice`);
      if (key < prev) throw new InvalidInputError(`party ${i} is out of order: sort by address, nested agreements last by id`);
    }
    sum += p.shareBps;
  });
  if (sum !== LIMITS.totalBps) throw new InvalidInputError(`shares sum to ${fmt(sum)} basis points; they must sum to 10,000`);
  if (terms.dustPartyIndex < 0 || terms.dustPartyIndex >= count) {
    throw new InvalidInputError(`dust party index ${terms.dustPartyIndex} is out of range for ${count} parties`);
  }
  if (terms.referralFeeBps < 0 || terms.referralFeeBps > LIMITS.maxReferralFeeBps) {
    throw new InvalidInputError(`referral fee is ${fmt(terms.referralFeeBps)} basis points; the cap is ${fmt(LIMITS.maxReferralFeeBps)}`);
  }
  if (terms.reserveBps < 0 || terms.reserveBps > LIMITS.maxReserveBps) {
    throw new InvalidInputError(`reserve is ${fmt(terms.reserveBps)} basis points; the cap is ${fmt(LIMITS.maxReserveBps)}`);
  }
  if (terms.reserveBps === 0 ? terms.disputeWindow !== 0 : terms.disputeWindow < LIMITS.minDisputeWindow || terms.disputeWindow > LIMITS.maxDisputeWindow) {
    throw new InvalidInputError(
      `dispute window is ${fmt(terms.disputeWindow)} s; with a reserve it must be from 3,600 s (1 hour) to 31,536,000 s (365 days), and 0 without one`,
    );
  }
  const policy = terms.referrerPolicy;
  if (policy === ReferrerPolicy.None && (terms.referralFeeBps !== 0 || terms.referrers.length !== 0)) {
    throw new InvalidInputError("referrer policy none takes no referral fee and no referrers");
  }
  if (policy !== ReferrerPolicy.None && terms.referralFeeBps === 0) {
    throw new InvalidInputError("a referrer policy other than none needs a referral fee above 0 basis points");
  }
  if (policy === ReferrerPolicy.Open && terms.referrers.length !== 0) {
    throw new InvalidInputError("referrer policy open takes no referrer list; use allowlist");
  }
  if (policy === ReferrerPolicy.Allowlist) {
    if (terms.referrers.length === 0) throw new InvalidInputError("referrer policy allowlist needs at least one referrer");
    terms.referrers.forEach((r, i) => {
      if (BigInt(r) === 0n || (i > 0 && BigInt(r) <= BigInt(terms.referrers[i - 1]!))) {
        throw new InvalidInputError(`referrer ${i} (${r}) is zero, duplicated or out of order`);
      }
    });
  }
}

/** The split-rule view of terms (src/sdk/split.ts). */
export function splitTermsOf(terms: Terms) {
  return {
    shares: terms.parties.map((p) => p.shareBps),
    referralFeeBps: terms.referralFeeBps,
    reserveBps: terms.reserveBps,
    dustPartyIndex: terms.dustPartyIndex,
  };
}
