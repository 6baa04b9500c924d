import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { zeroAddress, type Address } from "viem";
import { recommendReserve } from "../src/negotiation";
import { quoteSplit } from "../src/sdk";
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

  it("ends with the auditor's reconciliation passing and every wei paid out or still in a pool below one unit", async function () {
    const { stage, result, output } = await loadFixture(storyFixture);
    expect(result.failures).to.deep.equal([]);
    expect(result.audit.ok).to.equal(true);
    expect(result.audit.differences).to.deep.equal([]);
    expect(result.audit.violations).to.deep.equal([]);
    expect(result.audit.reconcile.checked.holdings).to.equal(2); // ETH and the stable token
    // 16 last-season orders (two batches: two lots) and the two bundle intents (a lot each).
    expect(result.audit.sync.state.eventCounts.get("Settled")).to.equal(18);
    expect(result.audit.sync.state.lots.size).to.equal(4);
    // Conservation from the outside: what was paid in is what was withdrawn plus what the ledger still holds,
    // and what it holds is each bundle pool's remainder, under one distribution unit.
    const out = (k: "eth" | "stable") => result.payouts.reduce((s, p) => s + p[k], 0n);
    expect(out("eth") + result.remainders.eth).to.equal(result.paidIn.eth);
    expect(out("stable") + result.remainders.stable).to.equal(result.paidIn.stable);
    expect(await stage.publicClient.getBalance({ address: stage.addresses.ledger })).to.equal(result.remainders.eth);
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    const unit = 10_000n / BigInt(result.terms.parties.reduce((g, p) => gcd(g, p.shareBps), 0));
    expect(result.remainders.eth < unit && result.remainders.stable < unit).to.equal(true);
    for (const totals of result.audit.sync.state.totals.values()) {
      expect(totals.holdings, totals.token).to.equal(totals.token === zeroAddress ? result.remainders.eth : result.remainders.stable);
      expect(totals.balances + totals.heldReserves).to.equal(0n);
    }
    // Last season's pools were closed (terminated) and swept: nothing of them is left anywhere.
    expect(result.swept.eth).to.be.at.least(0n);
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
    expect(result.risks.airline.estimate.refundRate).to.be.greaterThan(result.risks.hotel.estimate.refundRate);
    expect(result.risks.airline.reserveBps).to.be.greaterThan(result.risks.hotel.reserveBps);
  });

  it("settles the travel site's signed intent: the fee to the referrer it attests, scoped to the travel site, paid by the guest", async function () {
    const { stage, result } = await loadFixture(storyFixture);
    const travelSite = stage.cast.travelSite.account.address;
    expect(result.terms.orderSigner).to.equal(travelSite);
    expect(result.guest1.scope).to.equal(travelSite);
    expect(result.guest1.payer).to.equal(stage.cast.guest1.account.address);
    const expected1 = quoteSplit(result.guest1.gross, result.terms.referralFeeBps, result.terms.reserveBps, true);
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

  it("settles the stable token with a permit and no referrer, refunds half its reserve to the intent's beneficiary, releases the rest", async function () {
    const { stage, result } = await loadFixture(storyFixture);
    expect(result.guest2.token).to.equal(stage.stableToken);
    expect(result.guest2.referrer).to.equal(zeroAddress);
    expect(result.guest2.referralFee).to.equal(0n);
    expect(result.guest2.refundBeneficiary).to.equal(stage.cast.guest2.account.address);
    const expected2 = quoteSplit(result.guest2.gross, result.terms.referralFeeBps, result.terms.reserveBps, false);
    expect(result.guest2.reserve).to.equal(expected2.reserve);
    expect(result.refunded).to.equal(result.guest2.reserve / 2n);
    expect(result.released.stable).to.equal(result.guest2.reserve - result.refunded);
    expect(result.payouts.find((p) => p.name === "guest 2")).to.include({ stable: result.refunded, eth: 0n });
    // The partners' stable-token withdrawals are the gross less the refund, split by shares, but for the pool's remainder.
    const partners = ["hotel", "restaurant", "airline"] as const;
    const withdrawn = partners.reduce((s, p) => s + result.payouts.find((x) => x.name === p)!.stable, 0n);
    expect(withdrawn + result.remainders.stable).to.equal(result.guest2.gross - result.refunded);
    // Each partner's bundle earnings in the token match the auditor's statement.
    for (const p of partners) {
      const t = statementOf(result, stage.cast[p].account.address)!.tokens.get(stage.stableToken)!;
      expect(t.earnedByAgreement.get(result.agreementId)).to.equal(result.payouts.find((x) => x.name === p)!.stable);
      expect(t.reservesHeld).to.equal(0n);
    }
  });
});
