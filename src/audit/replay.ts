/**
 * The auditor's state machine: rebuilds agreements, negotiations, settlements, pools, balances
 * and holdings from decoded Concord events alone, and checks the ledger's laws (DESIGN.md)
 * after every event. Pure: no I/O. The split rule is imported from src/sdk/split.ts, never
 * re-implemented here.
 */
import { zeroAddress, type Address, type Hex } from "viem";
import { distributionUnit, partyShare, prepareSplit, splitNet, splitPrepared, type PreparedSplit } from "../sdk/split";
import type { Party, Terms } from "../sdk/terms";
import type { ConcordLog, EventRef } from "./fetch";
import { keepShape } from "./shapes";

/** One party of a version, as emitted in {VersionProposed}: the SDK's {@link Party}. */
export type PartyValue = Party;

/** A version's terms, as emitted in {VersionProposed} and {OfferMade}: the SDK's {@link Terms}. */
export type TermsValue = Terms;

export type AgreementStatusName = "proposed" | "active" | "terminated";

export type VersionState = {
  version: number;
  termsHash: Hex;
  terms: TermsValue;
  /** Distribution unit, set when the version is activated. */
  unit?: bigint;
  proposedAt: EventRef;
  activatedAt?: EventRef;
  approvals: Address[];
  signedConsents: Address[];
};

export type AgreementState = {
  agreementId: bigint;
  proposer: Address;
  status: AgreementStatusName;
  latestVersion: number;
  activeVersion: number;
  versions: Map<number, VersionState>;
  terminationConsents: Address[];
};

export type NegotiationRound = { move: number; proposer: Address; offerHash: Hex; terms: TermsValue; acceptedBy: Address[] };

export type NegotiationState = {
  agreementId: bigint;
  negotiationId: number;
  opener?: Address;
  participants: Address[];
  roundLimit?: number;
  deadline?: bigint;
  baseVersion?: number;
  status: "open" | "agreed" | "broken" | "expired";
  rounds: NegotiationRound[];
  agreedVersion?: number;
  /** Hub events this auditor does not model, kept verbatim (in order). */
  otherEvents: { eventName: string; ref: EventRef }[];
};

export type SettlementState = {
  orderRef: Hex;
  agreementId: bigint;
  version: number;
  token: Address;
  payer: Address;
  gross: bigint;
  referrer: Address;
  referralFee: bigint;
  /** Reserve still held (decreases with refunds, zero once released). */
  reserve: bigint;
  releaseAt: number;
  refunded: bigint;
  released: bigint;
  /** True once nothing is held (stored as CLOSED on chain). */
  closed: boolean;
  events: EventRef[];
};

export type PoolState = {
  agreementId: bigint;
  version: number;
  token: Address;
  distributable: bigint;
  dust: bigint;
  /** Released to each party index so far. */
  released: bigint[];
  /** Number of events that moved this pool, and the latest of them. */
  provenance: Provenance;
};

/** The events that produced an amount: how many, and the latest few. */
export type Provenance = { count: number; recent: EventRef[] };

export type BalanceState = { amount: bigint; provenance: Provenance };

/** The ledger's laws as named in DESIGN.md, plus consistency of the event stream itself. */
export type Law =
  | "conservation"
  | "exactness"
  | "single-attribution"
  | "unique-order-reference"
  | "no-negative-balance"
  | "consistency";

export type Violation = { law: Law; message: string; event: EventRef; token?: Address; account?: Address };

/** Per-token totals kept incrementally so that conservation is checked in O(1) after every event. */
export type TokenTotals = {
  /** What the ledger holds: + gross on {Settled}, - amount on {Withdrawn}. */
  holdings: bigint;
  balances: bigint;
  heldReserves: bigint;
  /** Sum over pools of distributable + dust - released. */
  undistributed: bigint;
  /** The events that moved value in this token. */
  provenance: Provenance;
};

const RECENT = 16;

function ref(log: ConcordLog): EventRef {
  return {
    blockNumber: log.blockNumber,
    transactionIndex: log.transactionIndex,
    logIndex: log.logIndex,
    transactionHash: log.transactionHash,
    eventName: log.eventName,
  };
}

