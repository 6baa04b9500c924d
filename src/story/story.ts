/**
 * The whole Concord story, on any dev chain that can move time (the in-process Hardhat network, a
 * `hardhat node`, anvil): last season's history measures risk; the hotel's, the restaurant's and
 * the airline's agents negotiate an evening bundle on chain with reserves set by that risk and the
 * travel site as the merchant of record; the agreed terms become the active version; guest 1 pays
 * the travel site's signed intent in ETH, guest 2 another in a stable token with a permit; one
 * reserve is half refunded to the beneficiary the intent named, the lots are released after the
 * window; last season's agreements end and their final remainders go to the dust parties; everyone
 * withdraws; the auditor replays the history, reconciles it with the chain and prints each
 * partner's statement.
 *
 * Everything goes through the SDK, the negotiation driver and the auditor: these files only choose
 * the cast, the amounts and what to print, and check that the figures agree.
 */
import { erc20Abi, zeroAddress, type Address, type PublicClient } from "viem";
import type { AuditReport, VerifyResult } from "../audit";
import type { RunOnchainNegotiationReturnType } from "../negotiation";
import { settlementLedgerAbi, type ConcordAddresses, type Settlement, type Terms } from "../sdk";
import type { PartnerName, PartnerRisk } from "./agents";
import { auditStory } from "./auditStep";
import { negotiateBundle } from "./bundle";
import { StoryReconciliationError } from "./errors";
import { amount, table } from "./format";
import { payAndPayOut, type Payout } from "./payments";
import { lastSeason } from "./season";
import { ETH_UNIT, makeStage, type StoryCast } from "./stage";

export { StoryReconciliationError } from "./errors";
export type { Payout } from "./payments";
export type { StoryCast, StoryWallet } from "./stage";

export type RunStoryParameters = {
  publicClient: PublicClient;
  cast: StoryCast;
  /** A Concord deployment on the chain. */
  addresses: ConcordAddresses;
  /** An ERC-20 with EIP-2612 permit and an open `mint(address,uint256)` (contracts/mocks/MockERC20.sol). */
  stableToken: Address;
  /** First block the auditor replays (default 0: the whole chain). */
  fromBlock?: bigint;
  /** Seed of the agents' offer search (default 9). */
  seed?: number;
  /** Where the story is told (default: nowhere). */
  log?: (line: string) => void;
};

export type StoryResult = {
  lastSeason: { dinnerAndStay: bigint; flightAndStay: bigint };
  risks: Record<PartnerName, PartnerRisk>;
  negotiation: RunOnchainNegotiationReturnType;
  agreementId: bigint;
  version: number;
  terms: Terms;
  guest1: Settlement;
  guest2: Settlement;
  refunded: bigint;
  released: { lots: number; eth: bigint; stable: bigint };
  /** Final remainders of last season's pools, credited to their dust parties. */
  swept: { eth: bigint };
  /** Under one distribution unit per pool of the bundle, still in its pool (the bundle goes on). */
  remainders: { eth: bigint; stable: bigint };
  payouts: Payout[];
  paidIn: { eth: bigint; stable: bigint };
  audit: VerifyResult;
  statements: AuditReport;
  /** Every check of the last step that failed (empty when every wei is accounted for). */
  failures: string[];
};

