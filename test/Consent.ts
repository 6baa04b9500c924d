import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  AgreementStatus,
  DAY,
  activateWithSignatures,
  amendWithSignatures,
  deployConcord,
  makeTerms,
  nestedChildren,
  signConsents,
  signTerminations,
  sortAddresses,
  sortConsents,
} from "./helpers/concord";

/**
 * Law 5 against strangers (issue 22): no terms change and no agreement ends without every
 * affected party, nested members included. The oracle is the law's words: the accounts that must
 * consent are listed here by hand from who belongs to each tree, never read from the registry.
 */
describe("Consent through nesting", function () {
  async function nestedFixture() {
    const [, h1, h2, r1, r2, hotel, outsider] = await ethers.getSigners();
    const concord = await deployConcord();
    const { registry } = concord;
    // 1: the restaurants' agreement, 2: the hotel group's agreement.
    const restaurantsTerms = makeTerms([[r1!.address, 5_000], [r2!.address, 5_000]]);
    const restaurants = await activateWithSignatures(registry, restaurantsTerms, [r1!, r2!]);
    const hotelsTerms = makeTerms([[h1!.address, 5_000], [h2!.address, 5_000]]);
    const hotels = await activateWithSignatures(registry, hotelsTerms, [h1!, h2!]);
    // 3: all nested, the hotel group 40% and the restaurants 60%.
    const bundleTerms = makeTerms([[hotels, 4_000], [restaurants, 6_000]]);
    const bundle = await activateWithSignatures(registry, bundleTerms, [h1!, h2!, r1!, r2!]);
    // 4: mixed, one hotel 40% and the restaurants 60%.
    const mixedTerms = makeTerms([[hotel!.address, 4_000], [restaurants, 6_000]]);
    const mixed = await activateWithSignatures(registry, mixedTerms, [hotel!, r1!, r2!]);
    // The first restaurant member the registry checks: the child's parties are sorted by address.
    const firstRestaurantMember = sortAddresses([r1!.address, r2!.address])[0]!;
    return {
      ...concord,
      h1: h1!, h2: h2!, r1: r1!, r2: r2!, hotel: hotel!, outsider: outsider!,
      restaurants, hotels, bundle, mixed, restaurantsTerms, hotelsTerms, bundleTerms, mixedTerms, firstRestaurantMember,
    };
  }

  describe("an all-nested agreement", function () {
    it("refuses an outsider's amendment proposal", async function () {
      const { registry, outsider, bundle, bundleTerms } = await loadFixture(nestedFixture);
      const grab = makeTerms([[outsider.address, 10_000]]);
      await expect(registry.connect(outsider).proposeAmendment(bundle, grab, bundleTerms, await nestedChildren(registry, bundleTerms)))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(outsider.address);
    });

    it("refuses an amendment to an outsider approved only by the outsider, naming a member", async function () {
      const { registry, h1, outsider, bundle, bundleTerms, firstRestaurantMember } = await loadFixture(nestedFixture);
      const grab = makeTerms([[outsider.address, 10_000]]);
      // A member proposes (only consenters may); the outsider's own approval is all it has.
      await registry.connect(h1).proposeAmendment(bundle, grab, bundleTerms, await nestedChildren(registry, bundleTerms));
      await registry.connect(outsider).approve(bundle, 2, (await time.latest()) + DAY);
      const children = await nestedChildren(registry, grab, bundleTerms);
      await expect(registry.activateAmendment(bundle, 2, grab, bundleTerms, children, []))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(firstRestaurantMember);
      expect((await registry.settlementTerms(bundle)).version).to.equal(1n);
    });

    it("refuses an outsider's termination, with no signature or with its own", async function () {
      const { registry, outsider, bundle, bundleTerms, firstRestaurantMember } = await loadFixture(nestedFixture);
      const children = await nestedChildren(registry, bundleTerms);
      await expect(registry.connect(outsider).terminate(bundle, bundleTerms, children, []))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(firstRestaurantMember);
      const own = await signTerminations(registry, [outsider], bundle, 1);
      await expect(registry.connect(outsider).terminate(bundle, bundleTerms, children, own))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(firstRestaurantMember);
    });

    it("refuses a consent check without the children's terms, or with altered ones", async function () {
      const { registry, bundle, bundleTerms, restaurants } = await loadFixture(nestedFixture);
      await expect(registry.terminate(bundle, bundleTerms, [], []))
        .to.be.revertedWithCustomError(registry, "RegistryNestedTermsInvalid")
        .withArgs(restaurants, 1);
      const children = await nestedChildren(registry, bundleTerms);
      const altered = children.map((c) => (c.agreementId === restaurants ? { ...c, terms: { ...c.terms, documentHash: ethers.id("forged") } } : c));
      await expect(registry.terminate(bundle, bundleTerms, altered, []))
        .to.be.revertedWithCustomError(registry, "RegistryNestedTermsInvalid")
        .withArgs(restaurants, 1);
    });

    it("activates the very same amendment once every member consents too", async function () {
      const { registry, h1, h2, r1, r2, outsider, bundle, bundleTerms } = await loadFixture(nestedFixture);
      const grab = makeTerms([[outsider.address, 10_000]]);
      await registry.connect(h1).proposeAmendment(bundle, grab, bundleTerms, await nestedChildren(registry, bundleTerms));
      const sigs = await signConsents(registry, [h1, h2, r1, r2, outsider], bundle, 2, grab);
      await expect(registry.activateAmendment(bundle, 2, grab, bundleTerms, await nestedChildren(registry, grab, bundleTerms), sigs))
        .to.emit(registry, "VersionActivated")
        .withArgs(bundle, 2, () => true, () => true, 1);
      expect((await registry.settlementTerms(bundle)).version).to.equal(2n);
    });

    it("amends and terminates with every member's consent", async function () {
      const { registry, h1, h2, r1, r2, bundle, hotels, restaurants } = await loadFixture(nestedFixture);
      const resplit = makeTerms([[hotels, 5_000], [restaurants, 5_000]]);
      expect(await amendWithSignatures(registry, bundle, resplit, h1, [h1, h2, r1, r2])).to.equal(2);
      const sigs = await signTerminations(registry, [h1, h2, r1, r2], bundle, 2);
      await expect(registry.terminate(bundle, resplit, await nestedChildren(registry, resplit), sigs))
        .to.emit(registry, "AgreementTerminated")
        .withArgs(bundle, 2);
      expect((await registry.agreement(bundle))[0]).to.equal(AgreementStatus.Terminated);
    });
  });

  describe("an agreement with account and nested parties", function () {
    it("refuses the hotel alone stripping the restaurants' share", async function () {
      const { registry, hotel, mixed, mixedTerms, firstRestaurantMember } = await loadFixture(nestedFixture);
      const strip = makeTerms([[hotel.address, 10_000]]);
      await registry.connect(hotel).proposeAmendment(mixed, strip, mixedTerms, await nestedChildren(registry, mixedTerms));
      const sigs = await signConsents(registry, [hotel], mixed, 2, strip);
      await expect(registry.activateAmendment(mixed, 2, strip, mixedTerms, await nestedChildren(registry, mixedTerms), sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(firstRestaurantMember);
    });

    it("refuses the hotel with one restaurant member, naming the other", async function () {
      const { registry, hotel, r1, r2, mixed, mixedTerms } = await loadFixture(nestedFixture);
      const strip = makeTerms([[hotel.address, 10_000]]);
      await registry.connect(hotel).proposeAmendment(mixed, strip, mixedTerms, await nestedChildren(registry, mixedTerms));
      const sigs = await signConsents(registry, [hotel, r1], mixed, 2, strip);
      await expect(registry.activateAmendment(mixed, 2, strip, mixedTerms, await nestedChildren(registry, mixedTerms), sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(r2.address);
    });

    it("refuses the hotel alone terminating", async function () {
      const { registry, hotel, mixed, mixedTerms, firstRestaurantMember } = await loadFixture(nestedFixture);
      const sigs = await signTerminations(registry, [hotel], mixed, 1);
      await expect(registry.terminate(mixed, mixedTerms, await nestedChildren(registry, mixedTerms), sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(firstRestaurantMember);
    });

    it("counts a member's consent only over the parent's own agreement and version", async function () {
      const { registry, hotel, r1, r2, mixed, mixedTerms, restaurants, firstRestaurantMember } = await loadFixture(nestedFixture);
      const strip = makeTerms([[hotel.address, 10_000]]);
      await registry.connect(hotel).proposeAmendment(mixed, strip, mixedTerms, await nestedChildren(registry, mixedTerms));
      // The members approve version 2 of their own agreement's id, not the parent's.
      await registry.connect(r1).proposeAmendment(restaurants, makeTerms([[r1.address, 5_000], [r2.address, 5_000]], { documentHash: ethers.id("v2") }), (await nestedChildren(registry, mixedTerms))[0]!.terms, []);
      for (const member of [r1, r2]) await registry.connect(member).approve(restaurants, 2, (await time.latest()) + DAY);
      const sigs = await signConsents(registry, [hotel], mixed, 2, strip);
      await expect(registry.activateAmendment(mixed, 2, strip, mixedTerms, await nestedChildren(registry, mixedTerms), sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(firstRestaurantMember);
    });

    it("strips and terminates with the members' consent, by signature and by approval", async function () {
      const { registry, hotel, r1, r2, mixed, mixedTerms } = await loadFixture(nestedFixture);
      const strip = makeTerms([[hotel.address, 10_000]]);
      await registry.connect(hotel).proposeAmendment(mixed, strip, mixedTerms, await nestedChildren(registry, mixedTerms));
      await registry.connect(r2).approve(mixed, 2, (await time.latest()) + DAY);
      const sigs = await signConsents(registry, [hotel, r1], mixed, 2, strip);
      await expect(registry.activateAmendment(mixed, 2, strip, mixedTerms, await nestedChildren(registry, mixedTerms), sigs))
        .to.emit(registry, "VersionActivated")
        .withArgs(mixed, 2, () => true, () => true, 1);
      await expect(registry.terminate(mixed, strip, [], await signTerminations(registry, [hotel], mixed, 2))).to.emit(registry, "AgreementTerminated");
    });
  });

  describe("trees that share accounts and children", function () {
    it("counts one signature for an account that is both a party and a nested member", async function () {
      const { registry, r1, r2, restaurants } = await loadFixture(nestedFixture);
      const terms = makeTerms([[r1.address, 5_000], [restaurants, 5_000]]);
      const id = await activateWithSignatures(registry, terms, [r1, r2]);
      expect(await registry.consenters(terms, await nestedChildren(registry, terms))).to.deep.equal(sortAddresses([r1.address, r2.address]));
      await expect(registry.terminate(id, terms, await nestedChildren(registry, terms), await signTerminations(registry, [r1], id, 1)))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(r2.address);
    });

    it("needs a child reached twice, directly and through another child, once", async function () {
      const { registry, hotel, r1, r2, restaurants, mixed } = await loadFixture(nestedFixture);
      // mixed = [hotel, restaurants]; the new one nests restaurants and mixed (restaurants again, one level down).
      const terms = makeTerms([[restaurants, 5_000], [mixed, 5_000]]);
      const children = await nestedChildren(registry, terms);
      expect(children.map((c) => [c.agreementId, c.version])).to.deep.equal([[restaurants, 1], [mixed, 1]]);
      await registry.propose(terms);
      const id = await registry.agreementCount();
      const without = await signConsents(registry, [r1, r2], id, 1, terms);
      await expect(registry.activate(id, 1, terms, children, without)).to.be.revertedWithCustomError(registry, "RegistryMissingConsent").withArgs(hotel.address);
      await expect(registry.activate(id, 1, terms, children, await signConsents(registry, [hotel, r1, r2], id, 1, terms))).to.emit(registry, "VersionActivated");
      expect((await registry.versionPayout(id, 1)).depth).to.equal(2n);
    });

    it("swapping one nested party for another needs the members of both", async function () {
      const { registry, hotel, h1, h2, r1, r2, mixed, mixedTerms, hotels, firstRestaurantMember } = await loadFixture(nestedFixture);
      const swapped = makeTerms([[hotel.address, 4_000], [hotels, 6_000]]);
      await registry.connect(hotel).proposeAmendment(mixed, swapped, mixedTerms, await nestedChildren(registry, mixedTerms));
      const children = await nestedChildren(registry, swapped, mixedTerms);
      const onlyNew = await signConsents(registry, [hotel, h1, h2], mixed, 2, swapped);
      await expect(registry.activateAmendment(mixed, 2, swapped, mixedTerms, children, onlyNew))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(firstRestaurantMember);
      const onlyOld = await signConsents(registry, [hotel, r1, r2], mixed, 2, swapped);
      await expect(registry.activateAmendment(mixed, 2, swapped, mixedTerms, children, onlyOld))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(sortAddresses([h1.address, h2.address])[0]);
      const all = await signConsents(registry, [hotel, h1, h2, r1, r2], mixed, 2, swapped);
      await expect(registry.activateAmendment(mixed, 2, swapped, mixedTerms, children, all)).to.emit(registry, "VersionActivated");
    });
  });

  describe("being nested", function () {
    it("does not freeze the child: an outsider's proposal nesting it neither activates nor stops the child's amendments", async function () {
      const { registry, r1, r2, outsider, restaurants, firstRestaurantMember } = await loadFixture(nestedFixture);
      const squat = makeTerms([[outsider.address, 5_000], [restaurants, 5_000]]);
      await registry.connect(outsider).propose(squat);
      const squatId = await registry.agreementCount();
      await expect(registry.activate(squatId, 1, squat, await nestedChildren(registry, squat), await signConsents(registry, [outsider], squatId, 1, squat)))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(firstRestaurantMember);
      const next = makeTerms([[r1.address, 7_000], [r2.address, 3_000]]);
      expect(await amendWithSignatures(registry, restaurants, next, r1, [r1, r2])).to.equal(2);
      expect((await registry.agreement(restaurants))[2]).to.equal(2n);
    });

    it("keeps an active parent's pin on the child's version while the child amends", async function () {
      const { registry, r1, r2, restaurants } = await loadFixture(nestedFixture);
      expect((await registry.versionPayout(restaurants, 1)).activePins).to.equal(2n); // the bundle and the mixed agreement
      await amendWithSignatures(registry, restaurants, makeTerms([[r1.address, 7_000], [r2.address, 3_000]]), r1, [r1, r2]);
      expect((await registry.versionPayout(restaurants, 1)).activePins).to.equal(2n);
      expect((await registry.versionPayout(restaurants, 2)).activePins).to.equal(0n);
      expect(await registry.consenters((await nestedChildren(registry, makeTerms([[restaurants, 10_000]])))[0]!.terms, [])).to.deep.equal(
        sortAddresses([r1.address, r2.address]),
      );
    });
  });

  describe("ERC-1271 accounts", function () {
    async function walletFixture() {
      const [, owner, partner] = await ethers.getSigners();
      const concord = await deployConcord();
      const walletA = await ethers.deployContract("MockERC1271Wallet", [owner!.address, 0]);
      const walletB = await ethers.deployContract("MockERC1271Wallet", [owner!.address, 0]);
      return { ...concord, owner: owner!, partner: partner!, a: await walletA.getAddress(), b: await walletB.getAddress() };
    }

    it("activates with the owner's signature naming the wallet", async function () {
      const { registry, owner, partner, a } = await loadFixture(walletFixture);
      const terms = makeTerms([[a, 5_000], [partner.address, 5_000]]);
      await registry.propose(terms);
      const sigs = await signConsents(registry, [{ owner, account: a }, partner], 1n, 1, terms);
      await expect(registry.activate(1, 1, terms, [], sigs)).to.emit(registry, "ConsentSigned").withArgs(1, 1, a, sigs.find((s) => s.signer === a)!.nonce);
    });

    it("does not count one owner's signature for two wallets", async function () {
      const { registry, owner, a, b } = await loadFixture(walletFixture);
      const terms = makeTerms([[a, 5_000], [b, 5_000]]);
      await registry.propose(terms);
      const [forA] = await signConsents(registry, [{ owner, account: a }], 1n, 1, terms);
      const sigs = sortConsents([forA!, { ...forA!, signer: b }]);
      await expect(registry.activate(1, 1, terms, [], sigs)).to.be.revertedWithCustomError(registry, "RegistryInvalidSignature").withArgs(b);
    });

    it("does not count the owner's own consent for its wallet, nor the wallet's for the owner", async function () {
      const { registry, owner, a } = await loadFixture(walletFixture);
      const terms = makeTerms([[owner.address, 5_000], [a, 5_000]]);
      await registry.propose(terms);
      const [asOwner] = await signConsents(registry, [owner], 1n, 1, terms);
      await expect(registry.activate(1, 1, terms, [], sortConsents([asOwner!, { ...asOwner!, signer: a }])))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(a);
      const [asWallet] = await signConsents(registry, [{ owner, account: a }], 1n, 1, terms);
      await expect(registry.activate(1, 1, terms, [], sortConsents([asWallet!, { ...asWallet!, signer: owner.address }])))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(owner.address);
    });

    it("does not count a termination signature made for the other wallet", async function () {
      const { registry, owner, a, b } = await loadFixture(walletFixture);
      const terms = makeTerms([[a, 5_000], [b, 5_000]]);
      await activateWithSignatures(registry, terms, [{ owner, account: a }, { owner, account: b }]);
      const [forA] = await signTerminations(registry, [{ owner, account: a }], 1n, 1);
      await expect(registry.terminate(1, terms, [], sortConsents([forA!, { ...forA!, signer: b }])))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(b);
    });
  });
});
