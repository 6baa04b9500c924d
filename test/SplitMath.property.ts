import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { SplitInputError, computeSplit, prepareSplit, splitAmongParties, splitPrepared } from "../src/sdk/split";
import { DAY, ETH, ReferrerPolicy, activateWithSignatures, deployConcord, makeTerms, type TermsInput } from "./helpers/concord";

/** Random shares (count parts, each >= 1) summing to exactly 10,000. */
const sharesArb = fc.integer({ min: 1, max: 8 }).chain((count) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: 9_999 }), { minLength: count - 1, maxLength: count - 1 })
    .map((cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), 10_000];
      return points.slice(1).map((p, i) => p - points[i]!);
    }),
);

const termsArb = fc.record({
  shares: sharesArb,
  referralFeeBps: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000 })),
  reserveBps: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 })),
  dustSeed: fc.nat(),
});

const splitTermsOf = (t: TermsInput) => ({
  shares: t.parties.map((p) => p.shareBps),
  referralFeeBps: t.referralFeeBps,
  reserveBps: t.reserveBps,
  dustPartyIndex: t.dustPartyIndex,
});

async function baseFixture() {
  const signers = await ethers.getSigners();
  const { registry, ledger } = await deployConcord();
  const usd = await ethers.deployContract("MockERC20", ["Stable USD", "sUSD", 6]);
  const payers = signers.slice(12, 16);
  for (const payer of payers) {
    await usd.mint(payer.address, 10n ** 30n);
    await usd.connect(payer).approve(ledger, ethers.MaxUint256);
  }
  return { signers, registry, ledger, usd, payers };
}

