/**
 * Replays the ledger's events. Every credit is derived from the version's terms, never taken on
 * trust: a settlement's fee, reserve and net from the split rule (src/sdk/split.ts), a
 * distribution's and a claim's amounts from the pool and each party's paidUpTo, a nested party's
 * amount into its pinned child's pool (docs/contracts.md, "Pools and payouts"). Checks exactness,
 * single attribution, idempotency per scope and conservation (DESIGN.md laws 1-4) after each event.
 */
import { hexToBigInt, zeroAddress, zeroHash, type Address, type Hex } from "viem";
import { distributable, partyShare, poolRemainder, quoteSplit } from "../../sdk/split";
import type { ConcordLog, EventRef } from "../types";
import { lotIdOf } from "./lots";
import type { LotEntry, LotState, OrderRefWrite, PoolState, ReplayBook, VersionState } from "./state";

type Args = Readonly<Record<string, unknown>>;

/**
 * Marks `orderRef` settled in `scope`: in its bitmap, as the ledger keeps it, false if it already
 * was; or, with a store, in the batch's writes, which the store checks against every settlement
 * before them ({@link settledTwice} then names a repeat; docs/contracts.md, "Settlement").
 */
function useOrderRef(book: ReplayBook, ref: OrderRefWrite): boolean {
  if (book.orderRefWrites) {
    book.orderRefWrites.push(ref);
    return true;
  }
  return book.setOrderBit(ref.scope, hexToBigInt(ref.orderRef));
}

/** The violation of a settlement whose order reference was settled before in its scope. */
export function settledTwice(book: ReplayBook, ref: OrderRefWrite): void {
  book.violate("unique-order-reference", `settlement ${ref.orderRef} in scope ${ref.scope} settled twice`, ref.event, ref.token);
}

function onSettled(book: ReplayBook, args: Args, event: EventRef): void {
  const orderRef = args.orderRef as Hex;
  const agreementId = args.agreementId as bigint;
  const version = args.version as number;
  const token = args.token as Address;
  const payer = args.payer as Address;
  const gross = args.gross as bigint;
  const referrer = args.referrer as Address;
  const beneficiary = args.refundBeneficiary as Address;
  const totals = book.totalsFor(token);
  totals.holdings += gross; // value arrives first, whatever the checks below find
  book.settlementCount += 1;
  book.accounts.add(payer).add(beneficiary);
  if (referrer !== zeroAddress) book.accounts.add(referrer);

  const agreement = book.agreements.get(agreementId);
  const v = agreement?.versions.get(version);
  // The event records the payment as paid; the version's terms give its scope, fee and reserve
  // (docs/contracts.md, "Settlement"). Under an unknown version the whole gross is booked as net,
  // which reconcile then finds wherever the ledger did otherwise.
  const scope = v && v.terms.orderSigner !== zeroAddress ? v.terms.orderSigner : payer;
  const where = `settlement ${orderRef} in scope ${scope}`;
  if (!agreement || !v || v.unit === undefined) {
    book.violate("consistency", `${where} names agreement ${agreementId} version ${version}, never activated`, event, token);
  } else if (agreement.status !== "active" || agreement.activeVersion !== version) {
    book.violate("consistency", `${where} under agreement ${agreementId} version ${version} while the agreement is ${agreement.status} at version ${agreement.activeVersion}`, event, token);
  }
  // Idempotency: once per scope.
  if (orderRef === zeroHash) book.violate("unique-order-reference", `${where} has a zero order reference`, event, token);
  else {
    const ref = { scope, orderRef, token, event };
    if (!useOrderRef(book, ref)) settledTwice(book, ref);
  }

  // Single attribution: one referrer, never the payer, attested (intents) or listed (direct payments).
  const hasReferrer = referrer !== zeroAddress;
  if (hasReferrer && referrer === payer) book.violate("single-attribution", `${where}: payer ${payer} is its own referrer`, event, token, payer);
  if (v && hasReferrer && v.terms.orderSigner === zeroAddress && !v.terms.referrers.includes(referrer)) {
    book.violate("single-attribution", `${where}: referrer ${referrer} is not on version ${version}'s list`, event, token, referrer);
  }
  if (gross <= 0n) book.violate("exactness", `${where}: gross ${gross}`, event, token);
  if (beneficiary === zeroAddress) book.violate("consistency", `${where} names no refund beneficiary`, event, token);
  const split = v && gross > 0n ? quoteSplit(gross, v.terms.referralFeeBps, v.terms.reserveBps, hasReferrer) : { referralFee: 0n, reserve: 0n, net: gross };
  const { referralFee, reserve, net } = split;

  if (referralFee !== 0n) book.credit(referrer, token, referralFee, event, "referral-fee", agreementId);
  const pool = book.poolFor(agreementId, version, token);
  book.addToPool(pool, net, event);
  pool.held += reserve;
  totals.heldReserves += reserve;
  const risk = book.riskFor(agreementId, token);
  risk.settledVolume += gross;
  risk.settledCount += 1n;
  if (reserve !== 0n) joinLot(book, { agreementId, version, token, scope, orderRef, beneficiary, reserve }, event, where);
  book.checkConservation(token, event);
}

