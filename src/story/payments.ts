/**
 * Steps 4 to 8 of the story: the guests pay merchant-signed intents (ETH through the travel site,
 * the stable token with a permit), the hotel refunds half of one reserve to the beneficiary the
 * intent named, the dispute windows close and anyone releases the lots, last season's agreements
 * end (their final remainders swept to the dust parties), the pools are distributed and everyone
 * withdraws.
 */
import { parseAbi, parseEther, parseUnits, zeroAddress, type Address } from "viem";
import {
  distribute,
  getBalance,
  getReserveLot,
  makeOrderRef,
  quoteSettlement,
  randomSalt,
  refund,
  releaseReserve,
  settle,
  settleWithPermit,
  signIntent,
  signTermination,
  sweepRemainder,
  terminateAgreement,
  withdraw,
  type SettleReturnType,
  type Settlement,
} from "../sdk";
import type { Bundle } from "./bundle";
import { amount, heading, table } from "./format";
import type { Season } from "./season";
import { ETH_UNIT, type StoryStage, type StoryWallet } from "./stage";

const DAY = 86_400;
const mintAbi = parseAbi(["function mint(address to, uint256 amount)"]);

/** One account's withdrawals in the story, per token. */
export type Payout = { name: string; account: Address; eth: bigint; stable: bigint };

export type Payments = {
  guest1: Settlement;
  guest2: Settlement;
  refunded: bigint;
  released: { lots: number; eth: bigint; stable: bigint };
  swept: { eth: bigint };
  payouts: Payout[];
  paidIn: { eth: bigint; stable: bigint };
};

