/**
 * The auditor's rebuilt state and the bookkeeping every applier shares: balances (and whether
 * each was ever credited: the ledger stores balance + 1 from then on), pools {total, held,
 * distributed} with each party's paidUpTo, reserve lots, order-reference bitmaps per scope, risk
 * counters, per-token totals for the conservation law, and the violations found. Pure: no I/O.
 */
import type { Address, Hex } from "viem";
import type { Party, Terms } from "../../sdk/terms";
import type { EventRef } from "../types";

export type AgreementStatusName = "proposed" | "active" | "terminated";

export type VersionState = {
  version: number;
  termsHash: Hex;
  terms: Terms;
  proposer: Address;
  proposedAt: EventRef;
  /** Set when the version is activated (from {VersionActivated}). */
  unit?: bigint;
  partiesRoot?: Hex;
  activatedAt?: EventRef;
  /** On-chain approvals not revoked: account -> expiry. */
  approvals: Map<Address, bigint>;
  /** On-chain termination approvals not revoked: account -> expiry. */
  terminationApprovals: Map<Address, bigint>;
  /** Whether the hub activated it (its consent is the negotiation's acceptances). */
  negotiated: boolean;
  /** Consent signatures counted, with the transaction that counted them. */
  signed: { party: Address; transactionHash: Hex }[];
  terminationSigned: { party: Address; transactionHash: Hex }[];
  /** Every activated version of another agreement that pins this one (its nested party's share flows here), in activation order. */
  pinnedBy: { agreementId: bigint; version: number }[];
};

export type AgreementState = {
  agreementId: bigint;
  proposer: Address;
  status: AgreementStatusName;
  latestVersion: number;
  activeVersion: number;
  versions: Map<number, VersionState>;
};

export type NegotiationOffer = { move: number; proposer: Address; offerHash: Hex; terms: Terms; acceptedBy: Set<Address> };

export type NegotiationState = {
  agreementId: bigint;
  negotiationId: number;
  opener?: Address;
  participants: Address[];
  roundLimit?: number;
  deadline?: bigint;
  moveTimeout?: number;
  baseVersion?: number;
  status: "open" | "agreed" | "broken" | "expired";
  offers: NegotiationOffer[];
  agreedVersion?: number;
};

/** The events that produced an amount: how many, and the latest few. */
export type Provenance = { count: number; recent: EventRef[] };

export type BalanceState = { account: Address; token: Address; amount: bigint; credited: boolean; provenance: Provenance };

export type PoolState = {
  agreementId: bigint;
  version: number;
  token: Address;
  total: bigint;
  held: bigint;
  distributed: bigint;
  /** Per party index: the distributable total its own claims paid it up to (0: never claimed). */
  paidUpTo: bigint[];
  /** Per party index: what distributions and claims credited it (the swept remainder apart). */
  received: bigint[];
  /** What distributions and claims paid out of the pool in all. */
  paidOut: bigint;
  provenance: Provenance;
};

export type LotEntry = { scope: Address; orderRef: Hex; beneficiary: Address; reserve: bigint; refunded: boolean };

export type LotState = {
  lotId: bigint;
  agreementId: bigint;
  version: number;
  token: Address;
  releaseAt: number;
  held: bigint;
  /**
   * Its entries as they stand, while in memory: always without a store; with one, only while the
   * lot's transaction or a batch refunding from it is applied (./lot-entries.ts), then undefined.
   * Dropped once the lot is closed (nothing reads a closed lot's entries again).
   */
  entries: LotEntry[] | undefined;
  /** How many entries the lot has (the next entry's index). */
  entryCount: number;
  /** The hash chain of the entries as they are now, computed when asked for ({storedLotHash}); undefined again after a refund. */
  entriesHash?: Hex | undefined;
  /** The entries hash {ReservesHeld} announced. */
  announcedEntriesHash?: Hex | undefined;
  /** False once released or refunded in full: the ledger then stores nothing for it. */
  open: boolean;
  /** Whether {ReservesHeld} announced the lot (its settlements come first, in the same transaction). */
  announced: boolean;
  /** The transaction whose settlements make up the lot, and its block. */
  transactionHash: Hex;
  blockNumber: bigint;
  provenance: Provenance;
};

