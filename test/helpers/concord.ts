/**
 * Shared fixtures for the contract suites (and the auditor's and negotiation's suites): terms in
 * the contracts' shape, EIP-712 consent, termination and payment intent signatures made through
 * ethers' public signTypedData (docs/contracts.md gives the types), the nested children a consent
 * check needs, and a deployment of the registry (with its hub) and the ledger.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer, TypedDataDomain } from "ethers";
import type { AgreementRegistry, NegotiationHub, SettlementLedger } from "../../typechain-types";

/** A party in the shape the contracts take: an account (agreementId and version 0) or a nested agreement pinned to a version. */
export type PartyInput = { account: string; agreementId: bigint; version: number; shareBps: number };

/** Terms in the shape the contracts take. */
export type TermsInput = {
  parties: PartyInput[];
  referralFeeBps: number;
  referrers: string[];
  reserveBps: number;
  disputeWindow: number;
  refundAuthority: string;
  orderSigner: string;
  dustPartyIndex: number;
  documentHash: string;
};

/** The pinned terms of a nested agreement, as consent checks take them. */
export type NestedTermsInput = { agreementId: bigint; version: number; terms: TermsInput };

/** A payment in the shape the ledger takes (a direct payment, or the body of an intent). */
export type PaymentInput = {
  agreementId: bigint;
  version: number;
  token: string;
  gross: bigint;
  referrer: string;
  orderRef: string;
  refundBeneficiary: string;
  deadline: bigint;
};

export const AgreementStatus = { None: 0n, Proposed: 1n, Active: 2n, Terminated: 3n } as const;
export const ETH = ethers.ZeroAddress;
export const DAY = 24 * 60 * 60;
/** Far enough ahead that no suite's time travel reaches it. */
const TEN_YEARS = 10n * 365n * BigInt(DAY);

const PARTY_TYPE = [
  { name: "account", type: "address" },
  { name: "agreementId", type: "uint64" },
  { name: "version", type: "uint32" },
  { name: "shareBps", type: "uint16" },
];
const TERMS_TYPE = [
  { name: "parties", type: "Party[]" },
  { name: "referralFeeBps", type: "uint16" },
  { name: "referrers", type: "address[]" },
  { name: "reserveBps", type: "uint16" },
  { name: "disputeWindow", type: "uint32" },
  { name: "refundAuthority", type: "address" },
  { name: "orderSigner", type: "address" },
  { name: "dustPartyIndex", type: "uint8" },
  { name: "documentHash", type: "bytes32" },
];

