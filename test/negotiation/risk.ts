import { expect } from "chai";
import fc from "fast-check";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, custom, getAddress, keccak256, toHex, zeroAddress, type EIP1193Provider, type Hex } from "viem";
import { hardhat } from "viem/chains";
import { createConcordContext, getRiskCounters } from "../../src/sdk";
import {
  DEFAULT_OBSERVATION_GROSS,
  DEFAULT_PRIOR,
  RiskInputError,
  betaCdf,
  betaQuantile,
  detectDrift,
  estimateAgreementRisk,
  estimatePartyRisk,
  recommendReserve,
  type RiskCounters,
} from "../../src/negotiation/risk";

const ETHER = 10n ** 18n;
const UINT64_MAX = 2n ** 64n - 1n;
const UINT128_MAX = 2n ** 128n - 1n;

/** `count` settlements of `gross` each, `refunds` of them refunded `refund` each. */
const history = (count: number, gross: bigint, refunds = 0, refund = 0n): RiskCounters => ({
  settledCount: BigInt(count),
  settledVolume: BigInt(count) * gross,
  refundCount: BigInt(refunds),
  refundedVolume: BigInt(refunds) * refund,
});

const withDust = (c: RiskCounters, count: bigint, gross: bigint): RiskCounters => ({
  ...c,
  settledCount: c.settledCount + count,
  settledVolume: c.settledVolume + count * gross,
});

/** Counters a ledger can produce: gross >= 1 per settlement, refunds from reserves (at most the gross), refundCount <= settledCount. */
const ledgerCounters = fc
  .record({ settledCount: fc.bigInt({ min: 0n, max: UINT64_MAX }), extraVolume: fc.bigInt({ min: 0n, max: UINT128_MAX }), refundPick: fc.bigInt({ min: 0n, max: UINT64_MAX }), refundedPick: fc.bigInt({ min: 0n, max: UINT128_MAX }) })
  .map(({ settledCount, extraVolume, refundPick, refundedPick }): RiskCounters => {
    const settledVolume = settledCount === 0n ? 0n : settledCount + (extraVolume % (UINT128_MAX - settledCount + 1n));
    const refundCount = settledCount === 0n ? 0n : refundPick % (settledCount + 1n);
    const refundedVolume = refundCount === 0n ? 0n : refundedPick % (settledVolume + 1n);
    return { settledVolume, settledCount, refundCount, refundedVolume };
  });