/**
 * Adds a reserve to the lot of its call's run: the transaction's lot not yet announced by
 * {ReservesHeld}, or a new one named after this entry (the ledger names a lot after its first).
 */
function joinLot(
  book: ReplayBook,
  e: { agreementId: bigint; version: number; token: Address; scope: Address; orderRef: Hex; beneficiary: Address; reserve: bigint },
  event: EventRef,
  where: string,
): void {
  let lot = book.pendingLots.at(-1);
  if (lot && !lot.announced && lot.transactionHash === event.transactionHash) {
    if (lot.agreementId !== e.agreementId || lot.version !== e.version || lot.token !== e.token) {
      book.violate("consistency", `${where} reserves into another pool while lot ${lot.lotId} is not announced`, event, e.token);
    }
  } else {
    const lotId = lotIdOf({ scope: e.scope, orderRef: e.orderRef });
    if (book.lots.has(lotId)) book.violate("consistency", `${where} opens lot ${lotId}, which exists`, event, e.token);
    lot = { lotId, agreementId: e.agreementId, version: e.version, token: e.token, releaseAt: 0, held: 0n, entries: [], entryCount: 0, open: true, announced: false, transactionHash: event.transactionHash, blockNumber: event.blockNumber, provenance: { count: 0, recent: [] } };
    book.lots.set(lotId, lot);
    book.pendingLots.push(lot);
    if (book.lotWrites) book.lotsWithEntries.add(lot);
  }
  const entry = { scope: e.scope, orderRef: e.orderRef, beneficiary: e.beneficiary, reserve: e.reserve, refunded: false };
  entriesOf(lot).push(entry);
  book.lotWrites?.entries.push({ ...entry, lotId: lot.lotId, entryIndex: lot.entryCount, blockNumber: event.blockNumber });
  lot.entryCount += 1;
  lot.held += e.reserve;
}

/** A lot's entries, which must be in memory (a sync loads those a batch refunds from before applying it). */
function entriesOf(lot: LotState): LotEntry[] {
  if (!lot.entries) throw new Error(`the entries of lot ${lot.lotId} are not loaded`);
  return lot.entries;
}

/** Closes a lot: the ledger stores nothing for it any more, and its entries are never read again. */
function closeLot(book: ReplayBook, lot: LotState): void {
  lot.open = false;
  lot.held = 0n;
  lot.entries = undefined;
  lot.entriesHash = undefined;
  book.lotsWithEntries.delete(lot);
}

/** The lot an event names, checked to be open and of the event's pool. */
function lotFor(book: ReplayBook, args: Args, event: EventRef): LotState | undefined {
  const lotId = args.lotId as bigint;
  const lot = book.lots.get(lotId);
  if (!lot || !lot.open || !lot.announced) {
    book.violate("consistency", `${event.eventName} for lot ${lotId}, ${lot ? "which holds nothing" : "never held"}`, event);
    return undefined;
  }
  if (args.agreementId !== undefined && (args.agreementId !== lot.agreementId || args.version !== lot.version || args.token !== lot.token)) {
    book.violate("consistency", `${event.eventName} for lot ${lotId} names another pool than its settlements`, event, lot.token);
  }
  touch(lot, event);
  return lot;
}

