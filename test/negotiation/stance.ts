import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex, zeroAddress, type Address, type Hex } from "viem";
import { DEFAULT_STANCE, StanceError, measuredRisk, membershipsOf, partyAgent, partySeed, readPartyRisk, type PartyStance } from "../../src/negotiation/stance";
import { conceder } from "../../src/negotiation/tactics";
import { InvalidInputError, activateAgreement, approveVersion, buildTerms, proposeAgreement, proposeAmendment, type Terms } from "../../src/sdk";
import { deployConcord } from "./fixture";

describe("a party's stance (partyAgent, measured risk)", function () {
  const participants = [1, 2, 3];
  const stance: PartyStance = { ...DEFAULT_STANCE, tactic: conceder, idealReserveBps: 750, reservation: { walkAwayShareBps: 3_000 } };

  it("turns a walk-away share into the utility of that share at the ideal point, and back", function () {
    const made = partyAgent({ participants, self: 1, stance, refundRate: 0.025, seed: 9 });
    expect(made.walkAwayShareBps).to.equal(3_000);
    expect(made.reservation).to.be.greaterThan(0).and.lessThan(made.maxUtility);
    const higher = partyAgent({ participants, self: 1, stance: { ...stance, reservation: { walkAwayShareBps: 4_000 } }, refundRate: 0.025, seed: 9 });
    expect(higher.reservation).to.be.greaterThan(made.reservation);
    const asUtility = partyAgent({ participants, self: 1, stance: { ...stance, reservation: { utility: made.reservation } }, refundRate: 0.025, seed: 9 });
    expect(asUtility.reservation).to.equal(made.reservation);
    expect(asUtility.agent.tactic).to.equal(conceder);
  });

  it("names what is wrong: a share or utility out of range, a reservation no offer reaches, bad weights", function () {
    const make = (s: Partial<PartyStance>) => () => partyAgent({ participants, self: 0, stance: { ...stance, ...s }, refundRate: 0.025, seed: 1 });
    expect(make({ reservation: { walkAwayShareBps: 0 } })).to.throw(StanceError, /more than 0% and at most 100%/);
    expect(make({ reservation: { walkAwayShareBps: 9_100 } })).to.throw(StanceError, /at most 90%/);
    expect(make({ reservation: { utility: 1.5 } })).to.throw(StanceError, /from 0 to 1, got 1.5/);
    expect(make({ reservation: { utility: 0.9999 } })).to.throw(StanceError, /above the most any offer gives/);
    expect(make({ weights: { value: 0.5, referralFee: 0.1, reserve: 0.1, disputeWindow: 0.1 } })).to.throw(StanceError, /weights must be non-negative and sum to 1/);
  });

  it("pools the latest version of every agreement the party belongs to; no history leaves the prior", function () {
    // 40 settlements of 0.1 ETH (one observation each by default), 2% of the volume refunded.
    const counters = new Map([[1n, { settledVolume: 4n * 10n ** 18n, settledCount: 40n, refundCount: 8n, refundedVolume: 8n * 10n ** 16n }]]);
    const memberships = membershipsOf(
      [
        { agreementId: 1n, version: 1, shareBps: 5_000 },
        { agreementId: 1n, version: 2, shareBps: 4_000 },
        { agreementId: 2n, version: 1, shareBps: 3_000 },
      ],
      counters,
    );
    expect(memberships.map((m) => [m.agreementId, m.shareBps])).to.deep.equal([[1n, 4_000], [2n, 3_000]]);
    expect(memberships[1]!.counters.settledCount).to.equal(0n);
    const risky = measuredRisk(memberships);
    const fresh = measuredRisk([]);
    // The party's 40% share of 40 observations.
    expect(risky.estimate.evidence).to.be.closeTo(16, 1e-9);
    expect(risky.estimate.observedRefundRate).to.be.closeTo(0.02, 1e-12);
    // Evidence of a lower rate than the prior's 2.5%, and a narrower interval: a smaller reserve.
    expect(risky.estimate.refundRate).to.be.lessThan(fresh.estimate.refundRate);
    expect(risky.reserveBps).to.be.greaterThan(0).and.lessThan(fresh.reserveBps);
    expect(fresh.estimate.evidence).to.equal(0);
  });

  it("seeds the same party in the same negotiation alike, and others differently", function () {
    const a = partySeed(3n, 1, zeroAddress);
    expect(partySeed(3n, 1, zeroAddress)).to.equal(a);
    expect(partySeed(3n, 2, zeroAddress)).to.not.equal(a);
    expect(partySeed(4n, 1, zeroAddress)).to.not.equal(a);
    expect(a).to.be.within(0, 2 ** 31 - 1);
  });
});