function touch(provenance: Provenance, event: EventRef): void {
  provenance.count += 1;
  provenance.recent.push(event);
  if (provenance.recent.length > RECENT) provenance.recent.shift();
}

export const poolKey = (agreementId: bigint, version: number, token: Address): string =>
  `${agreementId}:${version}:${token.toLowerCase()}`;
const balanceKey = (account: Address, token: Address): string => `${account.toLowerCase()}:${token.toLowerCase()}`;

const ZERO_ORDER_REF = `0x${"0".repeat(64)}`;

/**
 * Whether two spellings name the same address, letter case aside (decoded addresses share one
 * spelling, so most answers come from the first comparison or the first differing digit).
 */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const lower = x | 0x20;
    if (lower !== (y | 0x20) || lower < 0x61 || lower > 0x7a) return false; // only letters differ by case
  }
  return true;
}

/** The split rule's view of a version's terms, checked and prepared once per terms object. */
const preparedSplits = new WeakMap<TermsValue, PreparedSplit>();
function preparedSplitOf(terms: TermsValue): PreparedSplit {
  let out = preparedSplits.get(terms);
  if (!out) {
    out = prepareSplit({ shares: terms.parties.map((p) => p.shareBps), referralFeeBps: terms.referralFeeBps, reserveBps: terms.reserveBps, dustPartyIndex: terms.dustPartyIndex });
    preparedSplits.set(terms, out);
    // Frozen objects and decoded terms get their shapes field by field (src/audit/shapes.ts).
    const prepared = out;
    keepShape("prepared split", () => prepared);
    keepShape("terms", () => terms);
  }
  return out;
}

/** Thrown by {ReplayState.apply} only for events out of order; law violations are collected, not thrown. */
export class ReplayOrderError extends Error {
  override name = "ReplayOrderError";
}

type Args = Readonly<Record<string, unknown>>;
const big = (args: Args, name: string): bigint => args[name] as bigint;
const num = (args: Args, name: string): number => Number(args[name]);
const addr = (args: Args, name: string): Address => args[name] as Address;
const hexArg = (args: Args, name: string): Hex => args[name] as Hex;

type PendingNested = { fromAgreementId: bigint; childAgreementId: bigint; token: Address; amount: bigint; event: EventRef };

/**
 * The rebuilt state of one Concord deployment. Feed it every decoded log in chain order with
 * {apply}; read the state and the collected {violations} at any point.
 *
 * @example
 * const state = new ReplayState();
 * for await (const batch of fetchConcordLogs(client, { addresses, fromBlock: 0n })) state.applyBatch(batch.logs);
 * if (state.violations.length > 0) console.log(state.violations);
 */
/**
 * What party `partyIndex` of `terms` is still owed by `pool`. Mirrors SettlementLedger._entitlement:
 * distributable * share / 10,000, plus the dust for the dust party, minus what was released.
 */
export function owedFromPool(pool: PoolState, terms: TermsValue, partyIndex: number): bigint {
  const party = terms.parties[partyIndex];
  if (!party) throw new Error(`party ${partyIndex} of agreement ${pool.agreementId} version ${pool.version} does not exist`);
  let entitled = partyShare(pool.distributable, party.shareBps);
  if (partyIndex === terms.dustPartyIndex) entitled += pool.dust;
  return entitled - (pool.released[partyIndex] ?? 0n);
}

export class ReplayState {
  readonly agreements = new Map<bigint, AgreementState>();
  readonly negotiations = new Map<string, NegotiationState>();
  readonly settlements = new Map<Hex, SettlementState>();
  readonly pools = new Map<string, PoolState>();
  /** Balances keyed by `${account}:${token}` (lowercase). */
  readonly balances = new Map<string, BalanceState & { account: Address; token: Address }>();
  readonly totals = new Map<string, TokenTotals & { token: Address }>();
  readonly violations: Violation[] = [];
  /** Events applied, by name. */
  readonly eventCounts = new Map<string, number>();
  eventsApplied = 0;
  lastEvent: EventRef | undefined;
  private pendingNested: PendingNested[] = [];
  private readonly totalsBySpelling = new Map<string, TokenTotals & { token: Address }>();
  /** Pools by token, agreement and version, and balances by token and account, under the spellings the events used (the maps above are keyed in lower case). */
  private readonly poolsBySpelling = new Map<string, Map<bigint, Map<number, PoolState>>>();
  private readonly balancesBySpelling = new Map<string, Map<string, BalanceState & { account: Address; token: Address }>>();