const touch = (lot: LotState, event: EventRef) => {
  lot.provenance.count += 1;
  lot.provenance.recent.push(event);
  if (lot.provenance.recent.length > 16) lot.provenance.recent.shift();
};

function onReservesHeld(book: ReplayBook, args: Args, event: EventRef): void {
  const lotId = args.lotId as bigint;
  const lot = book.lots.get(lotId);
  if (!lot || lot.announced || lot.transactionHash !== event.transactionHash) {
    book.violate("consistency", `reserves held in lot ${lotId} without its settlements in the same call`, event);
    return;
  }
  lot.announced = true;
  lot.releaseAt = args.releaseAt as number;
  touch(lot, event);
  if (args.agreementId !== lot.agreementId || args.version !== lot.version || args.token !== lot.token) book.violate("consistency", `lot ${lotId} is announced for another pool than its settlements`, event, lot.token);
  if (args.held !== lot.held) book.violate("exactness", `lot ${lotId} holds ${String(args.held)}; its settlements reserved ${lot.held}`, event, lot.token);
  // The chain of the entries is hashed only where the ledger still stores the lot (reconcile compares
  // the lot's hash, entries chain included, with the stored one): one keccak per entry was the
  // replay's largest cost (a third of its CPU over HTTP), and a released lot's hash is gone from chain.
  lot.announcedEntriesHash = args.entriesHash as Hex;
}

function onReserveReleased(book: ReplayBook, args: Args, event: EventRef): void {
  const amount = args.amount as bigint;
  const token = args.token as Address;
  const lot = lotFor(book, args, event);
  if (lot) {
    if (amount !== lot.held) book.violate("exactness", `release of lot ${lot.lotId} moved ${amount}; ${lot.held} was held`, event, token);
    closeLot(book, lot);
  }
  const pool = book.poolFor(args.agreementId as bigint, args.version as number, token);
  pool.held -= amount;
  book.totalsFor(token).heldReserves -= amount;
  book.addToPool(pool, amount, event);
  book.checkConservation(token, event);
}

function onReserveRefunded(book: ReplayBook, args: Args, event: EventRef): void {
  const amount = args.amount as bigint;
  const index = Number(args.entryIndex);
  const beneficiary = args.beneficiary as Address;
  const remaining = args.remainingReserve as bigint;
  const lot = lotFor(book, args, event);
  if (!lot) return;
  const entry = entriesOf(lot)[index];
  if (!entry || entry.orderRef !== args.orderRef || entry.beneficiary !== beneficiary) {
    book.violate("consistency", `refund of entry ${index} of lot ${lot.lotId} names ${String(args.orderRef)} / ${beneficiary}, not the entry's settlement`, event, lot.token, beneficiary);
    return;
  }
  if (amount <= 0n || amount > entry.reserve || entry.reserve - amount !== remaining) {
    book.violate("exactness", `refund of ${amount} from ${entry.orderRef}: ${entry.reserve} held, ${remaining} said to remain`, event, lot.token);
  }
  const risk = book.riskFor(lot.agreementId, lot.token);
  risk.refundedVolume += amount;
  if (!entry.refunded) risk.refundCount += 1n; // a settlement counts once however often it is refunded
  if (risk.refundCount > risk.settledCount) book.violate("consistency", `agreement ${lot.agreementId} counts ${risk.refundCount} refunds of ${risk.settledCount} settlements`, event, lot.token);
  entry.reserve -= amount;
  entry.refunded = true;
  book.lotWrites?.refunds.push({ lotId: lot.lotId, entryIndex: index, blockNumber: event.blockNumber, logIndex: event.logIndex, amount });
  lot.held -= amount;
  lot.entriesHash = undefined; // recomputed when asked for
  if (lot.held === 0n) closeLot(book, lot);
  book.poolFor(lot.agreementId, lot.version, lot.token).held -= amount;
  book.totalsFor(lot.token).heldReserves -= amount;
  book.credit(beneficiary, lot.token, amount, event, "refund", lot.agreementId);
  book.checkConservation(lot.token, event);
}

