/**
 * Step 9 of the story: the auditor replays every event from the chain, rebuilds every balance,
 * reconciles with the chain's state and prints each partner's statement; the story checks that
 * its own figures agree with the auditor's.
 */
import { zeroAddress, type Address } from "viem";
import { report as auditReport, verify, type AuditReport, type VerifyResult } from "../audit";
import { amount, heading, table } from "./format";
import type { Payout } from "./payments";
import type { StoryStage } from "./stage";

export type AuditStep = { audit: VerifyResult; statements: AuditReport };

export async function auditStory(
  stage: StoryStage,
  labels: ReadonlyMap<bigint, string>,
  payouts: readonly Payout[],
  fromBlock: bigint,
  failures: string[],
): Promise<AuditStep> {
  const { log, cast, stableToken, publicClient, addresses } = stage;
  log(heading(9, "The auditor replays every event, rebuilds every balance and reconciles with the chain"));
  const auditParameters = { client: publicClient, ledger: addresses.ledger, fromBlock, dataDir: null };
  const audit = await verify(auditParameters);
  const state = audit.sync.state;
  const { checked } = audit.reconcile;
  log(
    `replayed ${audit.sync.newEvents} events up to block ${audit.sync.toBlock}; reconciled at that block ${checked.balances} balances, ` +
      `${checked.lots} reserve lots, ${checked.pools} pools, ${checked.paidUpTo} claims, ${checked.orderBitmaps} order-reference words, ${checked.risk} risk counters, ${checked.holdings} token holdings: ${audit.differences.length} differences, ${audit.violations.length} law violations`,
  );
  for (const totals of state.totals.values()) {
    const unit = stage.unitOf(totals.token);
    const sum = totals.balances + totals.heldReserves + totals.undistributed;
    log(
      `conservation in ${unit.symbol}: the ledger holds ${amount(totals.holdings, unit)} = balances ${amount(totals.balances, unit)} + reserves ${amount(totals.heldReserves, unit)} + undistributed ${amount(totals.undistributed, unit)}`,
    );
    if (sum !== totals.holdings) failures.push(`the replay's ${unit.symbol} holdings ${totals.holdings} differ from balances + reserves + undistributed ${sum}`);
  }
  for (const d of audit.differences) failures.push(`auditor difference (${d.kind}): ${d.message}`);
  for (const v of audit.violations) failures.push(`auditor found a violation of ${v.law}: ${v.message}`);

  const partners: Address[] = [cast.hotel, cast.restaurant, cast.airline, cast.travelSite].map((w) => w.account.address);
  const statements = await auditReport({ ...auditParameters, partners });
  for (const partner of statements.partners) {
    log(`\nStatement of the ${stage.nameOf(partner.partner)} (${partner.partner}), blocks ${statements.fromBlock}-${statements.toBlock}:`);
    const tokens = [...partner.tokens.keys()].sort((a, b) => (a === zeroAddress ? -1 : b === zeroAddress ? 1 : 0));
    const rows = new Map<string, { rank: number; cells: string[] }>();
    const put = (rank: number, item: string, token: Address, value: bigint) => {
      if (value === 0n) return;
      const row = rows.get(item) ?? { rank, cells: tokens.map(() => "-") };
      row.cells[tokens.indexOf(token)] = amount(value, stage.unitOf(token));
      rows.set(item, row);
    };
    for (const [token, t] of partner.tokens) {
      for (const [id, earned] of t.earnedByAgreement) put(Number(id), `earned, #${id} ${labels.get(id) ?? ""}`.trim(), token, earned);
      put(1e6, "its share of released reserves (in earned)", token, t.reservesReleased);
      put(1e6 + 1, "its share of reserves refunded to beneficiaries", token, t.refundsIssued);
      put(1e6 + 2, "its share of reserves still held", token, t.reservesHeld);
      put(1e6 + 3, "referral fees", token, t.referralFees);
      put(1e6 + 4, "withdrawn", token, t.withdrawn);
    }
    const ordered = [...rows].sort((x, y) => x[1].rank - y[1].rank);
    log(table(["item", ...tokens.map((t) => stage.unitOf(t).symbol)], ordered.map(([item, row]) => [item, ...row.cells])));
    const payout = payouts.find((p) => p.account === partner.partner);
    const stated = {
      eth: partner.tokens.get(zeroAddress)?.withdrawn ?? 0n,
      stable: [...partner.tokens].find(([token]) => token.toLowerCase() === stableToken.toLowerCase())?.[1].withdrawn ?? 0n,
    };
    // On a fresh chain the statement's withdrawals are the story's; a reused node adds earlier runs.
    if (payout && (stated.eth < payout.eth || stated.stable < payout.stable)) {
      failures.push(`the auditor states ${stage.nameOf(partner.partner)} withdrew ${stated.eth} wei and ${stated.stable} units; the story saw ${payout.eth} and ${payout.stable}`);
    }
  }
  return { audit, statements };
}