  constructor() {
    keepShape("ReplayState", () => new ReplayState()); // see src/audit/shapes.ts
  }

  /** Applies every log of a batch, in order. */
  applyBatch(logs: readonly ConcordLog[]): void {
    for (const log of logs) this.apply(log);
  }

  /** Applies one decoded log, then checks the laws it could affect. */
  apply(log: ConcordLog): void {
    const event = ref(log);
    const last = this.lastEvent;
    if (
      last &&
      (event.blockNumber < last.blockNumber ||
        (event.blockNumber === last.blockNumber &&
          (event.transactionIndex < last.transactionIndex ||
            (event.transactionIndex === last.transactionIndex && event.logIndex <= last.logIndex))))
    ) {
      throw new ReplayOrderError(
        `event ${event.blockNumber}:${event.transactionIndex}:${event.logIndex} arrived after ${last.blockNumber}:${last.transactionIndex}:${last.logIndex}`,
      );
    }
    if (
      this.pendingNested.length > 0 &&
      last &&
      (last.blockNumber !== event.blockNumber || last.transactionIndex !== event.transactionIndex)
    ) {
      this.flushPendingNested();
    }
    this.lastEvent = event;
    this.eventsApplied += 1;
    this.eventCounts.set(log.eventName, (this.eventCounts.get(log.eventName) ?? 0) + 1);
    const args = log.args;
    switch (log.contract) {
      case "registry":
        this.applyRegistry(log.eventName, args, event);
        return;
      case "negotiationHub":
        this.applyNegotiation(log.eventName, args, event);
        return;
      case "ledger":
        this.applyLedger(log.eventName, args, event);
        return;
    }
  }

  /** Ends the replay: a nested credit left without its {PartyCredited} is a violation. */
  finish(): void {
    this.flushPendingNested();
  }

  // ------------------------------------------------------------------ queries

  balanceOf(account: Address, token: Address): bigint {
    return this.balances.get(balanceKey(account, token))?.amount ?? 0n;
  }

  balanceEntry(account: Address, token: Address): (BalanceState & { account: Address; token: Address }) | undefined {
    return this.balances.get(balanceKey(account, token));
  }

  pool(agreementId: bigint, version: number, token: Address): PoolState | undefined {
    return this.pools.get(poolKey(agreementId, version, token));
  }

  totalsOf(token: Address): TokenTotals {
    return (
      this.totals.get(token.toLowerCase()) ?? {
        holdings: 0n,
        balances: 0n,
        heldReserves: 0n,
        undistributed: 0n,
        provenance: { count: 0, recent: [] },
      }
    );
  }

  tokens(): Address[] {
    return [...this.totals.values()].map((t) => t.token);
  }

  /** The terms of an agreement's version, if proposed. */
  termsOf(agreementId: bigint, version: number): VersionState | undefined {
    return this.agreements.get(agreementId)?.versions.get(version);
  }

  // ------------------------------------------------------------------ registry