describe("risk", function () {
  describe("Beta distribution", function () {
    it("matches closed forms: Beta(1,1) is uniform, Beta(a,1) has CDF x^a, the quantile inverts the CDF", function () {
      fc.assert(
        fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.5, max: 20, noNaN: true }), (x, a) => {
          expect(betaCdf(x, 1, 1)).to.be.closeTo(x, 1e-9);
          expect(betaCdf(x, a, 1)).to.be.closeTo(Math.pow(x, a), 1e-9);
          expect(betaQuantile(betaCdf(x, a, 3), a, 3)).to.be.closeTo(x, 1e-7);
        }),
      );
    });

    it("stays accurate with a million observations (the mean sits inside a narrow interval)", function () {
      const a = 25_000.5;
      const b = 975_000.5;
      const mean = a / (a + b);
      const sd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
      expect(betaCdf(mean, a, b)).to.be.closeTo(0.5, 0.01);
      expect(betaQuantile(0.95, a, b)).to.be.closeTo(mean + 1.645 * sd, sd * 0.05);
    });
  });

  describe("agreement estimate", function () {
    it("is the prior without history, with a wide interval", function () {
      const e = estimateAgreementRisk(history(0, 0n));
      expect(e.refundRate).to.be.closeTo(DEFAULT_PRIOR.refundRate, 1e-12);
      expect(e.observedRefundRate).to.equal(null);
      expect(e.evidence).to.equal(0);
      expect(e.interval.upper - e.interval.lower).to.be.above(0.05);
    });

    it("measures the refund rate by volume: refunded value over settled value, not refunds over settlements", function () {
      // 10,000 settlements of 1 ETH, 2,000 of them refunded a tenth: 20% refunded by count, 2% by value.
      const e = estimateAgreementRisk(history(10_000, ETHER, 2_000, ETHER / 10n));
      expect(e.observedRefundRate).to.be.closeTo(0.02, 1e-12);
      expect(e.refundRate).to.be.closeTo(0.02, 0.0005);
      expect(e.refunds / e.settlements).to.be.closeTo(0.2, 1e-12);
      expect(e.evidence).to.be.closeTo(10_000 * Number(ETHER / DEFAULT_OBSERVATION_GROSS), 1e-6);
    });

    it("weighs evidence by volume: the same orders in larger amounts narrow the interval", function () {
      const small = estimateAgreementRisk(history(100, DEFAULT_OBSERVATION_GROSS / 100n, 5, DEFAULT_OBSERVATION_GROSS / 200n));
      const large = estimateAgreementRisk(history(100, DEFAULT_OBSERVATION_GROSS * 100n, 5, DEFAULT_OBSERVATION_GROSS * 50n));
      expect(small.observedRefundRate).to.be.closeTo(large.observedRefundRate!, 1e-12);
      expect(large.interval.upper - large.interval.lower).to.be.below((small.interval.upper - small.interval.lower) / 10);
      expect(large.refundRate).to.be.closeTo(0.025, 0.001);
    });

    it("lies between the prior and the observed rate, inside its own interval", function () {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 5_000 }), fc.bigInt({ min: 1n, max: 10n ** 20n }), (n, k0, gross) => {
          const k = Math.min(n, k0);
          const e = estimateAgreementRisk(history(n, gross, k, gross / 2n));
          expect(e.interval.lower).to.be.at.most(e.refundRate + 1e-12);
          expect(e.interval.upper).to.be.at.least(e.refundRate - 1e-12);
          const observed = e.observedRefundRate ?? DEFAULT_PRIOR.refundRate;
          expect(e.refundRate).to.be.within(Math.min(observed, DEFAULT_PRIOR.refundRate) - 1e-9, Math.max(observed, DEFAULT_PRIOR.refundRate) + 1e-9);
        }),
        { numRuns: 60 },
      );
    });

    it("never throws on counters a ledger can produce, up to the counters' widths, and answers finite numbers", function () {
      const extremes: RiskCounters[] = [
        { settledVolume: UINT128_MAX, settledCount: UINT64_MAX, refundCount: UINT64_MAX, refundedVolume: UINT128_MAX },
        { settledVolume: UINT128_MAX, settledCount: 1n, refundCount: 0n, refundedVolume: 0n },
        { settledVolume: UINT64_MAX, settledCount: UINT64_MAX, refundCount: UINT64_MAX, refundedVolume: 0n },
        { settledVolume: 1n, settledCount: 1n, refundCount: 1n, refundedVolume: 1n },
      ];
      const check = (c: RiskCounters) => {
        const e = estimateAgreementRisk(c);
        for (const v of [e.refundRate, e.interval.lower, e.interval.upper, e.alpha, e.beta, e.evidence]) expect(Number.isFinite(v)).to.equal(true);
        expect(e.refundRate).to.be.within(0, 1);
        const { reserveBps } = recommendReserve(e);
        expect(Number.isInteger(reserveBps) && reserveBps >= 0 && reserveBps <= 5_000).to.equal(true);
      };
      extremes.forEach(check);
      fc.assert(fc.property(ledgerCounters, check), { numRuns: 40 });
    });

    it("rejects counters no ledger produces, naming them", function () {
      expect(() => estimateAgreementRisk(history(3, ETHER, 4, 1n))).to.throw(RiskInputError, "refundCount 4 exceeds settledCount 3");
      expect(() => estimateAgreementRisk({ ...history(1, 1n), settledVolume: -1n })).to.throw(RiskInputError, "settledVolume must be a non-negative bigint, got -1");
      expect(() => estimateAgreementRisk(history(1, 1n), { observationGross: 0n })).to.throw(RiskInputError, "observationGross must be a positive bigint, got 0");
    });
  });

  describe("dust", function () {
    it("1,000 dust settlements move the recommended reserve by at most 1 bp, whatever the history before", function () {
      fc.assert(
        fc.property(ledgerCounters, fc.bigInt({ min: 1n, max: 10n ** 6n }), (before, dustGross) => {
          const after = withDust(before, 1_000n, dustGross);
          if (after.settledVolume > UINT128_MAX || after.settledCount > UINT64_MAX) return;
          const a = recommendReserve(estimateAgreementRisk(before)).reserveBps;
          const b = recommendReserve(estimateAgreementRisk(after)).reserveBps;
          expect(Math.abs(a - b)).to.be.at.most(1);
        }),
        { numRuns: 60 },
      );
      // A history with a high refund rate: counting dust as orders would have driven it down.
      const risky = history(40, ETHER, 8, ETHER / 4n);
      const diluted = withDust(risky, 1_000n, 1n);
      const byCount = (c: RiskCounters) => Number(c.refundCount) / Number(c.settledCount);
      expect(byCount(diluted)).to.be.below(byCount(risky) / 20);
      expect(Math.abs(recommendReserve(estimateAgreementRisk(diluted)).reserveBps - recommendReserve(estimateAgreementRisk(risky)).reserveBps)).to.be.at.most(1);
    });
  });

  describe("party estimate", function () {
    it("weights each agreement's volumes by the party's share", function () {
      const risky = history(1_000, ETHER, 300, ETHER / 2n); // 15% by value
      const safe = history(1_000, ETHER, 10, ETHER / 2n); // 0.5%
      const mostlyRisky = estimatePartyRisk([
        { agreementId: 1n, shareBps: 9_000, counters: risky },
        { agreementId: 2n, shareBps: 1_000, counters: safe },
      ]);
      const mostlySafe = estimatePartyRisk([
        { agreementId: 1n, shareBps: 1_000, counters: risky },
        { agreementId: 2n, shareBps: 9_000, counters: safe },
      ]);
      expect(mostlyRisky.refundRate).to.be.closeTo(0.9 * 0.15 + 0.1 * 0.005, 0.002);
      expect(mostlySafe.refundRate).to.be.closeTo(0.1 * 0.15 + 0.9 * 0.005, 0.002);
      expect(mostlyRisky.evidence).to.be.closeTo(10_000, 1e-6);
      // A full share of one agreement is that agreement's own estimate.
      expect(estimatePartyRisk([{ agreementId: 1n, shareBps: 10_000, counters: risky }])).to.deep.equal(estimateAgreementRisk(risky));
      expect(() => estimatePartyRisk([{ agreementId: 7n, shareBps: 10_001, counters: risky }])).to.throw("agreement 7: shareBps must be an integer in [0, 10000], got 10001");
    });
  });

  describe("reserve and drift", function () {
    it("recommends the upper bound times the safety factor in whole bps, capped at 5,000", function () {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 2_000 }), fc.double({ min: 1, max: 3, noNaN: true }), (n, k0, safety) => {
          const e = estimateAgreementRisk(history(n, DEFAULT_OBSERVATION_GROSS, Math.min(n, k0), DEFAULT_OBSERVATION_GROSS));
          const { reserveBps } = recommendReserve(e, safety);
          expect(Number.isInteger(reserveBps)).to.equal(true);
          expect(reserveBps).to.be.at.most(5_000);
          if (reserveBps < 5_000) expect(reserveBps).to.be.at.least(e.interval.upper * safety * 10_000 - 1e-6);
        }),
        { numRuns: 60 },
      );
      expect(recommendReserve(estimateAgreementRisk(history(1_000, ETHER, 900, ETHER)), 2).reserveBps).to.equal(5_000);
    });

    it("reports a renegotiation when the recommendation drifts past the threshold", function () {
      const e = estimateAgreementRisk(history(5_000, ETHER, 1_000, ETHER)); // 20% refunded by value
      const drift = detectDrift({ estimate: e, currentReserveBps: 1_000, thresholdBps: 500 });
      expect(drift.due).to.equal(true);
      expect(drift.driftBps).to.equal(drift.recommendedReserveBps - 1_000);
      expect(drift.reason).to.match(/renegotiation due/);
      const steady = detectDrift({ estimate: e, currentReserveBps: drift.recommendedReserveBps - 100, thresholdBps: 500 });
      expect(steady.due).to.equal(false);
      expect(() => detectDrift({ estimate: e, currentReserveBps: 1_000, thresholdBps: 0 })).to.throw("thresholdBps must be a positive integer, got 0");
    });
  });

  describe("on the ledger", function () {
    const FAR = 2n ** 40n;
    async function fixture() {
      const [deployer, a, b, payer, desk, stranger] = await ethers.getSigners();
      const registry = await ethers.deployContract("AgreementRegistry");
      const ledger = await ethers.deployContract("SettlementLedger", [await registry.getAddress()]);
      const [first, second] = [a!.address, b!.address].sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1));
      const terms = {
        parties: [
          { account: first!, agreementId: 0n, version: 0, shareBps: 6_000 },
          { account: second!, agreementId: 0n, version: 0, shareBps: 4_000 },
        ],
        referralFeeBps: 0,
        referrers: [],
        reserveBps: 2_000,
        disputeWindow: 7 * 86_400,
        refundAuthority: desk!.address,
        orderSigner: zeroAddress,
        dustPartyIndex: 0,
        documentHash: ethers.ZeroHash,
      };
      await (await registry.connect(deployer!).propose(terms)).wait();
      for (const p of [a!, b!]) await (await registry.connect(p).approve(1n, 1, FAR)).wait();
      await (await registry.activate(1n, 1, terms, [], [])).wait();
      const publicClient = createPublicClient({ chain: hardhat, transport: custom(hre.network.provider as unknown as EIP1193Provider) });
      const context = await createConcordContext({
        publicClient,
        addresses: { registry: getAddress(await registry.getAddress()), ledger: getAddress(await ledger.getAddress()) },
      });
      return { ledger, payer: payer!, desk: desk!, stranger: stranger!, context };
    }

    /** Order references sharing a salted base, numbered in the low byte and above. */
    const refs = (salt: string, count: number): Hex[] => {
      const base = BigInt(keccak256(toHex(salt))) & ~0xffffn;
      return Array.from({ length: count }, (_, i) => toHex(base + BigInt(i), { size: 32 }));
    };
    const payment = (orderRef: Hex, gross: bigint) => ({ agreementId: 1n, version: 1, token: zeroAddress, gross, referrer: zeroAddress, orderRef, refundBeneficiary: zeroAddress, deadline: FAR });

    it("a stranger's 1,000 dust settlements move the reserve recommended from the ledger's counters by at most 1 bp", async function () {
      const { ledger, payer, desk, stranger, context } = await loadFixture(fixture);
      const gross = ETHER / 2n;
      const orders = refs("season", 20).map((r) => payment(r, gross));
      const receipt = await (await ledger.connect(payer).settleBatch(orders, [], { value: gross * 20n })).wait();
      const held = receipt!.logs.map((l) => ledger.interface.parseLog(l)).find((e) => e?.name === "ReservesHeld")!;
      const lot = { agreementId: 1n, version: 1, token: zeroAddress, releaseAt: held.args.releaseAt, held: held.args.held, entriesHash: held.args.entriesHash };
      const entries = orders.map((o) => ({ scope: payer.address, orderRef: o.orderRef, beneficiary: payer.address, reserve: (gross * 2_000n) / 10_000n, refunded: false }));
      await (await ledger.connect(desk).refund(held.args.lotId, lot, entries, 0n, ETHER / 20n)).wait();

      const before = await getRiskCounters(context, { agreementId: 1n });
      expect(before).to.deep.equal({ settledVolume: 20n * gross, settledCount: 20n, refundCount: 1n, refundedVolume: ETHER / 20n });
      const dust = refs("dust", 1_000);
      for (let i = 0; i < dust.length; i += 250) {
        await (await ledger.connect(stranger).settleBatch(dust.slice(i, i + 250).map((r) => payment(r, 1n)), [], { value: 250n })).wait();
      }
      const after = await getRiskCounters(context, { agreementId: 1n });
      expect(after).to.deep.equal({ ...before, settledVolume: before.settledVolume + 1_000n, settledCount: 1_020n });

      const estimateBefore = estimateAgreementRisk(before);
      expect(estimateBefore.observedRefundRate).to.be.closeTo(0.005, 1e-12);
      const moved = recommendReserve(estimateAgreementRisk(after)).reserveBps - recommendReserve(estimateBefore).reserveBps;
      expect(Math.abs(moved)).to.be.at.most(1);
    });
  });
});
