import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ETH, ReferrerPolicy, deployConcord, makeTerms, signConsents } from "../helpers/concord";

/**
 * What an attacker watching the mempool can do with the calldata of an activation, an amendment or
 * a settlement: replay it with altered terms (refused), copy it unaltered (harmless: the result is
 * exactly what the parties signed), or take a version number or order reference first (griefing
 * that moves no value and is undone by re-signing or a fresh order reference).
 */
describe("Security: front-running", function () {
  async function fixture() {
    const [, hotel, restaurant, attacker, guest, travelSite] = await ethers.getSigners();
    const { registry, ledger } = await deployConcord();
    const terms = makeTerms(
      [
        [hotel!.address, 6_000],
        [restaurant!.address, 4_000],
      ],
      { referrerPolicy: ReferrerPolicy.Open, referralFeeBps: 500, reserveBps: 0, disputeWindow: 0 },
    );
    // The attacker's version: same parties, but the attacker takes the whole referral stream and the shares flip.
    const altered = makeTerms(
      [
        [hotel!.address, 4_000],
        [restaurant!.address, 6_000],
      ],
      { referrerPolicy: ReferrerPolicy.Allowlist, referrers: [attacker!.address], referralFeeBps: 2_000, reserveBps: 0, disputeWindow: 0 },
    );
    await registry.propose(terms);
    const id = await registry.agreementCount();
    const sigs = await signConsents(registry, [hotel!, restaurant!], id, 1n, terms);
    return {
      registry,
      ledger,
      terms,
      altered,
      id,
      sigs,
      hotel: hotel!,
      restaurant: restaurant!,
      attacker: attacker!,
      guest: guest!,
      travelSite: travelSite!,
    };
  }

  describe("activation", function () {
    it("refuses the parties' signatures with altered terms, in place or as a new agreement", async function () {
      const { registry, terms, altered, id, sigs, attacker } = await loadFixture(fixture);
      const expected = await registry.hashTerms(terms);
      await expect(registry.connect(attacker).activate(id, 1, altered, sigs))
        .to.be.revertedWithCustomError(registry, "RegistryTermsMismatch")
        .withArgs(id, 1n, expected, await registry.hashTerms(altered));
      await registry.connect(attacker).propose(altered);
      await expect(registry.connect(attacker).activate(id + 1n, 1, altered, sigs))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(sigs[0]!.signer);
    });

    it("activates exactly the signed terms when the calldata is copied unaltered; the original then fails harmlessly", async function () {
      const { registry, terms, id, sigs, attacker, hotel } = await loadFixture(fixture);
      await expect(registry.connect(attacker).activate(id, 1, terms, sigs))
        .to.emit(registry, "VersionActivated")
        .withArgs(id, 1n, await registry.hashTerms(terms), 5n);
      await expect(registry.connect(hotel).activate(id, 1, terms, sigs))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(id, 2n);
      const config = await registry.settlementConfig(id);
      expect(config.referralFeeBps).to.equal(500n);
      expect(config.referrerPolicy).to.equal(BigInt(ReferrerPolicy.Open));
    });
  });

  describe("amendment", function () {
    it("lets an outsider take the next version number, but never with the parties' consent", async function () {
      const { registry, terms, altered, id, sigs, attacker, hotel, restaurant } = await loadFixture(fixture);
      await registry.activate(id, 1, terms, sigs);
      const amended = { ...terms, referralFeeBps: 800, documentHash: ethers.id("amendment-2") };
      // The parties sign their amendment as version 2 before it is mined ...
      const forV2 = await signConsents(registry, [hotel, restaurant], id, 2n, amended, { nonce: 42n });
      // ... and an outsider's proposal lands first and takes version 2.
      await registry.connect(attacker).proposeAmendment(id, altered);
      await registry.connect(hotel).proposeAmendment(id, amended);
      expect((await registry.agreement(id)).latestVersion).to.equal(3n);

      await expect(registry.activateAmendment(id, 2, altered, terms, forV2))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(forV2[0]!.signer);
      await expect(registry.activateAmendment(id, 2, amended, terms, forV2)).to.be.revertedWithCustomError(
        registry,
        "RegistryTermsMismatch",
      );
      await expect(registry.activateAmendment(id, 3, amended, terms, forV2))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(forV2[0]!.signer);
      // Re-signing for version 3 is all it costs.
      const forV3 = await signConsents(registry, [hotel, restaurant], id, 3n, amended, { nonce: 43n });
      await expect(registry.activateAmendment(id, 3, amended, terms, forV3))
        .to.emit(registry, "VersionActivated")
        .withArgs(id, 3n, await registry.hashTerms(amended), 5n);
      // Version 2 is now superseded for good.
      await expect(registry.connect(hotel).approve(id, 2))
        .to.be.revertedWithCustomError(registry, "RegistryVersionSuperseded")
        .withArgs(id, 2n, 3n);
    });
  });

  describe("settlement", function () {
    it("refuses to release or refund a forged record for an order reference never settled", async function () {
      const { registry, ledger, terms, id, sigs, attacker } = await loadFixture(fixture);
      await registry.activate(id, 1, terms, sigs);
      const forged = ethers.id("never-settled");
      const record = { agreementId: id, version: 1n, token: ETH, payer: attacker.address, reserve: 1n, releaseAt: 0n };
      await expect(ledger.connect(attacker).releaseReserve(forged, record))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownSettlement")
        .withArgs(forged);
      await expect(ledger.connect(attacker).refund(forged, { ...record, releaseAt: 2n ** 39n }, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownSettlement")
        .withArgs(forged);
    });

    it("lets a copied order reference move no value from the honest payer and earn the attacker nothing", async function () {
      const { registry, ledger, terms, id, sigs, attacker, guest, travelSite } = await loadFixture(fixture);
      await registry.activate(id, 1, terms, sigs);
      const orderRef = ethers.id("booking-7781:salt");
      // The attacker settles the honest order reference first, for 1 wei (it cannot name itself as referrer).
      await expect(
        ledger.connect(attacker).settle(id, ETH, 1n, attacker.address, orderRef, { value: 1n }),
      ).to.be.revertedWithCustomError(ledger, "LedgerSelfReferral");
      await ledger.connect(attacker).settle(id, ETH, 1n, ETH, orderRef, { value: 1n });
      const honest = ledger.connect(guest).settle(id, ETH, 10n ** 18n, travelSite.address, orderRef, { value: 10n ** 18n });
      await expect(honest).to.be.revertedWithCustomError(ledger, "LedgerOrderAlreadySettled").withArgs(orderRef);
      // The honest payer retries with a fresh salt; the referrer it named is paid, not the attacker.
      const retry = ethers.id("booking-7781:salt-2");
      await expect(
        ledger.connect(guest).settle(id, ETH, 10n ** 18n, travelSite.address, retry, { value: 10n ** 18n }),
      ).to.changeEtherBalances([guest, ledger], [-(10n ** 18n), 10n ** 18n]);
      expect(await ledger.balanceOf(travelSite.address, ETH)).to.equal(5n * 10n ** 16n);
      expect(await ledger.balanceOf(attacker.address, ETH)).to.equal(0n);
    });
  });
});