/** Runs the story; returns every figure, or throws {@link StoryReconciliationError} when they do not reconcile. */
export async function runStory(parameters: RunStoryParameters): Promise<StoryResult> {
  const stage = await makeStage(parameters);
  const { publicClient, addresses, stableToken, stable, log } = stage;
  const holdings = async () => ({
    eth: await publicClient.getBalance({ address: addresses.ledger }),
    stable: await publicClient.readContract({ address: stableToken, abi: erc20Abi, functionName: "balanceOf", args: [addresses.ledger] }),
  });
  const holdingsBefore = await holdings();
  log(`chain ${stage.chainId}: AgreementRegistry ${addresses.registry}, SettlementLedger ${addresses.ledger}, ${stable.symbol} ${stableToken}`);
  log(table(["who", "account"], Object.values(parameters.cast).map((w) => [stage.nameOf(w.account.address), w.account.address])));

  const season = await lastSeason(stage);
  const bundle = await negotiateBundle(stage, season.risks, parameters.seed ?? 9);
  const failures: string[] = [];
  const paid = await payAndPayOut(stage, season, bundle, failures);

  // What stays in the ledger: each bundle pool's part below one distribution unit.
  const poolOf = (token: Address) =>
    publicClient.readContract({ address: addresses.ledger, abi: settlementLedgerAbi, functionName: "pool", args: [bundle.agreementId, bundle.version, token] });
  const [ethPool, stablePool] = await Promise.all([poolOf(zeroAddress), poolOf(stableToken)]);
  const remainders = { eth: ethPool.total - ethPool.distributed, stable: stablePool.total - stablePool.distributed };
  const paidOut = { eth: paid.payouts.reduce((s, p) => s + p.eth, 0n), stable: paid.payouts.reduce((s, p) => s + p.stable, 0n) };
  const eth = (v: bigint) => amount(v, ETH_UNIT);
  const usd = (v: bigint) => amount(v, stable);
  log("Who got what (withdrawn to their own accounts):");
  log(
    table(
      ["who", "ETH", stable.symbol],
      [
        ...paid.payouts.map((p) => [p.name, eth(p.eth), usd(p.stable)]),
        ["total paid out", eth(paidOut.eth), usd(paidOut.stable)],
        ["left in the bundle's pools (under one unit each)", eth(remainders.eth), usd(remainders.stable)],
        ["total paid in", eth(paid.paidIn.eth), usd(paid.paidIn.stable)],
      ],
    ),
  );
  const holdingsAfter = await holdings();
  if (paidOut.eth + remainders.eth !== paid.paidIn.eth) failures.push(`paid in ${paid.paidIn.eth} wei of ETH; paid out ${paidOut.eth} and ${remainders.eth} left in the pool`);
  if (paidOut.stable + remainders.stable !== paid.paidIn.stable) failures.push(`paid in ${paid.paidIn.stable} ${stable.symbol} units; paid out ${paidOut.stable} and ${remainders.stable} left in the pool`);
  if (holdingsAfter.eth !== holdingsBefore.eth + remainders.eth) failures.push(`the ledger held ${holdingsBefore.eth} wei before the story and ${holdingsAfter.eth} after, not the ${remainders.eth} left in the pool more`);
  if (holdingsAfter.stable !== holdingsBefore.stable + remainders.stable) failures.push(`the ledger held ${holdingsBefore.stable} ${stable.symbol} units before the story and ${holdingsAfter.stable} after`);

  const labels = new Map([
    [season.dinnerAndStay, "last season dinner & stay"],
    [season.flightAndStay, "last season flight & stay"],
    [bundle.agreementId, "evening bundle"],
  ]);
  const { audit, statements } = await auditStory(stage, labels, paid.payouts, parameters.fromBlock ?? 0n, failures);

  const result: StoryResult = {
    lastSeason: { dinnerAndStay: season.dinnerAndStay, flightAndStay: season.flightAndStay },
    risks: season.risks,
    negotiation: bundle.negotiation,
    agreementId: bundle.agreementId,
    version: bundle.version,
    terms: bundle.terms,
    guest1: paid.guest1,
    guest2: paid.guest2,
    refunded: paid.refunded,
    released: paid.released,
    swept: paid.swept,
    remainders,
    payouts: paid.payouts,
    paidIn: paid.paidIn,
    audit,
    statements,
    failures,
  };
  if (failures.length > 0) {
    log(`\nRECONCILIATION FAILED (${failures.length}):\n  - ${failures.join("\n  - ")}`);
    throw new StoryReconciliationError(failures);
  }
  log(
    `\nEvery wei is accounted for: ${eth(paid.paidIn.eth)} and ${usd(paid.paidIn.stable)} paid in; the same paid out to the partners, the travel site, ` +
      `the refunded guest and the dust parties, but for ${eth(remainders.eth)} and ${usd(remainders.stable)} still in the bundle's pools; ` +
      `the auditor's replay matches the chain with 0 differences.`,
  );
  return result;
}
