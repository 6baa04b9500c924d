import { hashStruct, hashTypedData, type Address, type Hex, type TypedDataDomain } from "viem";
import type { Terms } from "./terms";

/** EIP-712 types of a consent, identical to the registry's CONSENT_TYPEHASH. */
export const consentTypes = {
  Consent: [
    { name: "agreementId", type: "uint256" },
    { name: "version", type: "uint32" },
    { name: "terms", type: "Terms" },
    { name: "signer", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  Terms: [
    { name: "parties", type: "Party[]" },
    { name: "referralFeeBps", type: "uint16" },
    { name: "referrers", type: "address[]" },
    { name: "reserveBps", type: "uint16" },
    { name: "disputeWindow", type: "uint32" },
    { name: "refundAuthority", type: "address" },
    { name: "orderSigner", type: "address" },
    { name: "dustPartyIndex", type: "uint8" },
    { name: "documentHash", type: "bytes32" },
  ],
  Party: [
    { name: "account", type: "address" },
    { name: "agreementId", type: "uint64" },
    { name: "version", type: "uint32" },
    { name: "shareBps", type: "uint16" },
  ],
} as const;

/** EIP-712 types of a termination consent, identical to the registry's TERMINATION_TYPEHASH. */
export const terminationTypes = {
  Termination: [
    { name: "agreementId", type: "uint256" },
    { name: "version", type: "uint32" },
    { name: "signer", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** EIP-712 types of a merchant's payment intent, identical to the ledger's PAYMENT_INTENT_TYPEHASH. */
export const paymentIntentTypes = {
  PaymentIntent: [
    { name: "agreementId", type: "uint64" },
    { name: "version", type: "uint32" },
    { name: "token", type: "address" },
    { name: "gross", type: "uint256" },
    { name: "referrer", type: "address" },
    { name: "orderRef", type: "bytes32" },
    { name: "refundBeneficiary", type: "address" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** The registry's EIP-712 domain on a chain: `name "Concord"`, `version "2"`. */
export function concordDomain(chainId: number, registry: Address): TypedDataDomain {
  return { name: "Concord", version: "2", chainId, verifyingContract: registry };
}

/** The ledger's EIP-712 domain on a chain: `name "Concord Ledger"`, `version "1"`. */
export function ledgerDomain(chainId: number, ledger: Address): TypedDataDomain {
  return { name: "Concord Ledger", version: "1", chainId, verifyingContract: ledger };
}

/** The EIP-712 struct hash of terms: what the registry stores per version (`termsHash`). */
export function hashTerms(terms: Terms): Hex {
  return hashStruct({ data: terms, primaryType: "Terms", types: consentTypes });
}

/**
 * What a consenter signs. The signer is named in the message: a member of a nested party signs the
 * parent's own (agreement, version, terms), and the registry checks the signature for that signer.
 */
export type ConsentMessage = {
  agreementId: bigint;
  version: number;
  terms: Terms;
  signer: Address;
  nonce: bigint;
  deadline: bigint;
};

/**
 * The typed data a consenter signs to consent to a version: the digest the registry checks.
 *
 * @example
 * const typedData = getConsentTypedData({ chainId: 31337, registry, agreementId: 1n, version: 1, terms, signer: account.address, nonce: 0n, deadline })
 * const signature = await walletClient.signTypedData({ account, ...typedData })
 */
export function getConsentTypedData(parameters: ConsentMessage & { chainId: number; registry: Address }) {
  const { chainId, registry, ...message } = parameters;
  return { domain: concordDomain(chainId, registry), types: consentTypes, primaryType: "Consent" as const, message };
}

/** The digest of a consent ({@link getConsentTypedData}); equals the registry's `consentDigest`. */
export function consentDigest(parameters: ConsentMessage & { chainId: number; registry: Address }): Hex {
  return hashTypedData(getConsentTypedData(parameters));
}

export type TerminationMessage = { agreementId: bigint; version: number; signer: Address; nonce: bigint; deadline: bigint };

/** The typed data a consenter signs to consent to terminating the agreement at its active version. */
export function getTerminationTypedData(parameters: TerminationMessage & { chainId: number; registry: Address }) {
  const { chainId, registry, ...message } = parameters;
  return { domain: concordDomain(chainId, registry), types: terminationTypes, primaryType: "Termination" as const, message };
}

/** The digest of a termination consent; equals the registry's `terminationDigest`. */
export function terminationDigest(parameters: TerminationMessage & { chainId: number; registry: Address }): Hex {
  return hashTypedData(getTerminationTypedData(parameters));
}

/** One payment as the ledger takes it (`Payment` in ISettlementLedger.sol); an intent signs exactly these fields. */
export type Payment = {
  agreementId: bigint;
  version: number;
  /** The zero address for ETH. */
  token: Address;
  gross: bigint;
  /** The one referrer paid the fee, or zero. */
  referrer: Address;
  orderRef: Hex;
  /** Who a refund is credited to (zero: the payer). */
  refundBeneficiary: Address;
  deadline: bigint;
};

/**
 * The typed data an order signer (the merchant of record) signs so that anyone may settle
 * `payment`: the digest the ledger checks (`intentDigest`).
 *
 * @example
 * const typedData = getPaymentIntentTypedData({ chainId: 31337, ledger, payment })
 * const signature = await merchantWallet.signTypedData({ account: merchant, ...typedData })
 */
export function getPaymentIntentTypedData(parameters: { chainId: number; ledger: Address; payment: Payment }) {
  return {
    domain: ledgerDomain(parameters.chainId, parameters.ledger),
    types: paymentIntentTypes,
    primaryType: "PaymentIntent" as const,
    message: parameters.payment,
  };
}

/** The digest of a payment intent; equals the ledger's `intentDigest(payment)`. */
export function paymentIntentDigest(parameters: { chainId: number; ledger: Address; payment: Payment }): Hex {
  return hashTypedData(getPaymentIntentTypedData(parameters));
}