export type RiskState = { agreementId: bigint; token: Address; settledVolume: bigint; settledCount: bigint; refundCount: bigint; refundedVolume: bigint; provenance: Provenance };

/** A settlement's entry of a lot, as the store's `lot_entries` table keeps it. */
export type LotEntryWrite = LotEntry & { lotId: bigint; entryIndex: number; blockNumber: bigint };
/** A settlement's order reference, as the store's `order_refs` table keeps the first of each scope (../order-refs.ts). */
export type OrderRefWrite = { scope: Address; orderRef: Hex; token: Address; event: EventRef };
/** A refund from a lot's entry, as the store's `lot_refunds` table keeps it. */
export type LotRefundWrite = { lotId: bigint; entryIndex: number; blockNumber: bigint; logIndex: number; amount: bigint };

/** The ledger's laws as named in DESIGN.md, plus consistency of the event stream itself. */
export type Law =
  | "conservation"
  | "exactness"
  | "single-attribution"
  | "unique-order-reference"
  | "consent"
  | "predictability"
  | "no-negative-balance"
  | "consistency";

export type Violation = { law: Law; message: string; event: EventRef; token?: Address; account?: Address };

/** Per-token totals kept incrementally so that conservation is checked in O(1) after every event. */
export type TokenTotals = {
  token: Address;
  /** What the ledger holds: + gross on {Settled}, - amount on {Withdrawn}. */
  holdings: bigint;
  balances: bigint;
  heldReserves: bigint;
  /** Sum over pools of total - paid out. */
  undistributed: bigint;
  provenance: Provenance;
};

/** A credit to an account's balance, as the replay derived it (what statements are built from). */
export type Credit = {
  account: Address;
  token: Address;
  amount: bigint;
  kind: "referral-fee" | "payout" | "remainder" | "refund";
  agreementId?: bigint;
};

/** One change of a withdrawable balance, where the event put it (what the store's `balance_changes` table holds). */
export type BalanceChange = {
  blockNumber: bigint;
  logIndex: number;
  account: Address;
  token: Address;
  /** Negative for a withdrawal. */
  amount: bigint;
  kind: Credit["kind"] | "withdrawal";
  agreementId?: bigint | undefined;
};

const RECENT = 16;

export function touch(provenance: Provenance, event: EventRef): void {
  provenance.count += 1;
  provenance.recent.push(event);
  if (provenance.recent.length > RECENT) provenance.recent.shift();
}

const fresh = (): Provenance => ({ count: 0, recent: [] });

export const poolKey = (agreementId: bigint, version: number, token: Address): string => `${agreementId}:${version}:${token}`;
const balanceKey = (account: Address, token: Address): string => `${account}:${token}`;

/** The consenters of an account list and pinned children, as a set (see {ReplayBook.consentersOf}). */
export type Consenters = Set<Address>;

/**
 * The rebuilt state and its shared bookkeeping. {ReplayState} (src/audit/replay/index.ts) feeds it
 * events through the per-contract appliers.
 */
export class ReplayBook {
  readonly agreements = new Map<bigint, AgreementState>();
  readonly negotiations = new Map<string, NegotiationState>();
  readonly pools = new Map<string, PoolState>();
  readonly balances = new Map<string, BalanceState>();
  readonly lots = new Map<bigint, LotState>();
  /**
   * Settled order references: scope -> bitmap word index -> bits, as the ledger keeps them.
   * With a store ({orderRefWrites}) it stays empty but for a reconciliation of every word, which
   * reads it back from the store ({loadOrderBitmaps}).
   */
  readonly orderBitmaps = new Map<Address, Map<bigint, bigint>>();
  /**
   * When an array, settlements' order references are pushed here instead of into
   * {orderBitmaps}: a sync hands each batch's to the store, whose unique index finds a reference
   * settled twice in its scope (../order-refs.ts), so memory does not grow with the settlements.
   */
  orderRefWrites: OrderRefWrite[] | undefined;
  readonly risk = new Map<string, RiskState>();
  readonly totals = new Map<Address, TokenTotals>();
  /** Every account the events name as a party, payer, referrer or refund beneficiary (whose balances are reconciled). */
  readonly accounts = new Set<Address>();
  readonly violations: Violation[] = [];
  /** Events applied, by name. */
  readonly eventCounts = new Map<string, number>();
  /** Number of {Settled} events applied. */
  settlementCount = 0;
  eventsApplied = 0;
  lastEvent: EventRef | undefined;
  /** Credits to balances made by the last event applied. */
  lastCredits: Credit[] = [];
  /** When an array, every balance change is also pushed here, in order (a sync drains it into the store). */
  balanceChanges: BalanceChange[] | undefined;
  /** Lots opened by the current transaction's settlements (each must be announced before it ends). */
  pendingLots: LotState[] = [];
  /**
   * When arrays, lot entries and refunds are also pushed here, in order, and every lot's entries
   * live in the store between batches: a sync drains these into it, loads the entries a batch's
   * refunds need before applying it and drops them after ({dropLotEntries}).
   */
  lotWrites: { entries: LotEntryWrite[]; refunds: LotRefundWrite[] } | undefined;
  /** Lots whose entries are in memory (with a store: dropped after the batch). */
  readonly lotsWithEntries = new Set<LotState>();
  /** The transaction and agreement of the hub's latest acceptance: a version it activates is proposed in the same transaction. */
  hubAcceptance: { transactionHash: Hex; agreementId: bigint } | undefined;

