import { getAddress, isAddress, isHex, zeroAddress, zeroHash, type Address, type Hex } from "viem";
import { InvalidInputError } from "./errors/base";

/** An agreement's status (the contract's AgreementStatus enum). */
export const AgreementStatus = { None: 0, Proposed: 1, Active: 2, Terminated: 3 } as const;
export type AgreementStatus = (typeof AgreementStatus)[keyof typeof AgreementStatus];
export const AGREEMENT_STATUS_NAMES = ["none", "proposed", "active", "terminated"] as const;

/**
 * One party, exactly as the contracts take it: an account (`agreementId` 0n and `version` 0), or a
 * nested agreement (`account` zero) whose share flows into the pool of its pinned `version`.
 */
export type Party = { account: Address; agreementId: bigint; version: number; shareBps: number };

/** One version of an agreement, exactly as the contracts take it. */
export type Terms = {
  parties: readonly Party[];
  referralFeeBps: number;
  /** Who a direct payment may name as referrer; empty with an order signer or without a fee. */
  referrers: readonly Address[];
  reserveBps: number;
  disputeWindow: number;
  refundAuthority: Address;
  /** The merchant of record whose payment intents are the only settlements accepted (zero: direct payments). */
  orderSigner: Address;
  dustPartyIndex: number;
  documentHash: Hex;
};

/** The terms of a nested agreement's pinned version, as the registry takes them for consent checks. */
export type NestedTerms = { agreementId: bigint; version: number; terms: Terms };

/** The contracts' limits (contracts/libraries/TermsLib.sol, AgreementRegistry.MAX_NESTING_DEPTH). */
export const LIMITS = {
  totalBps: 10_000,
  maxParties: 255,
  maxReferralFeeBps: 2_000,
  maxReserveBps: 5_000,
  minDisputeWindow: 3_600,
  maxDisputeWindow: 365 * 86_400,
  maxNestingDepth: 4,
} as const;

/**
 * Thrown by {@link validateTerms} and {@link buildTerms}: `rule` is the name of the registry's
 * custom error the same terms would revert with, so a caller can tell which rule failed.
 */
export class TermsValidationError extends InvalidInputError {
  override name = "TermsValidationError";
  readonly rule: string;

  constructor(rule: string, shortMessage: string) {
    super(shortMessage, { details: rule });
    this.rule = rule;
  }
}

/** An account party, or a nested agreement pinned to one of its versions. */
export type PartyInput =
  | { account: Address | string; shareBps: number }
  | { agreementId: bigint | number; version: number; shareBps: number };

export type BuildTermsParameters = {
  parties: readonly PartyInput[];
  /** Referral fee in basis points (default 0). */
  referralFeeBps?: number;
  /** Who may earn the fee on direct payments; sorted here. Leave empty with an order signer. */
  referrers?: readonly (Address | string)[];
  reserveBps?: number;
  /** Seconds; required with a reserve, 0 without one. */
  disputeWindow?: number;
  refundAuthority?: Address | string;
  /** The merchant of record that signs payment intents (default: none, direct payments). */
  orderSigner?: Address | string;
  /** The party (account address, or nested agreement id) that receives a pool's final remainder; default the first after sorting. */
  dustParty?: Address | string | bigint;
  documentHash?: Hex;
};

const fmt = (v: number | bigint) => v.toLocaleString("en-US");

/** The contract's sort key of a party: accounts by address, then nested agreements by id. */
export function partyKey(party: Pick<Party, "account" | "agreementId">): bigint {
  return party.agreementId !== 0n ? (1n << 160n) | party.agreementId : BigInt(party.account);
}

function uint(value: number, bits: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new InvalidInputError(`${what} is ${String(value)}; it must be a whole number from 0 to ${fmt(2 ** bits - 1)}`);
  }
  return value;
}

function address(value: string, what: string): Address {
  if (!isAddress(value, { strict: false })) throw new InvalidInputError(`${what} "${value}" is not an address`);
  return getAddress(value);
}

/**
 * Builds terms the registry accepts: parties sorted by the contract's key (accounts by address,
 * then nested agreements by id), referrers sorted, and every rule of TermsLib checked here first
 * ({@link validateTerms}), with an error that names the offending value. Nested parties name the
 * child version their share flows into: the child's active version when proposed.
 *
 * @example
 * const terms = buildTerms({
 *   parties: [{ account: hotel, shareBps: 5_000 }, { account: restaurant, shareBps: 3_000 }, { agreementId: 1n, version: 1, shareBps: 2_000 }],
 *   referralFeeBps: 500,
 *   orderSigner: hotel,
 *   reserveBps: 1_000,
 *   disputeWindow: 7 * 86_400,
 *   refundAuthority: hotel,
 * })
 */
