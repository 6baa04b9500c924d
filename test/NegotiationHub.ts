import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { NegotiationHub } from "../typechain-types";
import {
  AgreementStatus,
  CONSENT_TYPES,
  DAY,
  activateWithSignatures,
  amendWithSignatures,
  deployConcord,
  makeTerms,
  nestedChildren,
  sortAddresses,
  type TermsInput,
} from "./helpers/concord";

const Status = { None: 0n, Open: 1n, Agreed: 2n, Broken: 3n, Expired: 4n } as const;
const ROUNDS = 5;
const DURATION = 30 * DAY;
const MOVE_TIMEOUT = DAY;
const structHash = (terms: TermsInput) => ethers.TypedDataEncoder.hashStruct("Terms", { Terms: CONSENT_TYPES.Terms, Party: CONSENT_TYPES.Party }, terms);

/**
 * Negotiation among every account of the tree in force (nested members included): an offer that
 * drops or shrinks a nested party needs its members' acceptance, and nobody can stall the others.
 */
describe("NegotiationHub", function () {
  async function mixedFixture() {
    const [, hotel, r1, r2, outsider] = await ethers.getSigners();
    const concord = await deployConcord();
    const { registry } = concord;
    const restaurants = await activateWithSignatures(registry, makeTerms([[r1!.address, 5_000], [r2!.address, 5_000]]), [r1!, r2!]);
    const current = makeTerms([[hotel!.address, 4_000], [restaurants, 6_000]]);
    const id = await activateWithSignatures(registry, current, [hotel!, r1!, r2!]);
    const children = await nestedChildren(registry, current);
    const everyone = [hotel!, r1!, r2!];
    const participants = sortAddresses(everyone.map((s) => s.address));
    return { ...concord, hotel: hotel!, r1: r1!, r2: r2!, outsider: outsider!, everyone, participants, restaurants, id, current, children };
  }

  type Fixture = Awaited<ReturnType<typeof mixedFixture>>;

  async function open(f: Fixture, opener: HardhatEthersSigner, offer: TermsInput, options: { rounds?: number; duration?: number; moveTimeout?: number } = {}) {
    return f.hub
      .connect(opener)
      .open(f.id, options.rounds ?? ROUNDS, options.duration ?? DURATION, options.moveTimeout ?? MOVE_TIMEOUT, offer, f.current, f.children);
  }

  /** The signer whose turn it is. */
  async function mover(hub: NegotiationHub, id: bigint, everyone: HardhatEthersSigner[]): Promise<HardhatEthersSigner> {
    const next = await hub.nextMover(id);
    const signer = everyone.find((s) => s.address === next);
    if (signer === undefined) throw new Error(`no signer for next mover ${next}`);
    return signer;
  }

  /** The hotel's offer to keep everything: the restaurants' agreement dropped. */
  const strip = (f: Fixture) => makeTerms([[f.hotel.address, 10_000]]);

  describe("open", function () {
    describe("validations", function () {
      it("refuses a duration above 90 days and a move timeout under 5 minutes or above the duration", async function () {
        const f = await loadFixture(mixedFixture);
        await expect(open(f, f.hotel, strip(f), { duration: 90 * DAY + 1 }))
          .to.be.revertedWithCustomError(f.hub, "NegotiationDurationInvalid")
          .withArgs(90 * DAY + 1, 90 * DAY);
        await expect(open(f, f.hotel, strip(f), { moveTimeout: 299 }))
          .to.be.revertedWithCustomError(f.hub, "NegotiationMoveTimeoutInvalid")
          .withArgs(299, 300, DURATION);
        await expect(open(f, f.hotel, strip(f), { moveTimeout: DURATION + 1 }))
          .to.be.revertedWithCustomError(f.hub, "NegotiationMoveTimeoutInvalid")
          .withArgs(DURATION + 1, 300, DURATION);
        await expect(open(f, f.hotel, strip(f), { rounds: 0 })).to.be.revertedWithCustomError(f.hub, "NegotiationRoundLimitZero");
      });

      it("refuses an opener outside the tree in force", async function () {
        const f = await loadFixture(mixedFixture);
        await expect(open(f, f.outsider, strip(f)))
          .to.be.revertedWithCustomError(f.hub, "NegotiationNotParticipant")
          .withArgs(f.id, f.outsider.address);
      });

      it("refuses current terms that are not the version in force, and missing children", async function () {
        const f = await loadFixture(mixedFixture);
        const wrong = { ...f.current, documentHash: ethers.id("other") };
        await expect(f.hub.connect(f.hotel).open(f.id, ROUNDS, DURATION, MOVE_TIMEOUT, strip(f), wrong, f.children))
          .to.be.revertedWithCustomError(f.registry, "RegistryTermsMismatch")
          .withArgs(f.id, 1, structHash(f.current), structHash(wrong));
        await expect(f.hub.connect(f.hotel).open(f.id, ROUNDS, DURATION, MOVE_TIMEOUT, strip(f), f.current, []))
          .to.be.revertedWithCustomError(f.registry, "RegistryNestedTermsInvalid")
          .withArgs(f.restaurants, 1);
      });

      it("refuses an offer naming an outsider or a nested party the version in force does not have", async function () {
        const f = await loadFixture(mixedFixture);
        const withOutsider = makeTerms([[f.hotel.address, 5_000], [f.outsider.address, 5_000]]);
        await expect(open(f, f.hotel, withOutsider))
          .to.be.revertedWithCustomError(f.hub, "NegotiationOfferPartyNotParticipant")
          .withArgs(f.id, f.outsider.address);
        const otherChild = await activateWithSignatures(f.registry, makeTerms([[f.r1.address, 10_000]]), [f.r1]);
        const swapped = makeTerms([[f.hotel.address, 4_000], [otherChild, 6_000]]);
        await expect(open(f, f.hotel, swapped))
          .to.be.revertedWithCustomError(f.hub, "NegotiationOfferNestedPartyChanged")
          .withArgs(f.id, otherChild, 1);
      });

      it("refuses an offer re-pinning the nested party to a newer child version", async function () {
        const f = await loadFixture(mixedFixture);
        await amendWithSignatures(f.registry, f.restaurants, makeTerms([[f.r1.address, 6_000], [f.r2.address, 4_000]]), f.r1, [f.r1, f.r2]);
        const repinned = makeTerms([[f.hotel.address, 4_000], [{ agreementId: f.restaurants, version: 2 }, 6_000]]);
        await expect(open(f, f.hotel, repinned))
          .to.be.revertedWithCustomError(f.hub, "NegotiationOfferNestedPartyChanged")
          .withArgs(f.id, f.restaurants, 2);
      });
    });

    describe("events", function () {
      it("counts the nested party's members as participants and the offer as the opener's acceptance", async function () {
        const f = await loadFixture(mixedFixture);
        const offer = strip(f);
        await expect(open(f, f.hotel, offer))
          .to.emit(f.hub, "NegotiationOpened")
          .withArgs(f.id, 1, f.hotel.address, f.participants, ROUNDS, () => true, MOVE_TIMEOUT, 1)
          .and.to.emit(f.hub, "OfferMade")
          .withArgs(f.id, 1, f.hotel.address, 1, structHash(offer), () => true);
        expect(await f.hub.participants(f.id)).to.deep.equal(f.participants);
        const state = await f.hub.negotiation(f.id);
        expect(state.status).to.equal(Status.Open);
        expect(state.acceptedMask).to.equal(1n << BigInt(f.participants.indexOf(f.hotel.address)));
      });
    });
  });

  describe("offers that cut a nested party", function () {
    it("do not activate without the members: the hotel cannot accept for them and an outsider cannot move", async function () {
      const f = await loadFixture(mixedFixture);
      const offer = strip(f);
      await open(f, f.hotel, offer);
      await expect(f.hub.connect(f.outsider).accept(f.id, offer))
        .to.be.revertedWithCustomError(f.hub, "NegotiationNotParticipant")
        .withArgs(f.id, f.outsider.address);
      const expected = await f.hub.nextMover(f.id);
      expect(expected).to.not.equal(f.hotel.address);
      await expect(f.hub.connect(f.hotel).accept(f.id, offer))
        .to.be.revertedWithCustomError(f.hub, "NegotiationNotYourTurn")
        .withArgs(f.id, f.hotel.address, expected);
      // One member accepts; the other ends it. Nothing was activated.
      await f.hub.connect(await mover(f.hub, f.id, f.everyone)).accept(f.id, offer);
      const holdout = f.everyone.find((s) => s !== f.hotel && s.address !== expected)!;
      await expect(f.hub.connect(holdout).end(f.id)).to.emit(f.hub, "NegotiationBroken").withArgs(f.id, 1, holdout.address, 2);
      expect((await f.registry.agreement(f.id))[2]).to.equal(1n);
    });

    it("shrinking the nested share needs both members too", async function () {
      const f = await loadFixture(mixedFixture);
      const shrink = makeTerms([[f.hotel.address, 9_000], [f.restaurants, 1_000]]);
      await open(f, f.hotel, shrink);
      const first = await mover(f.hub, f.id, f.everyone);
      await f.hub.connect(first).accept(f.id, shrink);
      // Two of three accepted: the agreement is unchanged until the last member accepts.
      expect((await f.registry.agreement(f.id))[2]).to.equal(1n);
      const state = await f.hub.negotiation(f.id);
      expect(state.status).to.equal(Status.Open);
      const last = await mover(f.hub, f.id, f.everyone);
      await expect(f.hub.connect(last).accept(f.id, shrink)).to.emit(f.hub, "NegotiationAgreed").withArgs(f.id, 1, 2, structHash(shrink));
      expect(await f.registry.termsHash(f.id, 2)).to.equal(structHash(shrink));
      expect((await f.registry.agreement(f.id))[2]).to.equal(2n);
    });

    it("drops the nested party once every member accepts", async function () {
      const f = await loadFixture(mixedFixture);
      const offer = strip(f);
      await open(f, f.hotel, offer);
      await f.hub.connect(await mover(f.hub, f.id, f.everyone)).accept(f.id, offer);
      await expect(f.hub.connect(await mover(f.hub, f.id, f.everyone)).accept(f.id, offer))
        .to.emit(f.registry, "VersionProposed")
        .withArgs(f.id, 2, f.hotel.address, structHash(offer), () => true)
        .and.to.emit(f.registry, "VersionActivated");
      expect((await f.hub.negotiation(f.id)).status).to.equal(Status.Agreed);
      expect((await f.registry.versionPayout(f.restaurants, 1)).activePins).to.equal(0n);
    });

    it("a counter-offer clears the others' acceptances", async function () {
      const f = await loadFixture(mixedFixture);
      const offer = strip(f);
      await open(f, f.hotel, offer);
      const member = await mover(f.hub, f.id, f.everyone);
      const counter = makeTerms([[f.hotel.address, 3_000], [f.restaurants, 7_000]]);
      await expect(f.hub.connect(member).offer(f.id, counter)).to.emit(f.hub, "OfferMade").withArgs(f.id, 1, member.address, 2, structHash(counter), () => true);
      expect((await f.hub.negotiation(f.id)).acceptedMask).to.equal(1n << BigInt(f.participants.indexOf(member.address)));
      await expect(f.hub.connect(await mover(f.hub, f.id, f.everyone)).accept(f.id, offer)).to.be.revertedWithCustomError(f.hub, "NegotiationOfferMismatch");
    });
  });

  describe("stalling", function () {
    it("lets anyone expire a negotiation after the move timeout; the staller's late accept reverts", async function () {
      const f = await loadFixture(mixedFixture);
      const offer = strip(f);
      await open(f, f.hotel, offer);
      const staller = await mover(f.hub, f.id, f.everyone);
      await expect(f.hub.connect(f.outsider).expire(f.id)).to.be.revertedWithCustomError(f.hub, "NegotiationNotExpired");
      await time.increase(MOVE_TIMEOUT + 1);
      expect(await f.hub.nextMover(f.id)).to.equal(ethers.ZeroAddress);
      expect((await f.hub.negotiation(f.id)).status).to.equal(Status.Expired);
      await expect(f.hub.connect(staller).accept(f.id, offer)).to.be.revertedWithCustomError(f.hub, "NegotiationExpiredAlready").withArgs(f.id, 1);
      await expect(f.hub.connect(f.outsider).expire(f.id)).to.emit(f.hub, "NegotiationExpired").withArgs(f.id, 1, 1);
      await expect(f.hub.connect(staller).accept(f.id, offer))
        .to.be.revertedWithCustomError(f.hub, "NegotiationNotOpen")
        .withArgs(f.id, Status.Expired);
    });

    it("expires at the deadline however often the participants move", async function () {
      const f = await loadFixture(mixedFixture);
      await open(f, f.hotel, strip(f), { duration: 2 * DAY, moveTimeout: DAY, rounds: 100 });
      const counter = makeTerms([[f.hotel.address, 5_000], [f.restaurants, 5_000]]);
      for (let i = 0; i < 3; i++) {
        await time.increase(DAY / 2);
        await f.hub.connect(await mover(f.hub, f.id, f.everyone)).offer(f.id, counter);
      }
      await time.increase(DAY / 2 + 1);
      expect((await f.hub.negotiation(f.id)).status).to.equal(Status.Expired);
      await expect(f.hub.expire(f.id)).to.emit(f.hub, "NegotiationExpired");
    });

    it("expires when the round limit is used up", async function () {
      const f = await loadFixture(mixedFixture);
      const offer = strip(f);
      await open(f, f.hotel, offer, { rounds: 1 });
      await f.hub.connect(await mover(f.hub, f.id, f.everyone)).offer(f.id, offer);
      await f.hub.connect(await mover(f.hub, f.id, f.everyone)).offer(f.id, offer);
      expect((await f.hub.negotiation(f.id)).status).to.equal(Status.Expired);
    });

    it("lets any participant end or withdraw its acceptance out of turn", async function () {
      const f = await loadFixture(mixedFixture);
      const offer = strip(f);
      await open(f, f.hotel, offer);
      await expect(f.hub.connect(f.hotel).withdrawAcceptance(f.id)).to.emit(f.hub, "AcceptanceWithdrawn").withArgs(f.id, 1, f.hotel.address);
      expect((await f.hub.negotiation(f.id)).acceptedMask).to.equal(0n);
      await expect(f.hub.connect(f.outsider).end(f.id)).to.be.revertedWithCustomError(f.hub, "NegotiationNotParticipant").withArgs(f.id, f.outsider.address);
      await expect(f.hub.connect(f.hotel).end(f.id)).to.emit(f.hub, "NegotiationBroken");
      expect((await f.hub.negotiation(f.id)).status).to.equal(Status.Broken);
    });

    it("refuses a second negotiation while one is live, and opens a new one after expiry", async function () {
      const f = await loadFixture(mixedFixture);
      await open(f, f.hotel, strip(f));
      await expect(open(f, f.hotel, strip(f))).to.be.revertedWithCustomError(f.hub, "NegotiationAlreadyOpen").withArgs(f.id, 1);
      await time.increase(MOVE_TIMEOUT + 1);
      await expect(open(f, f.hotel, strip(f))).to.emit(f.hub, "NegotiationExpired").withArgs(f.id, 1, 1).and.to.emit(f.hub, "NegotiationOpened");
      expect((await f.hub.negotiation(f.id)).negotiationId).to.equal(2n);
    });
  });

  describe("the agreement changing under a negotiation", function () {
    it("refuses every move after an amendment", async function () {
      const f = await loadFixture(mixedFixture);
      const offer = strip(f);
      await open(f, f.hotel, offer);
      const next = await mover(f.hub, f.id, f.everyone);
      await amendWithSignatures(f.registry, f.id, makeTerms([[f.hotel.address, 5_000], [f.restaurants, 5_000]]), f.hotel, f.everyone);
      await expect(f.hub.connect(next).accept(f.id, offer)).to.be.revertedWithCustomError(f.hub, "NegotiationAgreementChanged").withArgs(f.id, 1, 2);
      expect((await f.hub.negotiation(f.id)).status).to.equal(Status.Expired);
    });

    it("refuses the hub's activation path to anyone but the hub", async function () {
      const f = await loadFixture(mixedFixture);
      await expect(f.registry.connect(f.hotel).activateNegotiated(f.id, strip(f), f.hotel.address))
        .to.be.revertedWithCustomError(f.registry, "RegistryUnauthorized")
        .withArgs(f.hotel.address);
      expect((await f.registry.agreement(f.id))[0]).to.equal(AgreementStatus.Active);
    });
  });
});
