import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, ETH, activateWithSignatures, amendWithSignatures, deployConcord, ledgerDomain, makePayment, makeTerms, signIntent } from "./helpers/concord";
import { afterRefund, expectConservation, expectedCredits, expectedSplit, lotsOf, proofOf, packedOf } from "./helpers/ledger";

/**
 * Issue 23's attacks on settlement, each written as the attacker would try it; the oracles are
 * the laws' words (DESIGN.md): scoped idempotency, attested referral, pinned versions, named
 * beneficiaries, whole-unit pools and a final remainder only once a pool is closed.
 */
describe("Settlement against strangers", function () {
  async function fixture() {
    const [, hotel, restaurant, airline, merchantKey, referrer, guest, stranger, authority] = await ethers.getSigners();
    const concord = await deployConcord();
    const { registry } = concord;
    const signers = [hotel!, restaurant!, airline!];
    const shares: Array<[string, number]> = [[hotel!.address, 5_000], [restaurant!.address, 3_000], [airline!.address, 2_000]];
    const common = { reserveBps: 1_000, disputeWindow: DAY, refundAuthority: authority!.address, referralFeeBps: 500 };
    const directTerms = makeTerms(shares, { ...common, referrers: [referrer!.address] });
    const direct = await activateWithSignatures(registry, directTerms, signers);
    const intentTerms = makeTerms(shares, { ...common, orderSigner: merchantKey!.address });
    const intent = await activateWithSignatures(registry, intentTerms, signers);
    // The stranger's own agreement, under which it may settle anything it likes.
    const own = await activateWithSignatures(registry, makeTerms([[stranger!.address, 10_000]]), [stranger!]);
    return {
      ...concord, hotel: hotel!, restaurant: restaurant!, airline: airline!, merchant: merchantKey!, referrer: referrer!, guest: guest!,
      stranger: stranger!, authority: authority!, signers, direct, intent, own, directTerms, intentTerms,
    };
  }

  describe("order references", function () {
    it("a stranger's 1-wei settlement with the guest's reference does not stop the guest's payment", async function () {
      const { ledger, guest, stranger, direct } = await loadFixture(fixture);
      const real = await makePayment({ agreementId: direct, gross: 10_000n });
      // Seen in the mempool, copied for 1 wei under the very same agreement: it lands in the stranger's scope.
      await expect(ledger.connect(stranger).settle({ ...real, gross: 1n }, "0x", { value: 1n }))
        .to.emit(ledger, "Settled")
        .withArgs(real.orderRef, direct, 1, ETH, stranger.address, 1n, ethers.ZeroAddress, stranger.address);
      await expect(ledger.connect(guest).settle(real, "0x", { value: 10_000n }))
        .to.emit(ledger, "Settled")
        .withArgs(real.orderRef, direct, 1, ETH, guest.address, 10_000n, ethers.ZeroAddress, guest.address);
      expect(await ledger.isOrderSettled(guest.address, real.orderRef)).to.equal(true);
      await expect(ledger.connect(guest).settle(real, "0x", { value: 10_000n }))
        .to.be.revertedWithCustomError(ledger, "LedgerOrderAlreadySettled")
        .withArgs(guest.address, real.orderRef);
    });

    it("a stranger cannot take a merchant's reference: its copy settles in its own scope or not at all", async function () {
      const { ledger, guest, merchant, stranger, intent, own } = await loadFixture(fixture);
      const p = await makePayment({ agreementId: intent, gross: 10_000n });
      await expect(ledger.connect(stranger).settle({ ...p, gross: 1n }, "0x", { value: 1n }))
        .to.be.revertedWithCustomError(ledger, "LedgerInvalidIntent")
        .withArgs(merchant.address, p.orderRef);
      await ledger.connect(stranger).settle({ ...p, agreementId: own, gross: 1n }, "0x", { value: 1n });
      await expect(ledger.connect(guest).settle(p, await signIntent(ledger, merchant, p), { value: 10_000n })).to.emit(ledger, "Settled");
      expect(await ledger.isOrderSettled(merchant.address, p.orderRef)).to.equal(true);
    });

    it("references sharing a bitmap word settle once each, and a batch cannot settle one twice", async function () {
      const { ledger, guest, direct } = await loadFixture(fixture);
      const base = BigInt(ethers.hexlify(ethers.randomBytes(32))) & ~0xffn;
      const ref = (i: bigint) => ethers.toBeHex(base + i, 32);
      const payments = await Promise.all([0n, 1n, 2n, 255n].map((i) => makePayment({ agreementId: direct, gross: 10n, orderRef: ref(i) })));
      await ledger.connect(guest).settleBatch(payments, [], { value: 40n });
      for (const i of [0n, 1n, 2n, 255n]) expect(await ledger.isOrderSettled(guest.address, ref(i))).to.equal(true);
      expect(await ledger.isOrderSettled(guest.address, ref(3n))).to.equal(false);
      const twice = await makePayment({ agreementId: direct, gross: 10n, orderRef: ref(3n) });
      await expect(ledger.connect(guest).settleBatch([twice, twice], [], { value: 20n }))
        .to.be.revertedWithCustomError(ledger, "LedgerOrderAlreadySettled")
        .withArgs(guest.address, ref(3n));
      expect(await ledger.isOrderSettled(guest.address, ref(3n))).to.equal(false);
    });
  });

  describe("attribution", function () {
    it("a payer cannot name a referrer the merchant's intent does not attest, nor drop the attested one", async function () {
      const { ledger, guest, merchant, referrer, stranger, intent } = await loadFixture(fixture);
      const p = await makePayment({ agreementId: intent, gross: 10_000n, referrer: referrer.address });
      const sig = await signIntent(ledger, merchant, p);
      for (const other of [stranger.address, ethers.ZeroAddress]) {
        await expect(ledger.connect(guest).settle({ ...p, referrer: other }, sig, { value: 10_000n }))
          .to.be.revertedWithCustomError(ledger, "LedgerInvalidIntent")
          .withArgs(merchant.address, p.orderRef);
      }
      await ledger.connect(guest).settle(p, sig, { value: 10_000n });
      expect(await ledger.balanceOf(referrer.address, ETH)).to.equal(expectedSplit(10_000n, 500, 1_000, true).referralFee);
      expect(await ledger.balanceOf(stranger.address, ETH)).to.equal(0n);
    });

    it("the referrer an intent attests cannot pay that intent itself and earn the fee", async function () {
      const { ledger, merchant, referrer, intent } = await loadFixture(fixture);
      const p = await makePayment({ agreementId: intent, gross: 10_000n, referrer: referrer.address });
      await expect(ledger.connect(referrer).settle(p, await signIntent(ledger, merchant, p), { value: 10_000n }))
        .to.be.revertedWithCustomError(ledger, "LedgerSelfReferral")
        .withArgs(referrer.address);
    });

    it("a direct payment cannot name a referrer the terms do not list (the payer's second address)", async function () {
      const { ledger, guest, stranger, direct } = await loadFixture(fixture);
      const p = await makePayment({ agreementId: direct, gross: 10_000n, referrer: stranger.address });
      await expect(ledger.connect(guest).settle(p, "0x", { value: 10_000n }))
        .to.be.revertedWithCustomError(ledger, "LedgerReferrerNotAllowed")
        .withArgs(direct, 1, stranger.address);
    });

    it("refuses a referrer or beneficiary that could never withdraw: the ledger, the registry, the hub, the token", async function () {
      const { ledger, registry, hub, guest, merchant, intent } = await loadFixture(fixture);
      const token = await ethers.deployContract("MockERC20", ["Dollar", "USD", 2]);
      await token.mint(guest.address, 1_000n);
      await token.connect(guest).approve(await ledger.getAddress(), 1_000n);
      const unreachable = [await ledger.getAddress(), await registry.getAddress(), await hub.getAddress(), await token.getAddress()];
      for (const who of unreachable) {
        for (const field of ["referrer", "refundBeneficiary"] as const) {
          const p = await makePayment({ agreementId: intent, gross: 100n, token: await token.getAddress(), [field]: who });
          await expect(ledger.connect(guest).settle(p, await signIntent(ledger, merchant, p)))
            .to.be.revertedWithCustomError(ledger, "LedgerUnreachableRecipient")
            .withArgs(who);
        }
      }
    });
  });

  describe("intents", function () {
    it("refuses an expired, a replayed and an altered intent, and one signed for another ledger", async function () {
      const { ledger, guest, merchant, hotel, intent } = await loadFixture(fixture);
      const p = await makePayment({ agreementId: intent, gross: 10_000n, deadline: BigInt(await time.latest()) + 100n });
      const sig = await signIntent(ledger, merchant, p);
      for (const altered of [{ gross: 9_999n }, { refundBeneficiary: hotel.address }, { orderRef: ethers.id("other") }, { deadline: p.deadline + 1n }]) {
        await expect(ledger.connect(guest).settle({ ...p, ...altered }, sig, { value: altered.gross ?? 10_000n })).to.be.revertedWithCustomError(
          ledger,
          "LedgerInvalidIntent",
        );
      }
      const elsewhere = await signIntent(ledger, merchant, p, { ...(await ledgerDomain(ledger)), verifyingContract: hotel.address });
      await expect(ledger.connect(guest).settle(p, elsewhere, { value: 10_000n })).to.be.revertedWithCustomError(ledger, "LedgerInvalidIntent");
      await ledger.connect(guest).settle(p, sig, { value: 10_000n });
      await expect(ledger.connect(hotel).settle(p, sig, { value: 10_000n }))
        .to.be.revertedWithCustomError(ledger, "LedgerOrderAlreadySettled")
        .withArgs(merchant.address, p.orderRef);
      const late = await makePayment({ agreementId: intent, gross: 10_000n, deadline: BigInt(await time.latest()) + 10n });
      const lateSig = await signIntent(ledger, merchant, late);
      await time.increaseTo(late.deadline + 1n);
      await expect(ledger.connect(guest).settle(late, lateSig, { value: 10_000n }))
        .to.be.revertedWithCustomError(ledger, "LedgerPaymentExpired")
        .withArgs(late.orderRef, late.deadline);
    });

    it("settles an intent signed by an ERC-1271 merchant wallet, and refuses it when the wallet rejects", async function () {
      const { registry, ledger, signers, guest, merchant, hotel, restaurant, airline } = await loadFixture(fixture);
      const wallet = await ethers.deployContract("MockERC1271Wallet", [merchant.address, 0]);
      const terms = makeTerms([[hotel.address, 5_000], [restaurant.address, 3_000], [airline.address, 2_000]], { orderSigner: await wallet.getAddress() });
      const id = await activateWithSignatures(registry, terms, signers);
      const p = await makePayment({ agreementId: id, gross: 10_000n });
      const sig = await signIntent(ledger, merchant, p);
      await wallet.setMode(1);
      await expect(ledger.connect(guest).settle(p, sig, { value: 10_000n }))
        .to.be.revertedWithCustomError(ledger, "LedgerInvalidIntent")
        .withArgs(await wallet.getAddress(), p.orderRef);
      await wallet.setMode(0);
      await expect(ledger.connect(guest).settle(p, sig, { value: 10_000n })).to.emit(ledger, "Settled");
      expect(await ledger.isOrderSettled(await wallet.getAddress(), p.orderRef)).to.equal(true);
    });

    it("a batch keeps scopes apart: the same reference settles once for the payer and once for the merchant", async function () {
      const { ledger, guest, merchant, direct, intent } = await loadFixture(fixture);
      const orderRef = ethers.id("shared-ref");
      const mine = await makePayment({ agreementId: direct, gross: 100n, orderRef });
      const theirs = await makePayment({ agreementId: intent, gross: 100n, orderRef });
      const sig = await signIntent(ledger, merchant, theirs);
      await expect(ledger.connect(guest).settleBatch([mine, theirs, mine], ["0x", sig, "0x"], { value: 300n }))
        .to.be.revertedWithCustomError(ledger, "LedgerOrderAlreadySettled")
        .withArgs(guest.address, orderRef);
      await ledger.connect(guest).settleBatch([mine, theirs], ["0x", sig], { value: 200n });
      expect(await ledger.isOrderSettled(guest.address, orderRef)).to.equal(true);
      expect(await ledger.isOrderSettled(merchant.address, orderRef)).to.equal(true);
    });

    it("a batch with one unlisted referrer or one stale version reverts whole, recording nothing", async function () {
      const { ledger, guest, stranger, direct } = await loadFixture(fixture);
      const good = await makePayment({ agreementId: direct, gross: 100n });
      const unlisted = await makePayment({ agreementId: direct, gross: 100n, referrer: stranger.address });
      await expect(ledger.connect(guest).settleBatch([good, unlisted], [], { value: 200n }))
        .to.be.revertedWithCustomError(ledger, "LedgerReferrerNotAllowed")
        .withArgs(direct, 1, stranger.address);
      const stale = await makePayment({ agreementId: direct, gross: 100n, version: 2 });
      await expect(ledger.connect(guest).settleBatch([good, stale], [], { value: 200n }))
        .to.be.revertedWithCustomError(ledger, "LedgerVersionNotActive")
        .withArgs(direct, 2, 1);
      expect(await ledger.isOrderSettled(guest.address, good.orderRef)).to.equal(false);
      expect((await ledger.riskCounters(direct, ETH)).settledCount).to.equal(0n);
      expect((await ledger.pool(direct, 1, ETH)).total).to.equal(0n);
    });

    it("a batch keeps every intent's guarantees: one bad signature reverts the whole batch", async function () {
      const { ledger, guest, merchant, stranger, intent } = await loadFixture(fixture);
      const good = await makePayment({ agreementId: intent, gross: 100n });
      const bad = await makePayment({ agreementId: intent, gross: 100n });
      const sigs = [await signIntent(ledger, merchant, good), await signIntent(ledger, stranger, bad)];
      await expect(ledger.connect(guest).settleBatch([good, bad], sigs, { value: 200n }))
        .to.be.revertedWithCustomError(ledger, "LedgerInvalidIntent")
        .withArgs(merchant.address, bad.orderRef);
      expect(await ledger.isOrderSettled(merchant.address, good.orderRef)).to.equal(false);
    });
  });

  describe("pinned versions", function () {
    it("a settlement quoted under version 1 reverts after an amendment to version 2", async function () {
      const { registry, ledger, guest, hotel, signers, direct, directTerms } = await loadFixture(fixture);
      const p = await makePayment({ agreementId: direct, gross: 10_000n });
      await amendWithSignatures(registry, direct, { ...directTerms, reserveBps: 5_000 }, hotel, signers);
      await expect(ledger.connect(guest).settle(p, "0x", { value: 10_000n }))
        .to.be.revertedWithCustomError(ledger, "LedgerVersionNotActive")
        .withArgs(direct, 1, 2);
    });

    for (const order of ["distribute, then the child's amendment", "the child's amendment, then distribute"]) {
      it(`a parent's pending and reserved flows reach the pinned child version: ${order}`, async function () {
        const { registry, ledger, guest, hotel, restaurant, airline } = await loadFixture(fixture);
        const childTerms = makeTerms([[restaurant.address, 5_000], [airline.address, 5_000]]);
        const child = await activateWithSignatures(registry, childTerms, [restaurant, airline]);
        const parentTerms = makeTerms([[hotel.address, 5_000], [child, 5_000]], { reserveBps: 2_000, disputeWindow: DAY });
        const parent = await activateWithSignatures(registry, parentTerms, [hotel, restaurant, airline]);
        const [lot] = await lotsOf(ledger, await ledger.connect(guest).settle(await makePayment({ agreementId: parent, gross: 100_000n }), "0x", { value: 100_000n }));
        const amend = () => amendWithSignatures(registry, child, makeTerms([[restaurant.address, 9_000], [airline.address, 1_000]]), restaurant, [restaurant, airline]);
        const pay = () => ledger.distribute(parent, 1, ETH, packedOf(parentTerms.parties));
        if (order.startsWith("distribute")) {
          await pay();
          await amend();
        } else {
          await amend();
          await pay();
        }
        await time.increaseTo(lot!.lot.releaseAt);
        await ledger.releaseReserve(lot!.lotId, lot!.lot);
        await pay();
        // The child's half of the whole gross (no fee; the reserve released) goes to version 1 only.
        expect((await ledger.pool(child, 1, ETH)).total).to.equal(50_000n);
        expect((await ledger.pool(child, 2, ETH)).total).to.equal(0n);
        await ledger.distribute(child, 1, ETH, packedOf(childTerms.parties));
        expect(await ledger.balanceOf(restaurant.address, ETH)).to.equal(25_000n);
        expect(await ledger.balanceOf(airline.address, ETH)).to.equal(25_000n);
      });
    }
  });

  describe("risk counters", function () {
    it("1,000 dust settlements add 1,000 wei of volume and leave every party its exact share", async function () {
      const { ledger, stranger, direct, directTerms } = await loadFixture(fixture);
      // Four batches of 250: a transaction's gas is capped at 2**24.
      for (let batch = 0; batch < 4; batch++) {
        const dust = await Promise.all(Array.from({ length: 250 }, () => makePayment({ agreementId: direct, gross: 1n })));
        await ledger.connect(stranger).settleBatch(dust, [], { value: 250n });
      }
      const risk = await ledger.riskCounters(direct, ETH);
      expect([risk.settledVolume, risk.settledCount]).to.deep.equal([1_000n, 1_000n]);
      await ledger.distribute(direct, 1, ETH, packedOf(directTerms.parties));
      const credits = expectedCredits(1_000n, directTerms.parties.map((p) => p.shareBps));
      for (const [i, p] of directTerms.parties.entries()) expect(await ledger.balanceOf(p.account, ETH)).to.equal(credits[i]);
    });

    it("twenty partial refunds of one settlement raise refundCount by one", async function () {
      const { ledger, guest, authority, direct } = await loadFixture(fixture);
      let [record] = await lotsOf(ledger, await ledger.connect(guest).settle(await makePayment({ agreementId: direct, gross: 100_000n }), "0x", { value: 100_000n }));
      for (let i = 0; i < 20; i++) {
        await ledger.connect(authority).refund(record!.lotId, record!.lot, record!.entries, 0, 1n);
        record = afterRefund(record!, 0, 1n);
      }
      const risk = await ledger.riskCounters(direct, ETH);
      expect([risk.settledCount, risk.refundCount, risk.refundedVolume]).to.deep.equal([1n, 1n, 20n]);
      expect(await ledger.balanceOf(guest.address, ETH)).to.equal(20n);
    });
  });

  describe("dust", function () {
    it("a 2-decimal token's six payments totalling $1,000 credit 33,340 / 33,330 / 33,330 cents", async function () {
      const { registry, ledger, guest, hotel, restaurant, airline, signers } = await loadFixture(fixture);
      const token = await ethers.deployContract("MockERC20", ["Dollar", "USD", 2]);
      await token.mint(guest.address, 100_000n);
      await token.connect(guest).approve(await ledger.getAddress(), 100_000n);
      const terms = makeTerms([[hotel.address, 3_334], [restaurant.address, 3_333], [airline.address, 3_333]], { reserveBps: 0, disputeWindow: 0 });
      const id = await activateWithSignatures(registry, terms, signers);
      const usd = await token.getAddress();
      for (const cents of [19_999n, 15_001n, 20_000n, 12_345n, 17_655n, 15_000n]) {
        await ledger.connect(guest).settle(await makePayment({ agreementId: id, gross: cents, token: usd }), "0x");
        await ledger.distribute(id, 1, usd, packedOf(terms.parties));
      }
      const byAccount = new Map(terms.parties.map((p) => [p.account, p.shareBps]));
      const expected = { 3_334: 33_340n, 3_333: 33_330n } as Record<number, bigint>;
      for (const [account, share] of byAccount) expect(await ledger.balanceOf(account, usd)).to.equal(expected[share]);
      await expectConservation(ledger, usd, [...byAccount.keys()], [{ agreementId: id, version: 1 }]);
    });

    it("the final remainder goes to the dust party only once the pool is closed, and once", async function () {
      const { registry, ledger, guest, hotel, signers, direct, directTerms } = await loadFixture(fixture);
      // Unit 10 (shares 5,000 / 3,000 / 2,000); 1,009 wei: 100 reserved, 909 pooled.
      const [lot] = await lotsOf(ledger, await ledger.connect(guest).settle(await makePayment({ agreementId: direct, gross: 1_009n }), "0x", { value: 1_009n }));
      const dustIndex = directTerms.dustPartyIndex;
      const dust = directTerms.parties[dustIndex]!;
      const sweep = () => ledger.sweepRemainder(direct, 1, ETH, dust, proofOf(directTerms.parties, dustIndex));
      await expect(sweep()).to.be.revertedWithCustomError(ledger, "LedgerPoolStillOpen").withArgs(direct, 1, ETH);
      await amendWithSignatures(registry, direct, { ...directTerms, documentHash: ethers.id("v2") }, hotel, signers);
      await expect(sweep()).to.be.revertedWithCustomError(ledger, "LedgerPoolStillOpen").withArgs(direct, 1, ETH);
      await time.increaseTo(lot!.lot.releaseAt);
      await ledger.releaseReserve(lot!.lotId, lot!.lot);
      await ledger.distribute(direct, 1, ETH, packedOf(directTerms.parties));
      const before = await ledger.balanceOf(dust.account, ETH);
      await expect(sweep()).to.emit(ledger, "RemainderSwept").withArgs(direct, 1, ETH, dustIndex, 9n);
      await expect(sweep()).to.not.emit(ledger, "RemainderSwept");
      expect((await ledger.balanceOf(dust.account, ETH)) - before).to.equal(9n);
      const credits = expectedCredits(1_009n, directTerms.parties.map((p) => p.shareBps));
      for (const [i, p] of directTerms.parties.entries()) {
        expect(await ledger.balanceOf(p.account, ETH)).to.equal(credits[i]! + (i === dustIndex ? 9n : 0n));
      }
      await expectConservation(ledger, ETH, directTerms.parties.map((p) => p.account), [{ agreementId: direct, version: 1 }]);
    });

    it("a child version pinned by an active parent keeps its remainder", async function () {
      const { registry, ledger, guest, hotel, restaurant, airline } = await loadFixture(fixture);
      const childTerms = makeTerms([[restaurant.address, 5_000], [airline.address, 5_000]], { reserveBps: 0, disputeWindow: 0 });
      const child = await activateWithSignatures(registry, childTerms, [restaurant, airline]);
      const parent = await activateWithSignatures(registry, makeTerms([[hotel.address, 5_000], [child, 5_000]]), [hotel, restaurant, airline]);
      await ledger.connect(guest).settle(await makePayment({ agreementId: child, gross: 3n }), "0x", { value: 3n });
      await amendWithSignatures(registry, child, { ...childTerms, documentHash: ethers.id("v2") }, restaurant, [restaurant, airline]);
      // The error names the pool that can still credit the child: the active parent's.
      await expect(ledger.sweepRemainder(child, 1, ETH, childTerms.parties[0]!, proofOf(childTerms.parties, 0)))
        .to.be.revertedWithCustomError(ledger, "LedgerPoolStillOpen")
        .withArgs(parent, 1, ETH);
    });
  });
});