export const CONSENT_TYPES = {
  Consent: [
    { name: "agreementId", type: "uint256" },
    { name: "version", type: "uint32" },
    { name: "terms", type: "Terms" },
    { name: "signer", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  Terms: TERMS_TYPE,
  Party: PARTY_TYPE,
};

export const TERMINATION_TYPES = {
  Termination: [
    { name: "agreementId", type: "uint256" },
    { name: "version", type: "uint32" },
    { name: "signer", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export const PAYMENT_INTENT_TYPES = {
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
};

// ---------------------------------------------------------------- terms

function partyKey(p: PartyInput): bigint {
  return p.agreementId !== 0n ? (1n << 160n) | p.agreementId : BigInt(p.account);
}

const byAddress = (a: string, b: string): number => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** Sorts parties by the contract's key: accounts by address, then nested agreements by id. */
export function sortParties(parties: PartyInput[]): PartyInput[] {
  return [...parties].sort((a, b) => (partyKey(a) < partyKey(b) ? -1 : partyKey(a) > partyKey(b) ? 1 : 0));
}

/** Addresses sorted ascending (as the contracts order referrers, signers and consenters). */
export function sortAddresses(addresses: readonly string[]): string[] {
  return addresses.map((a) => ethers.getAddress(a)).sort(byAddress);
}

/** Who a party of `makeTerms` is: an account, a nested agreement pinned to version 1 (a bigint), or one pinned to `version`. */
export type PartySpec = string | bigint | { agreementId: bigint; version: number };

/**
 * Builds valid terms: parties sorted, referrers sorted, the dust party is the first party unless
 * given. Defaults: no referral fee (so no referrers), 10% reserve for 7 days, no refund
 * authority, no order signer.
 */
export function makeTerms(shares: Array<[who: PartySpec, shareBps: number]>, overrides: Partial<Omit<TermsInput, "parties">> = {}): TermsInput {
  const parties = sortParties(
    shares.map(([who, shareBps]): PartyInput => {
      if (typeof who === "string") return { account: ethers.getAddress(who), agreementId: 0n, version: 0, shareBps };
      const pin = typeof who === "bigint" ? { agreementId: who, version: 1 } : who;
      return { account: ethers.ZeroAddress, agreementId: pin.agreementId, version: pin.version, shareBps };
    }),
  );
  return {
    parties,
    referralFeeBps: 0,
    reserveBps: 1_000,
    disputeWindow: 7 * DAY,
    refundAuthority: ethers.ZeroAddress,
    orderSigner: ethers.ZeroAddress,
    dustPartyIndex: 0,
    documentHash: ethers.id("concord:test-terms"),
    ...overrides,
    referrers: sortAddresses(overrides.referrers ?? []),
  };
}

/** Equal-ish shares for `count` parties that sum to 10,000 (the first party takes the remainder). */
export function evenShares(count: number): number[] {
  const base = Math.floor(10_000 / count);
  return Array.from({ length: count }, (_, i) => (i === 0 ? 10_000 - base * (count - 1) : base));
}

type PartyResult = { account: string; agreementId: bigint; version: bigint; shareBps: bigint };
type TermsResult = {
  parties: PartyResult[];
  referralFeeBps: bigint;
  referrers: string[];
  reserveBps: bigint;
  disputeWindow: bigint;
  refundAuthority: string;
  orderSigner: string;
  dustPartyIndex: bigint;
  documentHash: string;
};

function termsFromEvent(t: TermsResult): TermsInput {
  return {
    parties: t.parties.map((p) => ({ account: p.account, agreementId: p.agreementId, version: Number(p.version), shareBps: Number(p.shareBps) })),
    referralFeeBps: Number(t.referralFeeBps),
    referrers: [...t.referrers],
    reserveBps: Number(t.reserveBps),
    disputeWindow: Number(t.disputeWindow),
    refundAuthority: t.refundAuthority,
    orderSigner: t.orderSigner,
    dustPartyIndex: Number(t.dustPartyIndex),
    documentHash: t.documentHash,
  };
}

/** The terms of (agreementId, version), read from the registry's `VersionProposed` event. */
export async function termsOf(registry: AgreementRegistry, agreementId: bigint, version: number): Promise<TermsInput> {
  const logs = await registry.queryFilter(registry.filters.VersionProposed(agreementId, version));
  const log = logs[0];
  if (log === undefined) throw new Error(`no VersionProposed event for agreement ${agreementId} version ${version}`);
  return termsFromEvent(log.args.terms as unknown as TermsResult);
}

/**
 * Every (agreement, pinned version) reachable through nesting from any of `termsList`, with its
 * terms, sorted strictly by (agreementId, version): the `children` a consent check takes.
 */
export async function nestedChildren(registry: AgreementRegistry, ...termsList: TermsInput[]): Promise<NestedTermsInput[]> {
  const found = new Map<string, NestedTermsInput>();
  const visit = async (terms: TermsInput): Promise<void> => {
    for (const party of terms.parties) {
      if (party.agreementId === 0n) continue;
      const key = `${party.agreementId}:${party.version}`;
      if (found.has(key)) continue;
      const child = { agreementId: party.agreementId, version: party.version, terms: await termsOf(registry, party.agreementId, party.version) };
      found.set(key, child);
      await visit(child.terms);
    }
  };
  for (const terms of termsList) await visit(terms);
  return [...found.values()].sort((a, b) =>
    a.agreementId !== b.agreementId ? (a.agreementId < b.agreementId ? -1 : 1) : a.version - b.version,
  );
}

// ---------------------------------------------------------------- consent

export async function consentDomain(registry: AgreementRegistry): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return { name: "Concord", version: "2", chainId, verifyingContract: await registry.getAddress() };
}

export type SignedConsent = { signer: string; nonce: bigint; deadline: bigint; signature: string };

/** Who signs: an EOA for itself, or an owner key signing for an ERC-1271 account it controls. */
export type ConsentSigner = Signer | { owner: Signer; account: string };

async function signerParts(who: ConsentSigner): Promise<{ key: Signer; account: string }> {
  if ("owner" in who) return { key: who.owner, account: ethers.getAddress(who.account) };
  return { key: who, account: await who.getAddress() };
}

/** A fresh unordered nonce (the registry keeps a bitmap per signer). */
export function freshNonce(): bigint {
  return BigInt(ethers.hexlify(ethers.randomBytes(16)));
}

async function defaultDeadline(): Promise<bigint> {
  return BigInt(await time.latest()) + TEN_YEARS;
}

export type SignOptions = { nonce?: bigint; deadline?: bigint; domain?: TypedDataDomain; signerField?: string };

/**
 * Signs consent to (agreementId, version, terms) with each signer, naming it in the typed data;
 * returned sorted by signer. `signerField` overrides the signer named in the typed data (attacks).
 */
export async function signConsents(
  registry: AgreementRegistry,
  signers: ConsentSigner[],
  agreementId: bigint,
  version: bigint | number,
  terms: TermsInput,
  options: SignOptions = {},
): Promise<SignedConsent[]> {
  const domain = options.domain ?? (await consentDomain(registry));
  const deadline = options.deadline ?? (await defaultDeadline());
  const signed = await Promise.all(
    signers.map(async (who) => {
      const { key, account } = await signerParts(who);
      const nonce = options.nonce ?? freshNonce();
      const value = { agreementId, version, terms, signer: options.signerField ?? account, nonce, deadline };
      const signature = await key.signTypedData(domain, CONSENT_TYPES, value);
      return { signer: account, nonce, deadline, signature };
    }),
  );
  return sortConsents(signed);
}

/** Signs termination of `agreementId` at `version` with each signer, naming it; sorted by signer. */
export async function signTerminations(
  registry: AgreementRegistry,
  signers: ConsentSigner[],
  agreementId: bigint,
  version: bigint | number,
  options: SignOptions = {},
): Promise<SignedConsent[]> {
  const domain = options.domain ?? (await consentDomain(registry));
  const deadline = options.deadline ?? (await defaultDeadline());
  const signed = await Promise.all(
    signers.map(async (who) => {
      const { key, account } = await signerParts(who);
      const nonce = options.nonce ?? freshNonce();
      const value = { agreementId, version, signer: options.signerField ?? account, nonce, deadline };
      const signature = await key.signTypedData(domain, TERMINATION_TYPES, value);
      return { signer: account, nonce, deadline, signature };
    }),
  );
  return sortConsents(signed);
}

export function sortConsents<T extends { signer: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => byAddress(a.signer, b.signer));
}

// ---------------------------------------------------------------- deployment and activation

export type Concord = { registry: AgreementRegistry; ledger: SettlementLedger; hub: NegotiationHub };

/** Deploys the registry (which deploys its negotiation hub) and a ledger on it. */
export async function deployConcord(): Promise<Concord> {
  const registry = await ethers.deployContract("AgreementRegistry");
  const ledger = await ethers.deployContract("SettlementLedger", [await registry.getAddress()]);
  const hub = await ethers.getContractAt("NegotiationHub", await registry.negotiationHub());
  return { registry, ledger, hub };
}

/** The signers among `all` whose addresses are account parties of `terms` (nested members not included). */
export async function partySigners(all: Signer[], terms: TermsInput): Promise<Signer[]> {
  const accounts = new Set(terms.parties.filter((p) => p.agreementId === 0n).map((p) => p.account));
  const out: Signer[] = [];
  for (const s of all) if (accounts.has(await s.getAddress())) out.push(s);
  return out;
}

/** The signers among `all` that are consenters of `terms` (every account reachable through nesting). */
export async function consenterSigners(registry: AgreementRegistry, all: Signer[], terms: TermsInput, children?: NestedTermsInput[]): Promise<Signer[]> {
  const accounts = new Set(await registry.consenters(terms, children ?? (await nestedChildren(registry, terms))));
  const out: Signer[] = [];
  for (const s of all) if (accounts.has(await s.getAddress())) out.push(s);
  return out;
}

/**
 * Proposes `terms` and activates them with the signatures of `signers` (every consenter, nested
 * members included); `children` default to the pinned terms read from the registry's events.
 * Returns the new agreement's id.
 */
export async function activateWithSignatures(
  registry: AgreementRegistry,
  terms: TermsInput,
  signers: ConsentSigner[],
  children?: NestedTermsInput[],
): Promise<bigint> {
  const id = (await registry.agreementCount()) + 1n;
  await (await registry.propose(terms)).wait();
  const nested = children ?? (await nestedChildren(registry, terms));
  const sigs = await signConsents(registry, signers, id, 1, terms);
  await (await registry.activate(id, 1, terms, nested, sigs)).wait();
  return id;
}

/**
 * Proposes `terms` as the next version of active agreement `agreementId` (as `proposer`, a
 * consenter of the version in force) and activates it with the signatures of `signers`.
 * Returns the new version.
 */
export async function amendWithSignatures(
  registry: AgreementRegistry,
  agreementId: bigint,
  terms: TermsInput,
  proposer: Signer,
  signers: ConsentSigner[],
): Promise<number> {
  const [, latest, active] = await registry.agreement(agreementId);
  const current = await termsOf(registry, agreementId, Number(active));
  const version = Number(latest) + 1;
  await (await registry.connect(proposer).proposeAmendment(agreementId, terms, current, await nestedChildren(registry, current))).wait();
  const sigs = await signConsents(registry, signers, agreementId, version, terms);
  await (await registry.activateAmendment(agreementId, version, terms, current, await nestedChildren(registry, terms, current), sigs)).wait();
  return version;
}

// ---------------------------------------------------------------- payments

export async function ledgerDomain(ledger: SettlementLedger): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return { name: "Concord Ledger", version: "1", chainId, verifyingContract: await ledger.getAddress() };
}

/** A payment with defaults: ETH, no referrer, a random order reference, the payer as beneficiary, ten years to settle. */
export async function makePayment(fields: Pick<PaymentInput, "agreementId" | "gross"> & Partial<PaymentInput>): Promise<PaymentInput> {
  return {
    version: 1,
    token: ETH,
    referrer: ethers.ZeroAddress,
    orderRef: ethers.hexlify(ethers.randomBytes(32)),
    refundBeneficiary: ethers.ZeroAddress,
    deadline: await defaultDeadline(),
    ...fields,
  };
}

/** The order signer's EIP-712 intent over `payment` (`key` signs for `account` when it is an ERC-1271 wallet). */
export async function signIntent(ledger: SettlementLedger, key: Signer, payment: PaymentInput, domain?: TypedDataDomain): Promise<string> {
  return key.signTypedData(domain ?? (await ledgerDomain(ledger)), PAYMENT_INTENT_TYPES, payment);
}
