/**
 * The whole Concord story (issue 9), on any dev chain that can move time (the in-process Hardhat
 * network, a `hardhat node`, anvil): last season's history measures risk; the hotel's, the
 * restaurant's and the airline's agents negotiate an evening bundle on chain with reserves set by
 * that risk; the agreed terms become the active version; guest 1 pays in ETH through the travel
 * site, guest 2 in a stable token with a permit; one order is refunded from its reserve, the other
 * reserves are released after the window; everyone withdraws; the auditor replays the history,
 * reconciles it with the chain and prints each partner's statement.
 *
 * Everything goes through the SDK, the negotiation driver and the auditor: this file only chooses
 * the cast, the amounts and what to print, and checks that the figures agree.
 */
import {
  erc20Abi,
  keccak256,
  parseAbi,
  parseEther,
  parseUnits,
  stringToHex,
  zeroAddress,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { report as auditReport, verify, type AuditReport, type VerifyResult } from "../audit";
import {
  formatRound,
  describeOutcome,
  measuredRisk,
  negotiationHubOf,
  roundHeader,
  runOnchainNegotiation,
  type Membership,
  type RunOnchainNegotiationReturnType,
} from "../negotiation";
import {
  activateAgreement,
  buildTerms,
  createConcordContext,
  distribute,
  getAgreement,
  getBalance,
  getRiskCounters,
  getSettlementRecord,
  getVersion,
  hashTerms,
  makeOrderRef,
  proposeAgreement,
  quoteSettlement,
  randomSalt,
  refund,
  releaseReserve,
  settle,
  settleWithPermit,
  signConsent,
  withdraw,
  type ConcordAddresses,
  type ConcordContext,
  type SettledEvent,
  type Terms,
} from "../sdk";
import { bundleAgents, type PartnerName, type PartnerRisk } from "./agents";
import { amount, heading, percent, table, type TokenUnit } from "./format";

export type StoryWallet = WalletClient<Transport, Chain | undefined, Account>;

/** The accounts of the story. */
export type StoryCast = {
  hotel: StoryWallet;
  restaurant: StoryWallet;
  airline: StoryWallet;
  /** The travel site: a referrer, not a party. */
  travelSite: StoryWallet;
  /** Found the bundle through the travel site; pays in ETH. */
  guest1: StoryWallet;
  /** Pays in the stable token with a permit, no referrer. */
  guest2: StoryWallet;
  /** Last season's guests, whose orders make the history that risk is measured on. */
  earlierGuests: StoryWallet;
};

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

/** One account's withdrawals in the story, per token. */
export type Payout = { name: string; account: Address; eth: bigint; stable: bigint };

export type StoryResult = {
  lastSeason: { dinnerAndStay: bigint; flightAndStay: bigint };
  risks: Record<PartnerName, PartnerRisk>;
  negotiation: RunOnchainNegotiationReturnType;
  agreementId: bigint;
  version: number;
  terms: Terms;
  guest1: SettledEvent;
  guest2: SettledEvent;
  refunded: bigint;
  released: { orders: number; eth: bigint; stable: bigint };
  payouts: Payout[];
  paidIn: { eth: bigint; stable: bigint };
  audit: VerifyResult;
  statements: AuditReport;
  /** Every check of the last step that failed (empty when every wei is accounted for). */
  failures: string[];
};

/** Thrown at the end when any figure does not reconcile; `failures` names each one. */
export class StoryReconciliationError extends Error {
  constructor(readonly failures: readonly string[]) {
    super(`the story does not reconcile:\n  - ${failures.join("\n  - ")}`);
    this.name = "StoryReconciliationError";
  }
}

const DAY = 86_400;
const ETH_UNIT: TokenUnit = { symbol: "ETH", decimals: 18 };
const mintAbi = parseAbi(["function mint(address to, uint256 amount)"]);
const documentHash = (text: string): Hex => keccak256(stringToHex(`concord-demo: ${text}`));

/** Runs the story; returns every figure, or throws {@link StoryReconciliationError} when they do not reconcile. */
export async function runStory(parameters: RunStoryParameters): Promise<StoryResult> {
  const { publicClient, cast, addresses, stableToken } = parameters;
  const log = parameters.log ?? (() => undefined);
  const chainId = await publicClient.getChainId();
  const contexts = new Map<StoryWallet, ConcordContext>();
  const as = async (wallet: StoryWallet): Promise<ConcordContext> => {
    let context = contexts.get(wallet);
    if (!context) {
      context = await createConcordContext({ publicClient, walletClient: wallet, addresses, chainId });
      contexts.set(wallet, context);
    }
    return context;
  };
  const address = (wallet: StoryWallet): Address => wallet.account.address;
  const hotel = address(cast.hotel);
  const restaurant = address(cast.restaurant);
  const airline = address(cast.airline);
  const travelSite = address(cast.travelSite);
  const names = new Map<string, string>([
    [hotel, "hotel"],
    [restaurant, "restaurant"],
    [airline, "airline"],
    [travelSite, "travel site"],
    [address(cast.guest1), "guest 1"],
    [address(cast.guest2), "guest 2"],
    [address(cast.earlierGuests), "earlier guests"],
  ]);
  const nameOf = (a: Address) => names.get(a) ?? a;
  const stable: TokenUnit = {
    symbol: await publicClient.readContract({ address: stableToken, abi: erc20Abi, functionName: "symbol" }),
    decimals: await publicClient.readContract({ address: stableToken, abi: erc20Abi, functionName: "decimals" }),
  };
  const eth = (v: bigint) => amount(v, ETH_UNIT);
  const usd = (v: bigint) => amount(v, stable);
  const unitOf = (token: Address) => (token === zeroAddress ? ETH_UNIT : stable);
  const increaseTime = async (seconds: number) => {
    await publicClient.request({ method: "evm_increaseTime", params: [seconds] } as never);
    await publicClient.request({ method: "evm_mine", params: [] } as never);
  };
  const ledgerHoldings = async () => ({
    eth: await publicClient.getBalance({ address: addresses.ledger }),
    stable: await publicClient.readContract({ address: stableToken, abi: erc20Abi, functionName: "balanceOf", args: [addresses.ledger] }),
  });
  const holdingsBefore = await ledgerHoldings();
  const orders: Hex[] = [];
  const paidIn = { eth: 0n, stable: 0n };

  log(`chain ${chainId}: AgreementRegistry ${addresses.registry}, SettlementLedger ${addresses.ledger}, ${stable.symbol} ${stableToken}`);
  log(table(["who", "account"], [...names].map(([a, n]) => [n, a])));

  // ------------------------------------------------------------------ 1. last season: measured risk
  log(heading(1, "Last season: the ledger's own history measures each partner's refund risk"));
  const activate = async (proposer: StoryWallet, signers: StoryWallet[], terms: Terms): Promise<bigint> => {
    const { agreementId } = await proposeAgreement(await as(proposer), { terms });
    const signatures = await Promise.all(signers.map(async (s) => signConsent(await as(s), { agreementId, version: 1, terms })));
    await activateAgreement(await as(proposer), { agreementId, terms, signatures });
    return agreementId;
  };
  const pastSeason = async (label: string, terms: Terms, gross: bigint, refundedOrders: number[], refundDesk: StoryWallet) => {
    const id = await activate(refundDesk, terms.parties.map((p) => [cast.hotel, cast.restaurant, cast.airline].find((w) => address(w) === p.account)!), terms);
    for (let i = 0; i < 8; i++) {
      const orderRef = makeOrderRef({ orderId: `${label}-${i + 1}`, salt: randomSalt() });
      const { settled } = await settle(await as(cast.earlierGuests), { agreementId: id, gross, orderRef });
      orders.push(orderRef);
      paidIn.eth += gross;
      if (refundedOrders.includes(i)) await refund(await as(refundDesk), { orderRef, amount: settled.reserve });
    }
    return id;
  };
  const dinnerAndStay = await pastSeason(
    "LS-DINNER",
    buildTerms({
      parties: [{ account: hotel, shareBps: 6_000 }, { account: restaurant, shareBps: 4_000 }],
      reserveBps: 1_000,
      disputeWindow: 3 * DAY,
      refundAuthority: hotel,
      documentHash: documentHash("last season, dinner and stay"),
    }),
    parseEther("0.2"),
    [],
    cast.hotel,
  );
  const flightAndStay = await pastSeason(
    "LS-FLIGHT",
    buildTerms({
      parties: [{ account: hotel, shareBps: 5_000 }, { account: airline, shareBps: 5_000 }],
      reserveBps: 2_000,
      disputeWindow: 7 * DAY,
      refundAuthority: airline,
      documentHash: documentHash("last season, flight and stay"),
    }),
    parseEther("0.5"),
    [1, 4, 6],
    cast.airline,
  );
  const counters = {
    dinner: await getRiskCounters(await as(cast.hotel), { agreementId: dinnerAndStay }),
    flight: await getRiskCounters(await as(cast.hotel), { agreementId: flightAndStay }),
  };
  log(
    table(
      ["agreement", "parties", "settled", "orders", "refunds", "refunded"],
      [
        [`#${dinnerAndStay} dinner & stay`, "hotel 60%, restaurant 40%", eth(counters.dinner.settledVolume), `${counters.dinner.settledCount}`, `${counters.dinner.refundCount}`, eth(counters.dinner.refundedVolume)],
        [`#${flightAndStay} flight & stay`, "hotel 50%, airline 50%", eth(counters.flight.settledVolume), `${counters.flight.settledCount}`, `${counters.flight.refundCount}`, eth(counters.flight.refundedVolume)],
      ],
    ),
  );
  const memberships: Record<PartnerName, Membership[]> = {
    hotel: [
      { agreementId: dinnerAndStay, shareBps: 6_000, counters: counters.dinner },
      { agreementId: flightAndStay, shareBps: 5_000, counters: counters.flight },
    ],
    restaurant: [{ agreementId: dinnerAndStay, shareBps: 4_000, counters: counters.dinner }],
    airline: [{ agreementId: flightAndStay, shareBps: 5_000, counters: counters.flight }],
  };
  const risks = {} as Record<PartnerName, PartnerRisk>;
  for (const partner of ["hotel", "restaurant", "airline"] as const) {
    risks[partner] = measuredRisk(memberships[partner]);
  }
  log("Beta-Binomial posterior per partner (prior: 5% of orders refunded, weight 20 orders; each agreement's history weighted by the partner's share):");
  log(
    table(
      ["partner", "evidence", "P(refund)", "refund rate", "90% upper", "asks reserve"],
      (["hotel", "restaurant", "airline"] as const).map((p) => [
        p,
        `${risks[p].estimate.evidence.toFixed(1)} orders`,
        `${(risks[p].estimate.refundProbability * 100).toFixed(2)}%`,
        `${(risks[p].estimate.refundRate * 100).toFixed(2)}%`,
        `${(risks[p].estimate.interval.upper * 100).toFixed(2)}%`,
        `${percent(risks[p].reserveBps)}`,
      ]),
    ),
  );
  log("Each agent's utility counts refunds at its measured rate and prefers the reserve it asks for.");

  // ------------------------------------------------------------------ 2. negotiation
  log(heading(2, "The hotel, the restaurant and the airline negotiate the evening bundle on chain"));
  const participants = [hotel, restaurant, airline].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const partnerNames = participants.map((a) => nameOf(a) as PartnerName);
  const seed = parameters.seed ?? 9;
  const agents = bundleAgents(partnerNames, risks, seed);
  log(
    table(
      ["agent", "tactic", "reservation", "walk-away share", "ideal fee", "asks reserve", "ideal window"],
      agents.map((a) => [a.name, a.stance.tactic.name, a.reservation.toFixed(3), percent(a.stance.walkAwayShareBps), percent(a.stance.idealReferralFeeBps), percent(a.risk.reserveBps), `${a.stance.idealDisputeWindowDays}d`]),
    ),
  );
  const fixed = { refundAuthority: hotel, documentHash: documentHash("evening bundle: room, dinner, flight change") };
  const opening = buildTerms({
    parties: participants.map((account, i) => ({ account, shareBps: i === 0 ? 3_334 : 3_333 })),
    referralFeeBps: 500,
    reserveBps: 1_000,
    disputeWindow: 7 * DAY,
    refundAuthority: fixed.refundAuthority,
    documentHash: fixed.documentHash,
  });
  const { agreementId } = await proposeAgreement(await as(cast.hotel), { terms: opening });
  const hub = addresses.negotiationHub ?? (await negotiationHubOf(publicClient, addresses.registry));
  const roundLimit = 8;
  const deadline = (await publicClient.getBlock()).timestamp + BigInt(7 * DAY);
  log(`agreement #${agreementId} proposed by the hotel as a placeholder (even split); negotiation hub ${hub}, ${roundLimit} rounds, 7 days`);
  log(roundHeader(partnerNames));
  const negotiation = await runOnchainNegotiation({
    publicClient,
    wallets: [cast.hotel, cast.restaurant, cast.airline],
    hub,
    agreementId,
    agents: agents.map((a) => a.agent),
    currentTerms: opening,
    fixed,
    roundLimit,
    deadline,
    onRound: (round) => log(formatRound(round, partnerNames, round.gasUsed)),
  });
  log(describeOutcome(negotiation.transcript.outcome, partnerNames));
  if (negotiation.transcript.outcome.status !== "agreed" || negotiation.version === undefined) {
    throw new StoryReconciliationError([`the negotiation did not agree: ${describeOutcome(negotiation.transcript.outcome, partnerNames)}`]);
  }

  // ------------------------------------------------------------------ 3. active version
  log(heading(3, "The agreed terms are the active version"));
  const agreement = await getAgreement(await as(cast.hotel), { agreementId });
  const { terms, termsHash } = await getVersion(await as(cast.hotel), { agreementId, version: agreement.activeVersion });
  if (agreement.status !== "active" || agreement.activeVersion !== negotiation.version || termsHash !== negotiation.termsHash || hashTerms(terms) !== termsHash) {
    throw new StoryReconciliationError([
      `agreement #${agreementId} is ${agreement.status} at version ${agreement.activeVersion} (hash ${termsHash}); the negotiation agreed version ${negotiation.version} (hash ${negotiation.termsHash})`,
    ]);
  }
  const version = agreement.activeVersion;
  log(`agreement #${agreementId} is active at version ${version}, terms hash ${termsHash}`);
  log(
    `shares ${terms.parties.map((p) => `${nameOf(p.account)} ${percent(p.shareBps)}`).join(", ")}; referral fee ${percent(terms.referralFeeBps)} ` +
      `(any one referrer); reserve ${percent(terms.reserveBps)} held ${terms.disputeWindow / DAY} days; refunds by the ${nameOf(terms.refundAuthority)}`,
  );

  // ------------------------------------------------------------------ 4. guest 1 pays in ETH through the travel site
  const failures: string[] = [];
  const showSettlement = (settled: SettledEvent, credits: Array<{ account: Address; credit: bigint }>) => {
    const unit = unitOf(settled.token);
    const rows = [
      ["referral fee", settled.referrer === zeroAddress ? "(no referrer)" : nameOf(settled.referrer), amount(settled.referralFee, unit)],
      ["reserve held", `until ${new Date(settled.releaseAt * 1000).toISOString().slice(0, 16)}Z`, amount(settled.reserve, unit)],
      ...credits.map((c) => ["share credited", nameOf(c.account), amount(c.credit, unit)]),
    ];
    log(table(["part", "to", "amount"], rows));
  };
  log(heading(4, "Guest 1 found the bundle on the travel site and pays once, in ETH"));
  const gross1 = parseEther("1.5");
  const guest1 = await as(cast.guest1);
  const quote1 = await quoteSettlement(guest1, { agreementId, gross: gross1, referrer: travelSite, payer: address(cast.guest1) });
  const travelBefore = (await getBalance(guest1, { account: travelSite, includeClaimable: false })).balance;
  const order1 = makeOrderRef({ orderId: "BUNDLE-1001", salt: randomSalt() });
  const { settled: settled1 } = await settle(guest1, { agreementId, gross: gross1, referrer: travelSite, orderRef: order1 });
  orders.push(order1);
  paidIn.eth += gross1;
  const travelGain = (await getBalance(guest1, { account: travelSite, includeClaimable: false })).balance - travelBefore;
  log(`guest 1 paid ${eth(gross1)}; order reference ${order1} (a salted hash: no personal data on chain)`);
  showSettlement(settled1, quote1.parties);
  if (settled1.referralFee !== quote1.referralFee || settled1.reserve !== quote1.reserve) {
    failures.push(`guest 1: the ledger took fee ${settled1.referralFee} and reserve ${settled1.reserve}; the SDK quoted ${quote1.referralFee} and ${quote1.reserve}`);
  }
  if (travelGain !== settled1.referralFee) failures.push(`the travel site's balance grew by ${travelGain} wei, not the referral fee ${settled1.referralFee}`);
  log(`the travel site's withdrawable balance grew by exactly the fee (${eth(travelGain)}); the partners' credits wait in the agreement's pool`);

  // ------------------------------------------------------------------ 5. guest 2 pays in the stable token with a permit
  log(heading(5, `Guest 2 pays in ${stable.symbol} with an EIP-2612 permit, no referrer`));
  const gross2 = parseUnits("250", stable.decimals);
  const guest2 = await as(cast.guest2);
  const mintHash = await cast.guest2.writeContract({ address: stableToken, abi: mintAbi, functionName: "mint", args: [address(cast.guest2), gross2], chain: cast.guest2.chain });
  await publicClient.waitForTransactionReceipt({ hash: mintHash });
  const quote2 = await quoteSettlement(guest2, { agreementId, gross: gross2 });
  const order2 = makeOrderRef({ orderId: "BUNDLE-1002", salt: randomSalt() });
  const { settled: settled2 } = await settleWithPermit(guest2, { agreementId, token: stableToken, gross: gross2, orderRef: order2 });
  orders.push(order2);
  paidIn.stable += gross2;
  log(`guest 2 signed a permit for ${usd(gross2)} and settled in one transaction (no approval transaction)`);
  showSettlement(settled2, quote2.parties);
  if (settled2.referralFee !== 0n || settled2.reserve !== quote2.reserve) {
    failures.push(`guest 2: the ledger took fee ${settled2.referralFee} and reserve ${settled2.reserve}; the SDK quoted 0 and ${quote2.reserve}`);
  }

  // ------------------------------------------------------------------ 6. a refund inside the window
  log(heading(6, "Inside the dispute window, the hotel refunds half of guest 2's reserve (the dinner was cancelled)"));
  const refunded = settled2.reserve / 2n;
  const guest2Before = (await getBalance(guest2, { account: address(cast.guest2), token: stableToken, includeClaimable: false })).balance;
  const { remainingReserve } = await refund(await as(cast.hotel), { orderRef: order2, amount: refunded });
  const guest2Gain = (await getBalance(guest2, { account: address(cast.guest2), token: stableToken, includeClaimable: false })).balance - guest2Before;
  log(`refunded ${usd(refunded)} to guest 2's balance; ${usd(remainingReserve)} of the order's reserve stays held`);
  if (guest2Gain !== refunded) failures.push(`guest 2's balance grew by ${guest2Gain}, not the refund ${refunded}`);

  // ------------------------------------------------------------------ 7. time passes, reserves are released
  const longestWindow = Math.max(terms.disputeWindow, 7 * DAY);
  log(heading(7, `${longestWindow / DAY + 1} days later every dispute window has closed: anyone releases the reserves`));
  await increaseTime(longestWindow + DAY);
  const released = { orders: 0, eth: 0n, stable: 0n };
  const anyone = await as(cast.travelSite);
  for (const orderRef of orders) {
    const found = await getSettlementRecord(anyone, { orderRef });
    if (found.state !== "held") continue;
    const { amount: freed } = await releaseReserve(anyone, { orderRef, record: found.record });
    released.orders += 1;
    if (found.record.token === zeroAddress) released.eth += freed;
    else released.stable += freed;
  }
  log(`released ${released.orders} reserves (${eth(released.eth)} and ${usd(released.stable)}) into their agreements' pools; the fully refunded orders held nothing more`);

  // ------------------------------------------------------------------ 8. withdrawals
  log(heading(8, "The pools are distributed and everyone withdraws"));
  const pools: Array<[bigint, number, Address]> = [
    [dinnerAndStay, 1, zeroAddress],
    [flightAndStay, 1, zeroAddress],
    [agreementId, version, zeroAddress],
    [agreementId, version, stableToken],
  ];
  for (const [id, v, token] of pools) await distribute(anyone, { agreementId: id, version: v, token });
  const payouts: Payout[] = [];
  for (const wallet of [cast.hotel, cast.restaurant, cast.airline, cast.travelSite, cast.guest1, cast.guest2, cast.earlierGuests]) {
    const context = await as(wallet);
    const payout: Payout = { name: nameOf(address(wallet)), account: address(wallet), eth: 0n, stable: 0n };
    for (const token of [zeroAddress, stableToken]) {
      const { balance } = await getBalance(context, { account: address(wallet), token, includeClaimable: false });
      if (balance === 0n) continue;
      const { amount: taken } = await withdraw(context, { token, amount: balance });
      if (token === zeroAddress) payout.eth = taken;
      else payout.stable = taken;
    }
    payouts.push(payout);
  }
  const paidOut = { eth: payouts.reduce((s, p) => s + p.eth, 0n), stable: payouts.reduce((s, p) => s + p.stable, 0n) };
  log("Who got what (withdrawn to their own accounts):");
  log(
    table(
      ["who", "ETH", stable.symbol],
      [...payouts.map((p) => [p.name, eth(p.eth), usd(p.stable)]), ["total paid out", eth(paidOut.eth), usd(paidOut.stable)], ["total paid in", eth(paidIn.eth), usd(paidIn.stable)]],
    ),
  );
  const holdingsAfter = await ledgerHoldings();
  if (paidOut.eth !== paidIn.eth) failures.push(`paid in ${paidIn.eth} wei of ETH, paid out ${paidOut.eth}`);
  if (paidOut.stable !== paidIn.stable) failures.push(`paid in ${paidIn.stable} ${stable.symbol} base units, paid out ${paidOut.stable}`);
  if (holdingsAfter.eth !== holdingsBefore.eth) failures.push(`the ledger held ${holdingsBefore.eth} wei before the story and ${holdingsAfter.eth} after`);
  if (holdingsAfter.stable !== holdingsBefore.stable) failures.push(`the ledger held ${holdingsBefore.stable} ${stable.symbol} units before the story and ${holdingsAfter.stable} after`);

  // ------------------------------------------------------------------ 9. the auditor
  log(heading(9, "The auditor replays every event, rebuilds every balance and reconciles with the chain"));
  const auditParameters = { client: publicClient, ledger: addresses.ledger, fromBlock: parameters.fromBlock ?? 0n, dataDir: null };
  const audit = await verify(auditParameters);
  const state = audit.sync.state;
  const { checked } = audit.reconcile;
  log(
    `replayed ${audit.sync.newEvents} events up to block ${audit.sync.toBlock}; reconciled at that block ${checked.balances} balances, ` +
      `${checked.reserves} reserves, ${checked.pools} pools, ${checked.holdings} token holdings: ${audit.differences.length} differences, ${audit.violations.length} law violations`,
  );
  for (const totals of state.totals.values()) {
    const unit = unitOf(totals.token);
    const sum = totals.balances + totals.heldReserves + totals.undistributed;
    log(
      `conservation in ${unit.symbol}: the ledger holds ${amount(totals.holdings, unit)} = balances ${amount(totals.balances, unit)} + reserves ${amount(totals.heldReserves, unit)} + undistributed ${amount(totals.undistributed, unit)}`,
    );
    if (sum !== totals.holdings) failures.push(`the replay's ${unit.symbol} holdings ${totals.holdings} differ from balances + reserves + undistributed ${sum}`);
  }
  for (const d of audit.differences) failures.push(`auditor difference (${d.kind}): ${d.message}`);
  for (const v of audit.violations) failures.push(`auditor found a violation of ${v.law}: ${v.message}`);

  const statements = await auditReport({ ...auditParameters, partners: [hotel, restaurant, airline, travelSite] });
  const agreementLabel = new Map([
    [dinnerAndStay, "last season dinner & stay"],
    [flightAndStay, "last season flight & stay"],
    [agreementId, "evening bundle"],
  ]);
  for (const partner of statements.partners) {
    log(`\nStatement of the ${nameOf(partner.partner)} (${partner.partner}), blocks ${statements.fromBlock}-${statements.toBlock}:`);
    const tokens = [...partner.tokens.keys()].sort((a, b) => (a === zeroAddress ? -1 : b === zeroAddress ? 1 : 0));
    const rows = new Map<string, { rank: number; cells: string[] }>();
    const put = (rank: number, item: string, token: Address, value: bigint) => {
      if (value === 0n) return;
      const row = rows.get(item) ?? { rank, cells: tokens.map(() => "-") };
      row.cells[tokens.indexOf(token)] = amount(value, unitOf(token));
      rows.set(item, row);
    };
    for (const [token, t] of partner.tokens) {
      for (const [id, earned] of t.earnedByAgreement) put(Number(id), `earned, #${id} ${agreementLabel.get(id) ?? ""}`.trim(), token, earned);
      put(1e6, "its share of released reserves (in earned)", token, t.reservesReleased);
      put(1e6 + 1, "its share of reserves refunded to payers", token, t.refundsIssued);
      put(1e6 + 2, "its share of reserves still held", token, t.reservesHeld);
      put(1e6 + 3, "referral fees", token, t.referralFees);
      put(1e6 + 4, "withdrawn", token, t.withdrawn);
    }
    const ordered = [...rows].sort((x, y) => x[1].rank - y[1].rank);
    log(table(["item", ...tokens.map((t) => unitOf(t).symbol)], ordered.map(([item, row]) => [item, ...row.cells])));
    const payout = payouts.find((p) => p.account === partner.partner);
    const stated = {
      eth: partner.tokens.get(zeroAddress)?.withdrawn ?? 0n,
      stable: [...partner.tokens].find(([token]) => token.toLowerCase() === stableToken.toLowerCase())?.[1].withdrawn ?? 0n,
    };
    // On a fresh chain the statement's withdrawals are the story's; a reused node adds earlier runs.
    if (payout && (stated.eth < payout.eth || stated.stable < payout.stable)) {
      failures.push(`the auditor states ${nameOf(partner.partner)} withdrew ${stated.eth} wei and ${stated.stable} units; the story saw ${payout.eth} and ${payout.stable}`);
    }
  }

  const result: StoryResult = {
    lastSeason: { dinnerAndStay, flightAndStay },
    risks,
    negotiation,
    agreementId,
    version,
    terms,
    guest1: settled1,
    guest2: settled2,
    refunded,
    released,
    payouts,
    paidIn,
    audit,
    statements,
    failures,
  };
  if (failures.length > 0) {
    log(`\nRECONCILIATION FAILED (${failures.length}):\n  - ${failures.join("\n  - ")}`);
    throw new StoryReconciliationError(failures);
  }
  log(
    `\nEvery wei is accounted for: ${eth(paidIn.eth)} and ${usd(paidIn.stable)} paid in, the same paid out to the partners, the travel site ` +
      `and the refunded guests; the auditor's replay matches the chain with 0 differences.`,
  );
  return result;
}
