import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import { computeSplit, splitAmongParties } from "../src/sdk/split";
import {
  AgreementStatus,
  DAY,
  ETH,
  ReferrerPolicy,
  activateWithSignatures,
  deployConcord,
  makeTerms,
  signConsents,
  type TermsInput,
} from "./helpers/concord";
import type { SettlementLedger } from "../typechain-types";

type Record = {
  agreementId: bigint;
  version: bigint;
  token: string;
  payer: string;
  reserve: bigint;
  releaseAt: bigint;
};

/** The reserve record of a settlement, rebuilt from its Settled event as an integrator would. */
async function recordOf(ledger: SettlementLedger, orderRef: string): Promise<Record> {
  const [log] = await ledger.queryFilter(ledger.filters.Settled(orderRef));
  if (!log) throw new Error(`no Settled event for ${orderRef}`);
  const a = log.args;
  return {
    agreementId: a.agreementId,
    version: a.version,
    token: a.token,
    payer: a.payer,
    reserve: a.reserve,
    releaseAt: a.releaseAt,
  };
}

const splitTermsOf = (t: TermsInput) => ({
  shares: t.parties.map((p) => p.shareBps),
  referralFeeBps: t.referralFeeBps,
  reserveBps: t.reserveBps,
  dustPartyIndex: t.dustPartyIndex,
});

