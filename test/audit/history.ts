import { erc20Abi, keccak256, maxUint256, parseAbi, toHex, zeroAddress, type Address, type Hex } from "viem";
import { entriesHashOf } from "../../src/audit";
import { agreementRegistryAbi, negotiationHubAbi, settlementLedgerAbi } from "../../src/sdk/abi";
import { packParties, partyProof } from "../../src/sdk/partyTree";
import { bookTransaction, versionKey, versionsOf, type SettledEvent, type SettlementRates, type SettlingLog } from "../../src/sdk/settlements";
import { buildTerms, type NestedTerms, type Terms } from "../../src/sdk/terms";
import { getConsentTypedData, getPaymentIntentTypedData, getTerminationTypedData } from "../../src/sdk/typedData";
import type { AuditChain, Write, Written } from "./env";

export const ETH: Address = zeroAddress;
export const DAY = 86_400;
const DEADLINE = 2n ** 40n;
const mintAbi = parseAbi(["function mint(address to, uint256 amount)"]);

type Lot = { agreementId: bigint; version: number; token: Address; releaseAt: number; held: bigint; entriesHash: Hex };
type Entry = { scope: Address; orderRef: Hex; beneficiary: Address; reserve: bigint; refunded: boolean };
type Payment = { agreementId: bigint; version: number; token: Address; gross: bigint; referrer: Address; orderRef: Hex; refundBeneficiary: Address; deadline: bigint };

export type People = Record<"hotel" | "restaurant" | "airline" | "chef" | "guest" | "guest2" | "travelSite" | "refundDesk" | "merchant", Address>;

/** Everything a rich history leaves behind for the auditor tests. */
export type RichHistory = {
  chain: AuditChain;
  people: People;
  terms: { a1: Terms; a2: Terms; b: Terms; c: Terms; d: Terms; e1: Terms; e2: Terms };
  ids: { a: bigint; b: bigint; c: bigint; d: bigint; e: bigint };
  /** Reserve lots still held at the end, by id. */
  openLots: Map<bigint, { lot: Lot; entries: Entry[] }>;
};

export const orderRef = (label: string): Hex => keccak256(toHex(`concord:audit:${label}`));

/**
 * Builds a history with every kind of event: agreements activated by signatures, by an on-chain
 * approval and through nesting (a nested party's members consent), an amendment, a negotiated
 * version, a termination, direct payments and merchant intents, batches, reserve lots refunded in
 * part and in full and released, distributions, claims (of a nested party too), a swept remainder
 * and withdrawals, in ETH and a 6-decimal token.
 */