  private applyRegistry(name: string, args: Args, event: EventRef): void {
    const agreementId = big(args, "agreementId");
    switch (name) {
      case "AgreementProposed": {
        if (this.agreements.has(agreementId)) {
          this.violate("consistency", `agreement ${agreementId} proposed twice`, event);
          return;
        }
        this.agreements.set(agreementId, {
          agreementId,
          proposer: addr(args, "proposer"),
          status: "proposed",
          latestVersion: 0,
          activeVersion: 0,
          versions: new Map(),
          terminationConsents: [],
        });
        return;
      }
      case "VersionProposed": {
        const agreement = this.agreementFor(agreementId, event);
        if (!agreement) return;
        const version = num(args, "version");
        if (version !== agreement.latestVersion + 1) {
          this.violate("consistency", `agreement ${agreementId} proposed version ${version} after ${agreement.latestVersion}`, event);
        }
        agreement.latestVersion = Math.max(agreement.latestVersion, version);
        agreement.versions.set(version, {
          version,
          termsHash: hexArg(args, "termsHash"),
          terms: args.terms as TermsValue,
          proposedAt: event,
          approvals: [],
          signedConsents: [],
        });
        return;
      }
      case "VersionApproved":
      case "ConsentSigned": {
        const v = this.versionFor(agreementId, num(args, "version"), event);
        if (!v) return;
        (name === "VersionApproved" ? v.approvals : v.signedConsents).push(addr(args, "party"));
        return;
      }
      case "VersionActivated": {
        const agreement = this.agreementFor(agreementId, event);
        const version = num(args, "version");
        const v = this.versionFor(agreementId, version, event);
        if (!agreement || !v) return;
        if (agreement.status === "terminated") {
          this.violate("consistency", `agreement ${agreementId} activated version ${version} after termination`, event);
        }
        if (version <= agreement.activeVersion) {
          this.violate("consistency", `agreement ${agreementId} activated version ${version} after version ${agreement.activeVersion}`, event);
        }
        if (hexArg(args, "termsHash") !== v.termsHash) {
          this.violate("consistency", `agreement ${agreementId} version ${version} activated with a different terms hash`, event);
        }
        const unit = BigInt(num(args, "unit"));
        const expectedUnit = distributionUnit(v.terms.parties.map((p) => p.shareBps));
        if (unit !== expectedUnit) {
          this.violate("exactness", `agreement ${agreementId} version ${version} has unit ${unit}; its shares give ${expectedUnit}`, event);
        }
        v.unit = unit;
        v.activatedAt = event;
        agreement.activeVersion = version;
        agreement.status = "active";
        return;
      }
      case "TerminationApproved":
      case "TerminationSigned": {
        const agreement = this.agreementFor(agreementId, event);
        if (agreement) agreement.terminationConsents.push(addr(args, "party"));
        return;
      }
      case "AgreementTerminated": {
        const agreement = this.agreementFor(agreementId, event);
        if (!agreement) return;
        if (agreement.status !== "active") {
          this.violate("consistency", `agreement ${agreementId} terminated while ${agreement.status}`, event);
        }
        agreement.status = "terminated";
        return;
      }
      default:
        // NonceCancelled and any later registry event move no value; counted in eventCounts.
        return;
    }
  }

  // ------------------------------------------------------------------ negotiation hub

  private applyNegotiation(name: string, args: Args, event: EventRef): void {
    const agreementId = args.agreementId as bigint | undefined;
    const negotiationId = args.negotiationId as number | bigint | undefined;
    if (agreementId === undefined || negotiationId === undefined) return; // an event that names no negotiation
    const key = `${agreementId}:${negotiationId}`;
    let negotiation = this.negotiations.get(key);
    if (!negotiation) {
      // Created on the first event seen, whatever it is: events of a hub that lands later replay too.
      negotiation = {
        agreementId,
        negotiationId: Number(negotiationId),
        participants: [],
        status: "open",
        rounds: [],
        otherEvents: [],
      };
      this.negotiations.set(key, negotiation);
    }
    switch (name) {
      case "NegotiationOpened":
        negotiation.opener = addr(args, "opener");
        negotiation.participants = [...(args.participants as Address[])];
        negotiation.roundLimit = num(args, "roundLimit");
        negotiation.deadline = BigInt(args.deadline as bigint);
        if (args.baseVersion !== undefined) negotiation.baseVersion = num(args, "baseVersion");
        return;
      case "OfferMade":
        negotiation.rounds.push({
          move: num(args, "move"),
          proposer: addr(args, "proposer"),
          offerHash: hexArg(args, "offerHash"),
          terms: args.terms as TermsValue,
          acceptedBy: [addr(args, "proposer")],
        });
        return;
      case "OfferAccepted": {
        const latest = negotiation.rounds.at(-1);
        if (!latest || latest.offerHash !== hexArg(args, "offerHash")) {
          this.violate("consistency", `negotiation ${key}: acceptance of an offer that is not the latest`, event);
          return;
        }
        latest.acceptedBy.push(addr(args, "party"));
        return;
      }
      case "NegotiationAgreed": {
        negotiation.status = "agreed";
        const version = num(args, "version");
        negotiation.agreedVersion = version;
        const v = this.termsOf(agreementId, version);
        if (!v || v.unit === undefined) {
          this.violate("consistency", `negotiation ${key} agreed on version ${version}, which was not activated before`, event);
        } else if (v.termsHash !== hexArg(args, "termsHash")) {
          this.violate("consistency", `negotiation ${key} agreed on terms other than version ${version}'s`, event);
        }
        return;
      }
      case "NegotiationBroken":
        negotiation.status = "broken";
        return;
      case "NegotiationExpired":
        negotiation.status = "expired";
        return;
      default:
        negotiation.otherEvents.push({ eventName: name, ref: event });
    }
  }