  // ------------------------------------------------------------------ queries

  balanceOf(account: Address, token: Address): bigint {
    return this.balances.get(balanceKey(account, token))?.amount ?? 0n;
  }

  balanceEntry(account: Address, token: Address): BalanceState | undefined {
    return this.balances.get(balanceKey(account, token));
  }

  pool(agreementId: bigint, version: number, token: Address): PoolState | undefined {
    return this.pools.get(poolKey(agreementId, version, token));
  }

  totalsOf(token: Address): TokenTotals {
    return this.totals.get(token) ?? { token, holdings: 0n, balances: 0n, heldReserves: 0n, undistributed: 0n, provenance: fresh() };
  }

  tokens(): Address[] {
    return [...this.totals.keys()];
  }

  /** A version of an agreement, if proposed. */
  termsOf(agreementId: bigint, version: number): VersionState | undefined {
    return this.agreements.get(agreementId)?.versions.get(version);
  }

  /**
   * Every account whose consent `terms` need: its account parties, and for each nested party the
   * consenters of the pinned child version, recursively (docs/contracts.md, "Consent"). A child
   * never proposed contributes nothing (the replay reports it where it is pinned).
   */
  consentersOf(terms: Terms, depth = 0): Consenters {
    const out: Consenters = new Set();
    for (const party of terms.parties) {
      if (party.agreementId === 0n) out.add(party.account);
      else if (depth < 8) {
        const child = this.termsOf(party.agreementId, party.version);
        if (child) for (const account of this.consentersOf(child.terms, depth + 1)) out.add(account);
      }
    }
    return out;
  }

  /** Sets `orderRef`'s bit in `scope`'s bitmap, as the ledger keeps it; false if it was set already. */
  setOrderBit(scope: Address, orderRef: bigint): boolean {
    let words = this.orderBitmaps.get(scope);
    if (!words) this.orderBitmaps.set(scope, (words = new Map()));
    const word = orderRef >> 8n;
    const bit = 1n << (orderRef & 0xffn);
    const bits = words.get(word) ?? 0n;
    words.set(word, bits | bit);
    return (bits & bit) === 0n;
  }

  /** Forgets the entries of every lot the store keeps them for, but of a lot not yet announced (its transaction goes on). */
  dropLotEntries(): void {
    for (const lot of this.lotsWithEntries) {
      if (!lot.announced && this.pendingLots.includes(lot)) continue;
      lot.entries = undefined;
      this.lotsWithEntries.delete(lot);
    }
  }

  // ------------------------------------------------------------------ bookkeeping

  totalsFor(token: Address): TokenTotals {
    let totals = this.totals.get(token);
    if (!totals) this.totals.set(token, (totals = { token, holdings: 0n, balances: 0n, heldReserves: 0n, undistributed: 0n, provenance: fresh() }));
    return totals;
  }