export async function payAndPayOut(stage: StoryStage, season: Season, bundle: Bundle, failures: string[]): Promise<Payments> {
  const { cast, log, stable, stableToken } = stage;
  const { agreementId, version, terms } = bundle;
  const eth = (v: bigint) => amount(v, ETH_UNIT);
  const usd = (v: bigint) => amount(v, stable);
  const travelSite = cast.travelSite.account.address;
  const merchant = await stage.as(cast.travelSite);
  const lots = [...season.lots];
  const paidIn = { eth: season.paidIn, stable: 0n };
  const showSettlement = (result: SettleReturnType) => {
    const s = result.settled;
    const unit = stage.unitOf(s.token);
    const release = result.reservesHeld ? `lot ${result.reservesHeld.lotId}, until ${new Date(Number(result.reservesHeld.releaseAt) * 1000).toISOString().slice(0, 16)}Z` : "-";
    log(
      table(
        ["part", "to", "amount"],
        [
          ["referral fee", s.referrer === zeroAddress ? "(no referrer)" : stage.nameOf(s.referrer), amount(s.referralFee, unit)],
          ["reserve held", release, amount(s.reserve, unit)],
          ["into the pool", `agreement #${s.agreementId} v${s.version}, shared by the partners`, amount(s.gross - s.referralFee - s.reserve, unit)],
        ],
      ),
    );
  };

  // ------------------------------------------------------------------ 4. guest 1: an intent in ETH
  log(heading(4, "Guest 1 books the bundle on the travel site, which signs the payment intent; the guest pays it once, in ETH"));
  const gross1 = parseEther("1.5");
  const guest1 = await stage.as(cast.guest1);
  const quote1 = await quoteSettlement(guest1, { agreementId, gross: gross1, referrer: travelSite, payer: cast.guest1.account.address });
  const order1 = makeOrderRef({ orderId: "BUNDLE-1001", salt: randomSalt() });
  const intent1 = await signIntent(merchant, { payment: { agreementId, version, gross: gross1, referrer: travelSite, orderRef: order1 } });
  const travelBefore = (await getBalance(guest1, { account: travelSite, includeClaimable: false })).balance;
  const paid1 = await settle(guest1, { payment: intent1.payment, signature: intent1.signature });
  paidIn.eth += gross1;
  if (paid1.reservesHeld) lots.push(paid1.reservesHeld.lotId);
  const travelGain = (await getBalance(guest1, { account: travelSite, includeClaimable: false })).balance - travelBefore;
  log(`the travel site signed the intent (EIP-712: agreement, version, token, gross, referrer, reference, refund beneficiary, deadline); guest 1 paid ${eth(gross1)}`);
  log(`order reference ${order1} (a salted hash: no personal data on chain), scoped to the travel site: nobody else can take or block it`);
  showSettlement(paid1);
  if (paid1.settled.referralFee !== quote1.referralFee || paid1.settled.reserve !== quote1.reserve) {
    failures.push(`guest 1: the ledger took fee ${paid1.settled.referralFee} and reserve ${paid1.settled.reserve}; the SDK quoted ${quote1.referralFee} and ${quote1.reserve}`);
  }
  if (travelGain !== paid1.settled.referralFee) failures.push(`the travel site's balance grew by ${travelGain} wei, not the referral fee ${paid1.settled.referralFee}`);
  log(`the travel site's withdrawable balance grew by exactly the fee it attested (${eth(travelGain)}); the partners' credits wait in the agreement's pool`);

  // ------------------------------------------------------------------ 5. guest 2: an intent in the stable token, with a permit
  log(heading(5, `Guest 2 books directly (no referrer); the travel site's intent names guest 2 for refunds; guest 2 pays in ${stable.symbol} with an EIP-2612 permit`));
  const gross2 = parseUnits("250", stable.decimals);
  const guest2Wallet = cast.guest2;
  const guest2 = await stage.as(guest2Wallet);
  const mintHash = await guest2Wallet.writeContract({ address: stableToken, abi: mintAbi, functionName: "mint", args: [guest2Wallet.account.address, gross2], chain: guest2Wallet.chain });
  await stage.publicClient.waitForTransactionReceipt({ hash: mintHash });
  const quote2 = await quoteSettlement(guest2, { agreementId, gross: gross2 });
  const order2 = makeOrderRef({ orderId: "BUNDLE-1002", salt: randomSalt() });
  const intent2 = await signIntent(merchant, {
    payment: { agreementId, version, token: stableToken, gross: gross2, orderRef: order2, refundBeneficiary: guest2Wallet.account.address },
  });
  const paid2 = await settleWithPermit(guest2, { payment: intent2.payment, signature: intent2.signature });
  paidIn.stable += gross2;
  if (paid2.reservesHeld) lots.push(paid2.reservesHeld.lotId);
  log(`guest 2 signed a permit for ${usd(gross2)} and paid the intent in one transaction (no approval transaction)`);
  showSettlement(paid2);
  if (paid2.settled.referralFee !== 0n || paid2.settled.reserve !== quote2.reserve) {
    failures.push(`guest 2: the ledger took fee ${paid2.settled.referralFee} and reserve ${paid2.settled.reserve}; the SDK quoted 0 and ${quote2.reserve}`);
  }

  // ------------------------------------------------------------------ 6. a refund inside the window
  log(heading(6, "Inside the dispute window, the hotel refunds half of guest 2's reserve (the dinner was cancelled)"));
  const refunded = paid2.settled.reserve / 2n;
  const beneficiary = paid2.settled.refundBeneficiary;
  const before = (await getBalance(guest2, { account: beneficiary, token: stableToken, includeClaimable: false })).balance;
  const refundResult = await refund(await stage.as(cast.hotel), { scope: travelSite, orderRef: order2, amount: refunded });
  const gain = (await getBalance(guest2, { account: beneficiary, token: stableToken, includeClaimable: false })).balance - before;
  log(`refunded ${usd(refunded)} to ${stage.nameOf(refundResult.beneficiary)}'s balance, the beneficiary the intent named; ${usd(refundResult.remainingReserve)} of the order's reserve stays held`);
  if (gain !== refunded || refundResult.beneficiary !== beneficiary) failures.push(`the beneficiary ${beneficiary} gained ${gain}, not the refund ${refunded}`);

  // ------------------------------------------------------------------ 7. time passes, reserves are released
  const longestWindow = Math.max(terms.disputeWindow, 7 * DAY);
  log(heading(7, `${longestWindow / DAY + 1} days later every dispute window has closed: anyone releases the reserve lots`));
  await stage.increaseTime(longestWindow + DAY);
  const anyone = await stage.as(cast.guest1);
  const released = { lots: 0, eth: 0n, stable: 0n };
  for (const lotId of lots) {
    const found = await getReserveLot(anyone, { lotId });
    if (found.state !== "held") continue;
    const { amount: freed } = await releaseReserve(anyone, { lotId, lot: found.lot });
    released.lots += 1;
    if (found.lot.token === zeroAddress) released.eth += freed;
    else released.stable += freed;
  }
  log(`released ${released.lots} lots (${eth(released.eth)} and ${usd(released.stable)}) into their pools; a lot refunded in full held nothing more`);

  // ------------------------------------------------------------------ 8. last season ends; pools paid out; withdrawals
  log(heading(8, "Last season's agreements end; the pools are distributed, the final remainders swept, and everyone withdraws"));
  const swept = { eth: 0n };
  for (const [id, seasonTerms] of [
    [season.dinnerAndStay, season.terms.dinnerAndStay],
    [season.flightAndStay, season.terms.flightAndStay],
  ] as const) {
    const signatures = await Promise.all(seasonTerms.parties.map(async (p) => signTermination(await stage.as(stage.walletOf(p.account)), { agreementId: id, version: 1 })));
    await terminateAgreement(anyone, { agreementId: id, currentTerms: seasonTerms, signatures });
    await distribute(anyone, { agreementId: id, version: 1, token: zeroAddress, terms: seasonTerms });
    const { amount: dust, dustParty } = await sweepRemainder(anyone, { agreementId: id, version: 1, token: zeroAddress, terms: seasonTerms });
    swept.eth += dust;
    log(`agreement #${id} terminated with both parties' consent; pool distributed; final remainder ${eth(dust)} to the dust party, the ${stage.nameOf(dustParty.account)}`);
  }
  await distribute(anyone, { agreementId, version, token: zeroAddress, terms });
  await distribute(anyone, { agreementId, version, token: stableToken, terms });
  const payouts: Payout[] = [];
  const everyone: StoryWallet[] = [cast.hotel, cast.restaurant, cast.airline, cast.travelSite, cast.guest1, cast.guest2, cast.earlierGuests];
  for (const wallet of everyone) {
    const context = await stage.as(wallet);
    const account = wallet.account.address;
    const payout: Payout = { name: stage.nameOf(account), account, eth: 0n, stable: 0n };
    for (const token of [zeroAddress, stableToken]) {
      const { balance } = await getBalance(context, { account, token, includeClaimable: false });
      if (balance === 0n) continue;
      const { amount: taken } = await withdraw(context, { token, amount: balance });
      if (token === zeroAddress) payout.eth = taken;
      else payout.stable = taken;
    }
    payouts.push(payout);
  }
  return { guest1: paid1.settled, guest2: paid2.settled, refunded, released, swept, payouts, paidIn };
}