export async function buildRichHistory(chain: AuditChain): Promise<RichHistory> {
  const [keeper, hotel, restaurant, airline, chef, guest, guest2, travelSite, refundDesk, merchant] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
  const at = (i: number) => chain.accounts[i]!.address;
  const people: People = { hotel: at(1), restaurant: at(2), airline: at(3), chef: at(4), guest: at(5), guest2: at(6), travelSite: at(7), refundDesk: at(8), merchant: at(9) };
  const write = (i: number, call: Write) => chain.write(i, call);
  const eventsOf = (result: Written, name: string) => result.logs.filter((l) => l.eventName === name).map((l) => l.args as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
  const { registry, ledger, negotiationHub, token } = chain.addresses;
  const reg = { address: registry, abi: agreementRegistryAbi } as const;
  const led = { address: ledger, abi: settlementLedgerAbi } as const;
  const lots = new Map<bigint, { lot: Lot; entries: Entry[] }>();

  for (const payer of [guest, guest2]) {
    await write(keeper, { address: token, abi: mintAbi, functionName: "mint", args: [at(payer), 10_000_000_000n] });
    await write(payer, { address: token, abi: erc20Abi, functionName: "approve", args: [ledger, maxUint256] });
  }

  let nonce = 0n;
  const bySigner = <T extends { signer: Address }>(list: T[]) => list.sort((x, y) => (BigInt(x.signer) < BigInt(y.signer) ? -1 : 1));
  const sign = async (agreementId: bigint, version: number, terms: Terms, signers: number[]) =>
    bySigner(
      await Promise.all(
        signers.map(async (i) => {
          const message = { agreementId, version, terms, signer: at(i), nonce: (nonce += 1n), deadline: DEADLINE };
          return { signer: at(i), nonce: message.nonce, deadline: DEADLINE, signature: await chain.signTypedData(i, getConsentTypedData({ chainId: chain.chainId, registry, ...message })) };
        }),
      ),
    );
  const signEnding = async (agreementId: bigint, version: number, i: number) => {
    const message = { agreementId, version, signer: at(i), nonce: (nonce += 1n), deadline: DEADLINE };
    return { signer: at(i), nonce: message.nonce, deadline: DEADLINE, signature: await chain.signTypedData(i, getTerminationTypedData({ chainId: chain.chainId, registry, ...message })) };
  };
  const propose = async (by: number, terms: Terms): Promise<bigint> => {
    const [proposed] = eventsOf(await write(by, { ...reg, functionName: "propose", args: [terms] }), "AgreementProposed");
    return proposed!.agreementId as bigint;
  };
  /** Keeps the lots a settling call opened, with their entries (from its events and the terms in force: docs/contracts.md, "Settlement"). */
  const keepLots = async (result: Written) => {
    const logs = result.logs.filter((l) => l.eventName === "Settled" || l.eventName === "ReservesHeld") as unknown as SettlingLog[];
    const settled = eventsOf(result, "Settled") as SettledEvent[];
    const rates = new Map<string, SettlementRates>();
    for (const { agreementId, version } of versionsOf(settled)) {
      const t = await chain.publicClient.readContract({ ...reg, functionName: "settlementTerms", args: [agreementId], blockNumber: result.blockNumber });
      if (t.version !== version) throw new Error(`agreement ${agreementId} is at version ${t.version}, not ${version}`);
      rates.set(versionKey(agreementId, version), { referralFeeBps: t.referralFeeBps, reserveBps: t.reserveBps, orderSigner: t.orderSigner });
    }
    const booked = bookTransaction(logs, rates, "a settling call");
    for (const held of eventsOf(result, "ReservesHeld")) {
      const entries = booked.filter((s) => s.lotId === held.lotId).map((s) => ({ scope: s.scope, orderRef: s.orderRef, beneficiary: s.refundBeneficiary, reserve: s.reserve, refunded: false }));
      lots.set(held.lotId, { lot: { agreementId: held.agreementId, version: held.version, token: held.token, releaseAt: held.releaseAt, held: held.held, entriesHash: held.entriesHash }, entries });
    }
    return result;
  };
  const pay = (agreementId: bigint, version: number, tokenAddress: Address, gross: bigint, label: string, referrer: Address = zeroAddress, refundBeneficiary: Address = zeroAddress): Payment => ({
    agreementId, version, token: tokenAddress, gross, referrer, orderRef: orderRef(label), refundBeneficiary, deadline: DEADLINE,
  });
  const settle = async (payer: number, payments: Payment[], signatures: Hex[] = []) => {
    const value = payments[0]!.token === ETH ? payments.reduce((s, p) => s + p.gross, 0n) : 0n;
    const result =
      payments.length === 1
        ? await write(payer, { ...led, functionName: "settle", args: [payments[0]!, signatures[0] ?? "0x"], value })
        : await write(payer, { ...led, functionName: "settleBatch", args: [payments, signatures], value });
    return keepLots(result);
  };
  const lotOf = (label: string) => {
    for (const [lotId, held] of lots) {
      const index = held.entries.findIndex((e) => e.orderRef === orderRef(label));
      if (index >= 0) return { lotId, held, index };
    }
    throw new Error(`no lot holds ${label}`);
  };
  const refund = async (label: string, amount: bigint) => {
    const { lotId, held, index } = lotOf(label);
    await write(refundDesk, { ...led, functionName: "refund", args: [lotId, held.lot, held.entries, BigInt(index), amount] });
    const entry = held.entries[index]!;
    held.entries[index] = { ...entry, reserve: entry.reserve - amount, refunded: true };
    held.lot = { ...held.lot, held: held.lot.held - amount, entriesHash: entriesHashOf(held.entries) };
    if (held.lot.held === 0n) lots.delete(lotId);
  };

  // B: restaurant 60% / chef 40%, no fee, no reserve (unit 5).
  const b = buildTerms({ parties: [{ account: people.restaurant, shareBps: 6_000 }, { account: people.chef, shareBps: 4_000 }] });
  const idB = await propose(restaurant, b);
  await write(keeper, { ...reg, functionName: "activate", args: [idB, 1, b, [], await sign(idB, 1, b, [restaurant, chef])] });

  // A v1: hotel / restaurant / airline, 5% fee for the travel site, 10% reserve for 7 days; the
  // airline consents by an on-chain approval, the others sign.
  const a1 = buildTerms({
    parties: [{ account: people.hotel, shareBps: 5_000 }, { account: people.restaurant, shareBps: 3_000 }, { account: people.airline, shareBps: 2_000 }],
    referralFeeBps: 500, referrers: [people.travelSite], reserveBps: 1_000, disputeWindow: 7 * DAY, refundAuthority: people.refundDesk,
  });
  const idA = await propose(hotel, a1);
  await write(airline, { ...reg, functionName: "approve", args: [idA, 1, DEADLINE] });
  await write(keeper, { ...reg, functionName: "activate", args: [idA, 1, a1, [], await sign(idA, 1, a1, [hotel, restaurant])] });

  // C: hotel 70% and agreement B 30% (nested, pinned to version 1, the dust party); B's members consent.
  const c1 = buildTerms({
    parties: [{ account: people.hotel, shareBps: 7_000 }, { agreementId: idB, version: 1, shareBps: 3_000 }],
    referralFeeBps: 300, referrers: [people.travelSite], reserveBps: 500, disputeWindow: DAY, dustParty: idB,
  });
  const childrenC: NestedTerms[] = [{ agreementId: idB, version: 1, terms: b }];
  const idC = await propose(hotel, c1);
  await write(keeper, { ...reg, functionName: "activate", args: [idC, 1, c1, childrenC, await sign(idC, 1, c1, [hotel, restaurant, chef])] });

  // D: a merchant of record signs the intents (its referrer attested), no reserve.
  const d = buildTerms({ parties: [{ account: people.hotel, shareBps: 5_000 }, { account: people.airline, shareBps: 5_000 }], referralFeeBps: 200, orderSigner: people.merchant });
  const idD = await propose(airline, d);
  await write(keeper, { ...reg, functionName: "activate", args: [idD, 1, d, [], await sign(idD, 1, d, [hotel, airline])] });

  // E: airline / chef, renegotiated in the hub.
  const e1 = buildTerms({ parties: [{ account: people.airline, shareBps: 5_000 }, { account: people.chef, shareBps: 5_000 }] });
  const idE = await propose(chef, e1);
  await write(keeper, { ...reg, functionName: "activate", args: [idE, 1, e1, [], await sign(idE, 1, e1, [airline, chef])] });

  const ts = people.travelSite;
  // Direct payments under A v1: one ETH batch (one lot), a token batch, and a payment whose refunds go to the guest.
  await settle(guest, [pay(idA, 1, ETH, 1_000_000_007n, "a1-eth-1", ts), pay(idA, 1, ETH, 20_000_003n, "a1-eth-2"), pay(idA, 1, ETH, 5_555n, "a1-eth-3", ts)]);
  await settle(guest2, [pay(idA, 1, token, 2_500_001n, "a1-tok-1", ts), pay(idA, 1, token, 999_999n, "a1-tok-2")]);
  await settle(guest2, [pay(idA, 1, ETH, 333_333_333n, "a1-eth-4", zeroAddress, people.guest)]);
  // Under C (nested B) and B, ETH and the token.
  await settle(guest, [pay(idC, 1, ETH, 777_777_777n, "c-eth-1", ts)]);
  await settle(guest2, [pay(idC, 1, token, 5_000_003n, "c-tok-1")]);
  await settle(guest, [pay(idB, 1, ETH, 123_456_789n, "b-eth-1")]);
  // Intents under D: submitted and paid by a guest, and by the merchant itself.
  const intent = pay(idD, 1, ETH, 40_000_001n, "d-eth-1", ts);
  const signature = await chain.signTypedData(merchant, getPaymentIntentTypedData({ chainId: chain.chainId, ledger, payment: intent }));
  await settle(guest, [intent], [signature]);
  await settle(merchant, [pay(idD, 1, ETH, 9_999n, "d-eth-2")]);

  // Refunds within the window: part of one entry, then all of another, and one wei of a token entry.
  await refund("a1-eth-4", 10_000_000n);
  await refund("a1-eth-4", lotOf("a1-eth-4").held.entries[lotOf("a1-eth-4").index]!.reserve);
  await refund("a1-eth-2", 1n);
  await refund("a1-tok-2", 1n);

  // Amendment of A by a consenter: new shares and a 20% reserve; every consenter of both trees signs.
  const a2 = buildTerms({
    parties: [{ account: people.hotel, shareBps: 4_000 }, { account: people.restaurant, shareBps: 4_000 }, { account: people.airline, shareBps: 2_000 }],
    referralFeeBps: 500, referrers: [people.travelSite], reserveBps: 2_000, disputeWindow: 7 * DAY, refundAuthority: people.refundDesk, dustParty: people.airline,
    documentHash: keccak256(toHex("concord:audit:amendment")),
  });
  await write(restaurant, { ...reg, functionName: "proposeAmendment", args: [idA, a2, a1, []] });
  await write(keeper, { ...reg, functionName: "activateAmendment", args: [idA, 2, a2, a1, [], await sign(idA, 2, a2, [hotel, restaurant, airline])] });
  await settle(guest, [pay(idA, 2, ETH, 50_000_001n, "a2-eth-1", ts)]);
  await settle(guest2, [pay(idA, 2, token, 7_654_321n, "a2-tok-1", ts)]);

  // Negotiation on E: the airline offers 60/40, the chef accepts, and the hub activates version 2.
  const e2 = buildTerms({ parties: [{ account: people.airline, shareBps: 6_000 }, { account: people.chef, shareBps: 4_000 }], documentHash: keccak256(toHex("concord:audit:negotiated")) });
  const hub = { address: negotiationHub, abi: negotiationHubAbi } as const;
  await write(airline, { ...hub, functionName: "open", args: [idE, 3, 7 * DAY, DAY, e2, e1, []] });
  await write(chef, { ...hub, functionName: "accept", args: [idE, e2] });
  await settle(guest, [pay(idE, 2, ETH, 1_000_003n, "e-eth-1")]);

  // Past every dispute window: release what every lot still holds.
  await chain.increaseTime(8 * DAY);
  for (const [lotId, held] of [...lots]) {
    await write(keeper, { ...led, functionName: "releaseReserve", args: [lotId, held.lot] });
    lots.delete(lotId);
  }

  // Payouts: distribute A v1 in both tokens, claim one party of A v2, distribute C (feeding B's
  // pool), then B; a later settlement on C, then the nested party claims from it alone.
  await write(keeper, { ...led, functionName: "distribute", args: [idA, 1, ETH, packParties(a1.parties)] });
  await write(keeper, { ...led, functionName: "distribute", args: [idA, 1, token, packParties(a1.parties)] });
  await write(keeper, { ...led, functionName: "claim", args: [idA, 2, ETH, 0n, a2.parties[0]!, partyProof(a2.parties, 0)] });
  await write(keeper, { ...led, functionName: "distribute", args: [idA, 2, ETH, packParties(a2.parties)] });
  await write(keeper, { ...led, functionName: "distribute", args: [idC, 1, ETH, packParties(c1.parties)] });
  await write(keeper, { ...led, functionName: "distribute", args: [idC, 1, token, packParties(c1.parties)] });
  await write(keeper, { ...led, functionName: "distribute", args: [idB, 1, ETH, packParties(b.parties)] });
  await settle(guest, [pay(idC, 1, ETH, 10_001n, "c-eth-2")]);
  await write(keeper, { ...led, functionName: "claim", args: [idC, 1, ETH, 1n, c1.parties[1]!, partyProof(c1.parties, 1)] });
  await write(keeper, { ...led, functionName: "distribute", args: [idD, 1, ETH, packParties(d.parties)] });

  // A v1 is superseded and holds no reserve: its final remainder goes to its dust party.
  const dustA1 = a1.dustPartyIndex;
  await write(keeper, { ...led, functionName: "sweepRemainder", args: [idA, 1, ETH, a1.parties[dustA1]!, partyProof(a1.parties, dustA1)] });

  // D ends: the hotel approves the termination on chain, the airline signs.
  await write(hotel, { ...reg, functionName: "approveTermination", args: [idD, 1, DEADLINE] });
  const ending = await signEnding(idD, 1, airline);
  await write(keeper, { ...reg, functionName: "terminate", args: [idD, d, [], [ending]] });
  await write(keeper, { ...led, functionName: "sweepRemainder", args: [idD, 1, ETH, d.parties[d.dustPartyIndex]!, partyProof(d.parties, d.dustPartyIndex)] });

  // A settlement whose reserve is still held at the end.
  await settle(guest, [pay(idC, 1, ETH, 10_001n, "c-eth-3")]);

  // Withdrawals: part of the hotel's ETH, the travel site's whole token balance to the chef, the guest's refunds.
  const balance = (account: Address, tokenAddress: Address) =>
    chain.publicClient.readContract({ ...led, functionName: "balanceOf", args: [account, tokenAddress] });
  await write(hotel, { ...led, functionName: "withdraw", args: [ETH, people.hotel, (await balance(people.hotel, ETH)) / 3n] });
  await write(travelSite, { ...led, functionName: "withdraw", args: [token, people.chef, await balance(ts, token)] });
  await write(guest, { ...led, functionName: "withdraw", args: [ETH, people.guest, await balance(people.guest, ETH)] });

  return { chain, people, terms: { a1, a2, b, c: c1, d, e1, e2 }, ids: { a: idA, b: idB, c: idC, d: idD, e: idE }, openLots: lots };
}