/** The pool and activated version an event pays from, or undefined (with a violation). */
function payoutOf(book: ReplayBook, args: Args, event: EventRef): { pool: PoolState; v: VersionState & { unit: bigint } } | undefined {
  const agreementId = args.agreementId as bigint;
  const version = args.version as number;
  const token = args.token as Address;
  const v = book.termsOf(agreementId, version);
  if (!v || v.unit === undefined) {
    book.violate("consistency", `${event.eventName} from agreement ${agreementId} version ${version}, never activated`, event, token);
    return undefined;
  }
  return { pool: book.poolFor(agreementId, version, token), v: v as VersionState & { unit: bigint } };
}

/** Pays party `i` of a pool `amount`, checking that it never exceeds its pro-rata share of the pool's whole units. */
function payParty(book: ReplayBook, pool: PoolState, v: VersionState & { unit: bigint }, i: number, amount: bigint, event: EventRef): void {
  const party = v.terms.parties[i]!;
  pool.received[i] = (pool.received[i] ?? 0n) + amount;
  pool.paidOut += amount;
  book.totalsFor(pool.token).undistributed -= amount;
  const entitled = partyShare(distributable(pool.total, v.unit), party.shareBps);
  if (pool.received[i]! > entitled) {
    book.violate("exactness", `party ${i} of agreement ${pool.agreementId} version ${pool.version} received ${pool.received[i]} of ${pool.token}; its share of the pool is ${entitled}`, event, pool.token, party.account);
  }
  book.creditParty(party, pool.token, amount, event, pool.agreementId, "payout");
}

/**
 * Why a pool is not final (something could still credit it), or undefined: its version can still
 * settle, it holds a reserve, or a version that pinned it has not paid out everything in the token
 * or is not final itself (docs/contracts.md, "Pools and payouts").
 */
function openReason(book: ReplayBook, agreementId: bigint, version: number, token: Address, depth = 0): string | undefined {
  const agreement = book.agreements.get(agreementId);
  const pool = book.pool(agreementId, version, token);
  if (agreement?.status === "active" && agreement.activeVersion === version) return `agreement ${agreementId} version ${version} can still settle`;
  if (pool && pool.held !== 0n) return `agreement ${agreementId} version ${version} holds ${pool.held} in reserve`;
  if (depth > 8) return `agreement ${agreementId} is nested too deep`;
  for (const parent of book.termsOf(agreementId, version)?.pinnedBy ?? []) {
    const parentPool = book.pool(parent.agreementId, parent.version, token);
    if (parentPool && parentPool.total !== parentPool.distributed) return `agreement ${parent.agreementId} version ${parent.version}, which pins it, has not paid out everything`;
    const reason = openReason(book, parent.agreementId, parent.version, token, depth + 1);
    if (reason) return reason;
  }
  return undefined;
}

function onDistributed(book: ReplayBook, args: Args, event: EventRef): void {
  const payout = payoutOf(book, args, event);
  if (!payout) return;
  const { pool, v } = payout;
  const from = args.fromTotal as bigint;
  const upTo = args.toTotal as bigint;
  const where = `distribution of agreement ${pool.agreementId} version ${pool.version} in ${pool.token}`;
  if (from !== pool.distributed) book.violate("consistency", `${where} from ${from}; ${pool.distributed} was distributed`, event, pool.token);
  if (upTo !== distributable(pool.total, v.unit)) book.violate("exactness", `${where} up to ${upTo}; the pool's whole units are ${distributable(pool.total, v.unit)}`, event, pool.token);
  v.terms.parties.forEach((party, i) => {
    // From the pool's distributed total, or from where the party's own claim since left it.
    const paid = pool.paidUpTo[i] ?? 0n;
    const start = paid > pool.distributed ? paid : pool.distributed;
    if (upTo > start) payParty(book, pool, v, i, partyShare(upTo - start, party.shareBps), event);
  });
  pool.distributed = upTo;
  book.checkConservation(pool.token, event);
}