describe("Split rule (property tests against the contract)", function () {
  it("the TypeScript rule predicts every credit the contract makes", async function () {
    await fc.assert(
      fc.asyncProperty(
        termsArb,
        fc.bigInt({ min: 1n, max: 2n ** 100n }),
        fc.boolean(),
        async (input, gross, withReferrer) => {
          const { signers, registry, ledger, payers } = await loadFixture(baseFixture);
          const partySigners = signers.slice(1, 1 + input.shares.length);
          const terms = makeTerms(
            partySigners.map((s, i) => [s.address, input.shares[i]!] as [string, number]),
            {
              referralFeeBps: input.referralFeeBps,
              referrerPolicy: input.referralFeeBps === 0 ? ReferrerPolicy.None : ReferrerPolicy.Open,
              reserveBps: input.reserveBps,
              disputeWindow: input.reserveBps === 0 ? 0 : DAY,
              dustPartyIndex: input.dustSeed % input.shares.length,
            },
          );
          const id = await activateWithSignatures(registry, terms, partySigners);
          const referrer = withReferrer && input.referralFeeBps > 0 ? signers[10]!.address : ETH;
          const payer = payers[0]!;
          await ethers.provider.send("hardhat_setBalance", [payer.address, ethers.toQuantity(gross + 10n ** 18n)]);
          const receipt = await (
            await ledger.connect(payer).settle(id, ETH, gross, referrer, ethers.id("p"), { value: gross })
          ).wait();
          const [event] = await ledger.queryFilter(ledger.filters.Settled(), receipt!.blockNumber, receipt!.blockNumber);
          const expected = computeSplit(splitTermsOf(terms), gross, referrer !== ETH);
          expect(event!.args.referralFee).to.equal(expected.referralFee);
          expect(event!.args.reserve).to.equal(expected.reserve);
          expect(await ledger.pool(id, 1, ETH)).to.deep.equal([expected.distributable, expected.dust]);
          await ledger.distribute(id, 1, ETH, terms);
          const credits = await Promise.all(terms.parties.map((p) => ledger.balanceOf(p.account, ETH)));
          expect(credits).to.deep.equal(expected.credits);
          // Exactness, to the wei.
          expect(expected.referralFee + expected.reserve + credits.reduce((s, c) => s + c, 0n)).to.equal(gross);
        },
      ),
      { numRuns: 100 },
    );
  });

  describe("conservation after random sequences", function () {
    type Action =
      | { kind: "settle"; agreement: number; token: number; gross: bigint; referrer: boolean; payer: number }
      | { kind: "refund"; pick: number; fraction: number }
      | { kind: "release"; pick: number }
      | { kind: "warp"; seconds: number }
      | { kind: "distribute"; agreement: number; token: number }
      | { kind: "withdraw"; account: number; token: number; fraction: number };

    const actionArb: fc.Arbitrary<Action> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant("settle" as const), agreement: fc.nat(1), token: fc.nat(1), gross: fc.bigInt({ min: 1n, max: 10n ** 24n }), referrer: fc.boolean(), payer: fc.nat(3) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("refund" as const), pick: fc.nat(), fraction: fc.integer({ min: 1, max: 100 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("warp" as const), seconds: fc.integer({ min: 60, max: 3 * DAY }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("distribute" as const), agreement: fc.nat(1), token: fc.nat(1) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("withdraw" as const), account: fc.nat(9), token: fc.nat(1), fraction: fc.integer({ min: 1, max: 100 }) }) },
    );

    async function sequenceFixture() {
      const base = await baseFixture();
      const { signers, registry } = base;
      const refundDesk = signers[11]!;
      const a = makeTerms(
        [[signers[1]!.address, 3_333], [signers[2]!.address, 3_333], [signers[3]!.address, 3_334]],
        { referralFeeBps: 700, reserveBps: 1_500, disputeWindow: 2 * DAY, refundAuthority: refundDesk.address, dustPartyIndex: 2 },
      );
      const b = makeTerms([[signers[4]!.address, 7_000], [signers[5]!.address, 3_000]], {
        referralFeeBps: 1_000,
        reserveBps: 500,
        disputeWindow: DAY,
        refundAuthority: refundDesk.address,
      });
      const idA = await activateWithSignatures(registry, a, signers.slice(1, 4));
      const idB = await activateWithSignatures(registry, b, signers.slice(4, 6));
      return { ...base, refundDesk, agreements: [{ id: idA, terms: a }, { id: idB, terms: b }] };
    }

    it("holdings equal balances plus held reserves plus undistributed pools, and match an independent model", async function () {
      await fc.assert(
        fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 18 }), async (actions) => {
          const { signers, ledger, usd, payers, refundDesk, agreements } = await loadFixture(sequenceFixture);
          const tokens = [ETH, await usd.getAddress()];
          const referrer = signers[10]!;
          // Every account that can hold a balance.
          const accounts = [...signers.slice(1, 6), referrer, ...payers].map((s) => s.address);
          const model = new Map<string, bigint>(); // `${account}:${token}` -> expected balance
          const add = (account: string, token: string, amount: bigint) =>
            model.set(`${account}:${token}`, (model.get(`${account}:${token}`) ?? 0n) + amount);
          type Open = { orderRef: string; record: { agreementId: bigint; version: bigint; token: string; payer: string; reserve: bigint; releaseAt: bigint }; terms: TermsInput };
          const open: Open[] = [];
          let orderCount = 0;

          for (const action of actions) {
            if (action.kind === "settle") {
              const { id, terms } = agreements[action.agreement]!;
              const token = tokens[action.token]!;
              const payer = payers[action.payer]!;
              const orderRef = ethers.id(`order-${orderCount++}`);
              const ref = action.referrer ? referrer.address : ETH;
              if (token === ETH) {
                await ethers.provider.send("hardhat_setBalance", [payer.address, ethers.toQuantity(action.gross + 10n ** 20n)]);
              }
              await ledger.connect(payer).settle(id, token, action.gross, ref, orderRef, { value: token === ETH ? action.gross : 0n });
              const split = computeSplit(splitTermsOf(terms), action.gross, action.referrer);
              if (split.referralFee > 0n) add(referrer.address, token, split.referralFee);
              terms.parties.forEach((p, i) => add(p.account, token, split.credits[i]!));
              if (split.reserve > 0n) {
                const [log] = await ledger.queryFilter(ledger.filters.Settled(orderRef));
                open.push({ orderRef, terms, record: { agreementId: id, version: 1n, token, payer: payer.address, reserve: split.reserve, releaseAt: log!.args.releaseAt } });
              }
            } else if (action.kind === "refund" && open.length > 0) {
              const index = action.pick % open.length;
              const entry = open[index]!;
              const now = BigInt(await time.latest());
              if (now + 1n >= entry.record.releaseAt) continue;
              const amount = (entry.record.reserve * BigInt(action.fraction)) / 100n || 1n;
              await ledger.connect(refundDesk).refund(entry.orderRef, entry.record, amount);
              add(entry.record.payer, entry.record.token, amount);
              entry.record = { ...entry.record, reserve: entry.record.reserve - amount };
              if (entry.record.reserve === 0n) open.splice(index, 1);
            } else if (action.kind === "release" && open.length > 0) {
              const index = action.pick % open.length;
              const entry = open[index]!;
              const now = BigInt(await time.latest());
              if (now + 1n < entry.record.releaseAt) await time.setNextBlockTimestamp(entry.record.releaseAt);
              await ledger.releaseReserve(entry.orderRef, entry.record);
              const credits = splitAmongParties(splitTermsOf(entry.terms), entry.record.reserve);
              entry.terms.parties.forEach((p, i) => add(p.account, entry.record.token, credits[i]!));
              open.splice(index, 1);
            } else if (action.kind === "warp") {
              await time.increase(action.seconds);
            } else if (action.kind === "distribute") {
              const { id, terms } = agreements[action.agreement]!;
              await ledger.distribute(id, 1, tokens[action.token]!, terms);
            } else if (action.kind === "withdraw") {
              const account = signers.slice(1, 6)[action.account % 5]!;
              const token = tokens[action.token]!;
              const balance = await ledger.balanceOf(account.address, token);
              const amount = (balance * BigInt(action.fraction)) / 100n;
              if (amount === 0n) continue;
              await ledger.connect(account).withdraw(token, account.address, amount);
              add(account.address, token, -amount);
            }

            // Law 1 (conservation) and law 8 (every balance predicted) after every step.
            for (const token of tokens) {
              const holdings = token === ETH ? await ethers.provider.getBalance(ledger) : await usd.balanceOf(ledger);
              let balances = 0n;
              let owedFromPools = 0n;
              for (const account of accounts) balances += await ledger.balanceOf(account, token);
              for (const { id, terms } of agreements) {
                for (let i = 0; i < terms.parties.length; i++) owedFromPools += await ledger.claimable(id, 1, token, terms, i);
              }
              const held = open.filter((o) => o.record.token === token).reduce((s, o) => s + o.record.reserve, 0n);
              expect(holdings).to.equal(balances + owedFromPools + held);
              for (const account of accounts) {
                let claimable = 0n;
                for (const { id, terms } of agreements) {
                  const index = terms.parties.findIndex((p) => p.account === account);
                  if (index >= 0) claimable += await ledger.claimable(id, 1, token, terms, index);
                }
                const actual = (await ledger.balanceOf(account, token)) + claimable;
                expect(actual, `${account} in ${token}`).to.equal(model.get(`${account}:${token}`) ?? 0n);
              }
            }
          }
        }),
        { numRuns: 40 },
      );
    });
  });
});

