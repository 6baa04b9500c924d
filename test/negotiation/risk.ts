import { expect } from "chai";
import fc from "fast-check";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { getAddress, type EIP1193Provider } from "viem";
import { hardhat } from "viem/chains";
import { clientsFromProvider } from "../../src/negotiation/onchain";
import {
  DEFAULT_PRIOR,
  betaCdf,
  betaQuantile,
  detectDrift,
  estimateAgreementRisk,
  estimatePartyRisk,
  readRiskCounters,
  recommendReserve,
  type RiskCounters,
} from "../../src/negotiation/risk";
import { DAY, ETH, activateWithSignatures, deployConcord, makeTerms } from "../helpers/concord";

const counters = (settledCount: number, refundCount: number, avgGross = 100n, refundSize = 50n): RiskCounters => ({
  settledCount: BigInt(settledCount),
  settledVolume: BigInt(settledCount) * avgGross,
  refundCount: BigInt(refundCount),
  refundedVolume: BigInt(refundCount) * refundSize,
});

describe("risk", function () {
  describe("Beta distribution", function () {
    it("matches closed forms: Beta(1,1) is uniform, Beta(a,1) has CDF x^a", function () {
      fc.assert(
        fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.5, max: 20, noNaN: true }), (x, a) => {
          expect(betaCdf(x, 1, 1)).to.be.closeTo(x, 1e-9);
          expect(betaCdf(x, a, 1)).to.be.closeTo(Math.pow(x, a), 1e-9);
          expect(betaQuantile(betaCdf(x, a, 3), a, 3)).to.be.closeTo(x, 1e-7);
        }),
      );
    });
  });

  describe("agreement estimate", function () {
    it("is the prior without history, with a wide interval", function () {
      const e = estimateAgreementRisk(counters(0, 0));
      expect(e.refundProbability).to.be.closeTo(DEFAULT_PRIOR.refundProbability, 1e-12);
      expect(e.severity).to.be.closeTo(DEFAULT_PRIOR.severity, 1e-12);
      expect(e.interval.upper - e.interval.lower).to.be.above(0.04);
    });

    it("moves towards the observed rate and narrows as history grows", function () {
      const small = estimateAgreementRisk(counters(20, 4));
      const large = estimateAgreementRisk(counters(20_000, 4_000));
      expect(large.refundProbability).to.be.closeTo(0.2, 0.001);
      expect(large.severity).to.be.closeTo(0.5, 0.001);
      expect(large.interval.upper - large.interval.lower).to.be.below((small.interval.upper - small.interval.lower) / 10);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 5_000 }), (n, k0) => {
          const k = Math.min(n, k0);
          const e = estimateAgreementRisk(counters(n, k));
          expect(e.interval.lower).to.be.at.most(e.refundRate + 1e-12);
          expect(e.interval.upper).to.be.at.least(e.refundRate - 1e-12);
          const observed = n === 0 ? DEFAULT_PRIOR.refundProbability : k / n;
          const lo = Math.min(observed, DEFAULT_PRIOR.refundProbability);
          const hi = Math.max(observed, DEFAULT_PRIOR.refundProbability);
          expect(e.refundProbability).to.be.within(lo - 1e-12, hi + 1e-12);
        }),
      );
    });

    it("rejects impossible counters, naming them", function () {
      expect(() => estimateAgreementRisk(counters(3, 4))).to.throw("refundCount 4 exceeds settledCount 3");
    });
  });

  describe("party estimate", function () {
    it("weights each agreement's history by the party's share", function () {
      const risky = counters(1_000, 300);
      const safe = counters(1_000, 10);
      const mostlyRisky = estimatePartyRisk([
        { agreementId: 1n, shareBps: 9_000, counters: risky },
        { agreementId: 2n, shareBps: 1_000, counters: safe },
      ]);
      const mostlySafe = estimatePartyRisk([
        { agreementId: 1n, shareBps: 1_000, counters: risky },
        { agreementId: 2n, shareBps: 9_000, counters: safe },
      ]);
      expect(mostlyRisky.refundProbability).to.be.above(0.2);
      expect(mostlySafe.refundProbability).to.be.below(0.06);
      expect(mostlyRisky.evidence).to.be.closeTo(1_000, 1e-9);
      // A full share of one agreement is that agreement's own estimate.
      expect(estimatePartyRisk([{ agreementId: 1n, shareBps: 10_000, counters: risky }])).to.deep.equal(estimateAgreementRisk(risky));
    });
  });

  describe("reserve and drift", function () {
    it("recommends the upper bound times the safety factor in whole bps, capped at 5,000", function () {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 2_000 }), fc.double({ min: 1, max: 3, noNaN: true }), (n, k0, safety) => {
          const e = estimateAgreementRisk(counters(n, Math.min(n, k0), 100n, 100n));
          const { reserveBps } = recommendReserve(e, safety);
          expect(Number.isInteger(reserveBps)).to.equal(true);
          expect(reserveBps).to.be.at.most(5_000);
          if (reserveBps < 5_000) expect(reserveBps).to.be.at.least(e.interval.upper * safety * 10_000 - 1e-6);
        }),
      );
      expect(recommendReserve(estimateAgreementRisk(counters(1_000, 900, 100n, 100n)), 2).reserveBps).to.equal(5_000);
    });

    it("reports a renegotiation when the recommendation drifts past the threshold", function () {
      const e = estimateAgreementRisk(counters(5_000, 1_000, 100n, 100n)); // ~20% refunded by volume
      const drift = detectDrift({ estimate: e, currentReserveBps: 1_000, thresholdBps: 500 });
      expect(drift.due).to.equal(true);
      expect(drift.driftBps).to.equal(drift.recommendedReserveBps - 1_000);
      expect(drift.reason).to.match(/renegotiation due/);
      const steady = detectDrift({ estimate: e, currentReserveBps: drift.recommendedReserveBps - 100, thresholdBps: 500 });
      expect(steady.due).to.equal(false);
      expect(() => detectDrift({ estimate: e, currentReserveBps: 1_000, thresholdBps: 0 })).to.throw("thresholdBps must be a positive integer, got 0");
    });
  });

  describe("reader", function () {
    async function fixture() {
      const [, a, b, payer, desk] = await ethers.getSigners();
      const { registry, ledger } = await deployConcord();
      const terms = makeTerms([[a!.address, 6_000], [b!.address, 4_000]], { reserveBps: 2_000, disputeWindow: 7 * DAY, refundAuthority: desk!.address });
      const id = await activateWithSignatures(registry, terms, [a!, b!]);
      return { ledger, id, payer: payer!, desk: desk! };
    }

    it("reads the ledger's counters after settlements and a refund", async function () {
      const { ledger, id, payer, desk } = await loadFixture(fixture);
      const gross = ethers.parseEther("1");
      for (let i = 0; i < 3; i++) {
        await ledger.connect(payer).settle(id, ETH, gross, ETH, ethers.id(`risk-${i}`), { value: gross });
      }
      const [settled] = await ledger.queryFilter(ledger.filters.Settled(ethers.id("risk-0")));
      const record = { agreementId: id, version: 1n, token: ETH, payer: payer.address, reserve: settled!.args.reserve, releaseAt: settled!.args.releaseAt };
      await ledger.connect(desk).refund(ethers.id("risk-0"), record, ethers.parseEther("0.1"));
      const { publicClient } = clientsFromProvider(hre.network.provider as unknown as EIP1193Provider, hardhat, []);
      const c = await readRiskCounters(publicClient, { ledger: getAddress(await ledger.getAddress()), agreementId: id, token: ETH as `0x${string}` });
      expect(c).to.deep.equal({ settledVolume: 3n * gross, settledCount: 3n, refundCount: 1n, refundedVolume: ethers.parseEther("0.1") });
      const e = estimateAgreementRisk(c);
      expect(e.evidence).to.equal(3);
    });
  });
});
