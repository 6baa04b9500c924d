/**
 * Per-partner statements for a period (a block range, or a time range resolved to blocks):
 * earned by agreement, still to claim from pools, referral fees, reserves held and released,
 * refunds and withdrawals.
 * Built by replaying the stored events, so figures are exactly what the events say.
 */
import { getAddress, zeroAddress, type Address, type Hex } from "viem";
import { claimCredit, distributable, partyShare } from "../sdk/split";
import type { Terms } from "../sdk/terms";
import { ConcordLogDecoder, rawRequest } from "./fetch";
import { FlowRecorder, type Flow } from "./flows";
import { loadLotEntries, takeLotWrites } from "./lot-entries";
import { takeOrderRefs } from "./order-refs";
import { ReplayState } from "./replay";
import type { RpcClient } from "./types";
import { AuditStore, defaultDataDir, toJson } from "./store";
import { sync, type AuditParameters, type SyncResult } from "./sync";

export type ReportPeriod = { fromBlock?: bigint; toBlock?: bigint; fromTime?: bigint; toTime?: bigint };

/** One partner's figures in one token. */
export type TokenStatement = {
  /** Credited from pools, by agreement id (decimal string key). */
  earnedByAgreement: Map<bigint, bigint>;
  /** Owed from pools at the end of the period, not yet claimed or distributed, by agreement id. */
  toClaimByAgreement: Map<bigint, bigint>;
  referralFees: bigint;
  /** The partner's share of reserves still held at the end of the period. */
  reservesHeld: bigint;
  /** The partner's share of reserves released during the period. */
  reservesReleased: bigint;
  /** The partner's share of reserves refunded to beneficiaries during the period. */
  refundsIssued: bigint;
  /** Refunds credited to the partner as a refund beneficiary. */
  refundsReceived: bigint;
  withdrawn: bigint;
};

export type PartnerStatement = { partner: Address; tokens: Map<Address, TokenStatement> };

export type AuditReport = {
  fromBlock: bigint;
  toBlock: bigint;
  partners: PartnerStatement[];
  /** The period's flows of value ({FlowRecorder}), when asked for with `flows: true`. */
  flows?: Flow[];
};

export type StatementRow = {
  partner: Address;
  token: Address;
  item: "earned" | "to-claim" | "referral-fees" | "reserves-held" | "reserves-released" | "refunds-issued" | "refunds-received" | "withdrawn";
  agreementId: bigint | null;
  amount: bigint;
};

const emptyStatement = (): TokenStatement => ({
  earnedByAgreement: new Map(),
  toClaimByAgreement: new Map(),
  referralFees: 0n,
  reservesHeld: 0n,
  reservesReleased: 0n,
  refundsIssued: 0n,
  refundsReceived: 0n,
  withdrawn: 0n,
});

/** What one account party's share of `amount`'s whole units in the pool of `terms` is. */
function shareOf(terms: Terms, unit: bigint, partner: Address, amount: bigint): bigint {
  let total = 0n;
  for (const party of terms.parties) {
    if (party.agreementId === 0n && party.account === partner) total += partyShare(distributable(amount, unit), party.shareBps);
  }
  return total;
}

/** The first block whose timestamp is at least `time` (binary search over headers). */
export async function blockAtOrAfter(client: RpcClient, time: bigint, low: bigint, high: bigint): Promise<bigint> {
  const request = rawRequest(client);
  const timestamp = async (n: bigint) =>
    BigInt(((await request({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] })) as { timestamp: Hex }).timestamp);
  while (low < high) {
    const mid = (low + high) / 2n;
    if ((await timestamp(mid)) < time) low = mid + 1n;
    else high = mid;
  }
  return low;
}

/**
 * Builds per-partner statements from the stored events in a period (after syncing the store
 * unless `sync: false`).
 *
 * @example
 * const report = await auditReport({ client, ledger, period: { fromBlock: 100n } });
 * console.log(reportToCsv(report));
 */