  poolFor(agreementId: bigint, version: number, token: Address): PoolState {
    const key = poolKey(agreementId, version, token);
    let pool = this.pools.get(key);
    if (!pool) {
      const parties = this.termsOf(agreementId, version)?.terms.parties.length ?? 0;
      pool = {
        agreementId,
        version,
        token,
        total: 0n,
        held: 0n,
        distributed: 0n,
        paidUpTo: new Array<bigint>(parties).fill(0n),
        received: new Array<bigint>(parties).fill(0n),
        paidOut: 0n,
        provenance: fresh(),
      };
      this.pools.set(key, pool);
    }
    return pool;
  }

  riskFor(agreementId: bigint, token: Address): RiskState {
    const key = `${agreementId}:${token}`;
    let risk = this.risk.get(key);
    if (!risk) this.risk.set(key, (risk = { agreementId, token, settledVolume: 0n, settledCount: 0n, refundCount: 0n, refundedVolume: 0n, provenance: fresh() }));
    return risk;
  }

  /** Adds `amount` (negative for a withdrawal) to a balance; a credit marks the word as stored (+1). */
  credit(account: Address, token: Address, amount: bigint, event: EventRef, kind?: Credit["kind"], agreementId?: bigint): void {
    const key = balanceKey(account, token);
    let entry = this.balances.get(key);
    if (!entry) this.balances.set(key, (entry = { account, token, amount: 0n, credited: false, provenance: fresh() }));
    entry.amount += amount;
    if (amount > 0n) entry.credited = true;
    touch(entry.provenance, event);
    this.totalsFor(token).balances += amount;
    if (kind) this.lastCredits.push(agreementId === undefined ? { account, token, amount, kind } : { account, token, amount, kind, agreementId });
    this.balanceChanges?.push({ blockNumber: event.blockNumber, logIndex: event.logIndex, account, token, amount, kind: kind ?? "withdrawal", agreementId });
    if (entry.amount < 0n) this.violate("no-negative-balance", `balance of ${account} in ${token} is ${entry.amount}`, event, token, account);
  }

  /** Adds to a pool's total (a settlement's net, a release, a parent's share, a negative sweep). */
  addToPool(pool: PoolState, amount: bigint, event: EventRef): void {
    pool.total += amount;
    this.totalsFor(pool.token).undistributed += amount;
    touch(pool.provenance, event);
  }

  /**
   * Credits party `index` of a pool's version `amount`: an account's balance, or a nested party's
   * pinned child pool (docs/contracts.md, "Pools and payouts").
   */
  creditParty(party: Party, token: Address, amount: bigint, event: EventRef, agreementId: bigint, kind: Credit["kind"]): void {
    if (party.agreementId === 0n) {
      this.credit(party.account, token, amount, event, kind, agreementId);
      return;
    }
    const child = this.termsOf(party.agreementId, party.version);
    if (!child || child.unit === undefined) {
      this.violate("predictability", `a share of agreement ${agreementId} flows to agreement ${party.agreementId} version ${party.version}, never activated`, event, token);
    }
    this.addToPool(this.poolFor(party.agreementId, party.version, token), amount, event);
  }

  checkConservation(token: Address, event: EventRef): void {
    const t = this.totalsFor(token);
    touch(t.provenance, event);
    const owed = t.balances + t.heldReserves + t.undistributed;
    if (t.holdings !== owed) {
      this.violate(
        "conservation",
        `ledger holds ${t.holdings} of ${token}; balances ${t.balances} + reserves ${t.heldReserves} + undistributed ${t.undistributed} = ${owed}`,
        event,
        token,
      );
    }
  }

  agreementFor(agreementId: bigint, event: EventRef): AgreementState | undefined {
    const agreement = this.agreements.get(agreementId);
    if (!agreement) this.violate("consistency", `${event.eventName} for agreement ${agreementId}, never proposed`, event);
    return agreement;
  }

  versionFor(agreementId: bigint, version: number, event: EventRef): VersionState | undefined {
    const v = this.termsOf(agreementId, version);
    if (!v) this.violate("consistency", `${event.eventName} for agreement ${agreementId} version ${version}, never proposed`, event);
    return v;
  }

  violate(law: Law, message: string, event: EventRef, token?: Address, account?: Address): void {
    const violation: Violation = { law, message, event };
    if (token) violation.token = token;
    if (account) violation.account = account;
    this.violations.push(violation);
  }
}
