import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  AgreementStatus,
  CONSENT_TYPES,
  DAY,
  activateWithSignatures,
  consentDomain,
  deployConcord,
  makeTerms,
  signConsents,
  signTerminations,
  sortAddresses,
  type TermsInput,
} from "./helpers/concord";

/** The EIP-712 struct hash of terms, computed by ethers from docs/contracts.md's types (not by the registry). */
const structHash = (terms: TermsInput) => ethers.TypedDataEncoder.hashStruct("Terms", { Terms: CONSENT_TYPES.Terms, Party: CONSENT_TYPES.Party }, terms);

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
/** The distribution unit from the rule's words: 10,000 / gcd(shares). */
const unitOf = (terms: TermsInput) => 10_000 / terms.parties.reduce((g, p) => gcd(g, p.shareBps), 10_000);

describe("AgreementRegistry", function () {
  async function deployFixture() {
    const [deployer, hotel, restaurant, airline, outsider] = await ethers.getSigners();
    const concord = await deployConcord();
    const terms = makeTerms([
      [hotel!.address, 5_000],
      [restaurant!.address, 3_000],
      [airline!.address, 2_000],
    ]);
    return { ...concord, deployer: deployer!, hotel: hotel!, restaurant: restaurant!, airline: airline!, outsider: outsider!, terms };
  }

  async function proposedFixture() {
    const f = await deployFixture();
    await f.registry.connect(f.hotel).propose(f.terms);
    return { ...f, id: 1n };
  }

  async function activeFixture() {
    const f = await deployFixture();
    const id = await activateWithSignatures(f.registry.connect(f.hotel), f.terms, [f.hotel, f.restaurant, f.airline]);
    return { ...f, id };
  }

  describe("propose", function () {
    describe("validations", function () {
      it("refuses shares that do not sum to 10,000", async function () {
        const { registry, hotel, restaurant } = await loadFixture(deployFixture);
        const terms = makeTerms([[hotel.address, 5_000], [restaurant.address, 4_999]]);
        await expect(registry.propose(terms)).to.be.revertedWithCustomError(registry, "RegistrySharesSumInvalid").withArgs(9_999);
      });

      it("refuses unsorted and duplicate parties, naming the index", async function () {
        const { registry, hotel, restaurant } = await loadFixture(deployFixture);
        const sorted = makeTerms([[hotel.address, 5_000], [restaurant.address, 5_000]]);
        const unsorted = { ...sorted, parties: [...sorted.parties].reverse() };
        await expect(registry.propose(unsorted)).to.be.revertedWithCustomError(registry, "RegistryPartiesNotSorted").withArgs(1);
        const duplicate = { ...sorted, parties: [sorted.parties[0]!, sorted.parties[0]!] };
        await expect(registry.propose(duplicate)).to.be.revertedWithCustomError(registry, "RegistryDuplicateParty").withArgs(1);
      });

      it("refuses a party that is both an account and a nested agreement", async function () {
        const { registry, hotel, restaurant } = await loadFixture(deployFixture);
        const terms = makeTerms([[hotel.address, 5_000], [restaurant.address, 5_000]]);
        terms.parties[1] = { ...terms.parties[1]!, agreementId: 7n, version: 1 };
        await expect(registry.propose(terms)).to.be.revertedWithCustomError(registry, "RegistryAmbiguousParty").withArgs(1);
      });

      it("refuses a referral fee above 2,000 bps and a reserve above 5,000 bps", async function () {
        const { registry, hotel, restaurant, outsider } = await loadFixture(deployFixture);
        const shares: Array<[string, number]> = [[hotel.address, 5_000], [restaurant.address, 5_000]];
        await expect(registry.propose(makeTerms(shares, { referralFeeBps: 2_001, referrers: [outsider.address] })))
          .to.be.revertedWithCustomError(registry, "RegistryReferralFeeTooHigh")
          .withArgs(2_001, 2_000);
        await expect(registry.propose(makeTerms(shares, { reserveBps: 5_001 })))
          .to.be.revertedWithCustomError(registry, "RegistryReserveTooHigh")
          .withArgs(5_001, 5_000);
      });

      it("refuses a dispute window outside 1 hour..365 days, or one without a reserve", async function () {
        const { registry, hotel, restaurant } = await loadFixture(deployFixture);
        const shares: Array<[string, number]> = [[hotel.address, 5_000], [restaurant.address, 5_000]];
        await expect(registry.propose(makeTerms(shares, { disputeWindow: 3_599 })))
          .to.be.revertedWithCustomError(registry, "RegistryDisputeWindowOutOfRange")
          .withArgs(3_599, 3_600, 365 * DAY);
        await expect(registry.propose(makeTerms(shares, { reserveBps: 0, disputeWindow: DAY }))).to.be.revertedWithCustomError(
          registry,
          "RegistryDisputeWindowOutOfRange",
        );
      });

      it("refuses a referral fee nobody could earn, and referrers without a fee or beside an order signer", async function () {
        const { registry, hotel, restaurant, outsider } = await loadFixture(deployFixture);
        const shares: Array<[string, number]> = [[hotel.address, 5_000], [restaurant.address, 5_000]];
        await expect(registry.propose(makeTerms(shares, { referralFeeBps: 500 })))
          .to.be.revertedWithCustomError(registry, "RegistryReferralTermsInvalid")
          .withArgs(500, 0, ethers.ZeroAddress);
        await expect(registry.propose(makeTerms(shares, { referrers: [outsider.address] })))
          .to.be.revertedWithCustomError(registry, "RegistryReferralTermsInvalid")
          .withArgs(0, 1, ethers.ZeroAddress);
        await expect(registry.propose(makeTerms(shares, { referralFeeBps: 500, referrers: [outsider.address], orderSigner: hotel.address })))
          .to.be.revertedWithCustomError(registry, "RegistryReferralTermsInvalid")
          .withArgs(500, 1, hotel.address);
      });

      it("refuses a nested agreement that is unknown, not active, or not pinned to its active version", async function () {
        const { registry, hotel, restaurant, airline } = await loadFixture(deployFixture);
        await expect(registry.propose(makeTerms([[hotel.address, 5_000], [9n, 5_000]])))
          .to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid")
          .withArgs(9, 1);
        await registry.propose(makeTerms([[restaurant.address, 5_000], [airline.address, 5_000]]));
        await expect(registry.propose(makeTerms([[hotel.address, 5_000], [1n, 5_000]])))
          .to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid")
          .withArgs(1, 1);
        await expect(registry.propose(makeTerms([[hotel.address, 5_000], [{ agreementId: 1n, version: 2 }, 5_000]])))
          .to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid")
          .withArgs(1, 2);
      });
    });

    describe("events", function () {
      it("emits AgreementProposed and VersionProposed with the proposer and the terms' struct hash", async function () {
        const { registry, hotel, terms } = await loadFixture(deployFixture);
        await expect(registry.connect(hotel).propose(terms))
          .to.emit(registry, "AgreementProposed")
          .withArgs(1, hotel.address)
          .and.to.emit(registry, "VersionProposed");
        expect(await registry.termsHash(1, 1)).to.equal(structHash(terms));
        expect(await registry.proposer(1)).to.equal(hotel.address);
        expect(await registry.agreement(1)).to.deep.equal([AgreementStatus.Proposed, 1n, 0n]);
      });
    });
  });

  describe("proposeAmendment", function () {
    it("lets only the proposer of a proposed agreement propose a new version", async function () {
      const { registry, hotel, outsider, terms } = await loadFixture(proposedFixture);
      await expect(registry.connect(outsider).proposeAmendment(1, terms, terms, []))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(outsider.address);
      await expect(registry.connect(hotel).proposeAmendment(1, terms, terms, []))
        .to.emit(registry, "VersionProposed")
        .withArgs(1, 2, hotel.address, structHash(terms), () => true);
    });

    it("refuses an outsider on an active agreement, so nobody takes the version numbers pre-signed consents expect", async function () {
      const { registry, outsider, terms, id } = await loadFixture(activeFixture);
      const grab = makeTerms([[outsider.address, 10_000]]);
      await expect(registry.connect(outsider).proposeAmendment(id, grab, terms, []))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(outsider.address);
      expect((await registry.agreement(id))[1]).to.equal(1n);
    });

    it("checks the current terms a consenter passes against the active version", async function () {
      const { registry, restaurant, terms, id } = await loadFixture(activeFixture);
      const wrong = { ...terms, documentHash: ethers.id("other") };
      await expect(registry.connect(restaurant).proposeAmendment(id, terms, wrong, []))
        .to.be.revertedWithCustomError(registry, "RegistryTermsMismatch")
        .withArgs(id, 1, structHash(terms), structHash(wrong));
    });
  });

  describe("activate", function () {
    describe("validations", function () {
      it("refuses a missing signature, naming the account", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        const sigs = await signConsents(registry, [hotel, airline], id, 1, terms);
        await expect(registry.activate(id, 1, terms, [], sigs))
          .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
          .withArgs(restaurant.address);
      });

      it("refuses a signature whose named signer is not the key's account", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        // The restaurant signs typed data naming the airline: the airline's digest does not match it.
        const forged = await signConsents(registry, [restaurant], id, 1, terms, { signerField: airline.address });
        const sigs = await signConsents(registry, [hotel, restaurant], id, 1, terms);
        const all = [...sigs, { ...forged[0]!, signer: airline.address }].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
        await expect(registry.activate(id, 1, terms, [], all)).to.be.revertedWithCustomError(registry, "RegistryInvalidSignature").withArgs(airline.address);
      });

      it("refuses an expired signature, a used nonce and a cancelled nonce", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        const now = BigInt(await time.latest());
        const expired = await signConsents(registry, [hotel, restaurant, airline], id, 1, terms, { deadline: now });
        await expect(registry.activate(id, 1, terms, [], expired))
          .to.be.revertedWithCustomError(registry, "RegistrySignatureExpired")
          .withArgs(expired[0]!.signer, now);

        await registry.connect(restaurant).cancelNonce(77n);
        const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1, terms, { nonce: 77n });
        await expect(registry.activate(id, 1, terms, [], sigs))
          .to.be.revertedWithCustomError(registry, "RegistryNonceUsed")
          .withArgs(restaurant.address, 77n);
        expect(await registry.isNonceUsed(restaurant.address, 77n)).to.equal(true);
      });

      it("keeps nonces per signer: an outsider cancelling the same number does not touch a party's signature", async function () {
        const { registry, hotel, restaurant, airline, outsider, terms, id } = await loadFixture(proposedFixture);
        await expect(registry.connect(outsider).cancelNonce(5n)).to.emit(registry, "NonceCancelled").withArgs(outsider.address, 5n);
        const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1, terms, { nonce: 5n });
        await expect(registry.activate(id, 1, terms, [], sigs)).to.emit(registry, "VersionActivated");
        expect(await registry.isNonceUsed(hotel.address, 5n)).to.equal(true);
      });

      it("refuses unsorted or duplicated signers, and a signer whose consent is not required", async function () {
        const { registry, hotel, restaurant, airline, outsider, terms, id } = await loadFixture(proposedFixture);
        const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1, terms);
        await expect(registry.activate(id, 1, terms, [], [...sigs].reverse())).to.be.revertedWithCustomError(registry, "RegistrySignersNotSorted");
        await expect(registry.activate(id, 1, terms, [], [sigs[0]!, sigs[0]!, sigs[1]!, sigs[2]!]))
          .to.be.revertedWithCustomError(registry, "RegistryDuplicateSigner")
          .withArgs(sigs[0]!.signer);
        const withOutsider = await signConsents(registry, [hotel, restaurant, airline, outsider], id, 1, terms);
        await expect(registry.activate(id, 1, terms, [], withOutsider))
          .to.be.revertedWithCustomError(registry, "RegistrySignerNotParty")
          .withArgs(outsider.address);
      });

      it("refuses a signature made for another registry (domain) or another version", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        const domain = { ...(await consentDomain(registry)), verifyingContract: restaurant.address };
        const elsewhere = await signConsents(registry, [hotel, restaurant, airline], id, 1, terms, { domain });
        await expect(registry.activate(id, 1, terms, [], elsewhere)).to.be.revertedWithCustomError(registry, "RegistryInvalidSignature");
        await registry.connect(hotel).proposeAmendment(id, terms, terms, []);
        const forVersion2 = await signConsents(registry, [hotel, restaurant, airline], id, 2, terms);
        await expect(registry.activate(id, 1, terms, [], forVersion2)).to.be.revertedWithCustomError(registry, "RegistryInvalidSignature");
      });
    });

    describe("events", function () {
      it("emits ConsentSigned per signature and VersionActivated with the root and the unit", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1, terms);
        const tx = registry.activate(id, 1, terms, [], sigs);
        for (const sig of sigs) await expect(tx).to.emit(registry, "ConsentSigned").withArgs(id, 1, sig.signer, sig.nonce);
        await expect(tx).to.emit(registry, "VersionActivated").withArgs(id, 1, structHash(terms), () => true, unitOf(terms));
        expect(await registry.agreement(id)).to.deep.equal([AgreementStatus.Active, 1n, 1n]);
        const st = await registry.settlementTerms(id);
        expect(st.version).to.equal(1n);
        expect(st.reserveBps).to.equal(BigInt(terms.reserveBps));
        expect((await registry.versionPayout(id, 1)).unit).to.equal(BigInt(unitOf(terms)));
      });
    });
  });

  describe("approve", function () {
    it("counts a live approval, at its expiry second included", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
      const expiry = (await time.latest()) + 1_000;
      await expect(registry.connect(airline).approve(id, 1, expiry)).to.emit(registry, "VersionApproved").withArgs(id, 1, airline.address, expiry);
      const sigs = await signConsents(registry, [hotel, restaurant], id, 1, terms);
      await time.setNextBlockTimestamp(expiry);
      await expect(registry.activate(id, 1, terms, [], sigs)).to.emit(registry, "VersionActivated");
    });

    it("does not count an expired approval", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
      const expiry = (await time.latest()) + 1_000;
      await registry.connect(airline).approve(id, 1, expiry);
      const sigs = await signConsents(registry, [hotel, restaurant], id, 1, terms);
      await time.setNextBlockTimestamp(expiry + 1);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(airline.address);
    });

    it("does not count a revoked approval", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
      await registry.connect(airline).approve(id, 1, (await time.latest()) + DAY);
      await expect(registry.connect(airline).revokeApproval(id, 1)).to.emit(registry, "ApprovalRevoked").withArgs(id, 1, airline.address);
      expect(await registry.approvalExpiry(id, 1, airline.address)).to.equal(0n);
      const sigs = await signConsents(registry, [hotel, restaurant], id, 1, terms);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(airline.address);
    });

    it("refuses an expiry that is not in the future", async function () {
      const { registry, airline, id } = await loadFixture(proposedFixture);
      const now = await time.latest();
      await time.setNextBlockTimestamp(now + 1);
      await expect(registry.connect(airline).approve(id, 1, now + 1))
        .to.be.revertedWithCustomError(registry, "RegistryApprovalExpiryInvalid")
        .withArgs(now + 1, now + 1);
    });

    it("refuses a superseded or unknown version", async function () {
      const { registry, airline, id } = await loadFixture(activeFixture);
      await expect(registry.connect(airline).approve(id, 1, (await time.latest()) + DAY))
        .to.be.revertedWithCustomError(registry, "RegistryVersionSuperseded")
        .withArgs(id, 1, 1);
      await expect(registry.connect(airline).approve(id, 2, 1)).to.be.revertedWithCustomError(registry, "RegistryUnknownVersion").withArgs(id, 2);
    });
  });

  describe("activateAmendment", function () {
    it("needs every consenter of the version in force too, not only the new terms' parties", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      const cut = makeTerms([[hotel.address, 6_000], [restaurant.address, 4_000]]);
      await registry.connect(hotel).proposeAmendment(id, cut, terms, []);
      const sigs = await signConsents(registry, [hotel, restaurant], id, 2, cut);
      await expect(registry.activateAmendment(id, 2, cut, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(airline.address);
      const all = await signConsents(registry, [hotel, restaurant, airline], id, 2, cut);
      await expect(registry.activateAmendment(id, 2, cut, terms, [], all)).to.emit(registry, "VersionActivated").withArgs(id, 2, structHash(cut), () => true, 5);
      expect((await registry.settlementTerms(id)).version).to.equal(2n);
    });

    it("refuses a version that is not newer than the active one", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1, terms);
      await expect(registry.activateAmendment(id, 1, terms, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryVersionSuperseded")
        .withArgs(id, 1, 1);
    });
  });

  describe("terminate", function () {
    it("needs every party's termination consent, naming the missing one", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      const two = await signTerminations(registry, [hotel, airline], id, 1);
      await expect(registry.terminate(id, terms, [], two)).to.be.revertedWithCustomError(registry, "RegistryMissingConsent").withArgs(restaurant.address);
    });

    it("refuses consent signatures as termination signatures", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      const consents = await signConsents(registry, [hotel, restaurant, airline], id, 1, terms);
      await expect(registry.terminate(id, terms, [], consents)).to.be.revertedWithCustomError(registry, "RegistryInvalidSignature");
    });

    it("counts live termination approvals, not revoked ones, and ends settlement", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      const expiry = (await time.latest()) + DAY;
      for (const s of [hotel, restaurant, airline]) await registry.connect(s).approveTermination(id, 1, expiry);
      await expect(registry.connect(airline).revokeTerminationApproval(id, 1))
        .to.emit(registry, "TerminationApprovalRevoked")
        .withArgs(id, 1, airline.address);
      await expect(registry.terminate(id, terms, [], [])).to.be.revertedWithCustomError(registry, "RegistryMissingConsent").withArgs(airline.address);
      await registry.connect(airline).approveTermination(id, 1, expiry);
      await expect(registry.terminate(id, terms, [], [])).to.emit(registry, "AgreementTerminated").withArgs(id, 1);
      expect((await registry.agreement(id))[0]).to.equal(AgreementStatus.Terminated);
      expect((await registry.settlementTerms(id)).version).to.equal(0n);
    });
  });

  describe("consenters", function () {
    it("lists the account parties sorted", async function () {
      const { registry, terms, hotel, restaurant, airline } = await loadFixture(deployFixture);
      expect(await registry.consenters(terms, [])).to.deep.equal(sortAddresses([hotel.address, restaurant.address, airline.address]));
    });
  });
});
