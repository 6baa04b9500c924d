import { expect } from "chai";
import { ethers } from "hardhat";
import {
  impersonateAccount,
  loadFixture,
  setBalance,
  stopImpersonatingAccount,
  time,
} from "@nomicfoundation/hardhat-network-helpers";
import type { Result } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { AgreementRegistry, NegotiationHub } from "../typechain-types";
import type { TermsStructOutput } from "../typechain-types/contracts/NegotiationHub";
import {
  AgreementStatus,
  DAY,
  activateWithSignatures,
  deployConcord,
  makeTerms,
  signConsents,
  type TermsInput,
} from "./helpers/concord";

const Status = { None: 0n, Open: 1n, Agreed: 2n, Broken: 3n, Expired: 4n } as const;
const ROUNDS = 5;

function byAddress(signers: HardhatEthersSigner[]): HardhatEthersSigner[] {
  return [...signers].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
}

/** Terms over `parties` (signers) with the given shares, in signer order; other fields overridable. */
function termsOf(
  parties: HardhatEthersSigner[],
  shares: number[],
  overrides: Partial<Omit<TermsInput, "parties">> = {},
): TermsInput {
  return makeTerms(
    parties.map((p, i) => [p.address, shares[i]!] as [string, number]),
    overrides,
  );
}

/** The terms carried by an event, back in the shape the contracts take. */
function termsFromEvent(t: Result | TermsStructOutput): TermsInput {
  return {
    parties: (t.parties as Result[]).map((p) => ({ account: p.account, agreementId: p.agreementId, shareBps: Number(p.shareBps) })),
    referralFeeBps: Number(t.referralFeeBps),
    referrerPolicy: Number(t.referrerPolicy),
    referrers: [...(t.referrers as string[])],
    reserveBps: Number(t.reserveBps),
    disputeWindow: Number(t.disputeWindow),
    refundAuthority: t.refundAuthority,
    dustPartyIndex: Number(t.dustPartyIndex),
    documentHash: t.documentHash,
  };
}

async function deadlineIn(seconds: number): Promise<bigint> {
  return BigInt((await time.latest()) + seconds);
}

