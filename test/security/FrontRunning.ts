import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Signature } from "ethers";
import { ETH, deployConcord, makePayment, makeTerms, signConsents, signIntent, activateWithSignatures } from "../helpers/concord";

/**
 * What an attacker watching the mempool can do with the calldata of an activation, an amendment or
 * a settlement: replay it with altered terms (refused), copy it unaltered (harmless: the result is
 * exactly what the parties or the merchant signed), or race a permit (the payment still settles).
 */
describe("Security: front-running", function () {
  async function fixture() {
    const [, hotel, restaurant, attacker, guest, merchant, travelSite] = await ethers.getSigners();
    const { registry, ledger } = await deployConcord();
    const terms = makeTerms([[hotel!.address, 6_000], [restaurant!.address, 4_000]], { reserveBps: 0, disputeWindow: 0 });
    // The attacker's version: the attacker listed as the only referrer at the highest fee, the shares flipped.
    const altered = makeTerms([[hotel!.address, 4_000], [restaurant!.address, 6_000]], {
      referrers: [attacker!.address],
      referralFeeBps: 2_000,
      reserveBps: 0,
      disputeWindow: 0,
    });
    await registry.propose(terms);
    const id = await registry.agreementCount();
    const sigs = await signConsents(registry, [hotel!, restaurant!], id, 1n, terms);
    return { registry, ledger, terms, altered, id, sigs, hotel: hotel!, restaurant: restaurant!, attacker: attacker!, guest: guest!, merchant: merchant!, travelSite: travelSite! };
  }

  describe("activation", function () {
    it("refuses the parties' signatures with altered terms, in place or as a new agreement", async function () {
      const { registry, terms, altered, id, sigs, attacker } = await loadFixture(fixture);
      await expect(registry.connect(attacker).activate(id, 1, altered, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryTermsMismatch")
        .withArgs(id, 1n, await registry.termsHash(id, 1), await registry.hashTerms(altered));
      await registry.connect(attacker).propose(altered);
      await expect(registry.connect(attacker).activate(id + 1n, 1, altered, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(sigs[0]!.signer);
    });

    it("activates exactly the signed terms when the calldata is copied unaltered; the original then fails harmlessly", async function () {
      const { registry, terms, id, sigs, attacker, hotel } = await loadFixture(fixture);
      await expect(registry.connect(attacker).activate(id, 1, terms, [], sigs))
        .to.emit(registry, "VersionActivated")
        .withArgs(id, 1n, await registry.termsHash(id, 1), () => true, 5n);
      await expect(registry.connect(hotel).activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(id, 2n);
      expect((await registry.settlementTerms(id)).referralFeeBps).to.equal(0n);
    });
  });

  describe("amendment", function () {
    it("leaves an outsider no way to take the version number the parties signed for", async function () {
      const { registry, terms, altered, id, sigs, attacker, hotel, restaurant } = await loadFixture(fixture);
      await registry.activate(id, 1, terms, [], sigs);
      const amended = { ...terms, documentHash: ethers.id("amendment-2") };
      const forV2 = await signConsents(registry, [hotel, restaurant], id, 2n, amended);
      await expect(registry.connect(attacker).proposeAmendment(id, altered, terms, []))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(attacker.address);
      await registry.connect(hotel).proposeAmendment(id, amended, terms, []);
      await expect(registry.connect(attacker).activateAmendment(id, 2, amended, terms, [], forV2))
        .to.emit(registry, "VersionActivated")
        .withArgs(id, 2n, await registry.termsHash(id, 2), () => true, 5n);
      await expect(registry.connect(hotel).approve(id, 1, 2n ** 40n))
        .to.be.revertedWithCustomError(registry, "RegistryVersionSuperseded")
        .withArgs(id, 1n, 2n);
    });
  });

  describe("settlement", function () {
    async function intentFixture() {
      const f = await fixture();
      const terms = makeTerms([[f.hotel.address, 6_000], [f.restaurant.address, 4_000]], { referralFeeBps: 500, orderSigner: f.merchant.address });
      const intent = await activateWithSignatures(f.registry, terms, [f.hotel, f.restaurant]);
      return { ...f, intent };
    }

    it("refuses to release or refund a forged lot", async function () {
      const { ledger, intent, attacker } = await loadFixture(intentFixture);
      const lotId = 42n;
      const lot = { agreementId: intent, version: 1n, token: ETH, releaseAt: 0n, held: 1n, entriesHash: ethers.ZeroHash };
      await expect(ledger.connect(attacker).releaseReserve(lotId, lot)).to.be.revertedWithCustomError(ledger, "LedgerUnknownLot").withArgs(lotId);
      await expect(ledger.connect(attacker).refund(lotId, { ...lot, releaseAt: 2n ** 39n }, [], 0, 1n))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownLot")
        .withArgs(lotId);
    });

    it("lets a copied intent cost the copier the gross and change nobody's attribution", async function () {
      const { ledger, intent, attacker, guest, merchant, travelSite } = await loadFixture(intentFixture);
      const gross = 10n ** 18n;
      const p = await makePayment({ agreementId: intent, gross, referrer: travelSite.address, refundBeneficiary: guest.address });
      const sig = await signIntent(ledger, merchant, p);
      await expect(ledger.connect(attacker).settle(p, sig, { value: gross })).to.changeEtherBalances([attacker, ledger], [-gross, gross]);
      await expect(ledger.connect(guest).settle(p, sig, { value: gross }))
        .to.be.revertedWithCustomError(ledger, "LedgerOrderAlreadySettled")
        .withArgs(merchant.address, p.orderRef);
      expect(await ledger.balanceOf(travelSite.address, ETH)).to.equal((gross * 500n) / 10_000n);
      expect(await ledger.balanceOf(attacker.address, ETH)).to.equal(0n);
    });

    it("settles with a permit that an attacker submitted first", async function () {
      const { ledger, intent, attacker, guest, merchant } = await loadFixture(intentFixture);
      const token = await ethers.deployContract("MockERC20", ["Dollar", "USD", 2]);
      await token.mint(guest.address, 1_000n);
      const spender = await ledger.getAddress();
      const { chainId } = await ethers.provider.getNetwork();
      const deadline = 2n ** 40n;
      const permit = Signature.from(
        await guest.signTypedData(
          { name: "Dollar", version: "1", chainId, verifyingContract: await token.getAddress() },
          { Permit: [{ name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] },
          { owner: guest.address, spender, value: 1_000n, nonce: 0n, deadline },
        ),
      );
      await token.connect(attacker).permit(guest.address, spender, 1_000n, deadline, permit.v, permit.r, permit.s);
      const p = await makePayment({ agreementId: intent, gross: 1_000n, token: await token.getAddress() });
      await expect(ledger.connect(guest).settleWithPermit(p, await signIntent(ledger, merchant, p), deadline, permit.v, permit.r, permit.s)).to.changeTokenBalances(
        token,
        [guest, ledger],
        [-1_000n, 1_000n],
      );
    });
  });
});
