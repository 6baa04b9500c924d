import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { zeroAddress, type Hex } from "viem";
import { getAgreement, getVersion, hashTerms, proposeAgreement } from "../../src/sdk";
import { runOnchainNegotiation, type OnchainRound } from "../../src/negotiation/onchain";
import { agentsFor, randomScenario } from "../../src/negotiation/scenario";
import { simulate } from "../../src/negotiation/simulate";
import { offerToTerms } from "../../src/negotiation/terms";
import { deployConcord, sortAddresses } from "./fixture";

describe("negotiation on chain (end to end)", function () {
  this.timeout(120_000);

  async function fixture() {
    const d = await deployConcord();
    const participants = sortAddresses(d.accounts.slice(1, 4));
    const contexts = await Promise.all(participants.map((a) => d.contextOf(a)));
    const fixed = { refundAuthority: participants[0]!, orderSigner: participants[0]!, documentHash: `0x${"ab".repeat(32)}` as Hex };
    const current = offerToTerms({ shares: [3_400, 3_300, 3_300], referralFeeBps: 0, reserveBps: 0, disputeWindow: 0 }, participants, fixed);
    const { agreementId } = await proposeAgreement(contexts[0]!, { terms: current });
    return { ...d, participants, contexts, fixed, current, agreementId };
  }

  it("agents agree on chain exactly as in the chain-free simulation, and the last offer is the active version", async function () {
    const f = await loadFixture(fixture);
    const scenario = randomScenario(4242, { parties: 3, overlap: "overlap", margin: 0.1, roundLimit: 8 });
    const seen: OnchainRound[] = [];
    const result = await runOnchainNegotiation({
      contexts: f.contexts,
      agreementId: f.agreementId,
      agents: agentsFor(scenario),
      currentTerms: f.current,
      fixed: f.fixed,
      roundLimit: scenario.roundLimit,
      duration: scenario.timeLimitSeconds,
      moveTimeout: 86_400,
      onRound: (r) => seen.push(r),
    });

    expect(result.transcript.outcome.status).to.equal("agreed");
    expect(result.participants).to.deep.equal(f.participants);
    expect(seen.length).to.equal(result.rounds.length);
    expect(seen.every((r) => r.gasUsed > 21_000n)).to.equal(true);
    // The same agents with the same seeds play the same moves without a chain.
    const offline = simulate({ agents: agentsFor(scenario), roundLimit: scenario.roundLimit, timeLimitSeconds: scenario.timeLimitSeconds });
    expect(result.transcript.entries.map((e) => [e.kind, e.by, e.offer])).to.deep.equal(offline.entries.map((e) => [e.kind, e.by, e.offer]));
    expect(result.transcript.outcome).to.deep.equal(offline.outcome);

    if (result.transcript.outcome.status !== "agreed") throw new Error("not agreed");
    const agreed = offerToTerms(result.transcript.outcome.offer, f.participants, f.fixed);
    const info = await getAgreement(f.contexts[0]!, { agreementId: f.agreementId });
    expect(info.status).to.equal("active");
    expect(info.activeVersion).to.equal(result.version);
    const active = await getVersion(f.contexts[0]!, { agreementId: f.agreementId, version: info.activeVersion });
    expect(active.termsHash).to.equal(hashTerms(agreed));
    expect(result.termsHash).to.equal(hashTerms(agreed));
    // The order signer and the empty referrer list were kept in every offer: the merchant attests referrers.
    expect(active.terms.orderSigner).to.equal(f.participants[0]);
    expect(active.terms.referrers).to.deep.equal([]);
  });

  it("reports a negotiation without overlap as ended, and the agreement stays proposed", async function () {
    const f = await loadFixture(fixture);
    const scenario = randomScenario(77, { parties: 3, overlap: "none", roundLimit: 3 });
    const result = await runOnchainNegotiation({
      contexts: f.contexts,
      agreementId: f.agreementId,
      agents: agentsFor(scenario),
      currentTerms: f.current,
      fixed: f.fixed,
      roundLimit: scenario.roundLimit,
      duration: 86_400,
      moveTimeout: 3_600,
    });
    expect(result.transcript.outcome.status).to.be.oneOf(["broken", "expired"]);
    expect(result.version).to.equal(undefined);
    expect((await getAgreement(f.contexts[0]!, { agreementId: f.agreementId })).status).to.equal("proposed");
  });

  it("refuses terms in force that nest an agreement before sending anything", async function () {
    const f = await loadFixture(fixture);
    const nested = { ...f.current, parties: [...f.current.parties.slice(0, 2), { account: zeroAddress, agreementId: 9n, version: 1, shareBps: 3_300 }] };
    const scenario = randomScenario(5, { parties: 3, overlap: "overlap" });
    const before = await f.publicClient.getBlockNumber({ cacheTime: 0 });
    let error: unknown;
    await runOnchainNegotiation({ contexts: f.contexts, agreementId: f.agreementId, agents: agentsFor(scenario), currentTerms: nested, fixed: f.fixed, roundLimit: 4, duration: 86_400, moveTimeout: 3_600 }).catch(
      (e: unknown) => (error = e),
    );
    expect((error as Error | undefined)?.message).to.contain("the terms in force nest agreement #9");
    expect(await f.publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(before);
  });
});