export function buildTerms(parameters: BuildTermsParameters): Terms {
  const parties: Party[] = parameters.parties.map((p, i) => {
    const shareBps = uint(p.shareBps, 16, `share of party ${i}`);
    if ("agreementId" in p) {
      const agreementId = BigInt(p.agreementId);
      if (agreementId <= 0n || agreementId >= 2n ** 64n) {
        throw new InvalidInputError(`nested agreement id of party ${i} is ${agreementId}; it must be from 1 to 2^64 - 1`);
      }
      return { account: zeroAddress, agreementId, version: uint(p.version, 32, `pinned version of party ${i}`), shareBps };
    }
    return { account: address(p.account, `party ${i} account`), agreementId: 0n, version: 0, shareBps };
  });
  parties.sort((a, b) => (partyKey(a) < partyKey(b) ? -1 : partyKey(a) > partyKey(b) ? 1 : 0));
  const referrers = (parameters.referrers ?? []).map((r, i) => address(r, `referrer ${i}`));
  referrers.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  let dustPartyIndex = 0;
  if (parameters.dustParty !== undefined) {
    const target = parameters.dustParty;
    dustPartyIndex = parties.findIndex((p) =>
      typeof target === "bigint" ? p.agreementId === target : p.agreementId === 0n && p.account === address(target, "dust party"),
    );
    if (dustPartyIndex < 0) throw new InvalidInputError(`dust party ${String(target)} is not a party of the terms`);
  }
  const documentHash = parameters.documentHash ?? zeroHash;
  if (!isHex(documentHash) || documentHash.length !== 66) {
    throw new InvalidInputError(`document hash "${documentHash}" is not 32 bytes of hex`);
  }
  const terms: Terms = {
    parties,
    referralFeeBps: uint(parameters.referralFeeBps ?? 0, 16, "referral fee"),
    referrers,
    reserveBps: uint(parameters.reserveBps ?? 0, 16, "reserve"),
    disputeWindow: uint(parameters.disputeWindow ?? 0, 32, "dispute window"),
    refundAuthority: address(parameters.refundAuthority ?? zeroAddress, "refund authority"),
    orderSigner: address(parameters.orderSigner ?? zeroAddress, "order signer"),
    dustPartyIndex,
    documentHash,
  };
  validateTerms(terms);
  return terms;
}

/**
 * Checks every rule the registry checks without reading the chain (TermsLib.validate), in the
 * contract's order, so that bad terms fail here with a clear message instead of as a revert. The
 * error's `rule` names the registry error the same terms would revert with. What needs the chain
 * (a nested agreement that is active, older and pinned to its active version, the depth limit) is
 * left to the registry.
 */
export function validateTerms(terms: Terms): void {
  const fail = (rule: string, message: string): never => {
    throw new TermsValidationError(rule, message);
  };
  const count = terms.parties.length;
  if (count === 0 || count > LIMITS.maxParties) {
    fail("RegistryPartyCountOutOfRange", `terms have ${fmt(count)} parties; they must have 1 to ${LIMITS.maxParties}`);
  }
  let sum = 0;
  let previousKey = 0n;
  terms.parties.forEach((p, i) => {
    const isAccount = BigInt(p.account) !== 0n;
    if (!isAccount) {
      if (p.agreementId === 0n) fail("RegistryZeroAddress", `party ${i} has neither an account nor a nested agreement id`);
      if (p.version === 0) {
        fail("RegistryNestedAgreementInvalid", `nested party ${i} (agreement ${p.agreementId}) is pinned to version 0; pin the child's active version`);
      }
    } else if (p.agreementId !== 0n || p.version !== 0) {
      fail("RegistryAmbiguousParty", `party ${i} (${p.account}) sets an account and also agreement id ${p.agreementId} or version ${p.version}`);
    }
    if (p.shareBps === 0) fail("RegistryZeroShare", `party ${i} has a share of 0 basis points; every share must be positive`);
    const key = partyKey(p);
    const name = isAccount ? p.account : `agreement ${p.agreementId}`;
    if (i > 0 && key === previousKey) fail("RegistryDuplicateParty", `party ${i} (${name}) appears twice`);
    if (i > 0 && key < previousKey) {
      fail("RegistryPartiesNotSorted", `party ${i} (${name}) is out of order: sort accounts by address, then nested agreements by id`);
    }
    previousKey = key;
    sum += p.shareBps;
  });
  if (sum !== LIMITS.totalBps) fail("RegistrySharesSumInvalid", `shares sum to ${fmt(sum)} basis points; they must sum to 10,000`);
  if (terms.dustPartyIndex >= count) {
    fail("RegistryDustPartyOutOfRange", `dust party index ${terms.dustPartyIndex} is out of range for ${count} parties`);
  }
  if (terms.referralFeeBps > LIMITS.maxReferralFeeBps) {
    fail(
      "RegistryReferralFeeTooHigh",
      `referral fee is ${fmt(terms.referralFeeBps)} basis points; the cap is ${fmt(LIMITS.maxReferralFeeBps)}`,
    );
  }
  if (terms.reserveBps > LIMITS.maxReserveBps) {
    fail("RegistryReserveTooHigh", `reserve is ${fmt(terms.reserveBps)} basis points; the cap is ${fmt(LIMITS.maxReserveBps)}`);
  }
  const window = terms.disputeWindow;
  if (terms.reserveBps === 0 ? window !== 0 : window < LIMITS.minDisputeWindow || window > LIMITS.maxDisputeWindow) {
    fail(
      "RegistryDisputeWindowOutOfRange",
      `dispute window is ${fmt(window)} s; with a reserve it must be from 3,600 s (1 hour) to 31,536,000 s (365 days), and 0 without one`,
    );
  }
  const referrerCount = terms.referrers.length;
  const withSigner = BigInt(terms.orderSigner) !== 0n;
  if (withSigner ? referrerCount !== 0 : (terms.referralFeeBps === 0) !== (referrerCount === 0)) {
    fail(
      "RegistryReferralTermsInvalid",
      withSigner
        ? `terms with order signer ${terms.orderSigner} list ${referrerCount} referrers; the signer's intents name the referrer, so the list must be empty`
        : terms.referralFeeBps === 0
          ? `terms list ${referrerCount} referrers but charge no referral fee`
          : `a referral fee of ${fmt(terms.referralFeeBps)} basis points needs an order signer or at least one listed referrer`,
    );
  }
  let previous = 0n;
  terms.referrers.forEach((r, i) => {
    if (BigInt(r) <= previous) fail("RegistryReferrerListInvalid", `referrer ${i} (${r}) is zero, repeated or out of order (sort ascending)`);
    previous = BigInt(r);
  });
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
