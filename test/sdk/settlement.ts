import { expect } from "chai";
import { erc20Abi, parseEther, zeroAddress, type Address } from "viem";
import {
  InvalidInputError,
  SettlementMismatchError,
  activateAmendment,
  buildTerms,
  getSettlement,
  makeOrderRef,
  proposeAmendment,
  quoteSettlement,
  randomSalt,
  settle,
  settleWithPermit,
  settlementLedgerAbi,
  signConsent,
  signIntent,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { concordFixture, proposeAndActivate, type ConcordFixture } from "./fixtures";
import { addressOf, expectRevert, failure, ledgerReads, mockToken } from "./settlementHelpers";

const DAY = 86_400;
const ref = (orderId: string) => makeOrderRef({ orderId, salt: randomSalt() });

describe("SDK: settlement", function () {
  let f: ConcordFixture;
  let hotel: ConcordContext, restaurant: ConcordContext, airline: ConcordContext, merchant: ConcordContext;
  let customer: ConcordContext, travelSite: ConcordContext, stranger: ConcordContext, owner: ConcordContext;
  let ledger: ReturnType<typeof ledgerReads>;

  beforeEach(async function () {
    f = await concordFixture();
    [, hotel, restaurant, airline, merchant, customer, travelSite, , stranger, owner] = f.contexts as ConcordContext[] as [
      ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext,
    ];
    ledger = ledgerReads(f);
  });

  describe("direct payments", function () {
    let terms: Terms;
    let agreementId: bigint;
    beforeEach(async function () {
      terms = buildTerms({
        parties: [{ account: addressOf(hotel), shareBps: 6_000 }, { account: addressOf(restaurant), shareBps: 4_000 }],
        referralFeeBps: 500,
        referrers: [addressOf(travelSite)],
        reserveBps: 1_000,
        disputeWindow: DAY,
        refundAuthority: addressOf(hotel),
      });
      agreementId = await proposeAndActivate(hotel, terms, [hotel, restaurant]);
    });

    it("quotes exactly the split the ledger settles, scoped to the payer, and credits the referrer only its fee", async function () {
      const gross = parseEther("1.2345") + 7n;
      const quote = await quoteSettlement(customer, { agreementId, gross, referrer: addressOf(travelSite), payer: addressOf(customer) });
      // The terms' words: 5% to the referrer, 10% held, the rest into the pool; rounding down, to the wei.
      expect(quote.referralFee).to.equal((gross * 500n) / 10_000n);
      expect(quote.reserve).to.equal((gross * 1_000n) / 10_000n);
      expect(quote.referralFee + quote.reserve + quote.net).to.equal(gross);
      const before = await ledger.holdings();
      const orderRef = ref("BKG-1001");
      const { settled, reservesHeld } = await settle(customer, {
        payment: { agreementId, version: quote.version, gross, referrer: addressOf(travelSite), orderRef },
      });
      expect(settled).to.include({ scope: addressOf(customer), payer: addressOf(customer), version: 1, gross, orderRef });
      expect([settled.referralFee, settled.reserve]).to.deep.equal([quote.referralFee, quote.reserve]);
      expect(settled.refundBeneficiary).to.equal(addressOf(customer));
      expect(reservesHeld?.held).to.equal(quote.reserve);
      expect((await ledger.holdings()) - before).to.equal(gross);
      expect(await ledger.balanceOf(addressOf(travelSite))).to.equal(quote.referralFee);
      expect(await ledger.balanceOf(addressOf(customer))).to.equal(0n);
      const pool = await ledger.pool(agreementId, 1);
      expect([pool.total, pool.held, pool.distributed]).to.deep.equal([quote.net, quote.reserve, 0n]);
      expect(await ledger.isOrderSettled(addressOf(customer), orderRef)).to.equal(true);
      expect(await ledger.isOrderSettled(addressOf(stranger), orderRef)).to.equal(false);
    });

    it("settles a reference once in its scope, and nobody outside the scope can take or block it", async function () {
      const orderRef = ref("BKG-1002");
      const payment = { agreementId, version: 1, gross: 10_000n, orderRef };
      // A stranger settling the same reference first only uses its own scope.
      const theirs = await settle(stranger, { payment });
      expect(theirs.settled.scope).to.equal(addressOf(stranger));
      const mine = await settle(customer, { payment });
      expect(mine.settled.scope).to.equal(addressOf(customer));
      await expectRevert(() => settle(customer, { payment }), "LedgerOrderAlreadySettled", [addressOf(customer), orderRef]);
      expect((await ledger.pool(agreementId, 1)).total).to.equal(2n * 9_000n);
    });

    it("pins the quoted version: after an amendment a payment quoted under the old version is refused, naming both", async function () {
      const quote = await quoteSettlement(customer, { agreementId, gross: 50_000n });
      const v2 = buildTerms({ parties: [{ account: addressOf(hotel), shareBps: 5_000 }, { account: addressOf(restaurant), shareBps: 5_000 }] });
      const { version } = await proposeAmendment(hotel, { agreementId, terms: v2 });
      const signatures = await Promise.all([hotel, restaurant].map((c) => signConsent(c, { agreementId, version, terms: v2 })));
      await activateAmendment(hotel, { agreementId, version, terms: v2, signatures });
      const payment = { agreementId, version: quote.version, gross: quote.gross, orderRef: ref("BKG-1003") };
      await expectRevert(() => settle(customer, { payment }), "LedgerVersionNotActive", [agreementId, 1, 2]);
      const stale = await failure(() => quoteSettlement(customer, { agreementId, gross: 50_000n, version: 1 }), InvalidInputError);
      expect(stale.message).to.contain("settles under version 2, not the expected version 1");
      const fresh = await settle(customer, { payment: { ...payment, version: 2 } });
      expect([fresh.settled.version, fresh.settled.reserve, fresh.settled.referralFee]).to.deep.equal([2, 0n, 0n]);
    });

    it("refuses a referrer the terms do not list and self-referral, in the quote and on chain", async function () {
      const notListed = await failure(() => quoteSettlement(customer, { agreementId, gross: 1_000n, referrer: addressOf(stranger) }), InvalidInputError);
      expect(notListed.message).to.contain(addressOf(stranger));
      const payment = { agreementId, version: 1, gross: 1_000n, orderRef: ref("BKG-1004") };
      await expectRevert(() => settle(customer, { payment: { ...payment, referrer: addressOf(stranger) } }), "LedgerReferrerNotAllowed", [
        agreementId,
        1,
        addressOf(stranger),
      ]);
      await failure(() => quoteSettlement(travelSite, { agreementId, gross: 1_000n, referrer: addressOf(travelSite), payer: addressOf(travelSite) }), InvalidInputError);
      await expectRevert(() => settle(travelSite, { payment: { ...payment, referrer: addressOf(travelSite) } }), "LedgerSelfReferral", [addressOf(travelSite)]);
    });

    it("settles an ERC-20 only with an allowance: refuses a short one, approves when asked, or uses a permit", async function () {
      const usd = await mockToken(f, [addressOf(customer)], 1_000_000_000n);
      const payment = { agreementId, version: 1, token: usd, gross: 250_000_000n, orderRef: ref("BKG-1005") };
      const short = await failure(() => settle(customer, { payment }), InvalidInputError);
      expect(short.message).to.contain("the settlement needs 250000000");
      const { settled } = await settle(customer, { payment, approve: true });
      expect(settled).to.include({ token: usd, gross: 250_000_000n, reserve: 25_000_000n, referralFee: 0n });
      const permitted = await settleWithPermit(customer, { payment: { ...payment, gross: 100_000_000n, orderRef: ref("BKG-1006") } });
      expect(permitted.settled).to.include({ token: usd, gross: 100_000_000n, payer: addressOf(customer) });
      const held = await f.env.publicClient.readContract({ address: usd, abi: erc20Abi, functionName: "balanceOf", args: [f.env.addresses.ledger] });
      expect(held).to.equal(350_000_000n);
      expect((await ledger.pool(agreementId, 1, usd)).total).to.equal(225_000_000n + 90_000_000n);
    });
  });

  describe("payment intents", function () {
    let agreementId: bigint;
    const intentTerms = (orderSigner: Address) =>
      buildTerms({
        parties: [{ account: addressOf(hotel), shareBps: 5_000 }, { account: addressOf(airline), shareBps: 5_000 }],
        referralFeeBps: 300,
        orderSigner,
      });

    it("an EOA order signer's intent is paid by anyone, scoped to the signer, with the referrer it attests", async function () {
      agreementId = await proposeAndActivate(hotel, intentTerms(addressOf(merchant)), [hotel, airline]);
      const gross = parseEther("0.8") + 3n;
      const orderRef = ref("INT-1");
      const intent = await signIntent(merchant, { payment: { agreementId, version: 1, gross, referrer: addressOf(travelSite), orderRef } });
      const onChain = await f.env.publicClient.readContract({
        address: f.env.addresses.ledger,
        abi: settlementLedgerAbi,
        functionName: "intentDigest",
        args: [intent.payment],
      });
      expect(intent.digest).to.equal(onChain);
      expect(intent.signature).to.be.a("string");
      const { settled } = await settle(customer, intent);
      expect(settled).to.include({ scope: addressOf(merchant), payer: addressOf(customer), referrer: addressOf(travelSite), gross });
      expect(settled.referralFee).to.equal((gross * 300n) / 10_000n);
      expect(await ledger.balanceOf(addressOf(travelSite))).to.equal(settled.referralFee);
      // The same intent cannot be paid twice, by anyone: its reference is taken in the merchant's scope.
      await expectRevert(() => settle(stranger, intent), "LedgerOrderAlreadySettled", [addressOf(merchant), orderRef]);
    });

    it("refuses a tampered intent, a payment without one, and an intent signed by another account", async function () {
      agreementId = await proposeAndActivate(hotel, intentTerms(addressOf(merchant)), [hotel, airline]);
      const orderRef = ref("INT-2");
      const intent = await signIntent(merchant, { payment: { agreementId, version: 1, gross: 1_000_000n, referrer: addressOf(travelSite), orderRef } });
      // The payer may not redirect the referral fee to itself or to anyone the merchant did not name.
      await expectRevert(() => settle(customer, { payment: { ...intent.payment, referrer: addressOf(stranger) }, signature: intent.signature }), "LedgerInvalidIntent", [
        addressOf(merchant),
        orderRef,
      ]);
      await expectRevert(() => settle(customer, { payment: { ...intent.payment, gross: 999_999n }, signature: intent.signature }), "LedgerInvalidIntent");
      await expectRevert(() => settle(customer, { payment: intent.payment }), "LedgerInvalidIntent", [addressOf(merchant), orderRef]);
      const wrongSigner = await failure(() => signIntent(customer, { payment: intent.payment }), InvalidInputError);
      expect(wrongSigner.message).to.contain(`the order signer is ${addressOf(merchant)}`);
      expect(await ledger.isOrderSettled(addressOf(merchant), orderRef)).to.equal(false);
    });

    it("a contract-wallet order signer (ERC-1271) gets the typed data, and its owner's signature settles", async function () {
      const wallet = await f.env.deploy("MockERC1271Wallet", [addressOf(owner), 0]);
      agreementId = await proposeAndActivate(hotel, intentTerms(wallet), [hotel, airline]);
      const intent = await signIntent(customer, { payment: { agreementId, version: 1, gross: 40_000n, orderRef: ref("INT-3") } });
      expect(intent.orderSigner).to.equal(wallet);
      expect(intent.signature).to.equal(undefined);
      const notOwner = await stranger.walletClient!.signTypedData({ account: stranger.walletClient!.account!, ...intent.typedData });
      await expectRevert(() => settle(customer, { payment: intent.payment, signature: notOwner }), "LedgerInvalidIntent");
      const signature = await owner.walletClient!.signTypedData({ account: owner.walletClient!.account!, ...intent.typedData });
      const { settled } = await settle(customer, { payment: intent.payment, signature });
      expect(settled).to.include({ scope: wallet, payer: addressOf(customer), gross: 40_000n, referralFee: 0n });
    });
  });

  describe("getSettlement", function () {
    it("finds a settlement by (scope, orderRef) and refuses one whose payer, gross or agreement differ from the order", async function () {
      const terms = buildTerms({ parties: [{ account: addressOf(hotel), shareBps: 10_000 }] });
      const agreementId = await proposeAndActivate(hotel, terms, [hotel]);
      const orderRef = ref("LOOK-1");
      const { settled } = await settle(customer, { payment: { agreementId, version: 1, gross: 77_000n, orderRef } });
      const expected = { agreementId, payer: addressOf(customer), token: zeroAddress, gross: 77_000n };
      const found = await getSettlement(stranger, { scope: addressOf(customer), orderRef, expected });
      expect(found.settlement).to.deep.equal(settled);
      expect(found.args).to.include({ orderRef, payer: addressOf(customer), gross: 77_000n });
      const payer = await failure(() => getSettlement(stranger, { scope: addressOf(customer), orderRef, expected: { ...expected, payer: addressOf(stranger) } }), SettlementMismatchError);
      expect([payer.field, payer.actual]).to.deep.equal(["payer", addressOf(customer)]);
      const gross = await failure(() => getSettlement(stranger, { scope: addressOf(customer), orderRef, expected: { ...expected, gross: 78_000n } }), SettlementMismatchError);
      expect([gross.field, gross.expected, gross.actual]).to.deep.equal(["gross", 78_000n, 77_000n]);
      const other = await failure(() => getSettlement(stranger, { scope: addressOf(customer), orderRef, expected: { ...expected, agreementId: agreementId + 1n } }), SettlementMismatchError);
      expect(other.field).to.equal("agreementId");
      const token = await failure(() => getSettlement(stranger, { scope: addressOf(customer), orderRef, expected: { ...expected, token: f.env.addresses.registry } }), SettlementMismatchError);
      expect(token.field).to.equal("token");
      const elsewhere = await failure(() => getSettlement(stranger, { scope: addressOf(stranger), orderRef, expected }), InvalidInputError);
      expect(elsewhere.message).to.contain(`never settled in the scope of ${addressOf(stranger)}`);
    });
  });
});
