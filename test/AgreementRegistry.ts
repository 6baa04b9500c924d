import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { hashTypedData, type Address, type Hex } from "viem";
import {
  AgreementStatus,
  CONSENT_TYPES,
  DAY,
  ReferrerPolicy,
  activateWithSignatures,
  consentDomain,
  deployConcord,
  evenShares,
  makeTerms,
  signConsents,
  signTerminations,
  sortConsents,
  type TermsInput,
} from "./helpers/concord";

describe("AgreementRegistry", function () {
  async function registryFixture() {
    const signers = await ethers.getSigners();
    const [deployer, hotel, restaurant, airline, outsider, travelSite] = [0, 1, 2, 3, 4, 5].map((i) => signers[i]!) as [
      (typeof signers)[number],
      ...(typeof signers)[number][],
    ];
    if (!hotel || !restaurant || !airline || !outsider || !travelSite) throw new Error("the test needs six signers");
    const { registry, ledger } = await deployConcord();
    const terms = makeTerms([
      [hotel.address, 5_000],
      [restaurant.address, 3_000],
      [airline.address, 2_000],
    ]);
    return { registry, ledger, signers, deployer, hotel, restaurant, airline, outsider, travelSite, terms };
  }

  async function proposedFixture() {
    const f = await registryFixture();
    await f.registry.connect(f.hotel).propose(f.terms);
    return { ...f, id: 1n };
  }

  async function activeFixture() {
    const f = await proposedFixture();
    const sigs = await signConsents(f.registry, [f.hotel, f.restaurant, f.airline], f.id, 1n, f.terms);
    await f.registry.activate(f.id, 1, f.terms, sigs);
    return f;
  }

  describe("propose", function () {
    it("stores only the terms hash and emits the full terms", async function () {
      const { registry, hotel, terms } = await loadFixture(registryFixture);
      const hash = await registry.hashTerms(terms);
      await expect(registry.connect(hotel).propose(terms))
        .to.emit(registry, "AgreementProposed")
        .withArgs(1n, hotel.address)
        .and.to.emit(registry, "VersionProposed");
      expect(await registry.termsHash(1, 1)).to.equal(hash);
      expect(await registry.agreement(1)).to.deep.equal([AgreementStatus.Proposed, 1n, 0n]);
      expect(await registry.agreementCount()).to.equal(1n);

      const [log] = await registry.queryFilter(registry.filters.VersionProposed(1n, 1n));
      expect(log!.args.termsHash).to.equal(hash);
      const emitted = log!.args.terms;
      expect(emitted.parties.map((p) => [p.account, p.shareBps])).to.deep.equal(
        terms.parties.map((p) => [p.account, BigInt(p.shareBps)]),
      );
      expect(emitted.documentHash).to.equal(terms.documentHash);
      expect(emitted.disputeWindow).to.equal(BigInt(terms.disputeWindow));
    });

    it("accepts the documented maximum of 255 parties and rejects 256", async function () {
      const { registry } = await loadFixture(registryFixture);
      const accounts = (n: number) =>
        Array.from({ length: n }, (_, i) => ethers.getAddress(ethers.toBeHex(BigInt(i + 1) * 0x1000n, 20)));
      // 25 parties of 40 bps and 230 of 39: 1,000 + 8,970 = 9,970; the first party takes the other 30.
      const at255 = makeTerms(accounts(255).map((a, i) => [a, i < 25 ? 40 : 39] as [string, number]));
      at255.parties[0]!.shareBps += 30;
      await expect(registry.propose(at255)).to.emit(registry, "AgreementProposed");

      const at256 = makeTerms(accounts(256).map((a) => [a, 1] as [string, number]));
      await expect(registry.propose(at256))
        .to.be.revertedWithCustomError(registry, "RegistryPartyCountOutOfRange")
        .withArgs(256n, 255n);
      await expect(registry.propose({ ...at256, parties: [] }))
        .to.be.revertedWithCustomError(registry, "RegistryPartyCountOutOfRange")
        .withArgs(0n, 255n);
    });

    describe("validation", function () {
      type Case = { name: string; mutate: (t: TermsInput) => void; error: string; args?: unknown[] };
      const a = (n: number) => ethers.getAddress(ethers.toBeHex(BigInt(n) * 0x1111n, 20));
      const cases: Case[] = [
        {
          name: "a zero-address party",
          mutate: (t) => (t.parties[0]!.account = ethers.ZeroAddress),
          error: "RegistryZeroAddress",
          args: [0n],
        },
        {
          name: "a party that is both an account and an agreement",
          mutate: (t) => (t.parties[1]!.agreementId = 7n),
          error: "RegistryAmbiguousParty",
          args: [1n],
        },
        {
          name: "a duplicate party",
          mutate: (t) => (t.parties[1]!.account = t.parties[0]!.account),
          error: "RegistryDuplicateParty",
          args: [1n],
        },
        {
          name: "unsorted parties",
          mutate: (t) => ([t.parties[0], t.parties[1]] = [t.parties[1]!, t.parties[0]!]),
          error: "RegistryPartiesNotSorted",
          args: [1n],
        },
        {
          name: "a zero share",
          mutate: (t) => {
            t.parties[0]!.shareBps += t.parties[2]!.shareBps;
            t.parties[2]!.shareBps = 0;
          },
          error: "RegistryZeroShare",
          args: [2n],
        },
        {
          name: "shares summing to 9,900",
          mutate: (t) => (t.parties[0]!.shareBps -= 100),
          error: "RegistrySharesSumInvalid",
          args: [9_900n],
        },
        {
          name: "shares summing to 10,001",
          mutate: (t) => (t.parties[0]!.shareBps += 1),
          error: "RegistrySharesSumInvalid",
          args: [10_001n],
        },
        {
          name: "a referral fee above the cap",
          mutate: (t) => (t.referralFeeBps = 2_001),
          error: "RegistryReferralFeeTooHigh",
          args: [2_001n, 2_000n],
        },
        {
          name: "a reserve above the cap",
          mutate: (t) => (t.reserveBps = 5_001),
          error: "RegistryReserveTooHigh",
          args: [5_001n, 5_000n],
        },
        {
          name: "a dispute window under an hour",
          mutate: (t) => (t.disputeWindow = 3_599),
          error: "RegistryDisputeWindowOutOfRange",
          args: [3_599n, 3_600n, 365n * BigInt(DAY)],
        },
        {
          name: "a dispute window over a year",
          mutate: (t) => (t.disputeWindow = 365 * DAY + 1),
          error: "RegistryDisputeWindowOutOfRange",
          args: [365n * BigInt(DAY) + 1n, 3_600n, 365n * BigInt(DAY)],
        },
        {
          name: "a dispute window without a reserve",
          mutate: (t) => (t.reserveBps = 0),
          error: "RegistryDisputeWindowOutOfRange",
          args: [7n * BigInt(DAY), 3_600n, 365n * BigInt(DAY)],
        },
        {
          name: "a referral fee under the None policy",
          mutate: (t) => (t.referrerPolicy = ReferrerPolicy.None),
          error: "RegistryReferrerPolicyInvalid",
        },
        {
          name: "a referrer list under the None policy with a zero fee",
          mutate: (t) => {
            t.referrerPolicy = ReferrerPolicy.None;
            t.referralFeeBps = 0;
            t.referrers = [a(1)];
          },
          error: "RegistryReferrerPolicyInvalid",
        },
        {
          name: "an Open policy with a zero fee",
          mutate: (t) => (t.referralFeeBps = 0),
          error: "RegistryReferrerPolicyInvalid",
        },
        {
          name: "an Open policy with a referrer list",
          mutate: (t) => (t.referrers = [a(1)]),
          error: "RegistryReferrerPolicyInvalid",
        },
        {
          name: "an empty allowlist",
          mutate: (t) => (t.referrerPolicy = ReferrerPolicy.Allowlist),
          error: "RegistryReferrerPolicyInvalid",
        },
        {
          name: "an unsorted allowlist",
          mutate: (t) => {
            t.referrerPolicy = ReferrerPolicy.Allowlist;
            t.referrers = [a(2), a(1)];
          },
          error: "RegistryReferrerListInvalid",
          args: [1n],
        },
        {
          name: "a zero address in the allowlist",
          mutate: (t) => {
            t.referrerPolicy = ReferrerPolicy.Allowlist;
            t.referrers = [ethers.ZeroAddress];
          },
          error: "RegistryReferrerListInvalid",
          args: [0n],
        },
        {
          name: "a dust party out of range",
          mutate: (t) => (t.dustPartyIndex = 3),
          error: "RegistryDustPartyOutOfRange",
          args: [3n, 3n],
        },
        {
          name: "a nested agreement that does not exist",
          mutate: (t) => {
            t.parties[2] = { account: ethers.ZeroAddress, agreementId: 5n, shareBps: t.parties[2]!.shareBps };
          },
          error: "RegistryNestedAgreementInvalid",
          args: [5n],
        },
      ];

      for (const c of cases) {
        it(`rejects ${c.name} and changes nothing`, async function () {
          const { registry, terms } = await loadFixture(registryFixture);
          const bad = structuredClone(terms);
          c.mutate(bad);
          const tx = registry.propose(bad);
          const matcher = expect(tx).to.be.revertedWithCustomError(registry, c.error);
          if (c.args) await matcher.withArgs(...c.args);
          else await matcher;
          expect(await registry.agreementCount()).to.equal(0n);
        });
      }
    });
  });

  describe("activate", function () {
    it("activates with every party's signature in one transaction", async function () {
      const { registry, hotel, restaurant, airline, outsider, terms, id } = await loadFixture(proposedFixture);
      const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms);
      const hash = await registry.termsHash(id, 1);
      const tx = registry.connect(outsider).activate(id, 1, terms, sigs);
      for (const s of sigs) await expect(tx).to.emit(registry, "ConsentSigned").withArgs(id, 1n, s.signer, s.nonce);
      // unit = 10,000 / gcd(5,000, 3,000, 2,000) = 10
      await expect(tx).to.emit(registry, "VersionActivated").withArgs(id, 1n, hash, 10n);
      expect(await registry.agreement(id)).to.deep.equal([AgreementStatus.Active, 1n, 1n]);
      const config = await registry.settlementConfig(id);
      expect(config.version).to.equal(1n);
      expect(config.referralFeeBps).to.equal(500n);
      expect(config.reserveBps).to.equal(1_000n);
      expect(config.unit).to.equal(10n);
      for (const s of sigs) expect(await registry.isNonceUsed(s.signer, s.nonce)).to.equal(true);
    });

    it("counts on-chain approvals as consent, alone or mixed with signatures", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
      await expect(registry.connect(hotel).approve(id, 1))
        .to.emit(registry, "VersionApproved")
        .withArgs(id, 1n, hotel.address);
      await registry.connect(restaurant).approve(id, 1);
      expect(await registry.hasApproved(id, 1, hotel.address)).to.equal(true);
      const sigs = await signConsents(registry, [airline], id, 1n, terms);
      await expect(registry.activate(id, 1, terms, sigs)).to.emit(registry, "VersionActivated");

      const f = await registryFixture();
      await f.registry.propose(f.terms);
      for (const s of [f.hotel, f.restaurant, f.airline]) await f.registry.connect(s).approve(1, 1);
      await expect(f.registry.activate(1, 1, f.terms, [])).to.emit(f.registry, "VersionActivated");
    });

    it("refuses an on-chain approval of version 0 or of a version not yet proposed, recording nothing", async function () {
      const { registry, hotel, id } = await loadFixture(proposedFixture);
      for (const version of [0n, 2n]) {
        await expect(registry.connect(hotel).approve(id, version))
          .to.be.revertedWithCustomError(registry, "RegistryUnknownVersion")
          .withArgs(id, version);
        expect(await registry.hasApproved(id, version, hotel.address)).to.equal(false);
      }
      await expect(registry.connect(hotel).approve(9, 1))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownAgreement")
        .withArgs(9n);
    });

    it("reverts without every party's consent, naming the missing party", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
      const sigs = await signConsents(registry, [hotel, restaurant], id, 1n, terms);
      await expect(registry.activate(id, 1, terms, sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(airline.address);
      expect((await registry.agreement(id))[0]).to.equal(AgreementStatus.Proposed);
      // Nonces of a failed activation stay unused.
      for (const s of sigs) expect(await registry.isNonceUsed(s.signer, s.nonce)).to.equal(false);
    });

    it("rejects a signature from a non-party", async function () {
      const { registry, hotel, restaurant, airline, outsider, terms, id } = await loadFixture(proposedFixture);
      const sigs = await signConsents(registry, [hotel, restaurant, airline, outsider], id, 1n, terms);
      await expect(registry.activate(id, 1, terms, sigs))
        .to.be.revertedWithCustomError(registry, "RegistrySignerNotParty")
        .withArgs(outsider.address);
    });

    it("rejects duplicate and unsorted signers", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
      const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms);
      const dup = [sigs[0]!, { ...sigs[0]!, nonce: sigs[0]!.nonce + 1n }, ...sigs.slice(1)];
      await expect(registry.activate(id, 1, terms, dup))
        .to.be.revertedWithCustomError(registry, "RegistryDuplicateSigner")
        .withArgs(sigs[0]!.signer);
      const unsorted = [sigs[1]!, sigs[0]!, sigs[2]!];
      await expect(registry.activate(id, 1, terms, unsorted))
        .to.be.revertedWithCustomError(registry, "RegistrySignersNotSorted")
        .withArgs(sigs[0]!.signer);
    });

    it("rejects an expired signature", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
      const now = BigInt(await time.latest());
      const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms, { deadline: now + 60n });
      await time.increase(61);
      await expect(registry.activate(id, 1, terms, sigs))
        .to.be.revertedWithCustomError(registry, "RegistrySignatureExpired")
        .withArgs(sigs[0]!.signer, now + 60n);
    });

    it("rejects altered terms (front-running with different shares) and a wrong version", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
      const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms);
      const altered = structuredClone(terms);
      altered.parties[0]!.shareBps += 100;
      altered.parties[1]!.shareBps -= 100;
      const expected = await registry.termsHash(id, 1);
      await expect(registry.activate(id, 1, altered, sigs))
        .to.be.revertedWithCustomError(registry, "RegistryTermsMismatch")
        .withArgs(id, 1n, expected, await registry.hashTerms(altered));
      await expect(registry.activate(id, 2, terms, sigs))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownVersion")
        .withArgs(id, 2n);
      await expect(registry.activate(9, 1, terms, sigs))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownAgreement")
        .withArgs(9n);
    });

    describe("replay protection", function () {
      it("binds the signature to the agreement id", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        await registry.propose(terms); // agreement 2, same terms
        const sigsFor1 = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms);
        await expect(registry.activate(2, 1, terms, sigsFor1))
          .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
          .withArgs(sigsFor1[0]!.signer);
      });

      it("binds the signature to the chain id and the deployment", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        const domain = await consentDomain(registry);
        const otherChain = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms, {
          domain: { ...domain, chainId: 1n },
        });
        await expect(registry.activate(id, 1, terms, otherChain)).to.be.revertedWithCustomError(
          registry,
          "RegistryInvalidSignature",
        );
        const { registry: other } = await deployConcord();
        const otherDeployment = await signConsents(other, [hotel, restaurant, airline], id, 1n, terms);
        await expect(registry.activate(id, 1, terms, otherDeployment)).to.be.revertedWithCustomError(
          registry,
          "RegistryInvalidSignature",
        );
      });

      it("binds the signature to the version", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
        await registry.proposeAmendment(id, terms); // version 2 with identical terms
        const sigsV1 = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms, { nonce: 77n });
        await expect(registry.activateAmendment(id, 2, terms, terms, sigsV1)).to.be.revertedWithCustomError(
          registry,
          "RegistryInvalidSignature",
        );
      });

      it("consumes the nonce: the same signatures cannot activate twice, even elsewhere", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms, { nonce: 5n });
        await registry.activate(id, 1, terms, sigs);
        await registry.proposeAmendment(id, terms);
        const again = await signConsents(registry, [hotel, restaurant, airline], id, 2n, terms, { nonce: 5n });
        await expect(registry.activateAmendment(id, 2, terms, terms, again))
          .to.be.revertedWithCustomError(registry, "RegistryNonceUsed")
          .withArgs(again[0]!.signer, 5n);
      });

      it("lets a party cancel an unused signature by using its nonce", async function () {
        const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(proposedFixture);
        const sigs = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms, { nonce: 42n });
        await expect(registry.connect(restaurant).cancelNonce(42))
          .to.emit(registry, "NonceCancelled")
          .withArgs(restaurant.address, 42n);
        await expect(registry.activate(id, 1, terms, sigs))
          .to.be.revertedWithCustomError(registry, "RegistryNonceUsed")
          .withArgs(restaurant.address, 42n);
        await expect(registry.connect(restaurant).cancelNonce(42))
          .to.be.revertedWithCustomError(registry, "RegistryNonceUsed")
          .withArgs(restaurant.address, 42n);
        // Nonces are unordered: 41 and 300 are still free.
        expect(await registry.isNonceUsed(restaurant.address, 41)).to.equal(false);
        expect(await registry.isNonceUsed(restaurant.address, 300)).to.equal(false);
      });
    });

    describe("contract wallets (ERC-1271)", function () {
      async function walletFixture() {
        const f = await registryFixture();
        const Wallet = await ethers.getContractFactory("MockERC1271Wallet");
        const wallet = await Wallet.deploy(f.outsider.address, 0);
        const walletAddress = await wallet.getAddress();
        const terms = makeTerms([
          [f.hotel.address, 6_000],
          [walletAddress, 4_000],
        ]);
        await f.registry.propose(terms);
        const [hotelSig] = await signConsents(f.registry, [f.hotel], 1n, 1n, terms);
        // The wallet's owner signs the digest; the wallet vouches for it.
        const [ownerSig] = await signConsents(f.registry, [f.outsider], 1n, 1n, terms);
        const walletSig = { ...ownerSig!, signer: walletAddress };
        const sigs = sortConsents([hotelSig!, walletSig]);
        return { ...f, wallet, walletAddress, terms, sigs };
      }

      it("accepts a wallet that approves", async function () {
        const { registry, terms, sigs } = await loadFixture(walletFixture);
        await expect(registry.activate(1, 1, terms, sigs)).to.emit(registry, "VersionActivated");
      });

      for (const [mode, name] of [
        [1, "rejects"],
        [2, "reverts"],
        [3, "returns short data"],
        [4, "returns the wrong magic value"],
      ] as const) {
        it(`refuses a wallet that ${name}`, async function () {
          const { registry, wallet, walletAddress, terms, sigs } = await loadFixture(walletFixture);
          await wallet.setMode(mode);
          await expect(registry.activate(1, 1, terms, sigs))
            .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
            .withArgs(walletAddress);
        });
      }

      it("lets a wallet consent on chain through its own call", async function () {
        const { registry, wallet, outsider, terms, sigs, walletAddress } = await loadFixture(walletFixture);
        await wallet.connect(outsider).execute(registry, registry.interface.encodeFunctionData("approve", [1, 1]));
        expect(await registry.hasApproved(1, 1, walletAddress)).to.equal(true);
        const hotelOnly = sigs.filter((s) => s.signer !== walletAddress);
        await expect(registry.activate(1, 1, terms, hotelOnly)).to.emit(registry, "VersionActivated");
      });
    });
  });

  describe("amendments", function () {
    it("needs the consent of the new version's parties and the current version's parties", async function () {
      const { registry, hotel, restaurant, airline, travelSite, terms, id } = await loadFixture(activeFixture);
      // The airline leaves; the travel site joins.
      const amended = makeTerms([
        [hotel.address, 5_000],
        [restaurant.address, 3_000],
        [travelSite.address, 2_000],
      ]);
      await expect(registry.proposeAmendment(id, amended)).to.emit(registry, "VersionProposed");
      const withoutLeaver = await signConsents(registry, [hotel, restaurant, travelSite], id, 2n, amended);
      await expect(registry.activateAmendment(id, 2, amended, terms, withoutLeaver))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(airline.address);
      const withoutJoiner = await signConsents(registry, [hotel, restaurant, airline], id, 2n, amended);
      await expect(registry.activateAmendment(id, 2, amended, terms, withoutJoiner))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(travelSite.address);

      const all = await signConsents(registry, [hotel, restaurant, airline, travelSite], id, 2n, amended);
      await expect(registry.activateAmendment(id, 2, amended, terms, all))
        .to.emit(registry, "VersionActivated")
        .withArgs(id, 2n, await registry.hashTerms(amended), 10n);
      expect(await registry.agreement(id)).to.deep.equal([AgreementStatus.Active, 2n, 2n]);
      // History stays readable.
      expect(await registry.termsHash(id, 1)).to.equal(await registry.hashTerms(terms));
      expect(await registry.versionPayout(id, 1)).to.deep.equal([ethers.ZeroAddress, 10n]);
    });

    it("rejects wrong current terms, superseded versions and amendments of non-active agreements", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      const v2 = makeTerms([[hotel.address, 5_000], [restaurant.address, 5_000]]);
      const v3 = makeTerms([[hotel.address, 4_000], [restaurant.address, 6_000]]);
      await registry.proposeAmendment(id, v2);
      await registry.proposeAmendment(id, v3);
      await expect(registry.activateAmendment(id, 2, v2, v3, [])).to.be.revertedWithCustomError(
        registry,
        "RegistryTermsMismatch",
      );
      const sigs3 = await signConsents(registry, [hotel, restaurant, airline], id, 3n, v3);
      await registry.activateAmendment(id, 3, v3, terms, sigs3);
      // Version 2 was never activated and is now superseded.
      const sigs2 = await signConsents(registry, [hotel, restaurant, airline], id, 2n, v2);
      await expect(registry.activateAmendment(id, 2, v2, v3, sigs2))
        .to.be.revertedWithCustomError(registry, "RegistryVersionSuperseded")
        .withArgs(id, 2n, 3n);
      await expect(registry.connect(hotel).approve(id, 2))
        .to.be.revertedWithCustomError(registry, "RegistryVersionSuperseded")
        .withArgs(id, 2n, 3n);
      await expect(registry.connect(hotel).approve(id, 4))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownVersion")
        .withArgs(id, 4n);

      await registry.propose(terms); // agreement 2, still proposed
      await expect(registry.proposeAmendment(2, v2))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(2n, AgreementStatus.Proposed);
      await expect(registry.activate(id, 1, terms, []))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(id, AgreementStatus.Active);
      // A proposed agreement has no version in force to amend or to terminate.
      await expect(registry.activateAmendment(2, 1, terms, terms, []))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(2n, AgreementStatus.Proposed);
      for (const s of [hotel, restaurant, airline]) await registry.connect(s).approve(2, 1);
      await expect(registry.terminate(2, terms, []))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(2n, AgreementStatus.Proposed);
      expect(await registry.agreement(2)).to.deep.equal([AgreementStatus.Proposed, 1n, 0n]);
    });
  });

  describe("termination", function () {
    it("needs every party's consent and stops the agreement", async function () {
      const { registry, ledger, hotel, restaurant, airline, outsider, terms, id } = await loadFixture(activeFixture);
      const two = await signTerminations(registry, [hotel, restaurant], id, 1n);
      await expect(registry.terminate(id, terms, two))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(airline.address);
      await expect(registry.connect(airline).approveTermination(id))
        .to.emit(registry, "TerminationApproved")
        .withArgs(id, 1n, airline.address);
      const tx = registry.terminate(id, terms, two);
      await expect(tx).to.emit(registry, "AgreementTerminated").withArgs(id, 1n);
      await expect(tx).to.emit(registry, "TerminationSigned").withArgs(id, 1n, two[0]!.signer, two[0]!.nonce);
      expect((await registry.agreement(id))[0]).to.equal(AgreementStatus.Terminated);
      await expect(
        ledger.connect(outsider).settle(id, ethers.ZeroAddress, 1_000n, ethers.ZeroAddress, ethers.id("o"), { value: 1_000n }),
      )
        .to.be.revertedWithCustomError(ledger, "LedgerAgreementNotActive")
        .withArgs(id, AgreementStatus.Terminated);
      await expect(registry.connect(hotel).approveTermination(id))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(id, AgreementStatus.Terminated);
    });

    it("records on-chain termination approvals for the version in force only", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      for (const s of [hotel, restaurant, airline]) await registry.connect(s).approveTermination(id);
      for (const s of [hotel, restaurant, airline]) {
        expect(await registry.hasApprovedTermination(id, 1, s.address)).to.equal(true);
        expect(await registry.hasApproved(id, 1, s.address)).to.equal(false); // a separate consent
      }
      // The parties amend instead: the approvals to end version 1 do not end version 2.
      const v2 = makeTerms([[hotel.address, 5_000], [restaurant.address, 5_000]]);
      await registry.proposeAmendment(id, v2);
      await registry.activateAmendment(id, 2, v2, terms, await signConsents(registry, [hotel, restaurant, airline], id, 2n, v2));
      expect(await registry.hasApprovedTermination(id, 2, hotel.address)).to.equal(false);
      await expect(registry.terminate(id, v2, []))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(v2.parties[0]!.account);
      // Only version 2's parties need to consent now; the airline left with version 1.
      await registry.connect(hotel).approveTermination(id);
      await expect(registry.connect(restaurant).approveTermination(id))
        .to.emit(registry, "TerminationApproved")
        .withArgs(id, 2n, restaurant.address);
      expect(await registry.hasApprovedTermination(id, 2, restaurant.address)).to.equal(true);
      expect(await registry.hasApprovedTermination(id, 2, airline.address)).to.equal(false);
      await expect(registry.terminate(id, v2, [])).to.emit(registry, "AgreementTerminated").withArgs(id, 2n);
    });

    it("is final: a version proposed before the end can be neither approved nor activated", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      const v2 = makeTerms([[hotel.address, 5_000], [restaurant.address, 5_000]]);
      await registry.proposeAmendment(id, v2);
      const sigs2 = await signConsents(registry, [hotel, restaurant, airline], id, 2n, v2);
      for (const s of [hotel, restaurant, airline]) await registry.connect(s).approveTermination(id);
      await registry.terminate(id, terms, []);

      await expect(registry.connect(hotel).approve(id, 2))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(id, AgreementStatus.Terminated);
      expect(await registry.hasApproved(id, 2, hotel.address)).to.equal(false);
      await expect(registry.activateAmendment(id, 2, v2, terms, sigs2))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(id, AgreementStatus.Terminated);
      for (const s of sigs2) expect(await registry.isNonceUsed(s.signer, s.nonce)).to.equal(false);
      await expect(registry.terminate(id, terms, []))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(id, AgreementStatus.Terminated);
      await expect(registry.proposeAmendment(id, v2))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
        .withArgs(id, AgreementStatus.Terminated);
      expect(await registry.agreement(id)).to.deep.equal([AgreementStatus.Terminated, 2n, 1n]);
    });

    it("does not accept a consent signature as a termination signature", async function () {
      const { registry, hotel, restaurant, airline, terms, id } = await loadFixture(activeFixture);
      const consent = await signConsents(registry, [hotel, restaurant, airline], id, 1n, terms, { nonce: 9n });
      await expect(registry.terminate(id, terms, consent)).to.be.revertedWithCustomError(
        registry,
        "RegistryInvalidSignature",
      );
    });
  });

  describe("nested agreements", function () {
    async function nestedFixture() {
      const f = await registryFixture();
      const [, , , , , , brand, franchisee] = f.signers;
      // Agreement 1: a hotel group's own split between brand and franchisee.
      const group = makeTerms([[brand!.address, 7_000], [franchisee!.address, 3_000]]);
      await activateWithSignatures(f.registry, group, [brand!, franchisee!]);
      return { ...f, brand: brand!, franchisee: franchisee!, group };
    }

    it("lets an active agreement with a lower id be a party, without consent of its own", async function () {
      const { registry, restaurant, airline } = await loadFixture(nestedFixture);
      const parent = makeTerms([[restaurant.address, 3_000], [airline.address, 2_000], [1n, 5_000]]);
      expect(parent.parties[2]!.agreementId).to.equal(1n); // nested parties sort last
      await activateWithSignatures(registry, parent, [restaurant, airline]);
      expect(await registry.nestingDepth(2)).to.equal(1n);
    });

    it("bounds the depth at MAX_NESTING_DEPTH and refuses cycles", async function () {
      const { registry, restaurant } = await loadFixture(nestedFixture);
      const max = await registry.MAX_NESTING_DEPTH();
      // Chain: 2 nests 1, 3 nests 2, ... each level adds one.
      for (let child = 1n; child <= max; child++) {
        const terms = makeTerms([[restaurant.address, 5_000], [child, 5_000]]);
        await activateWithSignatures(registry, terms, [restaurant]);
        expect(await registry.nestingDepth(child + 1n)).to.equal(child);
      }
      const tooDeep = makeTerms([[restaurant.address, 5_000], [max + 1n, 5_000]]);
      await expect(registry.propose(tooDeep))
        .to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid")
        .withArgs(max + 1n);
      // A cycle needs an agreement to nest itself or a later one: ids must be lower.
      const self = makeTerms([[restaurant.address, 5_000], [(await registry.agreementCount()) + 1n, 5_000]]);
      await expect(registry.propose(self)).to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid");
    });

    it("takes the depth of its deepest nested agreement, not of the last one checked", async function () {
      const { registry, restaurant, airline } = await loadFixture(nestedFixture);
      // Agreement 2: a leaf (depth 0). Agreement 3 nests agreement 1 (depth 1).
      await activateWithSignatures(registry, makeTerms([[airline.address, 10_000]]), [airline]);
      await activateWithSignatures(registry, makeTerms([[airline.address, 5_000], [1n, 5_000]]), [airline]);
      expect(await registry.nestingDepth(2)).to.equal(0n);
      expect(await registry.nestingDepth(3)).to.equal(1n);
      // Nested parties are checked from the last (highest id) back: 3 (depth 1), then 2 (depth 0).
      const parent = makeTerms([[restaurant.address, 4_000], [2n, 3_000], [3n, 3_000]]);
      expect(parent.parties.map((p) => p.agreementId)).to.deep.equal([0n, 2n, 3n]);
      await activateWithSignatures(registry, parent, [restaurant]);
      expect(await registry.nestingDepth(4)).to.equal(2n);
      // Two children of equal depth: one level above them.
      await activateWithSignatures(registry, makeTerms([[restaurant.address, 4_000], [1n, 3_000], [2n, 3_000]]), [restaurant]);
      expect(await registry.nestingDepth(5)).to.equal(1n);
    });

    it("refuses a proposed (not active) child agreement", async function () {
      const { registry, restaurant, terms } = await loadFixture(nestedFixture);
      await registry.propose(terms); // agreement 2, proposed only
      const parent = makeTerms([[restaurant.address, 5_000], [2n, 5_000]]);
      await expect(registry.propose(parent))
        .to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid")
        .withArgs(2n);
    });

    it("keeps a nested agreement from growing deeper than its parents checked", async function () {
      const { registry, restaurant } = await loadFixture(nestedFixture);
      // Agreement 2 (depth 0) and agreement 3 nesting 2.
      const leaf = makeTerms([[restaurant.address, 10_000]]);
      await activateWithSignatures(registry, leaf, [restaurant]);
      await activateWithSignatures(registry, makeTerms([[restaurant.address, 5_000], [2n, 5_000]]), [restaurant]);
      // Now agreement 2 may not amend itself to nest agreement 1 (depth 0 -> 1).
      const deeper = makeTerms([[restaurant.address, 5_000], [1n, 5_000]]);
      await registry.proposeAmendment(2, deeper);
      const sigs = await signConsents(registry, [restaurant], 2n, 2n, deeper);
      await expect(registry.activateAmendment(2, 2, deeper, leaf, sigs))
        .to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid")
        .withArgs(2n);
      // Agreement 1 itself is still a valid child of a fresh agreement.
      expect((await registry.agreement(1))[0]).to.equal(AgreementStatus.Active);
    });
  });

  describe("EIP-712 digest", function () {
    it("exposes the domain separator of this chain and deployment, the one every digest is built on", async function () {
      const { registry } = await loadFixture(registryFixture);
      const separator = await registry.domainSeparator();
      expect(separator).to.equal(ethers.TypedDataEncoder.hashDomain(await consentDomain(registry)));
      const structHash = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(
          ["bytes32", "uint256", "uint32", "uint256", "uint256"],
          [await registry.TERMINATION_TYPEHASH(), 3n, 2n, 7n, 2_000_000_000n],
        ),
      );
      expect(await registry.terminationDigest(3, 2, 7n, 2_000_000_000n)).to.equal(
        ethers.solidityPackedKeccak256(["bytes2", "bytes32", "bytes32"], ["0x1901", separator, structHash]),
      );
      // Another deployment on the same chain has another domain: signatures do not carry over.
      const { registry: other } = await deployConcord();
      expect(await other.domainSeparator()).to.not.equal(separator);
      expect(await other.domainSeparator()).to.equal(ethers.TypedDataEncoder.hashDomain(await consentDomain(other)));
    });

    it("is the same in viem, ethers and the contract, for terms with several parties", async function () {
      const { registry, signers } = await loadFixture(registryFixture);
      const shares = evenShares(7);
      const terms = makeTerms(
        signers.slice(1, 8).map((s, i) => [s.address, shares[i]!] as [string, number]),
        {
          referrerPolicy: ReferrerPolicy.Allowlist,
          referrers: [signers[9]!.address, signers[10]!.address].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)),
          refundAuthority: signers[11]!.address,
          dustPartyIndex: 3,
        },
      );
      const domain = await consentDomain(registry);
      const message = { agreementId: 12n, version: 3n, terms, nonce: 123_456n, deadline: 2_000_000_000n };
      const viaEthers = ethers.TypedDataEncoder.hash(domain, CONSENT_TYPES, message);
      const viaViem = hashTypedData({
        domain: {
          name: "Concord",
          version: "1",
          chainId: Number(domain.chainId),
          verifyingContract: domain.verifyingContract as Address,
        },
        types: CONSENT_TYPES,
        primaryType: "Consent",
        message: {
          agreementId: 12n,
          version: 3,
          terms: {
            ...terms,
            parties: terms.parties.map((p) => ({ ...p, account: p.account as Address })),
            referrers: terms.referrers as Address[],
            refundAuthority: terms.refundAuthority as Address,
            documentHash: terms.documentHash as Hex,
          },
          nonce: 123_456n,
          deadline: 2_000_000_000n,
        },
      });
      const onChain = await registry.consentDigest(12, 3, await registry.hashTerms(terms), 123_456n, 2_000_000_000n);
      expect(viaViem).to.equal(viaEthers);
      expect(onChain).to.equal(viaEthers);
    });
  });
});