export async function auditReport(
  parameters: AuditParameters & { period?: ReportPeriod; partners?: readonly Address[]; sync?: boolean; flows?: boolean },
): Promise<AuditReport & { synced?: SyncResult }> {
  // An in-memory store must stay open between the sync and the statement.
  const given = parameters.store ?? (parameters.dataDir === null && !parameters.databaseUrl ? await AuditStore.open(undefined) : undefined);
  const synced = parameters.sync === false ? undefined : await sync({ ...parameters, store: given });
  let dataDir = synced?.dataDir ?? parameters.dataDir ?? undefined;
  if (!given && !dataDir && !parameters.databaseUrl) {
    const chainId = BigInt((await rawRequest(parameters.client)({ method: "eth_chainId" })) as Hex);
    dataDir = defaultDataDir(chainId, parameters.ledger);
  }
  const store = given ?? (parameters.databaseUrl ? await AuditStore.connect(parameters.databaseUrl) : await AuditStore.open(dataDir));
  try {
    const meta = await store.meta();
    const cursor = await store.cursor();
    if (!meta || !cursor) throw new Error(`store ${store.location} holds no synced history: run sync first`);
    const period = parameters.period ?? {};
    let fromBlock = period.fromBlock ?? meta.startBlock;
    let toBlock = period.toBlock ?? cursor.blockNumber;
    if (period.fromTime !== undefined) fromBlock = await blockAtOrAfter(parameters.client, period.fromTime, meta.startBlock, cursor.blockNumber + 1n);
    if (period.toTime !== undefined) toBlock = (await blockAtOrAfter(parameters.client, period.toTime + 1n, meta.startBlock, cursor.blockNumber + 1n)) - 1n;
    if (toBlock > cursor.blockNumber) toBlock = cursor.blockNumber;

    const wanted = parameters.partners ? new Set(parameters.partners.map((p) => getAddress(p))) : undefined;
    const partners = new Map<string, PartnerStatement>();
    const statement = (partner: Address, token: Address): TokenStatement | undefined => {
      const key = partner;
      if (partner === zeroAddress || (wanted && !wanted.has(key))) return undefined;
      let p = partners.get(key);
      if (!p) {
        p = { partner, tokens: new Map() };
        partners.set(key, p);
      }
      let t = p.tokens.get(token);
      if (!t) {
        t = emptyStatement();
        p.tokens.set(token, t);
      }
      return t;
    };
    const eachAccountParty = (state: ReplayState, agreementId: bigint, version: number, token: Address, amount: bigint, apply: (t: TokenStatement, share: bigint) => void) => {
      const v = state.termsOf(agreementId, version);
      if (!v || v.unit === undefined) return;
      for (const party of v.terms.parties) {
        if (party.agreementId !== 0n) continue;
        const t = statement(party.account, token);
        if (t) apply(t, shareOf(v.terms, v.unit, party.account, amount));
      }
    };

    // Lot entries and order references stay in the store, as in a sync (which checked them): memory
    // does not grow with the settlements.
    const state = new ReplayState();
    state.lotWrites = { entries: [], refunds: [] };
    state.orderRefWrites = [];
    const recorder = parameters.flows ? new FlowRecorder(wanted) : undefined;
    const decoder = new ConcordLogDecoder(meta.addresses);
    for await (const page of store.events(decoder, { toBlock })) {
      await loadLotEntries(store.db, state, page);
      for (const log of page) {
        // Refunds are read from the lot before the event empties it.
        const refunded = log.eventName === "ReserveRefunded" ? state.lots.get(log.args.lotId as bigint) : undefined;
        recorder?.before(log, state);
        state.apply(log);
        recorder?.after(log, state, log.blockNumber >= fromBlock);
        if (log.blockNumber < fromBlock || log.contract !== "ledger") continue;
        for (const credit of state.lastCredits) {
          const t = statement(credit.account, credit.token);
          if (!t) continue;
          if (credit.kind === "referral-fee") t.referralFees += credit.amount;
          else if (credit.kind === "refund") t.refundsReceived += credit.amount;
          else if (credit.agreementId !== undefined) t.earnedByAgreement.set(credit.agreementId, (t.earnedByAgreement.get(credit.agreementId) ?? 0n) + credit.amount);
        }
        const a = log.args;
        if (log.eventName === "ReserveReleased") {
          eachAccountParty(state, a.agreementId as bigint, Number(a.version), a.token as Address, a.amount as bigint, (t, share) => (t.reservesReleased += share));
        } else if (refunded) {
          eachAccountParty(state, refunded.agreementId, refunded.version, refunded.token, a.amount as bigint, (t, share) => (t.refundsIssued += share));
        } else if (log.eventName === "Withdrawn") {
          const t = statement(a.account as Address, a.token as Address);
          if (t) t.withdrawn += a.amount as bigint;
        }
      }
      takeLotWrites(state);
      takeOrderRefs(state);
      state.dropLotEntries();
    }
    state.finish();
    for (const pool of state.pools.values()) {
      const v = state.termsOf(pool.agreementId, pool.version);
      if (!v || v.unit === undefined) continue;
      const unit = v.unit;
      v.terms.parties.forEach((party, index) => {
        if (party.agreementId !== 0n) return; // a nested agreement's share is its own parties' to claim
        const owed = claimCredit(pool, unit, party.shareBps, pool.paidUpTo[index] ?? 0n).amount;
        const t = owed > 0n ? statement(party.account, pool.token) : undefined;
        if (t) t.toClaimByAgreement.set(pool.agreementId, (t.toClaimByAgreement.get(pool.agreementId) ?? 0n) + owed);
      });
    }
    for (const lot of state.lots.values()) {
      if (lot.open) eachAccountParty(state, lot.agreementId, lot.version, lot.token, lot.held, (t, share) => (t.reservesHeld += share));
    }
    const result: AuditReport & { synced?: SyncResult } = {
      fromBlock,
      toBlock,
      partners: [...partners.values()].sort((x, y) => (x.partner.toLowerCase() < y.partner.toLowerCase() ? -1 : 1)),
    };
    if (synced) result.synced = synced;
    if (recorder) {
      recorder.finish(state);
      result.flows = recorder.flows();
    }
    return result;
  } finally {
    if (!parameters.store) await store.close();
  }
}

