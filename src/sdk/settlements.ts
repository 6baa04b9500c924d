/**
 * What the terms make of a `Settled` event. The ledger's event records the payment as it was paid
 * (order reference, agreement, version, token, payer, gross, referrer, refund beneficiary) and
 * nothing it can derive, so that a batched settlement costs less; the rest follows from the
 * version's terms, with the one split rule (./split.ts):
 * - the order reference's scope is the terms' order signer, or else the payer;
 * - the referral fee and reserve are `quoteSplit(gross, referralFeeBps, reserveBps, referrer != 0)`;
 * - a reserve is held in the lot of the next `ReservesHeld` event of the same transaction (the
 *   ledger announces a call's lot of one pool after that pool's settlements).
 * docs/contracts.md, "Settlement", states the same rule for the auditor.
 */
import { zeroAddress, type Address, type Hex } from "viem";
import { InvalidInputError } from "./errors/base";
import { quoteSplit } from "./split";
import type { EventArgsOf } from "./write";
import type { settlementLedgerAbi } from "./abi";

/** The typed `Settled` event of the ledger: the payment as it was paid. */
export type SettledEvent = EventArgsOf<typeof settlementLedgerAbi, "Settled">;
/** The typed `ReservesHeld` event of the ledger: one per reserve lot a call opened. */
export type ReservesHeldEvent = EventArgsOf<typeof settlementLedgerAbi, "ReservesHeld">;

/** The parts of a version's terms a settlement depends on. */
export type SettlementRates = { referralFeeBps: number; reserveBps: number; orderSigner: Address };

/** A settlement as the ledger booked it: its `Settled` event and what the version's terms make of it. */
export type Settlement = SettledEvent & {
  /** The order signer (intents) or the payer (direct payments): the order reference is unique in it. */
  scope: Address;
  referralFee: bigint;
  reserve: bigint;
  /** Into the pool of (agreementId, version). */
  net: bigint;
  /** The reserve lot holding its reserve (0: no reserve). */
  lotId: bigint;
};

/** A log of a settling transaction, decoded (other events are passed over). */
export type SettlingLog =
  | { eventName: "Settled"; args: SettledEvent }
  | { eventName: "ReservesHeld"; args: ReservesHeldEvent }
  | { eventName: string; args: unknown };

/** The key of a version in a rates map. */
export function versionKey(agreementId: bigint, version: number): string {
  return `${agreementId}:${version}`;
}

/** One settlement without its lot: scope, fee, reserve and net from the version's rates. */
export function bookSettlement(event: SettledEvent, rates: SettlementRates): Settlement {
  const split = quoteSplit(event.gross, rates.referralFeeBps, rates.reserveBps, event.referrer !== zeroAddress);
  const scope = rates.orderSigner === zeroAddress ? event.payer : rates.orderSigner;
  return { ...event, scope, referralFee: split.referralFee, reserve: split.reserve, net: split.net, lotId: 0n };
}

/**
 * The settlements of one transaction's logs, in log order, each with its lot: a reserved
 * settlement joins the next ReservesHeld of the logs, whose amount must be what its settlements
 * reserved (else these are not one transaction of a Concord ledger).
 *
 * @param logs - The transaction's decoded logs, in order.
 * @param ratesOf - The rates of each (agreement, version) settled, by {@link versionKey}.
 * @param where - Names the transaction in errors.
 */
export function bookTransaction(logs: readonly SettlingLog[], ratesOf: ReadonlyMap<string, SettlementRates>, where: Hex | string): Settlement[] {
  const out: Settlement[] = [];
  let pending: Settlement[] = [];
  for (const log of logs) {
    if (log.eventName === "Settled") {
      const event = log.args as SettledEvent;
      const rates = ratesOf.get(versionKey(event.agreementId, event.version));
      if (!rates) throw new InvalidInputError(`no terms known for agreement ${event.agreementId} version ${event.version} (transaction ${where})`);
      const settlement = bookSettlement(event, rates);
      out.push(settlement);
      if (settlement.reserve !== 0n) pending.push(settlement);
    } else if (log.eventName === "ReservesHeld") {
      const held = log.args as ReservesHeldEvent;
      const reserved = pending.reduce((sum, s) => sum + s.reserve, 0n);
      if (pending.length === 0 || reserved !== held.held) {
        throw new InvalidInputError(`lot ${held.lotId} holds ${held.held}, its settlements in transaction ${where} reserve ${reserved}`);
      }
      for (const s of pending) s.lotId = held.lotId;
      pending = [];
    }
  }
  if (pending.length !== 0) throw new InvalidInputError(`transaction ${where} reserves ${pending.length} settlement(s) in no lot`);
  return out;
}

/** The distinct (agreement, version) pairs of `events`. */
export function versionsOf(events: readonly Pick<SettledEvent, "agreementId" | "version">[]): { agreementId: bigint; version: number }[] {
  const seen = new Map<string, { agreementId: bigint; version: number }>();
  for (const e of events) seen.set(versionKey(e.agreementId, e.version), { agreementId: e.agreementId, version: e.version });
  return [...seen.values()];
}
