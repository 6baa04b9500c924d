import { hashStruct, type Address, type Hex, type TypedDataDomain } from "viem";
import type { Terms } from "./terms";

/** EIP-712 types of a consent, identical to the registry's CONSENT_TYPEHASH. */
export const consentTypes = {
  Consent: [
    { name: "agreementId", type: "uint256" },
    { name: "version", type: "uint32" },
    { name: "terms", type: "Terms" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  Terms: [
    { name: "parties", type: "Party[]" },
    { name: "referralFeeBps", type: "uint16" },
    { name: "referrerPolicy", type: "uint8" },
    { name: "referrers", type: "address[]" },
    { name: "reserveBps", type: "uint16" },
    { name: "disputeWindow", type: "uint32" },
    { name: "refundAuthority", type: "address" },
    { name: "dustPartyIndex", type: "uint8" },
    { name: "documentHash", type: "bytes32" },
  ],
  Party: [
    { name: "account", type: "address" },
    { name: "agreementId", type: "uint64" },
    { name: "shareBps", type: "uint16" },
  ],
} as const;

/** EIP-712 types of a termination consent, identical to the registry's TERMINATION_TYPEHASH. */
export const terminationTypes = {
  Termination: [
    { name: "agreementId", type: "uint256" },
    { name: "version", type: "uint32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** The registry's EIP-712 domain on a chain. */
export function concordDomain(chainId: number, registry: Address): TypedDataDomain {
  return { name: "Concord", version: "1", chainId, verifyingContract: registry };
}

/** The EIP-712 struct hash of terms: what the registry stores per version (`termsHash`). */
export function hashTerms(terms: Terms): Hex {
  return hashStruct({ data: terms, primaryType: "Terms", types: consentTypes });
}

export type ConsentMessage = { agreementId: bigint; version: number; terms: Terms; nonce: bigint; deadline: bigint };

/**
 * The typed data a party signs to consent to a version: the digest the registry checks.
 *
 * @example
 * const typedData = getConsentTypedData({ chainId: 31337, registry, agreementId: 1n, version: 1, terms, nonce: 0n, deadline })
 * const signature = await walletClient.signTypedData({ account, ...typedData })
 */
export function getConsentTypedData(parameters: ConsentMessage & { chainId: number; registry: Address }) {
  const { chainId, registry, ...message } = parameters;
  return { domain: concordDomain(chainId, registry), types: consentTypes, primaryType: "Consent" as const, message };
}

/** The typed data a party signs to consent to terminating the active version. */
export function getTerminationTypedData(parameters: {
  chainId: number;
  registry: Address;
  agreementId: bigint;
  version: number;
  nonce: bigint;
  deadline: bigint;
}) {
  const { chainId, registry, ...message } = parameters;
  return { domain: concordDomain(chainId, registry), types: terminationTypes, primaryType: "Termination" as const, message };
}