/** The report as table rows (one per partner, token, item and agreement; zero items left out). */
export function statementRows(report: AuditReport): StatementRow[] {
  const rows: StatementRow[] = [];
  for (const p of report.partners) {
    for (const [token, t] of p.tokens) {
      const push = (item: StatementRow["item"], amount: bigint, agreementId: bigint | null = null) => {
        if (amount !== 0n) rows.push({ partner: p.partner, token, item, agreementId, amount });
      };
      const byId = (m: Map<bigint, bigint>) => [...m].sort((x, y) => (x[0] < y[0] ? -1 : 1));
      for (const [id, amount] of byId(t.earnedByAgreement)) push("earned", amount, id);
      for (const [id, amount] of byId(t.toClaimByAgreement)) push("to-claim", amount, id);
      push("referral-fees", t.referralFees);
      push("reserves-held", t.reservesHeld);
      push("reserves-released", t.reservesReleased);
      push("refunds-issued", t.refundsIssued);
      push("refunds-received", t.refundsReceived);
      push("withdrawn", t.withdrawn);
    }
  }
  return rows;
}

/** The report as JSON, amounts as decimal strings. */
export function reportToJson(report: AuditReport): string {
  return toJson({
    fromBlock: report.fromBlock,
    toBlock: report.toBlock,
    partners: report.partners.map((p) => ({
      partner: p.partner,
      tokens: [...p.tokens].map(([token, t]) => ({
        token,
        earnedByAgreement: Object.fromEntries([...t.earnedByAgreement].map(([id, amount]) => [id.toString(), amount.toString()])),
        toClaimByAgreement: Object.fromEntries([...t.toClaimByAgreement].map(([id, amount]) => [id.toString(), amount.toString()])),
        referralFees: t.referralFees,
        reservesHeld: t.reservesHeld,
        reservesReleased: t.reservesReleased,
        refundsIssued: t.refundsIssued,
        refundsReceived: t.refundsReceived,
        withdrawn: t.withdrawn,
      })),
    })),
  });
}

/** The report as CSV: partner,token,item,agreement,amount. */
export function reportToCsv(report: AuditReport): string {
  const lines = ["partner,token,item,agreement,amount"];
  for (const r of statementRows(report)) lines.push([r.partner, r.token, r.item, r.agreementId?.toString() ?? "", r.amount.toString()].join(","));
  return `${lines.join("\n")}\n`;
}