describe("Split rule, prepared once for many amounts", function () {
  it("splits every amount as computeSplit does, and keeps its own copy of the terms", function () {
    fc.assert(
      fc.property(termsArb, fc.array(fc.bigInt({ min: 1n, max: 2n ** 100n }), { minLength: 1, maxLength: 6 }), fc.boolean(), (input, grosses, withReferrer) => {
        const terms = { shares: [...input.shares], referralFeeBps: input.referralFeeBps, reserveBps: input.reserveBps, dustPartyIndex: input.dustSeed % input.shares.length };
        const prepared = prepareSplit(terms);
        const expected = grosses.map((gross) => computeSplit(terms, gross, withReferrer));
        terms.shares.fill(1); // the caller's terms change afterwards: the prepared split does not
        expect(grosses.map((gross) => splitPrepared(prepared, gross, withReferrer))).to.deep.equal(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses what computeSplit refuses, with the same message", function () {
    const bad = [
      { shares: [5_000, 4_000], referralFeeBps: 0, reserveBps: 0, dustPartyIndex: 0 }, // sums to 9,000
      { shares: [5_000, 5_000], referralFeeBps: 0, reserveBps: 0, dustPartyIndex: 2 }, // no party 2
      { shares: [10_000, 0], referralFeeBps: 0, reserveBps: 0, dustPartyIndex: 0 }, // a zero share
    ];
    for (const terms of bad) {
      let message = "";
      try {
        computeSplit(terms, 100n, false);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, JSON.stringify(terms)).to.not.equal("");
      expect(() => prepareSplit(terms)).to.throw(SplitInputError, message);
    }
    const good = prepareSplit({ shares: [10_000], referralFeeBps: 0, reserveBps: 0, dustPartyIndex: 0 });
    expect(() => splitPrepared(good, 0n, false)).to.throw(SplitInputError, /gross amount is 0/);
  });
});