  // ------------------------------------------------------------------ ledger

  private applyLedger(name: string, args: Args, event: EventRef): void {
    switch (name) {
      case "Settled":
        return this.onSettled(args, event);
      case "ReserveReleased":
        return this.onReserveReleased(args, event);
      case "ReserveRefunded":
        return this.onReserveRefunded(args, event);
      case "NestedShareReceived":
        return this.onNestedShareReceived(args, event);
      case "PartyCredited":
        return this.onPartyCredited(args, event);
      case "Withdrawn":
        return this.onWithdrawn(args, event);
      default:
        this.violate("consistency", `unknown ledger event ${name}`, event);
    }
  }

  private onSettled(args: Args, event: EventRef): void {
    const orderRef = hexArg(args, "orderRef");
    const agreementId = big(args, "agreementId");
    const payer = addr(args, "payer");
    const version = num(args, "version");
    const token = addr(args, "token");
    const gross = big(args, "gross");
    const referrer = addr(args, "referrer");
    const referralFee = big(args, "referralFee");
    const reserve = big(args, "reserve");
    const releaseAt = num(args, "releaseAt");
    const totals = this.totalsFor(token);

    // Value arrives first: the ledger now holds the gross, whatever the checks below find.
    totals.holdings += gross;

    if (orderRef === ZERO_ORDER_REF) this.violate("unique-order-reference", "settlement with a zero order reference", event, token);
    const settledBefore = this.settlements.has(orderRef);
    if (settledBefore) {
      this.violate("unique-order-reference", `order reference ${orderRef} settled twice`, event, token);
    }
    const agreement = this.agreements.get(agreementId);
    const v = agreement?.versions.get(version);
    if (!agreement || !v || v.unit === undefined) {
      this.violate("consistency", `settlement ${orderRef} names agreement ${agreementId} version ${version}, never activated`, event, token);
    } else if (agreement.status !== "active" || agreement.activeVersion !== version) {
      this.violate(
        "consistency",
        `settlement ${orderRef} under agreement ${agreementId} version ${version} while the agreement is ${agreement.status} at version ${agreement.activeVersion}`,
        event,
        token,
      );
    }

    const hasReferrer = referrer !== zeroAddress;
    // Single attribution: one referrer, never the payer, allowed by the version's policy.
    if (hasReferrer && sameAddress(referrer, payer)) {
      this.violate("single-attribution", `settlement ${orderRef}: payer ${payer} is its own referrer`, event, token, payer);
    }
    if (!hasReferrer && referralFee !== 0n) {
      this.violate("single-attribution", `settlement ${orderRef} pays a referral fee of ${referralFee} without a referrer`, event, token);
    }
    let distributable = 0n;
    let dust = 0n;
    if (v && v.unit !== undefined) {
      const terms = v.terms;
      if (hasReferrer) {
        if (terms.referrerPolicy === 0) {
          this.violate("single-attribution", `settlement ${orderRef}: version ${version} allows no referrer, ${referrer} was paid`, event, token, referrer);
        } else if (terms.referrerPolicy === 2 && !terms.referrers.some((r) => sameAddress(r, referrer))) {
          this.violate("single-attribution", `settlement ${orderRef}: referrer ${referrer} is not on version ${version}'s allowlist`, event, token, referrer);
        }
      }
      const split = splitPrepared(preparedSplitOf(terms), gross, hasReferrer);
      if (split.referralFee !== referralFee) {
        this.violate(
          referralFee > split.referralFee ? "single-attribution" : "exactness",
          `settlement ${orderRef}: referral fee ${referralFee}, the terms give ${split.referralFee}`,
          event,
          token,
          referrer,
        );
      }
      if (split.reserve !== reserve) {
        this.violate("exactness", `settlement ${orderRef}: reserve ${reserve}, the terms give ${split.reserve}`, event, token);
      }
      if (reserve === 0n ? releaseAt !== 0 : releaseAt === 0) {
        this.violate("consistency", `settlement ${orderRef}: reserve ${reserve} with release time ${releaseAt}`, event, token);
      }
      // The pool gets what remains once the event's own fee and reserve are taken, split by the unit.
      const net = gross - referralFee - reserve;
      if (net < 0n) {
        this.violate("exactness", `settlement ${orderRef}: fee ${referralFee} + reserve ${reserve} exceed gross ${gross}`, event, token);
      } else {
        ({ distributable, dust } = splitNet(net, v.unit));
        let credited = 0n;
        for (const credit of split.credits) credited += credit;
        if (referralFee + reserve + credited !== gross) {
          this.violate("exactness", `settlement ${orderRef}: fee + reserve + credits = ${referralFee + reserve + credited}, gross ${gross}`, event, token);
        }
      }
    } else {
      const net = gross - referralFee - reserve;
      distributable = net > 0n ? net : 0n; // keep conservation meaningful for an unknown version
    }

    if (referralFee !== 0n) this.credit(referrer, token, referralFee, event);
    const pool = this.poolFor(agreementId, version, token, v?.terms.parties.length ?? 0);
    pool.distributable += distributable;
    pool.dust += dust;
    totals.undistributed += distributable + dust;
    touch(pool.provenance, event);
    totals.heldReserves += reserve;
    if (!settledBefore) {
      this.settlements.set(orderRef, {
        orderRef,
        agreementId: agreement?.agreementId ?? agreementId, // the same value, one bigint for all its settlements
        version,
        token,
        payer,
        gross,
        referrer,
        referralFee,
        reserve,
        releaseAt,
        refunded: 0n,
        released: 0n,
        closed: reserve === 0n,
        events: [event],
      });
    }
    this.checkConservation(token, event);
  }

