import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { zeroAddress, type Address } from "viem";
import { heldAReserve } from "../src/audit";
import { recommendReserve } from "../src/negotiation";
import { computeSplit, splitTermsOf } from "../src/sdk";
import { hardhatStage, runStory, type StoryResult } from "../src/story";

/** The demo's story (`npm run demo`), run on the in-process network exactly as the script runs it. */
describe("demo: the whole Concord story", function () {
  async function storyFixture() {
    const stage = await hardhatStage(hre);
    const lines: string[] = [];
    const result = await runStory({ ...stage, log: (line) => lines.push(line) });
    return { stage, result, output: lines.join("\n") };
  }

  const statementOf = (result: StoryResult, account: Address) => result.statements.partners.find((p) => p.partner === account);

  it("ends with the auditor's reconciliation passing and every wei paid out", async function () {
    const { stage, result, output } = await loadFixture(storyFixture);
    expect(result.failures).to.deep.equal([]);
    expect(result.audit.ok).to.equal(true);
    expect(result.audit.differences).to.deep.equal([]);
    expect(result.audit.violations).to.deep.equal([]);
    expect(result.audit.reconcile.checked.holdings).to.equal(2); // ETH and the stable token
    const settlements = [...result.audit.sync.state.settlements.values()];
    expect(settlements.length).to.equal(18); // 16 last-season orders and the two bundle orders
    expect(result.audit.reconcile.checked.reserves).to.equal(settlements.filter(heldAReserve).length); // the stored state of each that held a reserve
    // Everything paid in was paid out, and the fresh ledger is empty again.
    const out = (k: "eth" | "stable") => result.payouts.reduce((s, p) => s + p[k], 0n);
    expect(out("eth")).to.equal(result.paidIn.eth);
    expect(out("stable")).to.equal(result.paidIn.stable);
    expect(await stage.publicClient.getBalance({ address: stage.addresses.ledger })).to.equal(0n);
    for (const totals of result.audit.sync.state.totals.values()) {
      expect(totals.holdings, totals.token).to.equal(0n);
    }
    expect(output).to.match(/Every wei is accounted for/);
    expect(output).not.to.match(/FAILED/);
  });

  it("negotiates on chain with reserves asked from measured risk, and the agreed offer is the active version", async function () {
    const { result, output } = await loadFixture(storyFixture);
    const outcome = result.negotiation.transcript.outcome;
    if (outcome.status !== "agreed") throw new Error(`negotiation ${outcome.status}`);
    expect(result.version).to.equal(result.negotiation.version);
    expect(result.terms.parties.map((p) => p.shareBps)).to.deep.equal(outcome.offer.shares);
    expect([result.terms.referralFeeBps, result.terms.reserveBps, result.terms.disputeWindow]).to.deep.equal([
      outcome.offer.referralFeeBps,
      outcome.offer.reserveBps,
      outcome.offer.disputeWindow,
    ]);
    expect(result.terms.referralFeeBps).to.be.greaterThan(0);
    expect(result.terms.reserveBps).to.be.greaterThan(0);
    // Every move was a transaction, printed as it happened.
    expect(result.negotiation.rounds.length).to.be.greaterThan(3);
    for (const round of result.negotiation.rounds) expect(output).to.include(round.gasUsed.toString());
    // Each partner's asked reserve is the recommendation from its own estimate; the airline, with
    // last season's flight refunds, asks for more than the hotel, whose history is mostly clean.
    for (const risk of Object.values(result.risks)) expect(risk.reserveBps).to.equal(recommendReserve(risk.estimate).reserveBps);
    expect(result.risks.airline.estimate.refundProbability).to.be.greaterThan(result.risks.hotel.estimate.refundProbability);
    expect(result.risks.airline.reserveBps).to.be.greaterThan(result.risks.hotel.reserveBps);
  });

  it("pays the referral fee to the travel site alone, holds the reserve and splits the rest by the negotiated shares", async function () {
    const { stage, result } = await loadFixture(storyFixture);
    const travelSite = stage.cast.travelSite.account.address;
    const expected1 = computeSplit(splitTermsOf(result.terms), result.guest1.gross, true);
    expect(result.guest1.referrer).to.equal(travelSite);
    expect(result.guest1.referralFee).to.equal(expected1.referralFee);
    expect(result.guest1.referralFee).to.equal((result.guest1.gross * BigInt(result.terms.referralFeeBps)) / 10_000n);
    expect(result.guest1.reserve).to.equal(expected1.reserve);
    const travel = statementOf(result, travelSite)!;
    expect([...travel.tokens.keys()]).to.deep.equal([zeroAddress]);
    expect(travel.tokens.get(zeroAddress)!.referralFees).to.equal(result.guest1.referralFee);
    expect(travel.tokens.get(zeroAddress)!.earnedByAgreement.size).to.equal(0);
    expect(result.payouts.find((p) => p.account === travelSite)).to.include({ eth: result.guest1.referralFee, stable: 0n });
    // No partner earned a referral fee.
    for (const partner of ["hotel", "restaurant", "airline"] as const) {
      for (const t of statementOf(result, stage.cast[partner].account.address)!.tokens.values()) expect(t.referralFees).to.equal(0n);
    }
  });

  it("settles the stable token with a permit and no referrer, refunds half its reserve, releases the rest", async function () {
    const { stage, result } = await loadFixture(storyFixture);
    expect(result.guest2.token).to.equal(stage.stableToken);
    expect(result.guest2.referrer).to.equal(zeroAddress);
    expect(result.guest2.referralFee).to.equal(0n);
    const expected2 = computeSplit(splitTermsOf(result.terms), result.guest2.gross, false);
    expect(result.guest2.reserve).to.equal(expected2.reserve);
    expect(result.refunded).to.equal(result.guest2.reserve / 2n);
    expect(result.released.stable).to.equal(result.guest2.reserve - result.refunded);
    expect(result.payouts.find((p) => p.name === "guest 2")).to.include({ stable: result.refunded, eth: 0n });
    // The partners' stable-token withdrawals are the gross less the refund, split by shares.
    const partners = ["hotel", "restaurant", "airline"] as const;
    const withdrawn = partners.reduce((s, p) => s + result.payouts.find((x) => x.name === p)!.stable, 0n);
    expect(withdrawn).to.equal(result.guest2.gross - result.refunded);
    // Each partner's bundle earnings in the token match the auditor's statement.
    for (const p of partners) {
      const t = statementOf(result, stage.cast[p].account.address)!.tokens.get(stage.stableToken)!;
      expect(t.earnedByAgreement.get(result.agreementId)).to.equal(result.payouts.find((x) => x.name === p)!.stable);
      expect(t.reservesHeld).to.equal(0n);
    }
  });
});
