import { expect } from "chai";
import type { Address } from "viem";
import {
  ContractRevertError,
  acceptOffer,
  buildTerms,
  endNegotiation,
  expireNegotiation,
  getAgreement,
  getNegotiation,
  getVersion,
  offerTerms,
  openNegotiation,
  withdrawAcceptance,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { accountTerms, concordFixture, proposeAndActivate, type ConcordFixture } from "./fixtures";

async function revertOf(action: () => Promise<unknown>): Promise<ContractRevertError> {
  try {
    await action();
  } catch (error) {
    expect(error).to.be.instanceOf(ContractRevertError);
    return error as ContractRevertError;
  }
  throw new Error("expected a revert");
}

const sorted = (accounts: Address[]) => [...accounts].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

describe("SDK: negotiation", function () {
  let f: ConcordFixture;
  let keeper: ConcordContext, hotel: ConcordContext, restaurant: ConcordContext, chef: ConcordContext, stranger: ConcordContext;
  let at: (c: ConcordContext) => Address;
  let agreementId: bigint;
  let v1: Terms;

  beforeEach(async function () {
    f = await concordFixture();
    [keeper, hotel, restaurant, , chef, stranger] = f.contexts as [ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext];
    at = f.addressOf;
    v1 = accountTerms([at(hotel), at(restaurant)]);
    agreementId = await proposeAndActivate(hotel, v1, [hotel, restaurant]);
  });

  const offer = (hotelShare: number) =>
    buildTerms({ parties: [{ account: at(hotel), shareBps: hotelShare }, { account: at(restaurant), shareBps: 10_000 - hotelShare }] });
  const open = (c: ConcordContext, initialOffer: Terms, moveTimeout = 3_600) =>
    openNegotiation(c, { agreementId, roundLimit: 3, duration: 7 * 86_400, moveTimeout, initialOffer });

  it("opens with the tree in force as participants, counts a counter-offer as its proposer's acceptance, and activates what everyone accepts", async function () {
    const opened = await open(hotel, offer(6_000));
    expect(opened.participants).to.deep.equal(sorted([at(hotel), at(restaurant)]));
    expect(opened.baseVersion).to.equal(1);
    let state = await getNegotiation(stranger, { agreementId });
    expect(state).to.include({ status: "open", negotiationId: opened.negotiationId, moves: 1, nextMover: at(restaurant) });
    expect(state.accepted).to.deep.equal([at(hotel)]);
    expect(state.latestOffer?.terms).to.deep.equal(offer(6_000));
    const notYours = await revertOf(() => offerTerms(hotel, { agreementId, terms: offer(6_500) }));
    expect([notYours.errorName, ...notYours.args]).to.deep.equal(["NegotiationNotYourTurn", agreementId, at(hotel), at(restaurant)]);
    const counter = await offerTerms(restaurant, { agreementId, terms: offer(5_500) });
    expect(counter.move).to.equal(2);
    state = await getNegotiation(stranger, { agreementId });
    expect(state.accepted).to.deep.equal([at(restaurant)]);
    expect(state.latestOffer).to.include({ proposer: at(restaurant), move: 2 });
    const accepted = await acceptOffer(hotel, { agreementId });
    expect(accepted).to.include({ agreed: true, version: 2, move: 3 });
    expect(await getAgreement(stranger, { agreementId })).to.include({ activeVersion: 2, latestVersion: 2 });
    expect((await getVersion(stranger, { agreementId, version: 2 })).terms).to.deep.equal(offer(5_500));
    expect((await getNegotiation(stranger, { agreementId })).status).to.equal("agreed");
  });

  it("lets a participant withdraw its acceptance and end the negotiation at any time, and nobody else", async function () {
    await open(hotel, offer(6_000));
    await withdrawAcceptance(hotel, { agreementId });
    expect((await getNegotiation(stranger, { agreementId })).accepted).to.deep.equal([]);
    const outsider = await revertOf(() => endNegotiation(stranger, { agreementId }));
    expect([outsider.errorName, ...outsider.args]).to.deep.equal(["NegotiationNotParticipant", agreementId, at(stranger)]);
    // The hotel ends it although it is the restaurant's turn.
    const ended = await endNegotiation(hotel, { agreementId });
    expect(ended.moves).to.equal(1);
    const state = await getNegotiation(stranger, { agreementId });
    expect(state.status).to.equal("broken");
    expect(state.nextMover).to.equal(undefined);
    expect(await getAgreement(stranger, { agreementId })).to.include({ activeVersion: 1 });
  });

  it("can be expired by anyone only once the move timeout has passed", async function () {
    await open(hotel, offer(6_000), 300);
    const early = await revertOf(() => expireNegotiation(stranger, { agreementId }));
    expect(early.errorName).to.equal("NegotiationNotExpired");
    await f.env.increaseTime(301);
    expect((await getNegotiation(stranger, { agreementId })).status).to.equal("expired");
    const late = await revertOf(() => acceptOffer(restaurant, { agreementId }));
    expect(late.errorName).to.equal("NegotiationExpiredAlready");
    const expired = await expireNegotiation(keeper, { agreementId });
    expect(expired.moves).to.equal(1);
  });

  it("counts the members of a nested party as participants: all of them must accept", async function () {
    const group = accountTerms([at(restaurant), at(chef)]);
    const groupId = await proposeAndActivate(restaurant, group, [restaurant, chef]);
    const nested = (hotelShare: number) =>
      buildTerms({ parties: [{ account: at(hotel), shareBps: hotelShare }, { agreementId: groupId, version: 1, shareBps: 10_000 - hotelShare }] });
    const parentId = await proposeAndActivate(hotel, nested(5_000), [hotel, restaurant, chef]);
    const opened = await openNegotiation(hotel, { agreementId: parentId, roundLimit: 2, duration: 86_400, moveTimeout: 3_600, initialOffer: nested(6_000) });
    expect(opened.participants).to.deep.equal(sorted([at(hotel), at(restaurant), at(chef)]));
    const outsiderOffer = buildTerms({ parties: [{ account: at(hotel), shareBps: 5_000 }, { account: at(stranger), shareBps: 5_000 }] });
    const { nextMover } = await getNegotiation(keeper, { agreementId: parentId });
    const mover = [hotel, restaurant, chef].find((c) => at(c) === nextMover)!;
    const refused = await revertOf(() => offerTerms(mover, { agreementId: parentId, terms: outsiderOffer }));
    expect([refused.errorName, ...refused.args]).to.deep.equal(["NegotiationOfferPartyNotParticipant", parentId, at(stranger)]);
    let agreed = false;
    for (let i = 0; i < 2; i += 1) {
      const next = (await getNegotiation(keeper, { agreementId: parentId })).nextMover;
      const accepted = await acceptOffer([hotel, restaurant, chef].find((c) => at(c) === next)!, { agreementId: parentId });
      agreed = accepted.agreed;
      expect(agreed).to.equal(i === 1);
    }
    expect((await getVersion(keeper, { agreementId: parentId, version: 2 })).terms).to.deep.equal(nested(6_000));
  });
});
