/**
 * The period's flows of value, per token, for the statements' picture (`audit report --html`):
 * payers → agreements (the gross settled), agreements → referrers (referral fees), → account
 * parties (credited from pools, and still to claim at the end), → nested agreements (a nested
 * party's share into its pinned child's pool), → refund beneficiaries (refunds), and → the
 * reserves still held at the end. Recorded while {auditReport} replays the stored events, from
 * the same replay, so every amount is one the events say.
 */
import type { Address } from "viem";
import { zeroAddress } from "viem";
import { claimCredit } from "../sdk/split";
import type { ReplayState } from "./replay";
import type { ConcordLog } from "./types";

/** What a flow moved: a settlement's gross, a referral fee, a party's credit, value still owed or held. */
export type FlowKind = "paid" | "referral-fee" | "earned" | "to-claim" | "nested" | "refund" | "reserve-held";

/** A node of the picture: `payer:<address>`, `agreement:<id>`, `partner:<address>` or `reserves`. */
export type FlowNodeId = `payer:${Address}` | `agreement:${bigint}` | `partner:${Address}` | "reserves";

/** The sum of one kind of movement from one node to another in one token during the period. */
export type Flow = { token: Address; kind: FlowKind; from: FlowNodeId; to: FlowNodeId; amount: bigint };

export const payerNode = (account: Address): FlowNodeId => `payer:${account}`;
export const agreementNode = (agreementId: bigint): FlowNodeId => `agreement:${agreementId}`;
export const partnerNode = (account: Address): FlowNodeId => `partner:${account}`;

/**
 * Collects flows as the replay applies events. Call {before} and {after} around each
 * `state.apply(log)`, then {finish} once after `state.finish()`.
 */
export class FlowRecorder {
  private readonly sums = new Map<string, Flow>();
  /** Per-party receipts of the pool the current event pays from, before it was applied. */
  private receivedBefore: bigint[] | undefined;

  /** @param wanted Only flows to these partners (as {auditReport}'s `partners`), or all. */
  constructor(private readonly wanted?: ReadonlySet<Address>) {}

  private add(token: Address, kind: FlowKind, from: FlowNodeId, to: FlowNodeId, amount: bigint): void {
    if (amount === 0n) return;
    if (to.startsWith("partner:")) {
      const account = to.slice("partner:".length) as Address;
      if (account === zeroAddress || (this.wanted && !this.wanted.has(account))) return;
    }
    const key = `${token}|${kind}|${from}|${to}`;
    const flow = this.sums.get(key);
    if (flow) flow.amount += amount;
    else this.sums.set(key, { token, kind, from, to, amount });
  }

  before(log: ConcordLog, state: ReplayState): void {
    this.receivedBefore = undefined;
    if (log.contract !== "ledger" || (log.eventName !== "Distributed" && log.eventName !== "Claimed")) return;
    const a = log.args;
    this.receivedBefore = [...(state.pool(a.agreementId as bigint, a.version as number, a.token as Address)?.received ?? [])];
  }

  /** Records what `log` moved; `inPeriod` false for events before the period (applied, not shown). */
  after(log: ConcordLog, state: ReplayState, inPeriod: boolean): void {
    if (!inPeriod || log.contract !== "ledger") return;
    const a = log.args;
    if (log.eventName === "Settled") this.add(a.token as Address, "paid", payerNode(a.payer as Address), agreementNode(a.agreementId as bigint), a.gross as bigint);
    for (const credit of state.lastCredits) {
      if (credit.agreementId === undefined) continue;
      const kind: FlowKind = credit.kind === "referral-fee" ? "referral-fee" : credit.kind === "refund" ? "refund" : "earned";
      this.add(credit.token, kind, agreementNode(credit.agreementId), partnerNode(credit.account), credit.amount);
    }
    // A nested party's share goes into its child's pool, which credits no balance: read it from the pool's receipts.
    const agreementId = a.agreementId as bigint;
    const version = a.version as number;
    const token = a.token as Address;
    const parties = state.termsOf(agreementId, version)?.terms.parties ?? [];
    if (this.receivedBefore) {
      const received = state.pool(agreementId, version, token)?.received ?? [];
      parties.forEach((party, i) => {
        if (party.agreementId !== 0n) this.add(token, "nested", agreementNode(agreementId), agreementNode(party.agreementId), (received[i] ?? 0n) - (this.receivedBefore![i] ?? 0n));
      });
    } else if (log.eventName === "RemainderSwept") {
      const dust = parties[Number(a.partyIndex)];
      if (dust && dust.agreementId !== 0n) this.add(token, "nested", agreementNode(agreementId), agreementNode(dust.agreementId), a.amount as bigint);
    }
  }

  /** Adds what is still owed from pools and held in reserve at the end of the period. */
  finish(state: ReplayState): void {
    for (const pool of state.pools.values()) {
      const v = state.termsOf(pool.agreementId, pool.version);
      if (!v || v.unit === undefined) continue;
      const unit = v.unit;
      v.terms.parties.forEach((party, index) => {
        const owed = claimCredit(pool, unit, party.shareBps, pool.paidUpTo[index] ?? 0n).amount;
        const to = party.agreementId === 0n ? partnerNode(party.account) : agreementNode(party.agreementId);
        this.add(pool.token, "to-claim", agreementNode(pool.agreementId), to, owed);
      });
    }
    for (const lot of state.lots.values()) {
      if (lot.open) this.add(lot.token, "reserve-held", agreementNode(lot.agreementId), "reserves", lot.held);
    }
  }

  /** The flows, in a stable order: by token, then kind, then source and target. */
  flows(): Flow[] {
    const key = (f: Flow) => `${f.token}|${f.kind}|${f.from}|${f.to}`;
    return [...this.sums.values()].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  }
}