  private settlementFor(orderRef: Hex, args: Args, event: EventRef): SettlementState | undefined {
    const settlement = this.settlements.get(orderRef);
    const token = addr(args, "token");
    if (!settlement) {
      this.violate("consistency", `${event.eventName} for order reference ${orderRef}, never settled`, event, token);
      return undefined;
    }
    if (
      settlement.agreementId !== big(args, "agreementId") ||
      settlement.version !== num(args, "version") ||
      settlement.token.toLowerCase() !== token.toLowerCase()
    ) {
      this.violate("consistency", `${event.eventName} for ${orderRef} names another agreement, version or token than its settlement`, event, token);
    }
    if (settlement.closed) {
      this.violate("consistency", `${event.eventName} for ${orderRef}, whose reserve is closed`, event, token);
    }
    settlement.events.push(event);
    return settlement;
  }

  private onReserveReleased(args: Args, event: EventRef): void {
    const orderRef = hexArg(args, "orderRef");
    const token = addr(args, "token");
    const amount = big(args, "amount");
    const agreementId = big(args, "agreementId");
    const version = num(args, "version");
    const totals = this.totalsFor(token);
    const settlement = this.settlementFor(orderRef, args, event);
    if (settlement) {
      if (amount !== settlement.reserve) {
        this.violate("exactness", `release of ${orderRef} moved ${amount}; ${settlement.reserve} was held`, event, token);
      }
      settlement.reserve = 0n;
      settlement.released += amount;
      settlement.closed = true;
    }
    totals.heldReserves -= amount;
    this.creditPool(agreementId, version, token, amount, event);
    this.checkConservation(token, event);
  }

