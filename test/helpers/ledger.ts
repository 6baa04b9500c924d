/**
 * Ledger fixtures for the contract suites: the law's arithmetic written from DESIGN.md's words
 * (never from the contract's helpers), reserve lots and their entries rebuilt from events, and a
 * conservation check over the accounts and pools a scenario knows.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";
import type { SettlementLedger } from "../../typechain-types";
import { packParties, partyProof } from "../../src/sdk/partyTree";
import type { PartyInput } from "./concord";

/** A reserve lot in the ledger's shape. */
export type Lot = { agreementId: bigint; version: bigint; token: string; releaseAt: bigint; held: bigint; entriesHash: string };
/** One settlement's entry of a lot. */
export type Entry = { scope: string; orderRef: string; beneficiary: string; reserve: bigint; refunded: boolean };
export type LotRecord = { lotId: bigint; lot: Lot; entries: Entry[] };

/** The split from the law's words: the fee only with a referrer, the reserve, the net the rest. */
export function expectedSplit(gross: bigint, feeBps: number, reserveBps: number, hasReferrer: boolean) {
  const referralFee = hasReferrer ? (gross * BigInt(feeBps)) / 10_000n : 0n;
  const reserve = (gross * BigInt(reserveBps)) / 10_000n;
  return { referralFee, reserve, net: gross - referralFee - reserve };
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
/** The pool unit from the rule: 10,000 / gcd(shares). */
export const unitOf = (shares: number[]): bigint => 10_000n / shares.reduce((g, s) => gcd(g, BigInt(s)), 10_000n);

/** Each party's credit once a pool of `total` is paid out in whole units (in shares' order). */
export function expectedCredits(total: bigint, shares: number[]): bigint[] {
  const whole = total - (total % unitOf(shares));
  return shares.map((s) => (whole * BigInt(s)) / 10_000n);
}

const CHAIN_LINK = [
  { type: "bytes32" },
  {
    type: "tuple",
    components: [
      { name: "scope", type: "address" },
      { name: "orderRef", type: "bytes32" },
      { name: "beneficiary", type: "address" },
      { name: "reserve", type: "uint128" },
      { name: "refunded", type: "bool" },
    ],
  },
] as const;

/** The lot's hash chain over `entries`, h = keccak256(abi.encode(h, entry)) from h = 0, as docs/contracts.md defines it. */
export function entriesHash(entries: Entry[]): string {
  let h: Hex = ethers.ZeroHash as Hex;
  for (const e of entries) {
    const entry = { scope: e.scope as Address, orderRef: e.orderRef as Hex, beneficiary: e.beneficiary as Address, reserve: e.reserve, refunded: e.refunded };
    h = keccak256(encodeAbiParameters(CHAIN_LINK, [h, entry]));
  }
  return h;
}

/**
 * The reserve lots a transaction created, with their entries, from its Settled and ReservesHeld
 * events and the terms in force: a Settled event carries the payment as paid, its reserve is the
 * terms' rate of the gross, its scope the order signer or else the payer, and it is held in the
 * lot of the next ReservesHeld of the transaction (docs/contracts.md, "Settlement").
 */
export async function lotsOf(ledger: SettlementLedger, tx: ContractTransactionResponse): Promise<LotRecord[]> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error(`no receipt for ${tx.hash}`);
  const registry = await ethers.getContractAt("AgreementRegistry", await ledger.registry());
  const lots: LotRecord[] = [];
  let pending: Entry[] = [];
  for (const log of receipt.logs) {
    const parsed = ledger.interface.parseLog(log);
    if (parsed === null) continue;
    if (parsed.name === "Settled") {
      const a = parsed.args;
      const terms = await registry.settlementTerms(a.agreementId, { blockTag: receipt.blockNumber });
      if (terms.version !== a.version) throw new Error(`agreement ${a.agreementId} is at version ${terms.version} after ${tx.hash}, not ${a.version}`);
      const { reserve } = expectedSplit(a.gross, Number(terms.referralFeeBps), Number(terms.reserveBps), a.referrer !== ethers.ZeroAddress);
      const scope = terms.orderSigner === ethers.ZeroAddress ? a.payer : terms.orderSigner;
      if (reserve !== 0n) pending.push({ scope, orderRef: a.orderRef, beneficiary: a.refundBeneficiary, reserve, refunded: false });
    }
    if (parsed.name === "ReservesHeld") {
      const a = parsed.args;
      lots.push({
        lotId: a.lotId,
        lot: { agreementId: a.agreementId, version: a.version, token: a.token, releaseAt: a.releaseAt, held: a.held, entriesHash: a.entriesHash },
        entries: pending,
      });
      pending = [];
    }
  }
  if (pending.length !== 0) throw new Error(`${tx.hash} reserved ${pending.length} settlement(s) in no lot`);
  return lots;
}

/** The lot after refunding `amount` of entry `index`, as the ledger must store it. */
export function afterRefund(record: LotRecord, index: number, amount: bigint): LotRecord {
  const entries = record.entries.map((e, i) => (i === index ? { ...e, reserve: e.reserve - amount, refunded: true } : e));
  return { lotId: record.lotId, entries, lot: { ...record.lot, held: record.lot.held - amount, entriesHash: entriesHash(entries) } };
}

/** Pool key for the conservation check. */
export type PoolRef = { agreementId: bigint; version: number };

/**
 * Law 1 for one token: what the ledger holds equals the balances of `accounts` plus, over
 * `pools`, the held reserves and the part of the total not yet distributed or swept. Valid only where no
 * party claimed on its own (claims pay ahead of `distributed`).
 */
export async function expectConservation(ledger: SettlementLedger, token: string, accounts: string[], pools: PoolRef[]): Promise<void> {
  let owed = 0n;
  for (const a of new Set(accounts)) owed += await ledger.balanceOf(a, token);
  for (const p of pools) {
    const pool = await ledger.pool(p.agreementId, p.version, token);
    // A swept remainder leaves the pool's total, so total - distributed is what it still owes.
    owed += pool.total - pool.distributed + pool.held;
  }
  const address = await ledger.getAddress();
  const holds =
    token === ethers.ZeroAddress ? await ethers.provider.getBalance(address) : await (await ethers.getContractAt("IERC20", token)).balanceOf(address);
  expect(holds, "ledger's holdings against balances, reserves and undistributed pools").to.equal(owed);
}

/** The Merkle proof of party `index` of `parties` (the SDK's twin of the registry's tree, an encoding, not an oracle). */
export function proofOf(parties: PartyInput[], index: number): string[] {
  return partyProof(parties.map((p) => ({ ...p, account: p.account as Address })), index);
}

/** The parties packed one word each, as `distribute` takes them. */
export function packedOf(parties: PartyInput[]): bigint[] {
  return packParties(parties.map((p) => ({ ...p, account: p.account as Address })));
}

/** The lot id docs/contracts.md defines: uint256(keccak256(abi.encode(scope, orderRef))) of the lot's first entry. */
export function lotIdOf(scope: string, orderRef: string): bigint {
  return BigInt(keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [scope as Address, orderRef as Hex])));
}