describe("NegotiationHub", function () {
  /** A proposed agreement among three parties (sorted by address: p0 < p1 < p2). */
  async function proposedFixture() {
    const signers = await ethers.getSigners();
    const [p0, p1, p2] = byAddress(signers.slice(1, 4));
    const outsider = signers[5]!;
    const { registry, ledger } = await deployConcord();
    const hub = (await ethers.getContractAt("NegotiationHub", await registry.negotiationHub())) as unknown as NegotiationHub;
    const current = termsOf([p0!, p1!, p2!], [4_000, 3_000, 3_000]);
    await registry.connect(p0!).propose(current);
    const id = await registry.agreementCount();
    return { registry, ledger, hub, p0: p0!, p1: p1!, p2: p2!, outsider, current, id };
  }

  /** The proposed agreement with a negotiation opened by p0. */
  async function openFixture() {
    const f = await proposedFixture();
    const deadline = await deadlineIn(DAY);
    const opening = termsOf([f.p0, f.p1, f.p2], [5_000, 2_500, 2_500], { reserveBps: 1_500 });
    await f.hub.connect(f.p0).open(f.id, ROUNDS, deadline, opening, f.current);
    return { ...f, deadline, opening };
  }

  /** An active agreement among the three parties (version 1 active, signed directly). */
  async function activeFixture() {
    const f = await proposedFixture();
    const sigs = await signConsents(f.registry, [f.p0, f.p1, f.p2], f.id, 1n, f.current);
    await f.registry.activate(f.id, 1, f.current, sigs);
    return f;
  }

  async function hashOf(registry: AgreementRegistry, terms: TermsInput): Promise<string> {
    return registry.hashTerms(terms);
  }

  describe("deployment", function () {
    it("is deployed by the registry, which trusts only it", async function () {
      const { registry, hub } = await loadFixture(proposedFixture);
      expect(await hub.registry()).to.equal(await registry.getAddress());
      expect(await hub.REGISTRY()).to.equal(await registry.getAddress());
      expect(await registry.NEGOTIATION()).to.equal(await hub.getAddress());
    });

    it("keeps activateNegotiated to the hub", async function () {
      const { registry, p0, current, id } = await loadFixture(proposedFixture);
      await expect(registry.connect(p0).activateNegotiated(id, current))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(p0.address);
    });

    it("refuses activateNegotiated on a terminated agreement even from the hub (the registry checks on its own)", async function () {
      // The hub never makes this call (accept checks the status first); the registry must not rely on that.
      const { registry, hub, p0, p1, p2, current, id } = await loadFixture(activeFixture);
      for (const p of [p0, p1, p2]) await registry.connect(p).approveTermination(id);
      await registry.terminate(id, current, []);
      const hubAddress = await hub.getAddress();
      await impersonateAccount(hubAddress);
      try {
        await setBalance(hubAddress, 10n ** 18n);
        const asHub = await ethers.getSigner(hubAddress);
        await expect(registry.connect(asHub).activateNegotiated(id, current))
          .to.be.revertedWithCustomError(registry, "RegistryInvalidStatus")
          .withArgs(id, AgreementStatus.Terminated);
      } finally {
        await stopImpersonatingAccount(hubAddress);
      }
      expect(await registry.agreement(id)).to.deep.equal([AgreementStatus.Terminated, 1n, 1n]);
    });
  });

  describe("open", function () {
    describe("validations", function () {
      it("rejects a non-party opener", async function () {
        const { hub, outsider, current, id } = await loadFixture(proposedFixture);
        await expect(hub.connect(outsider).open(id, ROUNDS, await deadlineIn(DAY), current, current))
          .to.be.revertedWithCustomError(hub, "NegotiationNotParticipant")
          .withArgs(id, outsider.address);
      });

      it("rejects a zero round limit and a deadline not in the future", async function () {
        const { hub, p0, current, id } = await loadFixture(proposedFixture);
        await expect(hub.connect(p0).open(id, 0, await deadlineIn(DAY), current, current)).to.be.revertedWithCustomError(
          hub,
          "NegotiationRoundLimitZero",
        );
        const now = BigInt(await time.latest()) + 1n;
        await time.setNextBlockTimestamp(now);
        await expect(hub.connect(p0).open(id, ROUNDS, now, current, current))
          .to.be.revertedWithCustomError(hub, "NegotiationDeadlineInvalid")
          .withArgs(now, now);
      });

      it("rejects unknown and terminated agreements", async function () {
        const { registry, hub, p0, p1, p2, current, id } = await loadFixture(activeFixture);
        await expect(hub.connect(p0).open(99, ROUNDS, await deadlineIn(DAY), current, current))
          .to.be.revertedWithCustomError(hub, "NegotiationInvalidAgreementStatus")
          .withArgs(99, AgreementStatus.None);
        for (const p of [p0, p1, p2]) await registry.connect(p).approveTermination(id);
        await registry.terminate(id, current, []);
        await expect(hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), current, current))
          .to.be.revertedWithCustomError(hub, "NegotiationInvalidAgreementStatus")
          .withArgs(id, AgreementStatus.Terminated);
      });

      it("rejects current terms that are not the version in force", async function () {
        const { registry, hub, p0, p1, p2, current, id } = await loadFixture(proposedFixture);
        const wrong = termsOf([p0, p1, p2], [3_400, 3_300, 3_300]);
        await expect(hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), current, wrong))
          .to.be.revertedWithCustomError(hub, "RegistryTermsMismatch")
          .withArgs(id, 1, await hashOf(registry, current), await hashOf(registry, wrong));
      });

      it("needs at least two account parties", async function () {
        const { registry, hub, p0 } = await loadFixture(proposedFixture);
        const solo = termsOf([p0], [10_000]);
        await registry.connect(p0).propose(solo);
        const soloId = await registry.agreementCount();
        await expect(hub.connect(p0).open(soloId, ROUNDS, await deadlineIn(DAY), solo, solo))
          .to.be.revertedWithCustomError(hub, "NegotiationTooFewParticipants")
          .withArgs(soloId, 1);
      });

      it("validates the opening offer as a direct proposal", async function () {
        const { registry, hub, p0, p1, p2, current, id } = await loadFixture(proposedFixture);
        const deadline = await deadlineIn(DAY);
        const badSum = termsOf([p0, p1, p2], [5_000, 3_000, 3_000]);
        await expect(hub.connect(p0).open(id, ROUNDS, deadline, badSum, current))
          .to.be.revertedWithCustomError(registry, "RegistrySharesSumInvalid")
          .withArgs(11_000);
        const badReserve = termsOf([p0, p1, p2], [4_000, 3_000, 3_000], { reserveBps: 5_001 });
        await expect(hub.connect(p0).open(id, ROUNDS, deadline, badReserve, current))
          .to.be.revertedWithCustomError(registry, "RegistryReserveTooHigh")
          .withArgs(5_001, 5_000);
      });

      it("rejects an offer naming an account that is not a participant", async function () {
        const { hub, p0, p1, outsider, current, id } = await loadFixture(proposedFixture);
        const withOutsider = termsOf([p0, p1, outsider], [4_000, 3_000, 3_000]);
        await expect(hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), withOutsider, current))
          .to.be.revertedWithCustomError(hub, "NegotiationOfferPartyNotParticipant")
          .withArgs(id, outsider.address);
      });

      it("rejects a non-participant account that sorts before or between the participants", async function () {
        const { registry, hub, p0, p1, p2, current, id } = await loadFixture(proposedFixture);
        const low = ethers.getAddress(ethers.toBeHex(0x1234n, 20)); // below every signer's address
        const between = ethers.getAddress(ethers.toBeHex((BigInt(p0.address) + BigInt(p1.address)) / 2n, 20));
        expect(BigInt(low) < BigInt(p0.address) && BigInt(between) > BigInt(p0.address)).to.equal(true);
        expect(BigInt(between) < BigInt(p1.address)).to.equal(true);
        for (const stranger of [low, between]) {
          const offer = makeTerms([
            [stranger, 2_000],
            [p0.address, 4_000],
            [p1.address, 2_000],
            [p2.address, 2_000],
          ]);
          await expect(hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), offer, current))
            .to.be.revertedWithCustomError(hub, "NegotiationOfferPartyNotParticipant")
            .withArgs(id, stranger);
        }
        expect((await hub.negotiation(id)).status).to.equal(Status.None);
        expect((await registry.agreement(id)).status).to.equal(AgreementStatus.Proposed);
      });

      it("rejects an offer nesting an agreement that is not active or not older", async function () {
        const { registry, hub, p0, p1, current, id } = await loadFixture(proposedFixture);
        const nestedSelf = makeTerms([
          [p0.address, 5_000],
          [p1.address, 2_500],
          [id, 2_500],
        ]);
        await expect(hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), nestedSelf, current))
          .to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid")
          .withArgs(id);
        // Older but only proposed: agreement `id` under a newer parent.
        const parent = termsOf([p0, p1], [5_000, 5_000]);
        await registry.connect(p0).propose(parent);
        const parentId = await registry.agreementCount();
        const nestedProposed = makeTerms([
          [p0.address, 5_000],
          [p1.address, 2_500],
          [id, 2_500],
        ]);
        await expect(hub.connect(p0).open(parentId, ROUNDS, await deadlineIn(DAY), nestedProposed, parent))
          .to.be.revertedWithCustomError(registry, "RegistryNestedAgreementInvalid")
          .withArgs(id);
        expect((await hub.negotiation(parentId)).status).to.equal(Status.None);
      });

      it("allows one open negotiation per agreement", async function () {
        const { hub, p1, current, id } = await loadFixture(openFixture);
        await expect(hub.connect(p1).open(id, ROUNDS, await deadlineIn(DAY), current, current))
          .to.be.revertedWithCustomError(hub, "NegotiationAlreadyOpen")
          .withArgs(id, 1);
      });
    });

    describe("events and state", function () {
      it("fixes the sorted participants, emits the opening offer and gives the turn to the next participant", async function () {
        const { registry, hub, p0, p1, p2, current, id } = await loadFixture(proposedFixture);
        const deadline = await deadlineIn(DAY);
        const opening = termsOf([p0, p1, p2], [3_000, 5_000, 2_000]);
        const hash = await hashOf(registry, opening);
        // p1 opens: the turn goes to p2, then wraps to p0.
        await expect(hub.connect(p1).open(id, ROUNDS, deadline, opening, current))
          .to.emit(hub, "NegotiationOpened")
          .withArgs(id, 1, p1.address, [p0.address, p1.address, p2.address], ROUNDS, deadline, 0)
          .and.to.emit(hub, "OfferMade")
          .withArgs(id, 1, p1.address, 1, hash, (t: unknown) => t !== undefined);
        const state = await hub.negotiation(id);
        expect(state.status).to.equal(Status.Open);
        expect(state.participantCount).to.equal(3n);
        expect(state.turn).to.equal(2n);
        expect(state.moves).to.equal(1n);
        expect(state.offerHash).to.equal(hash);
        expect(state.acceptedMask).to.equal(0b010n);
        expect(await hub.participants(id)).to.deep.equal([p0.address, p1.address, p2.address]);
        expect(await hub.nextMover(id)).to.equal(p2.address);
      });

      it("emits the full offer so that it replays from the event", async function () {
        const { registry, hub, id, opening } = await loadFixture(openFixture);
        const [event] = await hub.queryFilter(hub.filters.OfferMade(id));
        expect(await registry.hashTerms(termsFromEvent(event!.args.terms))).to.equal(await hashOf(registry, opening));
        expect(event!.args.terms.reserveBps).to.equal(1_500n);
      });

      it("takes only the account parties of the version in force as participants, not nested agreements", async function () {
        const { registry, hub, p0, p1, p2 } = await loadFixture(proposedFixture);
        const child = await activateWithSignatures(registry, termsOf([p1, p2], [5_000, 5_000]), [p1, p2]);
        const parent = makeTerms([
          [p0.address, 4_000],
          [p1.address, 3_000],
          [child, 3_000],
        ]);
        await registry.connect(p0).propose(parent);
        const parentId = await registry.agreementCount();
        const deadline = await deadlineIn(DAY);
        await expect(hub.connect(p1).open(parentId, ROUNDS, deadline, parent, parent))
          .to.emit(hub, "NegotiationOpened")
          .withArgs(parentId, 1, p1.address, [p0.address, p1.address], ROUNDS, deadline, 0);
        expect(await hub.participants(parentId)).to.deep.equal([p0.address, p1.address]);
        expect((await hub.negotiation(parentId)).participantCount).to.equal(2n);
        // p2 is a party only through the child agreement: it has no seat here.
        await expect(hub.connect(p2).offer(parentId, parent))
          .to.be.revertedWithCustomError(hub, "NegotiationNotParticipant")
          .withArgs(parentId, p2.address);
        await expect(hub.connect(p0).accept(parentId, parent)).to.emit(hub, "NegotiationAgreed");
      });

      it("shrinks the participants when a later negotiation opens on a version with fewer parties", async function () {
        const { registry, hub, p0, p1, p2, current, id } = await loadFixture(activeFixture);
        const withoutP2 = termsOf([p0, p1], [6_000, 4_000]);
        await hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), withoutP2, current);
        await hub.connect(p1).accept(id, withoutP2);
        await hub.connect(p2).accept(id, withoutP2);
        expect((await registry.agreement(id)).activeVersion).to.equal(2n);

        const deadline = await deadlineIn(DAY);
        await expect(hub.connect(p1).open(id, ROUNDS, deadline, withoutP2, withoutP2))
          .to.emit(hub, "NegotiationOpened")
          .withArgs(id, 2, p1.address, [p0.address, p1.address], ROUNDS, deadline, 2);
        expect(await hub.participants(id)).to.deep.equal([p0.address, p1.address]);
        const state = await hub.negotiation(id);
        expect(state.participantCount).to.equal(2n);
        expect(state.turn).to.equal(0n);
        await expect(hub.connect(p2).end(id))
          .to.be.revertedWithCustomError(hub, "NegotiationNotParticipant")
          .withArgs(id, p2.address);
        await expect(hub.connect(p0).accept(id, withoutP2))
          .to.emit(hub, "NegotiationAgreed")
          .withArgs(id, 2, 3, await hashOf(registry, withoutP2));
      });

      it("opens an amendment of an active agreement on its active version", async function () {
        const { hub, p2, current, id } = await loadFixture(activeFixture);
        const deadline = await deadlineIn(DAY);
        await expect(hub.connect(p2).open(id, ROUNDS, deadline, current, current))
          .to.emit(hub, "NegotiationOpened")
          .withArgs(id, 1, p2.address, (list: string[]) => list.length === 3, ROUNDS, deadline, 1);
        expect((await hub.negotiation(id)).turn).to.equal(0n);
      });
    });
  });

  describe("offer", function () {
    it("replaces the latest offer and resets the acceptances to the proposer's", async function () {
      const { registry, hub, p0, p1, p2, id } = await loadFixture(openFixture);
      const counter = termsOf([p0, p1, p2], [4_000, 4_000, 2_000], { reserveBps: 500 });
      const hash = await hashOf(registry, counter);
      await expect(hub.connect(p1).offer(id, counter))
        .to.emit(hub, "OfferMade")
        .withArgs(id, 1, p1.address, 2, hash, (t: unknown) => t !== undefined);
      const state = await hub.negotiation(id);
      expect(state.offerHash).to.equal(hash);
      expect(state.acceptedMask).to.equal(0b010n);
      expect(state.turn).to.equal(2n);
      expect(state.moves).to.equal(2n);
    });

    it("rejects out-of-turn moves and non-participants with the caller and the expected mover", async function () {
      const { hub, p0, p1, p2, outsider, opening, id } = await loadFixture(openFixture);
      await expect(hub.connect(p2).offer(id, opening))
        .to.be.revertedWithCustomError(hub, "NegotiationNotYourTurn")
        .withArgs(id, p2.address, p1.address);
      await expect(hub.connect(p0).accept(id, opening))
        .to.be.revertedWithCustomError(hub, "NegotiationNotYourTurn")
        .withArgs(id, p0.address, p1.address);
      await expect(hub.connect(outsider).end(id))
        .to.be.revertedWithCustomError(hub, "NegotiationNotParticipant")
        .withArgs(id, outsider.address);
    });

    it("validates counter-offers with the same errors as direct proposals", async function () {
      const { registry, hub, p0, p1, p2, id } = await loadFixture(openFixture);
      const invalid: Array<[TermsInput, string, unknown[]]> = [
        [termsOf([p0, p1, p2], [4_000, 3_000, 2_000]), "RegistrySharesSumInvalid", [9_000]],
        [termsOf([p0, p1, p2], [4_000, 3_000, 3_000], { referralFeeBps: 2_001 }), "RegistryReferralFeeTooHigh", [2_001, 2_000]],
        [termsOf([p0, p1, p2], [4_000, 3_000, 3_000], { reserveBps: 6_000 }), "RegistryReserveTooHigh", [6_000, 5_000]],
        [
          termsOf([p0, p1, p2], [4_000, 3_000, 3_000], { disputeWindow: 60 }),
          "RegistryDisputeWindowOutOfRange",
          [60, 3_600, 365 * DAY],
        ],
        [termsOf([p0, p1, p2], [4_000, 3_000, 3_000], { dustPartyIndex: 3 }), "RegistryDustPartyOutOfRange", [3, 3]],
        [{ ...termsOf([p0, p1, p2], [4_000, 3_000, 3_000]), parties: [] }, "RegistryPartyCountOutOfRange", [0, 255]],
      ];
      for (const [terms, error, args] of invalid) {
        await expect(registry.propose(terms)).to.be.revertedWithCustomError(registry, error).withArgs(...args);
        await expect(hub.connect(p1).offer(id, terms)).to.be.revertedWithCustomError(registry, error).withArgs(...args);
      }
      const unsorted = { ...termsOf([p0, p1, p2], [4_000, 3_000, 3_000]) };
      unsorted.parties = [unsorted.parties[1]!, unsorted.parties[0]!, unsorted.parties[2]!];
      await expect(hub.connect(p1).offer(id, unsorted))
        .to.be.revertedWithCustomError(registry, "RegistryPartiesNotSorted")
        .withArgs(1);
    });
  });

  describe("accept", function () {
    it("records an acceptance without activating while others have not accepted", async function () {
      const { registry, hub, p1, id, opening } = await loadFixture(openFixture);
      await expect(hub.connect(p1).accept(id, opening))
        .to.emit(hub, "OfferAccepted")
        .withArgs(id, 1, p1.address, 2, await hashOf(registry, opening));
      const state = await hub.negotiation(id);
      expect(state.acceptedMask).to.equal(0b011n);
      expect(state.status).to.equal(Status.Open);
      expect((await registry.agreement(id)).status).to.equal(AgreementStatus.Proposed);
    });

    it("rejects accepting terms other than the latest offer", async function () {
      const { registry, hub, p1, current, opening, id } = await loadFixture(openFixture);
      await expect(hub.connect(p1).accept(id, current))
        .to.be.revertedWithCustomError(hub, "NegotiationOfferMismatch")
        .withArgs(id, await hashOf(registry, opening), await hashOf(registry, current));
    });

    it("activates the latest offer when every participant accepted it", async function () {
      const { registry, hub, p1, p2, id, opening } = await loadFixture(openFixture);
      const hash = await hashOf(registry, opening);
      await hub.connect(p1).accept(id, opening);
      await expect(hub.connect(p2).accept(id, opening))
        .to.emit(registry, "VersionProposed")
        .withArgs(id, 2, hash, (t: unknown) => t !== undefined)
        .and.to.emit(registry, "VersionActivated")
        .withArgs(id, 2, hash, 4) // unit 10,000 / gcd(5,000, 2,500, 2,500)
        .and.to.emit(hub, "NegotiationAgreed")
        .withArgs(id, 1, 2, hash);
      const [status, latest, active] = await registry.agreement(id);
      expect([status, latest, active]).to.deep.equal([AgreementStatus.Active, 2n, 2n]);
      expect(await registry.termsHash(id, 2)).to.equal(hash);
      const config = await registry.settlementConfig(id);
      expect(config.reserveBps).to.equal(1_500n);
      expect(config.version).to.equal(2n);
      expect((await hub.negotiation(id)).status).to.equal(Status.Agreed);
      expect(await hub.nextMover(id)).to.equal(ethers.ZeroAddress);
    });

    it("activates an offer that a counter-offer made, after the others accept it in turn", async function () {
      const { registry, hub, p0, p1, p2, id } = await loadFixture(openFixture);
      const counter = termsOf([p0, p1, p2], [3_500, 3_500, 3_000]);
      await hub.connect(p1).offer(id, counter); // p1 accepts its own offer
      await hub.connect(p2).accept(id, counter);
      await expect(hub.connect(p0).accept(id, counter))
        .to.emit(hub, "NegotiationAgreed")
        .withArgs(id, 1, 2, await hashOf(registry, counter));
    });

    it("amends an active agreement, and a participant dropped by the offer still had to accept", async function () {
      const { registry, hub, p0, p1, p2, current, id } = await loadFixture(activeFixture);
      const withoutP2 = termsOf([p0, p1], [6_000, 4_000]);
      await hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), withoutP2, current);
      await hub.connect(p1).accept(id, withoutP2);
      expect((await registry.agreement(id)).activeVersion).to.equal(1n);
      await expect(hub.connect(p2).accept(id, withoutP2)).to.emit(hub, "NegotiationAgreed").withArgs(id, 1, 2, await hashOf(registry, withoutP2));
      expect((await registry.agreement(id)).activeVersion).to.equal(2n);
    });

    it("activates an offer with a nested agreement, which needs no consent", async function () {
      const { registry, hub, p0, p1, p2 } = await loadFixture(proposedFixture);
      const child = await activateWithSignatures(registry, termsOf([p1, p2], [5_000, 5_000]), [p1, p2]);
      const parent = termsOf([p0, p1], [5_000, 5_000]);
      await registry.connect(p0).propose(parent);
      const parentId = await registry.agreementCount();
      const offer = makeTerms([
        [p0.address, 6_000],
        [p1.address, 2_000],
        [child, 2_000],
      ]);
      await hub.connect(p0).open(parentId, ROUNDS, await deadlineIn(DAY), offer, parent);
      await expect(hub.connect(p1).accept(parentId, offer)).to.emit(hub, "NegotiationAgreed");
      expect(await registry.nestingDepth(parentId)).to.equal(1n);
    });

    it("refuses to activate when the agreement changed under the negotiation", async function () {
      const { registry, hub, p0, p1, p2, current, id } = await loadFixture(activeFixture);
      const offer = termsOf([p0, p1, p2], [5_000, 2_500, 2_500]);
      await hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), offer, current);
      await hub.connect(p1).accept(id, offer);
      // Meanwhile the parties sign an amendment directly.
      const direct = termsOf([p0, p1, p2], [3_400, 3_300, 3_300]);
      await registry.proposeAmendment(id, direct);
      const sigs = await signConsents(registry, [p0, p1, p2], id, 2n, direct);
      await registry.activateAmendment(id, 2, direct, current, sigs);
      // The negotiation is dead for every kind of move, not only the last acceptance.
      await expect(hub.connect(p2).accept(id, offer))
        .to.be.revertedWithCustomError(hub, "NegotiationAgreementChanged")
        .withArgs(id, 1, 2);
      await expect(hub.connect(p2).offer(id, direct))
        .to.be.revertedWithCustomError(hub, "NegotiationAgreementChanged")
        .withArgs(id, 1, 2);
      await expect(hub.connect(p2).end(id)).to.be.revertedWithCustomError(hub, "NegotiationAgreementChanged").withArgs(id, 1, 2);
      expect((await hub.negotiation(id)).status).to.equal(Status.Expired);
      await expect(hub.expire(id)).to.emit(hub, "NegotiationExpired").withArgs(id, 1, 2);
    });

    it("refuses to activate when the agreement was terminated under the negotiation", async function () {
      const { registry, hub, p0, p1, p2, current, id } = await loadFixture(activeFixture);
      const offer = termsOf([p0, p1, p2], [5_000, 2_500, 2_500]);
      await hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), offer, current);
      await hub.connect(p1).accept(id, offer);
      for (const p of [p0, p1, p2]) await registry.connect(p).approveTermination(id);
      await registry.terminate(id, current, []);
      // Same active version as at open, but terminated: the negotiation reads as expired.
      expect((await hub.negotiation(id)).status).to.equal(Status.Expired);
      expect(await hub.nextMover(id)).to.equal(ethers.ZeroAddress);
      for (const move of [() => hub.connect(p2).accept(id, offer), () => hub.connect(p2).offer(id, offer), () => hub.connect(p2).end(id)]) {
        await expect(move()).to.be.revertedWithCustomError(hub, "NegotiationInvalidAgreementStatus").withArgs(id, AgreementStatus.Terminated);
      }
      expect(await registry.agreement(id)).to.deep.equal([AgreementStatus.Terminated, 1n, 1n]);
      await expect(hub.expire(id)).to.emit(hub, "NegotiationExpired").withArgs(id, 1, 2);
      await expect(hub.connect(p0).open(id, ROUNDS, await deadlineIn(DAY), offer, current))
        .to.be.revertedWithCustomError(hub, "NegotiationInvalidAgreementStatus")
        .withArgs(id, AgreementStatus.Terminated);
    });
  });

  describe("end", function () {
    it("breaks the negotiation on the caller's turn; later moves revert; a new one may open", async function () {
      const { hub, p1, p2, current, opening, id } = await loadFixture(openFixture);
      await expect(hub.connect(p1).end(id)).to.emit(hub, "NegotiationBroken").withArgs(id, 1, p1.address, 2);
      expect((await hub.negotiation(id)).status).to.equal(Status.Broken);
      await expect(hub.connect(p2).accept(id, opening))
        .to.be.revertedWithCustomError(hub, "NegotiationNotOpen")
        .withArgs(id, Status.Broken);
      await expect(hub.connect(p2).open(id, ROUNDS, await deadlineIn(DAY), current, current))
        .to.emit(hub, "NegotiationOpened")
        .withArgs(id, 2, p2.address, (l: string[]) => l.length === 3, ROUNDS, (d: bigint) => d > 0n, 0);
    });

    it("rejects moves on an agreement that never had a negotiation", async function () {
      const { hub, p0, id } = await loadFixture(proposedFixture);
      await expect(hub.connect(p0).end(id)).to.be.revertedWithCustomError(hub, "NegotiationNotOpen").withArgs(id, Status.None);
      await expect(hub.expire(id)).to.be.revertedWithCustomError(hub, "NegotiationNotOpen").withArgs(id, Status.None);
    });

    it("rejects moves after agreement", async function () {
      const { hub, p0, p1, p2, id, opening } = await loadFixture(openFixture);
      await hub.connect(p1).accept(id, opening);
      await hub.connect(p2).accept(id, opening);
      await expect(hub.connect(p0).offer(id, opening))
        .to.be.revertedWithCustomError(hub, "NegotiationNotOpen")
        .withArgs(id, Status.Agreed);
    });
  });

  describe("deadline and round limit", function () {
    it("rejects moves after the deadline, naming it, and lets anyone close the negotiation", async function () {
      const { hub, p1, outsider, opening, deadline, id } = await loadFixture(openFixture);
      await expect(hub.expire(id)).to.be.revertedWithCustomError(hub, "NegotiationNotExpired").withArgs(id, deadline, 1);
      const late = deadline + 1n;
      await time.setNextBlockTimestamp(late);
      await expect(hub.connect(p1).accept(id, opening))
        .to.be.revertedWithCustomError(hub, "NegotiationDeadlinePassed")
        .withArgs(id, deadline, late);
      expect((await hub.negotiation(id)).status).to.equal(Status.Expired);
      expect(await hub.nextMover(id)).to.equal(ethers.ZeroAddress);
      await expect(hub.connect(outsider).expire(id)).to.emit(hub, "NegotiationExpired").withArgs(id, 1, 1);
      await expect(hub.connect(p1).accept(id, opening))
        .to.be.revertedWithCustomError(hub, "NegotiationNotOpen")
        .withArgs(id, Status.Expired);
    });

    it("accepts a move exactly at the deadline", async function () {
      const { hub, p1, opening, deadline, id } = await loadFixture(openFixture);
      await time.setNextBlockTimestamp(deadline);
      await expect(hub.connect(p1).accept(id, opening)).to.emit(hub, "OfferAccepted");
    });

    it("expires after roundLimit turns of every participant", async function () {
      const { hub, p0, p1, p2, current, id } = await loadFixture(proposedFixture);
      const a = termsOf([p0, p1, p2], [5_000, 2_500, 2_500]);
      const b = termsOf([p0, p1, p2], [2_500, 5_000, 2_500]);
      await hub.connect(p0).open(id, 1, await deadlineIn(DAY), a, current); // move 1
      await hub.connect(p1).offer(id, b); // move 2
      await hub.connect(p2).offer(id, a); // move 3 = 1 round * 3 participants
      await expect(hub.connect(p0).accept(id, a))
        .to.be.revertedWithCustomError(hub, "NegotiationRoundLimitReached")
        .withArgs(id, 1, 3);
      expect((await hub.negotiation(id)).status).to.equal(Status.Expired);
    });

    it("lets the last allowed move conclude the agreement", async function () {
      const { hub, p0, p1, p2, current, id } = await loadFixture(proposedFixture);
      const a = termsOf([p0, p1, p2], [5_000, 2_500, 2_500]);
      await hub.connect(p0).open(id, 1, await deadlineIn(DAY), a, current);
      await hub.connect(p1).accept(id, a);
      await expect(hub.connect(p2).accept(id, a)).to.emit(hub, "NegotiationAgreed");
    });

    it("closes an expired negotiation when a new one opens", async function () {
      const { hub, p2, current, deadline, id } = await loadFixture(openFixture);
      await time.increaseTo(deadline + 1n);
      await expect(hub.connect(p2).open(id, ROUNDS, await deadlineIn(DAY), current, current))
        .to.emit(hub, "NegotiationExpired")
        .withArgs(id, 1, 1)
        .and.to.emit(hub, "NegotiationOpened");
      expect((await hub.negotiation(id)).negotiationId).to.equal(2n);
    });
  });
});