  private onReserveRefunded(args: Args, event: EventRef): void {
    const orderRef = hexArg(args, "orderRef");
    const token = addr(args, "token");
    const amount = big(args, "amount");
    const payer = addr(args, "payer");
    const remaining = big(args, "remainingReserve");
    const totals = this.totalsFor(token);
    const settlement = this.settlementFor(orderRef, args, event);
    if (settlement) {
      if (payer.toLowerCase() !== settlement.payer.toLowerCase()) {
        this.violate("consistency", `refund of ${orderRef} credited ${payer}, not its payer ${settlement.payer}`, event, token, payer);
      }
      if (amount > settlement.reserve || settlement.reserve - amount !== remaining) {
        this.violate("exactness", `refund of ${amount} from ${orderRef}: ${settlement.reserve} held, ${remaining} said to remain`, event, token);
      }
      settlement.reserve = remaining;
      settlement.refunded += amount;
      if (remaining === 0n) settlement.closed = true;
    }
    totals.heldReserves -= amount;
    this.credit(payer, token, amount, event);
    this.checkConservation(token, event);
  }

  private onNestedShareReceived(args: Args, event: EventRef): void {
    const childAgreementId = big(args, "agreementId");
    const version = num(args, "version");
    const token = addr(args, "token");
    const amount = big(args, "amount");
    const child = this.agreements.get(childAgreementId);
    if (child && child.activeVersion !== version) {
      this.violate("consistency", `nested share to agreement ${childAgreementId} version ${version}; version ${child.activeVersion} is in force`, event, token);
    }
    this.creditPool(childAgreementId, version, token, amount, event);
    // The parent's matching {PartyCredited} follows in the same transaction; conservation waits for it.
    this.pendingNested.push({ fromAgreementId: big(args, "fromAgreementId"), childAgreementId, token, amount, event });
  }

  private onPartyCredited(args: Args, event: EventRef): void {
    const agreementId = big(args, "agreementId");
    const version = num(args, "version");
    const token = addr(args, "token");
    const partyIndex = Number(big(args, "partyIndex"));
    const account = addr(args, "account");
    const childAgreementId = big(args, "childAgreementId");
    const amount = big(args, "amount");
    const totals = this.totalsFor(token);
    const v = this.termsOf(agreementId, version);
    const pool = this.pools.get(poolKey(agreementId, version, token));
    if (!v || !pool) {
      this.violate("consistency", `credit from agreement ${agreementId} version ${version} in ${token}, which has no pool`, event, token, account);
    } else {
      const party = v.terms.parties[partyIndex];
      if (!party) {
        this.violate("consistency", `credit to party ${partyIndex} of agreement ${agreementId} version ${version}, which has ${v.terms.parties.length}`, event, token, account);
      } else {
        if (party.account.toLowerCase() !== account.toLowerCase() || party.agreementId !== childAgreementId) {
          this.violate("consistency", `credit to party ${partyIndex} names ${account}/${childAgreementId}, the terms say ${party.account}/${party.agreementId}`, event, token, account);
        }
        const owed = owedFromPool(pool, v.terms, partyIndex);
        if (amount !== owed) {
          this.violate("exactness", `party ${partyIndex} of agreement ${agreementId} version ${version} credited ${amount}; entitled to ${owed}`, event, token, account);
        }
        pool.released[partyIndex] = (pool.released[partyIndex] ?? 0n) + amount;
      }
      touch(pool.provenance, event);
    }
    totals.undistributed -= amount;
    if (childAgreementId === 0n) {
      this.credit(account, token, amount, event);
    } else {
      const index = this.pendingNested.findIndex(
        (p) => p.fromAgreementId === agreementId && p.childAgreementId === childAgreementId && p.amount === amount && p.token.toLowerCase() === token.toLowerCase(),
      );
      if (index < 0) {
        this.violate("consistency", `credit of ${amount} to nested agreement ${childAgreementId} without its NestedShareReceived`, event, token);
      } else {
        this.pendingNested.splice(index, 1);
      }
    }
    if (this.pendingNested.length === 0) this.checkConservation(token, event);
  }

  private onWithdrawn(args: Args, event: EventRef): void {
    const account = addr(args, "account");
    const token = addr(args, "token");
    const amount = big(args, "amount");
    const totals = this.totalsFor(token);
    totals.holdings -= amount;
    this.credit(account, token, -amount, event);
    this.checkConservation(token, event);
  }

  // ------------------------------------------------------------------ helpers