describe("a party's measured risk read from the chain (readPartyRisk)", function () {
  const FAR = 2n ** 40n;
  const gross = 10n ** 18n;

  async function fixture() {
    const d = await deployConcord();
    const [, hotel, restaurant, airline, payer, desk, stranger] = d.accounts as [Address, Address, Address, Address, Address, Address, Address];
    const ledger = await ethers.getContractAt("SettlementLedger", d.addresses.ledger);
    const terms = (shares: Array<[Address, number]>): Terms =>
      buildTerms({ parties: shares.map(([account, shareBps]) => ({ account, shareBps })), reserveBps: 2_000, disputeWindow: 7 * 86_400, refundAuthority: desk });
    /** Proposed by the first party, approved on chain by each, activated. */
    const activate = async (t: Terms) => {
      const accounts = t.parties.map((p) => p.account);
      const { agreementId } = await proposeAgreement(await d.contextOf(accounts[0]!), { terms: t });
      for (const a of accounts) await approveVersion(await d.contextOf(a), { agreementId, version: 1 });
      await activateAgreement(await d.contextOf(accounts[0]!), { agreementId, terms: t, signatures: [] });
      return agreementId;
    };
    const stay = await activate(terms([[hotel, 6_000], [restaurant, 4_000]]));
    const flight = await activate(terms([[hotel, 2_000], [airline, 8_000]]));
    // Version 2 of the flight agreement, proposed only: the hotel's latest share there is 50%.
    await proposeAmendment(await d.contextOf(hotel), { agreementId: flight, terms: terms([[hotel, 5_000], [airline, 5_000]]) });
    const base = BigInt(keccak256(toHex("readPartyRisk"))) & ~0xffn;
    let next = 0n;
    const settle = async (agreementId: bigint) => {
      const payment = { agreementId, version: 1, token: zeroAddress, gross, referrer: zeroAddress, orderRef: toHex(base + next++, { size: 32 }), refundBeneficiary: zeroAddress, deadline: FAR };
      const receipt = await (await ledger.connect(await ethers.getSigner(payer)).settle(payment, "0x", { value: gross })).wait();
      return { payment, receipt: receipt! };
    };
    const first = await settle(stay);
    for (let i = 0; i < 3; i++) await settle(stay);
    for (let i = 0; i < 2; i++) await settle(flight);
    const held = first.receipt.logs.map((l) => ledger.interface.parseLog(l)).find((e) => e?.name === "ReservesHeld")!;
    const lot = { agreementId: stay, version: 1, token: zeroAddress, releaseAt: held.args.releaseAt, held: held.args.held, entriesHash: held.args.entriesHash };
    const entry = { scope: payer, orderRef: first.payment.orderRef, beneficiary: payer, reserve: gross / 5n, refunded: false };
    await (await ledger.connect(await ethers.getSigner(desk)).refund(held.args.lotId, lot, [entry], 0n, gross / 10n)).wait();
    return { ...d, hotel, airline, stranger, stay, flight, context: await d.contextOf(stranger) };
  }

  const none = { settledVolume: 0n, settledCount: 0n, refundCount: 0n, refundedVolume: 0n };

  it("pools every agreement the party belongs to, at its latest share, with the ledger's counters in the token", async function () {
    const f = await loadFixture(fixture);
    const stayCounters = { settledVolume: 4n * gross, settledCount: 4n, refundCount: 1n, refundedVolume: gross / 10n };
    const flightCounters = { settledVolume: 2n * gross, settledCount: 2n, refundCount: 0n, refundedVolume: 0n };

    const hotel = await readPartyRisk(f.context, { account: f.hotel });
    expect(hotel).to.deep.equal(
      measuredRisk([
        { agreementId: f.stay, shareBps: 6_000, counters: stayCounters },
        { agreementId: f.flight, shareBps: 5_000, counters: flightCounters },
      ]),
    );
    // Volume in observations of 0.1 ETH: 4 ETH x 60% + 2 ETH x 50%.
    expect(hotel.estimate.evidence).to.be.closeTo(40 * 0.6 + 20 * 0.5, 1e-9);
    expect(hotel.estimate.settlements).to.be.closeTo(4 * 0.6 + 2 * 0.5, 1e-9);
    expect(hotel.reserveBps).to.be.greaterThan(0);
    expect(await readPartyRisk(f.context, { account: f.hotel, token: zeroAddress })).to.deep.equal(hotel);

    const airline = await readPartyRisk(f.context, { account: f.airline });
    expect(airline).to.deep.equal(measuredRisk([{ agreementId: f.flight, shareBps: 5_000, counters: flightCounters }]));
    expect(airline.estimate.evidence).to.be.closeTo(10, 1e-9);
  });

  it("leaves the prior for a stranger, a token nothing settled in, and a fromBlock after every proposal", async function () {
    const f = await loadFixture(fixture);
    const prior = measuredRisk([]);
    expect(await readPartyRisk(f.context, { account: f.stranger })).to.deep.equal(prior);

    const otherToken = f.addresses.ledger; // any address in which nothing settled
    const inOtherToken = await readPartyRisk(f.context, { account: f.hotel, token: otherToken });
    expect(inOtherToken).to.deep.equal(
      measuredRisk([
        { agreementId: f.stay, shareBps: 6_000, counters: none },
        { agreementId: f.flight, shareBps: 5_000, counters: none },
      ]),
    );
    expect(inOtherToken.estimate.evidence).to.equal(0);

    const after = (await f.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    expect(await readPartyRisk(f.context, { account: f.hotel, fromBlock: after })).to.deep.equal(prior);
  });

  it("names an account or token that is not an address", async function () {
    const f = await loadFixture(fixture);
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => readPartyRisk(f.context, { account: f.hotel, token: "0xnot-a-token" as Address }), 'token "0xnot-a-token" is not an address'],
      [() => readPartyRisk(f.context, { account: "0x1234" as Address }), 'account "0x1234" is not an address'],
    ];
    for (const [run, message] of cases) {
      let error: unknown;
      await run().catch((e: unknown) => (error = e));
      expect(error, message).to.be.instanceOf(InvalidInputError);
      expect((error as Error).message).to.contain(message);
    }
  });
});
