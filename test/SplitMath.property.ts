import { expect } from "chai";
import fc from "fast-check";
import { keccak256, toHex, zeroAddress, type Address, type Hex } from "viem";
import {
  buildTerms,
  claimCredit,
  distributable,
  distributionCredits,
  distributionUnit,
  eventsArgs,
  packParties,
  partyProof,
  partyShare,
  poolRemainder,
  proposeAgreement,
  quoteSplit,
  settlementLedgerAbi,
  signConsent,
  signTermination,
  activateAgreement,
  terminateAgreement,
  writeConcord,
  SplitInputError,
  type ConcordContext,
  type Terms,
} from "../src/sdk";
import { concordFixture, type ConcordFixture } from "./sdk/fixtures";

/** Random shares (count parts, each >= 1) summing to exactly 10,000. */
const sharesArb = fc.integer({ min: 1, max: 6 }).chain((count) =>
  fc.uniqueArray(fc.integer({ min: 1, max: 9_999 }), { minLength: count - 1, maxLength: count - 1 }).map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), 10_000];
    return points.slice(1).map((p, i) => p - points[i]!);
  }),
);

/** One step of a pool's life: a settlement, a claim by one party, or a distribution to all. */
const stepArb = fc.oneof(
  fc.record({ kind: fc.constant("settle" as const), gross: fc.bigInt({ min: 1n, max: 10n ** 19n }), withReferrer: fc.boolean() }),
  fc.record({ kind: fc.constant("claim" as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant("distribute" as const) }),
);

const DAY = 86_400;

describe("Split rule (split.ts against the contracts)", function () {
  describe("in TypeScript", function () {
    it("splits every gross exactly: referral fee + reserve + net = gross, each part the floor of its rate", function () {
      fc.assert(
        fc.property(fc.bigInt({ min: 1n, max: 2n ** 128n }), fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 5_000 }), fc.boolean(), (gross, fee, reserve, ref) => {
          const q = quoteSplit(gross, fee, reserve, ref);
          expect(q.referralFee + q.reserve + q.net).to.equal(gross);
          expect(q.referralFee).to.equal(ref ? (gross * BigInt(fee)) / 10_000n : 0n);
          expect(q.reserve * 10_000n <= gross * BigInt(reserve) && (q.reserve + 1n) * 10_000n > gross * BigInt(reserve)).to.equal(true);
        }),
      );
    });

    it("pays whole units only: every party's share of a distributable amount is exact", function () {
      fc.assert(
        fc.property(sharesArb, fc.bigInt({ min: 0n, max: 2n ** 128n }), (shares, total) => {
          const unit = distributionUnit(shares);
          const whole = distributable(total, unit);
          expect(whole + poolRemainder(total, unit)).to.equal(total);
          expect(poolRemainder(total, unit) < unit).to.equal(true);
          const paid = shares.map((s) => partyShare(whole, s));
          shares.forEach((s, i) => expect(paid[i]! * 10_000n).to.equal(whole * BigInt(s)));
          expect(paid.reduce((a, b) => a + b, 0n)).to.equal(whole);
        }),
      );
    });

    it("names the bad value", function () {
      expect(() => quoteSplit(0n, 100, 100, true)).to.throw(SplitInputError, "gross amount is 0");
      expect(() => distributionUnit([5_000, 4_000])).to.throw(SplitInputError, "shares sum to 9,000 basis points");
      expect(() => quoteSplit(1n, 10_001, 0, true)).to.throw(SplitInputError, "referral fee is 10001 basis points");
    });
  });

  describe("against the ledger", function () {
    let f: ConcordFixture;
    let keeper: ConcordContext, payer: ConcordContext, referrer: ConcordContext;
    let parties: ConcordContext[];

    before(async function () {
      f = await concordFixture();
      keeper = f.contexts[0]!;
      parties = f.contexts.slice(1, 7);
      referrer = f.contexts[7]!;
      payer = f.contexts[8]!;
    });

    const ledger = () => ({ address: f.env.addresses.ledger, abi: settlementLedgerAbi }) as const;
    const balanceOf = (account: Address) =>
      f.env.publicClient.readContract({ ...ledger(), functionName: "balanceOf", args: [account, zeroAddress] });

    it("quotes what settles, pays what the payout rule says, never beyond a pro-rata share, and accounts for every wei of the gross", async function () {
      this.timeout(600_000);
      let orderCounter = 0n;
      await fc.assert(
        fc.asyncProperty(
          sharesArb,
          fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000 })),
          fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 })),
          fc.nat(),
          fc.array(stepArb, { minLength: 1, maxLength: 8 }),
          async (shares, feeBps, reserveBps, dustSeed, steps) => {
            const members = parties.slice(0, shares.length);
            const terms: Terms = buildTerms({
              parties: members.map((c, i) => ({ account: f.addressOf(c), shareBps: shares[i]! })),
              referralFeeBps: feeBps,
              referrers: feeBps === 0 ? [] : [f.addressOf(referrer)],
              reserveBps,
              disputeWindow: reserveBps === 0 ? 0 : DAY,
              dustParty: f.addressOf(members[dustSeed % members.length]!),
            });
            const { agreementId } = await proposeAgreement(keeper, { terms });
            const consents = await Promise.all(members.map((c) => signConsent(c, { agreementId, version: 1, terms })));
            await activateAgreement(keeper, { agreementId, terms, signatures: consents });
            const accounts = terms.parties.map((p) => p.account);
            const shareOf = terms.parties.map((p) => p.shareBps);
            const unit = distributionUnit(shareOf);
            const start = await Promise.all([...accounts, f.addressOf(referrer)].map(balanceOf));
            const credited = () => Promise.all(accounts.map(async (a, i) => (await balanceOf(a)) - start[i]!));
            const readPool = () => f.env.publicClient.readContract({ ...ledger(), functionName: "pool", args: [agreementId, 1, zeroAddress] });

            // The model: what the pool holds and what each party was paid, from the quotes alone.
            let total = 0n;
            let distributed = 0n;
            let grossSum = 0n;
            let feeSum = 0n;
            const paidUpTo = accounts.map(() => 0n);
            const paid = accounts.map(() => 0n);
            const lots: { lotId: bigint; lot: { agreementId: bigint; version: number; token: Address; releaseAt: number; held: bigint; entriesHash: Hex }; held: bigint }[] = [];

            const payoutStep = async (step: { kind: "claim"; seed: number } | { kind: "distribute" }) => {
              if (step.kind === "claim") {
                const i = step.seed % accounts.length;
                const credit = claimCredit({ total, distributed }, unit, shareOf[i]!, paidUpTo[i]!);
                await writeConcord(keeper, {
                  ...ledger(),
                  functionName: "claim",
                  args: [agreementId, 1, zeroAddress, BigInt(i), terms.parties[i]!, partyProof(terms.parties, i)],
                });
                paid[i]! += credit.amount;
                paidUpTo[i] = credit.paidUpTo;
              } else {
                const { amounts, upTo } = distributionCredits({ total, distributed }, unit, shareOf, paidUpTo);
                await writeConcord(keeper, { ...ledger(), functionName: "distribute", args: [agreementId, 1, zeroAddress, packParties(terms.parties)] });
                amounts.forEach((a, i) => (paid[i]! += a));
                distributed = upTo;
              }
              expect(await credited()).to.deep.equal(paid);
              // Exactness: nobody is ever paid one wei beyond its pro-rata share of what the pool received.
              paid.forEach((p, i) => expect(p * 10_000n <= total * BigInt(shareOf[i]!), `party ${i}`).to.equal(true));
            };

            for (const step of steps) {
              if (step.kind !== "settle") {
                await payoutStep(step);
                continue;
              }
              orderCounter += 1n;
              // Without a fee the terms list no referrer, so a payment can name none.
              const withReferrer = step.withReferrer && feeBps > 0;
              const quote = quoteSplit(step.gross, feeBps, reserveBps, withReferrer);
              const payment = {
                agreementId,
                version: 1,
                token: zeroAddress,
                gross: step.gross,
                referrer: withReferrer ? f.addressOf(referrer) : zeroAddress,
                orderRef: keccak256(toHex(`order-${orderCounter}`)),
                refundBeneficiary: zeroAddress,
                deadline: 2n ** 40n,
              };
              const poolBefore = await readPool();
              const referrerBefore = await balanceOf(f.addressOf(referrer));
              const result = await writeConcord(payer, { ...ledger(), functionName: "settle", args: [payment, "0x"], value: step.gross });
              // What the ledger did, against the quote: the fee to the referrer, the net into the pool, the reserve held.
              const poolAfter = await readPool();
              expect((await balanceOf(f.addressOf(referrer))) - referrerBefore).to.equal(quote.referralFee);
              expect(poolAfter.total - poolBefore.total).to.equal(quote.net);
              expect(poolAfter.held - poolBefore.held).to.equal(quote.reserve);
              for (const held of eventsArgs(result, settlementLedgerAbi, "ReservesHeld")) {
                const { lotId, agreementId: id, version, token, releaseAt, held: amount, entriesHash } = held;
                lots.push({ lotId, lot: { agreementId: id, version, token, releaseAt, held: amount, entriesHash }, held: amount });
              }
              total += quote.net;
              grossSum += step.gross;
              feeSum += quote.referralFee;
            }

            // Release every reserve, pay everything out, close the pool and sweep its remainder.
            if (lots.length > 0) await f.env.increaseTime(DAY + 1);
            for (const { lotId, lot, held } of lots) {
              await writeConcord(keeper, { ...ledger(), functionName: "releaseReserve", args: [lotId, lot] });
              total += held;
            }
            await payoutStep({ kind: "distribute" });
            expect(await credited()).to.deep.equal(shareOf.map((s) => partyShare(distributable(total, unit), s)));
            const endings = await Promise.all(members.map((c) => signTermination(c, { agreementId, version: 1 })));
            await terminateAgreement(keeper, { agreementId, signatures: endings });
            const dust = terms.dustPartyIndex;
            await writeConcord(keeper, {
              ...ledger(),
              functionName: "sweepRemainder",
              args: [agreementId, 1, zeroAddress, terms.parties[dust]!, partyProof(terms.parties, dust)],
            });
            const final = await credited();
            const remainder = poolRemainder(total, unit);
            expect(final[dust]! - paid[dust]!).to.equal(remainder);
            // Exactness and conservation: fee + every credit (the remainder included) = every gross, to the wei.
            const referrerCredit = (await balanceOf(f.addressOf(referrer))) - start.at(-1)!;
            expect(referrerCredit).to.equal(feeSum);
            expect(final.reduce((a, b) => a + b, 0n) + referrerCredit).to.equal(grossSum);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
});
