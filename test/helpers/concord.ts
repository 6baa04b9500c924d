import { ethers } from "hardhat";
import type { Signer, TypedDataDomain } from "ethers";
import type { AgreementRegistry, SettlementLedger } from "../../typechain-types";

/** A party in the shape the contracts take. */
export type PartyInput = { account: string; agreementId: bigint; shareBps: number };

/** Terms in the shape the contracts take (ReferrerPolicy as its enum index). */
export type TermsInput = {
  parties: PartyInput[];
  referralFeeBps: number;
  referrerPolicy: number;
  referrers: string[];
  reserveBps: number;
  disputeWindow: number;
  refundAuthority: string;
  dustPartyIndex: number;
  documentHash: string;
};

export const ReferrerPolicy = { None: 0, Open: 1, Allowlist: 2 } as const;
export const AgreementStatus = { None: 0n, Proposed: 1n, Active: 2n, Terminated: 3n } as const;
export const ETH = ethers.ZeroAddress;
export const DAY = 24 * 60 * 60;

export const CONSENT_TYPES = {
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
};

export const TERMINATION_TYPES = {
  Termination: [
    { name: "agreementId", type: "uint256" },
    { name: "version", type: "uint32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

function partyKey(p: PartyInput): bigint {
  return p.agreementId !== 0n ? (1n << 160n) | p.agreementId : BigInt(p.account);
}

/** Sorts parties by the contract's key: accounts by address, then nested agreements by id. */
export function sortParties(parties: PartyInput[]): PartyInput[] {
  return [...parties].sort((a, b) => (partyKey(a) < partyKey(b) ? -1 : partyKey(a) > partyKey(b) ? 1 : 0));
}

/**
 * Builds valid terms: parties sorted, the dust party is the first party unless given.
 * Defaults: 5% open referral fee, 10% reserve for 7 days, no refund authority.
 */
export function makeTerms(
  shares: Array<[account: string | bigint, shareBps: number]>,
  overrides: Partial<Omit<TermsInput, "parties">> = {},
): TermsInput {
  const parties = sortParties(
    shares.map(([who, shareBps]) =>
      typeof who === "bigint"
        ? { account: ethers.ZeroAddress, agreementId: who, shareBps }
        : { account: ethers.getAddress(who), agreementId: 0n, shareBps },
    ),
  );
  return {
    parties,
    referralFeeBps: 500,
    referrerPolicy: ReferrerPolicy.Open,
    referrers: [],
    reserveBps: 1_000,
    disputeWindow: 7 * DAY,
    refundAuthority: ethers.ZeroAddress,
    dustPartyIndex: 0,
    documentHash: ethers.id("concord:test-terms"),
    ...overrides,
  };
}

/** Equal-ish shares for `count` parties that sum to 10,000 (the first party takes the remainder). */
export function evenShares(count: number): number[] {
  const base = Math.floor(10_000 / count);
  return Array.from({ length: count }, (_, i) => (i === 0 ? 10_000 - base * (count - 1) : base));
}

export async function consentDomain(registry: AgreementRegistry): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return { name: "Concord", version: "1", chainId, verifyingContract: await registry.getAddress() };
}

export type SignedConsent = { signer: string; nonce: bigint; deadline: bigint; signature: string };

/** Signs consent to (agreementId, version, terms) with each signer; returned sorted by signer. */
export async function signConsents(
  registry: AgreementRegistry,
  signers: Signer[],
  agreementId: bigint,
  version: bigint,
  terms: TermsInput,
  options: { nonce?: bigint; deadline?: bigint; domain?: TypedDataDomain } = {},
): Promise<SignedConsent[]> {
  const domain = options.domain ?? (await consentDomain(registry));
  const deadline = options.deadline ?? BigInt(Math.floor(Date.now() / 1000)) + 10n * 365n * BigInt(DAY);
  const signed = await Promise.all(
    signers.map(async (signer, i) => {
      const nonce = options.nonce ?? BigInt(i) + version * 1_000n + agreementId * 1_000_000n;
      const value = { agreementId, version, terms, nonce, deadline };
      const signature = await signer.signTypedData(domain, CONSENT_TYPES, value);
      return { signer: await signer.getAddress(), nonce, deadline, signature };
    }),
  );
  return sortConsents(signed);
}

export async function signTerminations(
  registry: AgreementRegistry,
  signers: Signer[],
  agreementId: bigint,
  version: bigint,
  options: { nonce?: bigint; deadline?: bigint } = {},
): Promise<SignedConsent[]> {
  const domain = await consentDomain(registry);
  const deadline = options.deadline ?? BigInt(Math.floor(Date.now() / 1000)) + 10n * 365n * BigInt(DAY);
  const signed = await Promise.all(
    signers.map(async (signer, i) => {
      const nonce = options.nonce ?? 900_000_000n + BigInt(i) + agreementId * 1_000n;
      const signature = await signer.signTypedData(domain, TERMINATION_TYPES, { agreementId, version, nonce, deadline });
      return { signer: await signer.getAddress(), nonce, deadline, signature };
    }),
  );
  return sortConsents(signed);
}

export function sortConsents<T extends { signer: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
}

export async function deployConcord(): Promise<{ registry: AgreementRegistry; ledger: SettlementLedger }> {
  const registry = await ethers.deployContract("AgreementRegistry");
  const ledger = await ethers.deployContract("SettlementLedger", [await registry.getAddress()]);
  return { registry, ledger };
}

/** Proposes `terms` and activates them with every account party's signature; returns the id. */
export async function activateWithSignatures(
  registry: AgreementRegistry,
  terms: TermsInput,
  signers: Signer[],
): Promise<bigint> {
  const id = (await registry.agreementCount()) + 1n;
  await (await registry.propose(terms)).wait();
  const sigs = await signConsents(registry, signers, id, 1n, terms);
  await (await registry.activate(id, 1, terms, sigs)).wait();
  return id;
}

/** The signers among `all` whose addresses are account parties of `terms`. */
export async function partySigners(all: Signer[], terms: TermsInput): Promise<Signer[]> {
  const accounts = new Set(terms.parties.filter((p) => p.agreementId === 0n).map((p) => p.account));
  const out: Signer[] = [];
  for (const s of all) if (accounts.has(await s.getAddress())) out.push(s);
  return out;
}
