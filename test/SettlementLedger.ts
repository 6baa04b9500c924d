import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { DAY, ETH, activateWithSignatures, deployConcord, makePayment, makeTerms, signIntent } from "./helpers/concord";
import { afterRefund, expectConservation, expectedCredits, expectedSplit, lotIdOf, lotsOf, proofOf, packedOf } from "./helpers/ledger";

const FEE = 500;
const RESERVE = 1_000;
const WINDOW = 7 * DAY;
const SHARES = [5_000, 3_000, 2_000];

describe("SettlementLedger", function () {
  async function ledgerFixture() {
    const [, hotel, restaurant, airline, merchant, referrer, guest, stranger, authority] = await ethers.getSigners();
    const concord = await deployConcord();
    const { registry } = concord;
    const shares: Array<[string, number]> = [[hotel!.address, SHARES[0]!], [restaurant!.address, SHARES[1]!], [airline!.address, SHARES[2]!]];
    const common = { reserveBps: RESERVE, disputeWindow: WINDOW, refundAuthority: authority!.address };
    const directTerms = makeTerms(shares, { ...common, referralFeeBps: FEE, referrers: [referrer!.address] });
    const direct = await activateWithSignatures(registry, directTerms, [hotel!, restaurant!, airline!]);
    const intentTerms = makeTerms(shares, { ...common, referralFeeBps: FEE, orderSigner: merchant!.address });
    const intent = await activateWithSignatures(registry, intentTerms, [hotel!, restaurant!, airline!]);
    const token = await ethers.deployContract("MockERC20", ["Dollar", "USD", 2]);
    await token.mint(guest!.address, 10n ** 12n);
    await token.connect(guest!).approve(await concord.ledger.getAddress(), ethers.MaxUint256);
    const parties = [hotel!, restaurant!, airline!].map((s) => s.address);
    return {
      ...concord, token, hotel: hotel!, restaurant: restaurant!, airline: airline!, merchant: merchant!, referrer: referrer!,
      guest: guest!, stranger: stranger!, authority: authority!, direct, intent, directTerms, intentTerms, parties,
    };
  }

  describe("settle", function () {
    describe("validations", function () {
      it("refuses a zero gross, a zero reference and a payment past its deadline", async function () {
        const { ledger, guest, direct } = await loadFixture(ledgerFixture);
        const zero = await makePayment({ agreementId: direct, gross: 0n });
        await expect(ledger.connect(guest).settle(zero, "0x")).to.be.revertedWithCustomError(ledger, "LedgerZeroAmount");
        const noRef = await makePayment({ agreementId: direct, gross: 1n, orderRef: ethers.ZeroHash });
        await expect(ledger.connect(guest).settle(noRef, "0x", { value: 1n })).to.be.revertedWithCustomError(ledger, "LedgerZeroOrderRef");
        const late = await makePayment({ agreementId: direct, gross: 1n, deadline: BigInt(await time.latest()) });
        await expect(ledger.connect(guest).settle(late, "0x", { value: 1n }))
          .to.be.revertedWithCustomError(ledger, "LedgerPaymentExpired")
          .withArgs(late.orderRef, late.deadline);
      });

      it("refuses an agreement that is not active and a version that is not the active one", async function () {
        const { registry, ledger, guest, hotel, direct } = await loadFixture(ledgerFixture);
        await registry.propose(makeTerms([[hotel.address, 10_000]]));
        const proposed = await registry.agreementCount();
        const p = await makePayment({ agreementId: proposed, gross: 100n });
        await expect(ledger.connect(guest).settle(p, "0x", { value: 100n })).to.be.revertedWithCustomError(ledger, "LedgerAgreementNotActive").withArgs(proposed);
        const v2 = await makePayment({ agreementId: direct, version: 2, gross: 100n });
        await expect(ledger.connect(guest).settle(v2, "0x", { value: 100n }))
          .to.be.revertedWithCustomError(ledger, "LedgerVersionNotActive")
          .withArgs(direct, 2, 1);
      });

      it("refuses ETH that does not match the gross, and ETH with a token", async function () {
        const { ledger, token, guest, direct } = await loadFixture(ledgerFixture);
        const p = await makePayment({ agreementId: direct, gross: 100n });
        await expect(ledger.connect(guest).settle(p, "0x", { value: 99n })).to.be.revertedWithCustomError(ledger, "LedgerValueMismatch").withArgs(99, 100);
        const t = await makePayment({ agreementId: direct, gross: 100n, token: await token.getAddress() });
        await expect(ledger.connect(guest).settle(t, "0x", { value: 1n })).to.be.revertedWithCustomError(ledger, "LedgerValueMismatch").withArgs(1, 0);
      });

      it("refuses a signature on terms without an order signer", async function () {
        const { ledger, guest, merchant, direct } = await loadFixture(ledgerFixture);
        const p = await makePayment({ agreementId: direct, gross: 100n });
        await expect(ledger.connect(guest).settle(p, await signIntent(ledger, merchant, p), { value: 100n }))
          .to.be.revertedWithCustomError(ledger, "LedgerUnexpectedSignature")
          .withArgs(p.orderRef);
      });
    });

    describe("direct payments", function () {
      it("books the fee to the listed referrer, the reserve in a lot and the net in the pool", async function () {
        const { ledger, guest, referrer, direct } = await loadFixture(ledgerFixture);
        const gross = 1_000_003n;
        const p = await makePayment({ agreementId: direct, gross, referrer: referrer.address });
        const { referralFee, reserve, net } = expectedSplit(gross, FEE, RESERVE, true);
        const tx = ledger.connect(guest).settle(p, "0x", { value: gross });
        await expect(tx).to.changeEtherBalances([guest, ledger], [-gross, gross]);
        await expect(tx)
          .to.emit(ledger, "Settled")
          .withArgs(p.orderRef, direct, 1, ETH, guest.address, gross, referrer.address, guest.address);
        await expect(tx).to.emit(ledger, "ReservesHeld").withArgs(lotIdOf(guest.address, p.orderRef), direct, 1, ETH, anyValue, reserve, anyValue);
        expect(await ledger.balanceOf(referrer.address, ETH)).to.equal(referralFee);
        const pool = await ledger.pool(direct, 1, ETH);
        expect([pool.total, pool.held, pool.distributed]).to.deep.equal([net, reserve, 0n]);
        expect(await ledger.isOrderSettled(guest.address, p.orderRef)).to.equal(true);
        const risk = await ledger.riskCounters(direct, ETH);
        expect([risk.settledVolume, risk.settledCount, risk.refundCount]).to.deep.equal([gross, 1n, 0n]);
      });

      it("takes no fee without a referrer, and an ERC-20 by transferFrom", async function () {
        const { ledger, token, guest, direct } = await loadFixture(ledgerFixture);
        const gross = 19_999n;
        const p = await makePayment({ agreementId: direct, gross, token: await token.getAddress() });
        await expect(ledger.connect(guest).settle(p, "0x")).to.changeTokenBalances(token, [guest, ledger], [-gross, gross]);
        const { reserve, net } = expectedSplit(gross, FEE, RESERVE, false);
        const pool = await ledger.pool(direct, 1, await token.getAddress());
        expect([pool.total, pool.held]).to.deep.equal([net, reserve]);
      });

      it("refuses a referrer the terms do not list, and the payer as referrer", async function () {
        const { ledger, guest, stranger, referrer, direct } = await loadFixture(ledgerFixture);
        const p = await makePayment({ agreementId: direct, gross: 100n, referrer: stranger.address });
        await expect(ledger.connect(guest).settle(p, "0x", { value: 100n }))
          .to.be.revertedWithCustomError(ledger, "LedgerReferrerNotAllowed")
          .withArgs(direct, 1, stranger.address);
        const self = await makePayment({ agreementId: direct, gross: 100n, referrer: referrer.address });
        await expect(ledger.connect(referrer).settle(self, "0x", { value: 100n })).to.be.revertedWithCustomError(ledger, "LedgerSelfReferral").withArgs(referrer.address);
      });
    });

    describe("payment intents", function () {
      it("settles the merchant's intent paid by anyone, scoped to the merchant, with the attested referrer", async function () {
        const { ledger, guest, merchant, stranger, intent } = await loadFixture(ledgerFixture);
        const gross = 50_000n;
        const p = await makePayment({ agreementId: intent, gross, referrer: stranger.address, refundBeneficiary: guest.address });
        const { referralFee, reserve } = expectedSplit(gross, FEE, RESERVE, true);
        const tx = ledger.connect(guest).settle(p, await signIntent(ledger, merchant, p), { value: gross });
        await expect(tx).to.emit(ledger, "Settled").withArgs(p.orderRef, intent, 1, ETH, guest.address, gross, stranger.address, guest.address);
        // The lot is named after the order in the merchant's scope.
        await expect(tx).to.emit(ledger, "ReservesHeld").withArgs(lotIdOf(merchant.address, p.orderRef), intent, 1, ETH, anyValue, reserve, anyValue);
        expect(await ledger.isOrderSettled(merchant.address, p.orderRef)).to.equal(true);
        expect(await ledger.isOrderSettled(guest.address, p.orderRef)).to.equal(false);
        expect(await ledger.balanceOf(stranger.address, ETH)).to.equal(referralFee);
      });

      it("refuses a payment without the intent, unless the order signer itself pays", async function () {
        const { ledger, guest, merchant, intent } = await loadFixture(ledgerFixture);
        const p = await makePayment({ agreementId: intent, gross: 100n });
        await expect(ledger.connect(guest).settle(p, "0x", { value: 100n }))
          .to.be.revertedWithCustomError(ledger, "LedgerInvalidIntent")
          .withArgs(merchant.address, p.orderRef);
        await expect(ledger.connect(merchant).settle(p, "0x", { value: 100n })).to.emit(ledger, "Settled");
      });
    });
  });

  describe("settleBatch", function () {
    it("settles many payments with one ETH value and one lot per pool", async function () {
      const { ledger, guest, direct } = await loadFixture(ledgerFixture);
      const payments = await Promise.all([1_000n, 2_000n, 3_001n].map((gross) => makePayment({ agreementId: direct, gross })));
      const tx = await ledger.connect(guest).settleBatch(payments, [], { value: 6_001n });
      const [lot] = await lotsOf(ledger, tx);
      expect(lot!.lotId).to.equal(lotIdOf(guest.address, payments[0]!.orderRef));
      expect(lot!.entries.map((e) => e.reserve)).to.deep.equal([100n, 200n, 300n]);
      expect(lot!.lot.held).to.equal(600n);
      expect((await ledger.pool(direct, 1, ETH)).total).to.equal(6_001n - 600n);
      expect((await ledger.riskCounters(direct, ETH)).settledCount).to.equal(3n);
    });

    it("refuses an empty batch, mixed tokens and a signature list of the wrong length", async function () {
      const { ledger, token, guest, direct } = await loadFixture(ledgerFixture);
      await expect(ledger.connect(guest).settleBatch([], [])).to.be.revertedWithCustomError(ledger, "LedgerBatchInvalid").withArgs(0);
      const a = await makePayment({ agreementId: direct, gross: 10n });
      const b = await makePayment({ agreementId: direct, gross: 10n, token: await token.getAddress() });
      await expect(ledger.connect(guest).settleBatch([a, b], [], { value: 10n })).to.be.revertedWithCustomError(ledger, "LedgerBatchInvalid").withArgs(1);
      await expect(ledger.connect(guest).settleBatch([a], ["0x", "0x"], { value: 10n })).to.be.revertedWithCustomError(ledger, "LedgerBatchInvalid").withArgs(2);
    });
  });

  describe("reserves", function () {
    async function heldFixture() {
      const f = await ledgerFixture();
      const p = await makePayment({ agreementId: f.direct, gross: 10_000n, refundBeneficiary: f.stranger.address });
      const [record] = await lotsOf(f.ledger, await f.ledger.connect(f.guest).settle(p, "0x", { value: 10_000n }));
      return { ...f, record: record! };
    }

    it("releases a lot into its pool after the window, once", async function () {
      const { ledger, direct, record } = await loadFixture(heldFixture);
      await expect(ledger.releaseReserve(record.lotId, record.lot))
        .to.be.revertedWithCustomError(ledger, "LedgerDisputeWindowOpen")
        .withArgs(record.lotId, record.lot.releaseAt);
      await time.increaseTo(record.lot.releaseAt);
      await expect(ledger.releaseReserve(record.lotId, record.lot)).to.emit(ledger, "ReserveReleased").withArgs(record.lotId, direct, 1, ETH, 1_000n);
      const pool = await ledger.pool(direct, 1, ETH);
      expect([pool.total, pool.held]).to.deep.equal([10_000n, 0n]);
      await expect(ledger.releaseReserve(record.lotId, record.lot)).to.be.revertedWithCustomError(ledger, "LedgerUnknownLot").withArgs(record.lotId);
    });

    it("refunds to the named beneficiary, only by the refund authority, within the window and the entry's reserve", async function () {
      const { ledger, guest, stranger, authority, record } = await loadFixture(heldFixture);
      await expect(ledger.connect(guest).refund(record.lotId, record.lot, record.entries, 0, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerNotRefundAuthority")
        .withArgs(guest.address, authority.address);
      await expect(ledger.connect(authority).refund(record.lotId, record.lot, record.entries, 0, 1_001n))
        .to.be.revertedWithCustomError(ledger, "LedgerRefundExceedsReserve")
        .withArgs(1_001n, 1_000n);
      await expect(ledger.connect(authority).refund(record.lotId, record.lot, record.entries, 0, 400n))
        .to.emit(ledger, "ReserveRefunded")
        .withArgs(record.lotId, record.entries[0]!.orderRef, stranger.address, 0, 400n, 600n);
      expect(await ledger.balanceOf(stranger.address, ETH)).to.equal(400n);
      expect(await ledger.balanceOf(guest.address, ETH)).to.equal(0n);
      const next = afterRefund(record, 0, 400n);
      expect(await ledger.lotHash(record.lotId)).to.equal(await ledger.hashLot(next.lot));
      await time.increaseTo(record.lot.releaseAt);
      await expect(ledger.connect(authority).refund(next.lotId, next.lot, next.entries, 0, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerDisputeWindowClosed")
        .withArgs(record.lotId, record.lot.releaseAt);
      await expect(ledger.releaseReserve(next.lotId, next.lot)).to.emit(ledger, "ReserveReleased").withArgs(record.lotId, () => true, 1, ETH, 600n);
    });

    it("refuses entries that are not the lot's", async function () {
      const { ledger, authority, record } = await loadFixture(heldFixture);
      const forged = [{ ...record.entries[0]!, beneficiary: authority.address }];
      await expect(ledger.connect(authority).refund(record.lotId, record.lot, forged, 0, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerLotEntriesMismatch")
        .withArgs(record.lotId, 0);
    });
  });

  describe("payouts", function () {
    async function pooledFixture() {
      const f = await ledgerFixture();
      const p = await makePayment({ agreementId: f.direct, gross: 1_000_000n });
      await f.ledger.connect(f.guest).settle(p, "0x", { value: 1_000_000n });
      return { ...f, total: expectedSplit(1_000_000n, FEE, RESERVE, false).net };
    }

    it("distributes whole units pro rata in one event and keeps the books", async function () {
      const { ledger, direct, directTerms, parties, total } = await loadFixture(pooledFixture);
      await expect(ledger.distribute(direct, 1, ETH, packedOf(directTerms.parties))).to.emit(ledger, "Distributed").withArgs(direct, 1, ETH, 0, total);
      const credits = expectedCredits(total, directTerms.parties.map((p) => p.shareBps));
      for (const [i, party] of directTerms.parties.entries()) expect(await ledger.balanceOf(party.account, ETH)).to.equal(credits[i]);
      await expectConservation(ledger, ETH, parties, [{ agreementId: direct, version: 1 }]);
    });

    it("refuses parties that are not the version's", async function () {
      const { ledger, direct, directTerms, stranger } = await loadFixture(pooledFixture);
      const swapped = directTerms.parties.map((p, i) => (i === 0 ? { ...p, account: stranger.address } : p));
      await expect(ledger.distribute(direct, 1, ETH, packedOf(swapped))).to.be.revertedWithCustomError(ledger, "LedgerPartiesMismatch").withArgs(direct, 1);
      await expect(ledger.claim(direct, 1, ETH, 0, swapped[0]!, proofOf(directTerms.parties, 0))).to.be.revertedWithCustomError(ledger, "LedgerPartiesMismatch");
      // The packed list itself: a party missing or added, a stray high bit, an account read as a nested party.
      const packed = packedOf(directTerms.parties);
      for (const forged of [packed.slice(1), [...packed, packed[0]!], [packed[0]! | (1n << 200n), ...packed.slice(1)], [packed[0]! | (1n << 255n), ...packed.slice(1)]]) {
        await expect(ledger.distribute(direct, 1, ETH, forged)).to.be.revertedWithCustomError(ledger, "LedgerPartiesMismatch").withArgs(direct, 1);
      }
      await expect(ledger.distribute(direct, 2, ETH, packed)).to.be.revertedWithCustomError(ledger, "LedgerPartiesMismatch").withArgs(direct, 2);
    });

    it("pays a claimed party once across claims and distributions", async function () {
      const { ledger, guest, direct, directTerms, total } = await loadFixture(pooledFixture);
      const shares = directTerms.parties.map((p) => p.shareBps);
      const idx = 1;
      const party = directTerms.parties[idx]!;
      await expect(ledger.claim(direct, 1, ETH, idx, party, proofOf(directTerms.parties, idx)))
        .to.emit(ledger, "Claimed")
        .withArgs(direct, 1, ETH, idx, expectedCredits(total, shares)[idx], total);
      await ledger.claim(direct, 1, ETH, idx, party, proofOf(directTerms.parties, idx));
      await ledger.distribute(direct, 1, ETH, packedOf(directTerms.parties));
      await ledger.connect(guest).settle(await makePayment({ agreementId: direct, gross: 100_000n }), "0x", { value: 100_000n });
      await ledger.distribute(direct, 1, ETH, packedOf(directTerms.parties));
      const all = total + expectedSplit(100_000n, FEE, RESERVE, false).net;
      const credits = expectedCredits(all, shares);
      for (const [i, p] of directTerms.parties.entries()) expect(await ledger.balanceOf(p.account, ETH)).to.equal(credits[i]);
    });
  });

  describe("withdraw", function () {
    it("pays out to any address, refuses more than the balance and the zero address", async function () {
      const { ledger, guest, referrer, stranger, direct } = await loadFixture(ledgerFixture);
      await ledger.connect(guest).settle(await makePayment({ agreementId: direct, gross: 10_000n, referrer: referrer.address }), "0x", { value: 10_000n });
      await expect(ledger.connect(referrer).withdraw(ETH, stranger.address, 501n))
        .to.be.revertedWithCustomError(ledger, "LedgerInsufficientBalance")
        .withArgs(referrer.address, ETH, 500n, 501n);
      await expect(ledger.connect(referrer).withdraw(ETH, ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(ledger, "LedgerZeroRecipient");
      const tx = ledger.connect(referrer).withdraw(ETH, stranger.address, 500n);
      await expect(tx).to.changeEtherBalances([ledger, stranger], [-500n, 500n]);
      await expect(tx).to.emit(ledger, "Withdrawn").withArgs(referrer.address, ETH, stranger.address, 500n);
      expect(await ledger.balanceOf(referrer.address, ETH)).to.equal(0n);
    });
  });
});