function onClaimed(book: ReplayBook, args: Args, event: EventRef): void {
  const payout = payoutOf(book, args, event);
  if (!payout) return;
  const { pool, v } = payout;
  const i = Number(args.partyIndex);
  const amount = args.amount as bigint;
  const paidUpTo = args.paidUpTo as bigint;
  const party = v.terms.parties[i];
  const where = `claim of party ${i} of agreement ${pool.agreementId} version ${pool.version} in ${pool.token}`;
  if (!party) {
    book.violate("consistency", `${where}: the version has ${v.terms.parties.length} parties`, event, pool.token);
    return;
  }
  const upTo = distributable(pool.total, v.unit);
  const paid = pool.paidUpTo[i] ?? 0n;
  const start = paid > pool.distributed ? paid : pool.distributed;
  const owed = upTo > start ? partyShare(upTo - start, party.shareBps) : 0n;
  if (paidUpTo !== upTo) book.violate("exactness", `${where} up to ${paidUpTo}; the pool's whole units are ${upTo}`, event, pool.token, party.account);
  if (amount !== owed) book.violate("exactness", `${where} paid ${amount}; it was owed ${owed}`, event, pool.token, party.account);
  pool.paidUpTo[i] = paidUpTo;
  payParty(book, pool, v, i, amount, event);
  book.checkConservation(pool.token, event);
}

function onRemainderSwept(book: ReplayBook, args: Args, event: EventRef): void {
  const payout = payoutOf(book, args, event);
  if (!payout) return;
  const { pool, v } = payout;
  const amount = args.amount as bigint;
  const index = Number(args.partyIndex);
  const where = `remainder of agreement ${pool.agreementId} version ${pool.version} in ${pool.token}`;
  const open = openReason(book, pool.agreementId, pool.version, pool.token);
  if (open) book.violate("exactness", `${where} swept while the pool can still receive value: ${open}`, event, pool.token);
  if (index !== v.terms.dustPartyIndex) book.violate("exactness", `${where} went to party ${index}, not the dust party ${v.terms.dustPartyIndex}`, event, pool.token);
  const remainder = poolRemainder(pool.total, v.unit);
  if (amount !== remainder) book.violate("exactness", `${where}: ${amount} swept; the final remainder is ${remainder}`, event, pool.token);
  // The remainder leaves the pool (its whole units are unchanged) for the dust party.
  book.addToPool(pool, -amount, event);
  book.creditParty(v.terms.parties[v.terms.dustPartyIndex]!, pool.token, amount, event, pool.agreementId, "remainder");
  book.checkConservation(pool.token, event);
}

function onWithdrawn(book: ReplayBook, args: Args, event: EventRef): void {
  const token = args.token as Address;
  const amount = args.amount as bigint;
  book.totalsFor(token).holdings -= amount;
  book.credit(args.account as Address, token, -amount, event);
  book.checkConservation(token, event);
}

/** Applies one ledger event. */
export function applyLedger(book: ReplayBook, log: ConcordLog): void {
  switch (log.eventName) {
    case "Settled":
      return onSettled(book, log.args, log);
    case "ReservesHeld":
      return onReservesHeld(book, log.args, log);
    case "ReserveReleased":
      return onReserveReleased(book, log.args, log);
    case "ReserveRefunded":
      return onReserveRefunded(book, log.args, log);
    case "Distributed":
      return onDistributed(book, log.args, log);
    case "Claimed":
      return onClaimed(book, log.args, log);
    case "RemainderSwept":
      return onRemainderSwept(book, log.args, log);
    case "Withdrawn":
      return onWithdrawn(book, log.args, log);
    default:
      book.violate("consistency", `unknown ledger event ${log.eventName}`, log);
  }
}

/** At the end of a transaction: the lots whose settlements no {ReservesHeld} announced. */
export function checkLotsAnnounced(book: ReplayBook, event: EventRef): void {
  for (const lot of book.pendingLots) {
    if (!lot.announced) book.violate("consistency", `lot ${lot.lotId} holds reserves that no ReservesHeld announced`, event, lot.token);
  }
  book.pendingLots = [];
}