  private flushPendingNested(): void {
    for (const pending of this.pendingNested) {
      this.violate("consistency", `nested share of ${pending.amount} from agreement ${pending.fromAgreementId} to ${pending.childAgreementId} without its PartyCredited`, pending.event, pending.token);
    }
    this.pendingNested = [];
  }

  private creditPool(agreementId: bigint, version: number, token: Address, amount: bigint, event: EventRef): void {
    const v = this.termsOf(agreementId, version);
    const totals = this.totalsFor(token);
    if (!v || v.unit === undefined) {
      this.violate("consistency", `${event.eventName} credits agreement ${agreementId} version ${version}, never activated`, event, token);
      const pool = this.poolFor(agreementId, version, token, 0);
      pool.distributable += amount;
      totals.undistributed += amount;
      touch(pool.provenance, event);
      return;
    }
    const { distributable, dust } = splitNet(amount, v.unit);
    const pool = this.poolFor(agreementId, version, token, v.terms.parties.length);
    pool.distributable += distributable;
    pool.dust += dust;
    totals.undistributed += amount;
    touch(pool.provenance, event);
  }

  private credit(account: Address, token: Address, amount: bigint, event: EventRef): void {
    let byAccount = this.balancesBySpelling.get(token);
    let entry = byAccount?.get(account);
    if (!entry) {
      const key = balanceKey(account, token);
      entry = this.balances.get(key);
      if (!entry) {
        entry = { account, token, amount: 0n, provenance: { count: 0, recent: [] } };
        this.balances.set(key, entry);
      }
      if (!byAccount) this.balancesBySpelling.set(token, (byAccount = new Map()));
      byAccount.set(account, entry);
    }
    entry.amount += amount;
    touch(entry.provenance, event);
    this.totalsFor(token).balances += amount;
    if (entry.amount < 0n) {
      this.violate("no-negative-balance", `balance of ${account} in ${token} is ${entry.amount}`, event, token, account);
    }
  }

  private poolFor(agreementId: bigint, version: number, token: Address, parties: number): PoolState {
    // Most events name a pool seen before, under the same token spelling: found without a key string.
    const byAgreement = this.poolsBySpelling.get(token)?.get(agreementId);
    const seen = byAgreement?.get(version);
    if (seen) return seen;
    const key = poolKey(agreementId, version, token);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = {
        agreementId,
        version,
        token,
        distributable: 0n,
        dust: 0n,
        released: new Array<bigint>(parties).fill(0n),
        provenance: { count: 0, recent: [] },
      };
      this.pools.set(key, pool);
    }
    let byToken = this.poolsBySpelling.get(token);
    if (!byToken) this.poolsBySpelling.set(token, (byToken = new Map()));
    let versions = byToken.get(agreementId);
    if (!versions) byToken.set(agreementId, (versions = new Map()));
    versions.set(version, pool);
    return pool;
  }

  private totalsFor(token: Address): TokenTotals & { token: Address } {
    // Tokens are few and every event names one: remember them under the spelling they came in.
    let totals = this.totalsBySpelling.get(token);
    if (totals) return totals;
    const key = token.toLowerCase();
    totals = this.totals.get(key);
    if (!totals) {
      totals = { token, holdings: 0n, balances: 0n, heldReserves: 0n, undistributed: 0n, provenance: { count: 0, recent: [] } };
      this.totals.set(key, totals);
    }
    this.totalsBySpelling.set(token, totals);
    return totals;
  }

  private checkConservation(token: Address, event: EventRef): void {
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

  private agreementFor(agreementId: bigint, event: EventRef): AgreementState | undefined {
    const agreement = this.agreements.get(agreementId);
    if (!agreement) this.violate("consistency", `${event.eventName} for agreement ${agreementId}, never proposed`, event);
    return agreement;
  }

  private versionFor(agreementId: bigint, version: number, event: EventRef): VersionState | undefined {
    const v = this.agreements.get(agreementId)?.versions.get(version);
    if (!v) this.violate("consistency", `${event.eventName} for agreement ${agreementId} version ${version}, never proposed`, event);
    return v;
  }

  private violate(law: Law, message: string, event: EventRef, token?: Address, account?: Address): void {
    const violation: Violation = { law, message, event };
    if (token) violation.token = token;
    if (account) violation.account = account;
    this.violations.push(violation);
  }
}