describe("SettlementLedger", function () {
  async function ledgerFixture() {
    const signers = await ethers.getSigners();
    const [, hotel, restaurant, airline, guest, travelSite, refundDesk, other] = signers as [
      Signer,
      ...Awaited<ReturnType<typeof ethers.getSigners>>,
    ];
    const { registry, ledger } = await deployConcord();
    const terms = makeTerms(
      [
        [hotel!.address, 5_000],
        [restaurant!.address, 3_000],
        [airline!.address, 2_000],
      ],
      { refundAuthority: refundDesk!.address, reserveBps: 1_000, referralFeeBps: 500, disputeWindow: 7 * DAY },
    );
    const id = await activateWithSignatures(registry, terms, [hotel!, restaurant!, airline!]);
    const usd = await ethers.deployContract("MockERC20", ["Stable USD", "sUSD", 6]);
    await usd.mint(guest!.address, 10n ** 12n);
    await usd.connect(guest!).approve(ledger, ethers.MaxUint256);
    return {
      registry,
      ledger,
      usd,
      terms,
      id,
      hotel: hotel!,
      restaurant: restaurant!,
      airline: airline!,
      guest: guest!,
      travelSite: travelSite!,
      refundDesk: refundDesk!,
      other: other!,
    };
  }

  async function settledFixture() {
    const f = await loadFixture(ledgerFixture);
    const orderRef = ethers.id("order-1");
    await f.ledger.connect(f.guest).settle(f.id, ETH, 1_000_003n, f.travelSite.address, orderRef, { value: 1_000_003n });
    return { ...f, orderRef, gross: 1_000_003n };
  }

  describe("settle", function () {
    it("pays the referral fee to the referrer, holds the reserve and pools the rest, to the wei", async function () {
      const { ledger, id, terms, guest, travelSite } = await loadFixture(ledgerFixture);
      const gross = 1_000_003n;
      const orderRef = ethers.id("order-1");
      const expected = computeSplit(splitTermsOf(terms), gross, true);
      const tx = ledger.connect(guest).settle(id, ETH, gross, travelSite.address, orderRef, { value: gross });
      const releaseAt = BigInt(await time.latest()) + 1n + 7n * BigInt(DAY);
      await expect(tx)
        .to.emit(ledger, "Settled")
        .withArgs(orderRef, id, guest.address, 1n, ETH, gross, travelSite.address, expected.referralFee, expected.reserve, releaseAt);
      await expect(tx).to.changeEtherBalances([guest, ledger], [-gross, gross]);

      expect(expected.referralFee).to.equal(50_000n);
      expect(expected.reserve).to.equal(100_000n);
      expect(await ledger.balanceOf(travelSite.address, ETH)).to.equal(expected.referralFee);
      expect(await ledger.pool(id, 1, ETH)).to.deep.equal([expected.distributable, expected.dust]);
      for (let i = 0; i < terms.parties.length; i++) {
        expect(await ledger.claimable(id, 1, ETH, terms, i)).to.equal(expected.credits[i]);
      }
      // Exactness: fee + reserve + credits = gross.
      const credited = expected.credits.reduce((s, c) => s + c, 0n);
      expect(expected.referralFee + expected.reserve + credited).to.equal(gross);
      const risk = await ledger.riskCounters(id, ETH);
      expect([risk.settledVolume, risk.settledCount, risk.refundCount, risk.refundedVolume]).to.deep.equal([gross, 1n, 0n, 0n]);
    });

    it("pays no referral fee without a referrer", async function () {
      const { ledger, id, terms, guest } = await loadFixture(ledgerFixture);
      const expected = computeSplit(splitTermsOf(terms), 777n, false);
      await expect(ledger.connect(guest).settle(id, ETH, 777n, ETH, ethers.id("o"), { value: 777n }))
        .to.emit(ledger, "Settled")
        .withArgs(ethers.id("o"), id, guest.address, 1n, ETH, 777n, ETH, 0n, expected.reserve, (v: bigint) => v > 0n);
      expect(await ledger.pool(id, 1, ETH)).to.deep.equal([expected.distributable, expected.dust]);
    });

    it("settles an order reference once", async function () {
      const { ledger, id, guest, orderRef } = await settledFixture();
      await expect(ledger.connect(guest).settle(id, ETH, 5n, ETH, orderRef, { value: 5n }))
        .to.be.revertedWithCustomError(ledger, "LedgerOrderAlreadySettled")
        .withArgs(orderRef);
    });

    it("never pays the payer as its own referrer", async function () {
      const { ledger, id, guest } = await loadFixture(ledgerFixture);
      await expect(ledger.connect(guest).settle(id, ETH, 100n, guest.address, ethers.id("o"), { value: 100n }))
        .to.be.revertedWithCustomError(ledger, "LedgerSelfReferral")
        .withArgs(guest.address);
    });

    it("pays only allowlisted referrers under the Allowlist policy, and none under None", async function () {
      const { registry, ledger, hotel, restaurant, guest, travelSite, other } = await loadFixture(ledgerFixture);
      const allow = makeTerms([[hotel.address, 6_000], [restaurant.address, 4_000]], {
        referrerPolicy: ReferrerPolicy.Allowlist,
        referrers: [travelSite.address],
      });
      const allowId = await activateWithSignatures(registry, allow, [hotel, restaurant]);
      await expect(ledger.connect(guest).settle(allowId, ETH, 100n, other.address, ethers.id("a"), { value: 100n }))
        .to.be.revertedWithCustomError(ledger, "LedgerReferrerNotAllowed")
        .withArgs(allowId, 1n, other.address);
      await ledger.connect(guest).settle(allowId, ETH, 10_000n, travelSite.address, ethers.id("b"), { value: 10_000n });
      expect(await ledger.balanceOf(travelSite.address, ETH)).to.equal(500n);

      const none = makeTerms([[hotel.address, 6_000], [restaurant.address, 4_000]], {
        referrerPolicy: ReferrerPolicy.None,
        referralFeeBps: 0,
      });
      const noneId = await activateWithSignatures(registry, none, [hotel, restaurant]);
      await expect(ledger.connect(guest).settle(noneId, ETH, 100n, travelSite.address, ethers.id("c"), { value: 100n }))
        .to.be.revertedWithCustomError(ledger, "LedgerReferrerNotAllowed")
        .withArgs(noneId, 1n, travelSite.address);
    });

    it("rejects bad input and changes nothing", async function () {
      const { registry, ledger, id, guest, usd, terms } = await loadFixture(ledgerFixture);
      const ref = ethers.id("o");
      await expect(ledger.connect(guest).settle(id, ETH, 0n, ETH, ref)).to.be.revertedWithCustomError(ledger, "LedgerZeroAmount");
      await expect(ledger.connect(guest).settle(id, ETH, 5n, ETH, ethers.ZeroHash, { value: 5n })).to.be.revertedWithCustomError(
        ledger,
        "LedgerZeroOrderRef",
      );
      await expect(ledger.connect(guest).settle(id, ETH, 5n, ETH, ref, { value: 4n }))
        .to.be.revertedWithCustomError(ledger, "LedgerValueMismatch")
        .withArgs(4n, 5n);
      await expect(ledger.connect(guest).settle(id, usd, 5n, ETH, ref, { value: 5n }))
        .to.be.revertedWithCustomError(ledger, "LedgerValueMismatch")
        .withArgs(5n, 0n);
      await registry.propose(terms); // agreement 2: proposed, not active
      await expect(ledger.connect(guest).settle(2, ETH, 5n, ETH, ref, { value: 5n }))
        .to.be.revertedWithCustomError(ledger, "LedgerAgreementNotActive")
        .withArgs(2n, AgreementStatus.Proposed);
      await expect(ledger.connect(guest).settle(99, ETH, 5n, ETH, ref, { value: 5n }))
        .to.be.revertedWithCustomError(ledger, "LedgerAgreementNotActive")
        .withArgs(99n, AgreementStatus.None);
      expect(await ledger.settlementState(ref)).to.equal(ethers.ZeroHash);
      expect(await ethers.provider.getBalance(ledger)).to.equal(0n);
    });

    it("costs the same gas whatever the number of parties", async function () {
      const { registry, ledger, guest, travelSite } = await loadFixture(ledgerFixture);
      const signers = await ethers.getSigners();
      // Two agreements whose parties are plain signers (2 and 20 parties) measure the same settle path.
      const small = makeTerms(signers.slice(8, 10).map((s) => [s.address, 5_000] as [string, number]));
      const large = makeTerms(signers.slice(0, 20).map((s) => [s.address, 500] as [string, number]));
      const smallId = await activateWithSignatures(registry, small, signers.slice(8, 10));
      const largeId = await activateWithSignatures(registry, large, signers.slice(0, 20));
      const settleGas = async (id: bigint, ref: string) => {
        // Warm the pool so both measure the steady state.
        await ledger.connect(guest).settle(id, ETH, 10_000n, travelSite.address, ethers.id(ref + "-warm"), { value: 10_000n });
        const tx = await ledger.connect(guest).settle(id, ETH, 10_000n, travelSite.address, ethers.id(ref), { value: 10_000n });
        return (await tx.wait())!.gasUsed;
      };
      const gasSmall = await settleGas(smallId, "small");
      const gasLarge = await settleGas(largeId, "large");
      expect(gasLarge).to.equal(gasSmall);
    });
  });

  describe("tokens", function () {
    it("settles an ERC-20 and moves exactly the gross", async function () {
      const { ledger, usd, id, terms, guest, travelSite } = await loadFixture(ledgerFixture);
      const gross = 250_000_000n;
      const tx = ledger.connect(guest).settle(id, usd, gross, travelSite.address, ethers.id("usd-1"));
      await expect(tx).to.changeTokenBalances(usd, [guest, ledger], [-gross, gross]);
      const expected = computeSplit(splitTermsOf(terms), gross, true);
      expect(await ledger.balanceOf(travelSite.address, usd)).to.equal(expected.referralFee);
      expect(await ledger.pool(id, 1, usd)).to.deep.equal([expected.distributable, expected.dust]);
    });

    it("settles with an EIP-2612 permit in one transaction, even if the permit was front-run", async function () {
      const { ledger, usd, id, other } = await loadFixture(ledgerFixture);
      await usd.mint(other.address, 1_000_000n);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { chainId } = await ethers.provider.getNetwork();
      const domain = { name: "Stable USD", version: "1", chainId, verifyingContract: await usd.getAddress() };
      const types = {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      };
      const sign = async (value: bigint) => {
        const nonce = await usd.nonces(other.address);
        const sig = ethers.Signature.from(
          await other.signTypedData(domain, types, { owner: other.address, spender: await ledger.getAddress(), value, nonce, deadline }),
        );
        return sig;
      };
      const sig = await sign(400_000n);
      await expect(
        ledger.connect(other).settleWithPermit(id, usd, 400_000n, ETH, ethers.id("p1"), deadline, sig.v, sig.r, sig.s),
      ).to.changeTokenBalances(usd, [other, ledger], [-400_000n, 400_000n]);

      // A griefer submits the permit first; the settlement still goes through on the allowance.
      const sig2 = await sign(300_000n);
      await usd.permit(other.address, ledger, 300_000n, deadline, sig2.v, sig2.r, sig2.s);
      await expect(
        ledger.connect(other).settleWithPermit(id, usd, 300_000n, ETH, ethers.id("p2"), deadline, sig2.v, sig2.r, sig2.s),
      ).to.emit(ledger, "Settled");
      await expect(
        ledger.connect(other).settleWithPermit(id, ETH, 1n, ETH, ethers.id("p3"), deadline, sig2.v, sig2.r, sig2.s),
      ).to.be.revertedWithCustomError(ledger, "LedgerValueMismatch");
    });

    it("works with a token that returns nothing (USDT style)", async function () {
      const { ledger, id, guest, hotel, terms } = await loadFixture(ledgerFixture);
      const token = await ethers.deployContract("NoReturnToken");
      await token.mint(guest.address, 1_000_000n);
      await token.connect(guest).approve(ledger, 1_000_000n);
      await ledger.connect(guest).settle(id, token, 1_000_000n, ETH, ethers.id("nr"));
      await ledger.distribute(id, 1, token, terms);
      const owed = await ledger.balanceOf(hotel.address, token);
      expect(owed).to.be.greaterThan(0n);
      await expect(ledger.connect(hotel).withdraw(token, hotel.address, owed)).to.changeTokenBalances(
        token,
        [ledger, hotel],
        [-owed, owed],
      );
    });

    it("rejects a token that returns false", async function () {
      const { ledger, id, guest } = await loadFixture(ledgerFixture);
      const token = await ethers.deployContract("FalseReturnToken");
      await token.mint(guest.address, 1_000n);
      await token.connect(guest).approve(ledger, 1_000n);
      await token.setFailTransfers(true);
      await expect(ledger.connect(guest).settle(id, token, 1_000n, ETH, ethers.id("f")))
        .to.be.revertedWithCustomError(ledger, "SafeERC20FailedOperation")
        .withArgs(await token.getAddress());
      expect(await ledger.settlementState(ethers.id("f"))).to.equal(ethers.ZeroHash);
    });

    it("rejects a fee-on-transfer token by the balance it actually received", async function () {
      const { ledger, id, guest } = await loadFixture(ledgerFixture);
      const token = await ethers.deployContract("FeeOnTransferToken");
      await token.mint(guest.address, 10_000n);
      await token.connect(guest).approve(ledger, 10_000n);
      await expect(ledger.connect(guest).settle(id, token, 10_000n, ETH, ethers.id("fot")))
        .to.be.revertedWithCustomError(ledger, "LedgerTokenDeliveryShort")
        .withArgs(await token.getAddress(), 10_000n, 9_900n);
    });
  });

  describe("reserves", function () {
    it("releases after the dispute window, by the shares of the version it was settled under", async function () {
      const { registry, ledger, id, terms, hotel, restaurant, airline, orderRef, other } = await settledFixture();
      const record = await recordOf(ledger, orderRef);
      expect(await ledger.settlementState(orderRef)).to.equal(await ledger.hashRecord(record));
      await expect(ledger.releaseReserve(orderRef, record))
        .to.be.revertedWithCustomError(ledger, "LedgerDisputeWindowOpen")
        .withArgs(orderRef, record.releaseAt);

      // The parties amend the shares; the old reserve must still follow version 1.
      const v2 = makeTerms([[hotel.address, 1_000], [restaurant.address, 1_000], [airline.address, 8_000]], {
        refundAuthority: terms.refundAuthority,
      });
      await registry.proposeAmendment(id, v2);
      await registry.activateAmendment(id, 2, v2, terms, await signConsents(registry, [hotel, restaurant, airline], id, 2n, v2));

      await time.increaseTo(record.releaseAt);
      const poolBefore = await ledger.pool(id, 1, ETH);
      await expect(ledger.connect(other).releaseReserve(orderRef, record))
        .to.emit(ledger, "ReserveReleased")
        .withArgs(orderRef, id, 1n, ETH, record.reserve);
      const poolAfter = await ledger.pool(id, 1, ETH);
      expect(poolAfter.distributable + poolAfter.dust - poolBefore.distributable - poolBefore.dust).to.equal(record.reserve);
      expect(await ledger.pool(id, 2, ETH)).to.deep.equal([0n, 0n]);
      await expect(ledger.releaseReserve(orderRef, record))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownSettlement")
        .withArgs(orderRef);

      // Everything the version-1 parties can now claim: settlement net plus the reserve, by v1 shares.
      const split = computeSplit(splitTermsOf(terms), 1_000_003n, true);
      const reserveCredits = splitAmongParties(splitTermsOf(terms), record.reserve);
      for (let i = 0; i < terms.parties.length; i++) {
        expect(await ledger.claimable(id, 1, ETH, terms, i)).to.equal(split.credits[i]! + reserveCredits[i]!);
      }
    });

    it("lets only the refund authority refund, within the window, up to the remaining reserve", async function () {
      const { ledger, id, guest, refundDesk, other, orderRef } = await settledFixture();
      const record = await recordOf(ledger, orderRef);
      await expect(ledger.connect(other).refund(orderRef, record, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerNotRefundAuthority")
        .withArgs(other.address, refundDesk.address);
      await expect(ledger.connect(refundDesk).refund(orderRef, record, record.reserve + 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerRefundExceedsReserve")
        .withArgs(record.reserve + 1n, record.reserve);
      await expect(ledger.connect(refundDesk).refund(orderRef, record, 0n)).to.be.revertedWithCustomError(
        ledger,
        "LedgerZeroAmount",
      );

      await expect(ledger.connect(refundDesk).refund(orderRef, record, 30_000n))
        .to.emit(ledger, "ReserveRefunded")
        .withArgs(orderRef, id, 1n, ETH, guest.address, 30_000n, record.reserve - 30_000n);
      expect(await ledger.balanceOf(guest.address, ETH)).to.equal(30_000n);
      // The stale record no longer matches.
      await expect(ledger.connect(refundDesk).refund(orderRef, record, 1n)).to.be.revertedWithCustomError(
        ledger,
        "LedgerUnknownSettlement",
      );
      const updated = { ...record, reserve: record.reserve - 30_000n };
      const risk = await ledger.riskCounters(id, ETH);
      expect([risk.refundCount, risk.refundedVolume]).to.deep.equal([1n, 30_000n]);

      await time.increaseTo(record.releaseAt);
      await expect(ledger.connect(refundDesk).refund(orderRef, updated, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerDisputeWindowClosed")
        .withArgs(orderRef, record.releaseAt);
      await expect(ledger.releaseReserve(orderRef, updated))
        .to.emit(ledger, "ReserveReleased")
        .withArgs(orderRef, id, 1n, ETH, updated.reserve);
      // The refunded payer withdraws its refund (pull).
      await expect(ledger.connect(guest).withdraw(ETH, guest.address, 30_000n)).to.changeEtherBalances(
        [ledger, guest],
        [-30_000n, 30_000n],
      );
    });

    it("closes a settlement whose reserve is fully refunded", async function () {
      const { ledger, refundDesk, orderRef } = await settledFixture();
      const record = await recordOf(ledger, orderRef);
      await ledger.connect(refundDesk).refund(orderRef, record, record.reserve);
      await time.increaseTo(record.releaseAt);
      await expect(ledger.releaseReserve(orderRef, { ...record, reserve: 0n })).to.be.revertedWithCustomError(
        ledger,
        "LedgerUnknownSettlement",
      );
    });

    it("refuses a forged record", async function () {
      const { ledger, refundDesk, orderRef, other } = await settledFixture();
      const record = await recordOf(ledger, orderRef);
      await expect(ledger.connect(refundDesk).refund(orderRef, { ...record, payer: other.address }, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownSettlement")
        .withArgs(orderRef);
      await time.increaseTo(record.releaseAt);
      await expect(ledger.releaseReserve(orderRef, { ...record, reserve: record.reserve * 2n })).to.be.revertedWithCustomError(
        ledger,
        "LedgerUnknownSettlement",
      );
    });
  });

  describe("claims and withdrawals", function () {
    it("distributes pools to balances with events, once", async function () {
      const { ledger, id, terms } = await settledFixture();
      const split = computeSplit(splitTermsOf(terms), 1_000_003n, true);
      const tx = ledger.distribute(id, 1, ETH, terms);
      for (const [i, p] of terms.parties.entries()) {
        await expect(tx).to.emit(ledger, "PartyCredited").withArgs(id, 1n, ETH, BigInt(i), p.account, 0n, split.credits[i]);
      }
      await tx;
      for (const [i, p] of terms.parties.entries()) {
        expect(await ledger.balanceOf(p.account, ETH)).to.equal(split.credits[i]);
        expect(await ledger.released(id, 1, ETH, i)).to.equal(split.credits[i]);
      }
      await expect(ledger.distribute(id, 1, ETH, terms)).to.not.emit(ledger, "PartyCredited");
    });

    it("refuses claims with terms that are not the version's or a party index out of range", async function () {
      const { ledger, id, terms } = await settledFixture();
      const forged = structuredClone(terms);
      forged.parties[0]!.shareBps += 1_000;
      forged.parties[1]!.shareBps -= 1_000;
      await expect(ledger.claim(id, 1, ETH, forged, 0))
        .to.be.revertedWithCustomError(ledger, "LedgerTermsMismatch")
        .withArgs(id, 1n);
      await expect(ledger.distribute(id, 2, ETH, terms)).to.be.revertedWithCustomError(ledger, "LedgerTermsMismatch");
      await expect(ledger.claim(id, 1, ETH, terms, 3))
        .to.be.revertedWithCustomError(ledger, "LedgerPartyIndexOutOfRange")
        .withArgs(3n, 3n);
      // The view refuses the same inputs as the claim it previews.
      await expect(ledger.claimable(id, 1, ETH, forged, 0))
        .to.be.revertedWithCustomError(ledger, "LedgerTermsMismatch")
        .withArgs(id, 1n);
      await expect(ledger.claimable(id, 1, ETH, terms, 3))
        .to.be.revertedWithCustomError(ledger, "LedgerPartyIndexOutOfRange")
        .withArgs(3n, 3n);
    });

    it("withdraws to the account or to another address on its own instruction", async function () {
      const { ledger, id, terms, hotel, other } = await settledFixture();
      const hotelIndex = terms.parties.findIndex((p) => p.account === hotel.address);
      await ledger.claim(id, 1, ETH, terms, hotelIndex);
      const balance = await ledger.balanceOf(hotel.address, ETH);
      await expect(ledger.connect(hotel).withdraw(ETH, other.address, 1_000n))
        .to.emit(ledger, "Withdrawn")
        .withArgs(hotel.address, ETH, other.address, 1_000n);
      await expect(ledger.connect(hotel).withdraw(ETH, hotel.address, balance - 1_000n)).to.changeEtherBalances(
        [ledger, hotel],
        [-(balance - 1_000n), balance - 1_000n],
      );
      await expect(ledger.connect(hotel).withdraw(ETH, hotel.address, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerInsufficientBalance")
        .withArgs(hotel.address, ETH, 0n, 1n);
      await expect(ledger.connect(hotel).withdraw(ETH, ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(
        ledger,
        "LedgerZeroRecipient",
      );
      await expect(ledger.connect(hotel).withdraw(ETH, hotel.address, 0n)).to.be.revertedWithCustomError(
        ledger,
        "LedgerZeroAmount",
      );
    });

    it("claims and withdraws in one transaction through multicall", async function () {
      const { ledger, id, terms, restaurant } = await settledFixture();
      const index = terms.parties.findIndex((p) => p.account === restaurant.address);
      const owed = await ledger.claimable(id, 1, ETH, terms, index);
      const calls = [
        ledger.interface.encodeFunctionData("claim", [id, 1, ETH, terms, index]),
        ledger.interface.encodeFunctionData("withdraw", [ETH, restaurant.address, owed]),
      ];
      await expect(ledger.connect(restaurant).multicall(calls)).to.changeEtherBalances([ledger, restaurant], [-owed, owed]);
    });

    it("lets a reverting recipient block only itself, and a re-entrant one drain nothing", async function () {
      const { registry, ledger, hotel, guest } = await loadFixture(ledgerFixture);
      const reverting = await ethers.deployContract("RevertingRecipient", [await ledger.getAddress()]);
      const reentrant = await ethers.deployContract("ReentrantRecipient", [await ledger.getAddress()]);
      const terms = makeTerms(
        [
          [hotel.address, 5_000],
          [await reverting.getAddress(), 2_500],
          [await reentrant.getAddress(), 2_500],
        ],
        { referrerPolicy: ReferrerPolicy.None, referralFeeBps: 0, reserveBps: 0, disputeWindow: 0 },
      );
      await registry.propose(terms);
      const id = await registry.agreementCount();
      // Contract parties consent on chain through their own calls.
      for (const c of [reverting, reentrant]) await c.approveVersion(registry, id, 1);
      await registry.activate(id, 1, terms, await signConsents(registry, [hotel], id, 1n, terms));
      await ledger.connect(guest).settle(id, ETH, 40_000n, ETH, ethers.id("x"), { value: 40_000n });
      await ledger.distribute(id, 1, ETH, terms);

      await expect(reverting.withdraw(ETH, await reverting.getAddress(), 10_000n))
        .to.be.revertedWithCustomError(ledger, "LedgerEthTransferFailed")
        .withArgs(await reverting.getAddress(), 10_000n);
      // The re-entrant recipient gets its own 10,000 once; its nested withdraw fails on the guard.
      await expect(reentrant.withdraw(ETH, 10_000n)).to.changeEtherBalances([ledger, reentrant], [-10_000n, 10_000n]);
      expect(await reentrant.reentrySucceeded()).to.equal(false);
      expect(await reentrant.reentryError()).to.equal(ledger.interface.getError("ReentrancyGuardReentrantCall")!.selector);
      // Everyone else is unaffected.
      await expect(ledger.connect(hotel).withdraw(ETH, hotel.address, 20_000n)).to.changeEtherBalances(
        [ledger, hotel],
        [-20_000n, 20_000n],
      );
      expect(await ledger.balanceOf(await reverting.getAddress(), ETH)).to.equal(10_000n);
      expect(await ethers.provider.getBalance(ledger)).to.equal(10_000n);
    });
  });

  describe("nested agreements", function () {
    it("flows a nested party's share into the child agreement's current pool", async function () {
      const { registry, ledger, restaurant, guest } = await loadFixture(ledgerFixture);
      const signers = await ethers.getSigners();
      const [brand, franchisee] = [signers[10]!, signers[11]!];
      const group = makeTerms([[brand.address, 7_000], [franchisee.address, 3_000]], {
        referrerPolicy: ReferrerPolicy.None,
        referralFeeBps: 0,
        reserveBps: 0,
        disputeWindow: 0,
      });
      const groupId = await activateWithSignatures(registry, group, [brand, franchisee]);
      const parent = makeTerms([[restaurant.address, 4_000], [groupId, 6_000]], {
        referrerPolicy: ReferrerPolicy.None,
        referralFeeBps: 0,
        reserveBps: 0,
        disputeWindow: 0,
      });
      const parentId = await activateWithSignatures(registry, parent, [restaurant]);
      await ledger.connect(guest).settle(parentId, ETH, 100_000n, ETH, ethers.id("n"), { value: 100_000n });
      await expect(ledger.claim(parentId, 1, ETH, parent, 1))
        .to.emit(ledger, "NestedShareReceived")
        .withArgs(groupId, 1n, ETH, parentId, 60_000n)
        .and.to.emit(ledger, "PartyCredited")
        .withArgs(parentId, 1n, ETH, 1n, ETH, groupId, 60_000n);
      await ledger.distribute(groupId, 1, ETH, group);
      expect(await ledger.balanceOf(brand.address, ETH)).to.equal(42_000n);
      expect(await ledger.balanceOf(franchisee.address, ETH)).to.equal(18_000n);
    });
  });
});
