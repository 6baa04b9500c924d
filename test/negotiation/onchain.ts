import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { getAddress, toFunctionSelector, toEventSelector, type Abi, type AbiEvent, type AbiFunction, type Address, type EIP1193Provider } from "viem";
import { hardhat } from "viem/chains";
import { negotiationHubAbi, registryNegotiationAbi } from "../../src/negotiation/abi";
import { clientsFromProvider, runOnchainNegotiation, type OnchainRound } from "../../src/negotiation/onchain";
import { agentsFor, randomScenario } from "../../src/negotiation/scenario";
import { simulate } from "../../src/negotiation/simulate";
import { offerToTerms } from "../../src/negotiation/terms";
import { computeSplit } from "../../src/sdk/split";
import { AgreementStatus, ETH, deployConcord, makeTerms } from "../helpers/concord";

describe("negotiation on chain (end to end)", function () {
  async function fixture() {
    const signers = await ethers.getSigners();
    const parties = signers.slice(1, 4).sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const payer = signers[6]!;
    const { registry, ledger } = await deployConcord();
    const hub = getAddress(await registry.negotiationHub());
    const current = makeTerms(parties.map((p) => [p.address, p === parties[0] ? 3_400 : 3_300] as [string, number]));
    await registry.connect(parties[0]!).propose(current);
    const id = await registry.agreementCount();
    return { registry, ledger, hub, parties, payer, current, id };
  }

  it("agents agree on chain exactly as in the chain-free simulation, and a settlement splits by the negotiated shares", async function () {
    const { registry, ledger, hub, parties, payer, current, id } = await loadFixture(fixture);
    const scenario = randomScenario(4242, { parties: 3, overlap: "overlap", margin: 0.1, roundLimit: 8 });
    const participants = parties.map((p) => getAddress(p.address)) as Address[];
    const { publicClient, wallets } = clientsFromProvider(hre.network.provider as unknown as EIP1193Provider, hardhat, participants);
    const fixed = { refundAuthority: getAddress(parties[0]!.address), documentHash: current.documentHash as `0x${string}` };
    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + BigInt(scenario.timeLimitSeconds);
    const seen: OnchainRound[] = [];

    const result = await runOnchainNegotiation({
      publicClient,
      wallets,
      hub,
      agreementId: id,
      agents: agentsFor(scenario),
      currentTerms: {
        ...current,
        parties: current.parties.map((p) => ({ ...p, account: getAddress(p.account) })),
        refundAuthority: getAddress(current.refundAuthority),
        referrers: [],
        documentHash: current.documentHash as `0x${string}`,
      },
      fixed,
      roundLimit: scenario.roundLimit,
      deadline,
      onRound: (r) => seen.push(r),
    });

    expect(result.transcript.outcome.status).to.equal("agreed");
    expect(seen.length).to.equal(result.rounds.length);
    expect(seen.every((r) => r.gasUsed > 21_000n)).to.equal(true);
    // The same agents with the same seeds play the same moves without a chain.
    const offline = simulate({ agents: agentsFor(scenario), roundLimit: scenario.roundLimit, timeLimitSeconds: scenario.timeLimitSeconds });
    expect(result.transcript.entries.map((e) => [e.kind, e.by, e.offer])).to.deep.equal(offline.entries.map((e) => [e.kind, e.by, e.offer]));
    expect(result.transcript.outcome).to.deep.equal(offline.outcome);

    // The last offer is the active version.
    if (result.transcript.outcome.status !== "agreed") throw new Error("not agreed");
    const chainTerms = offerToTerms(result.transcript.outcome.offer, participants, fixed);
    const agreed = { ...chainTerms, parties: chainTerms.parties.map((p) => ({ ...p })), referrers: [...chainTerms.referrers] };
    const [status, , active] = await registry.agreement(id);
    expect(status).to.equal(AgreementStatus.Active);
    expect(active).to.equal(BigInt(result.version!));
    expect(await registry.termsHash(id, active)).to.equal(await registry.hashTerms(agreed));
    expect(result.termsHash).to.equal(await registry.hashTerms(agreed));

    // A settlement under the negotiated version splits by the negotiated shares.
    const gross = ethers.parseEther("3");
    await ledger.connect(payer).settle(id, ETH, gross, ETH, ethers.id("negotiated-order-1"), { value: gross });
    await ledger.distribute(id, active, ETH, agreed);
    const split = computeSplit(
      { shares: agreed.parties.map((p) => p.shareBps), referralFeeBps: agreed.referralFeeBps, reserveBps: agreed.reserveBps, dustPartyIndex: 0 },
      gross,
      false,
    );
    for (let i = 0; i < parties.length; i++) {
      expect(await ledger.balanceOf(parties[i]!.address, ETH)).to.equal(split.credits[i]);
    }
    expect(split.credits[1]! * 10_000n / split.net).to.be.closeTo(BigInt(agreed.parties[1]!.shareBps), 1n);
  });

  it("reports a negotiation without overlap as ended, and the agreement stays proposed", async function () {
    const { registry, hub, parties, current, id } = await loadFixture(fixture);
    const scenario = randomScenario(77, { parties: 3, overlap: "none", roundLimit: 3 });
    const participants = parties.map((p) => getAddress(p.address)) as Address[];
    const { publicClient, wallets } = clientsFromProvider(hre.network.provider as unknown as EIP1193Provider, hardhat, participants);
    const result = await runOnchainNegotiation({
      publicClient,
      wallets,
      hub,
      agreementId: id,
      agents: agentsFor(scenario),
      currentTerms: { ...current, parties: current.parties.map((p) => ({ ...p, account: getAddress(p.account) })), refundAuthority: getAddress(current.refundAuthority), referrers: [], documentHash: current.documentHash as `0x${string}` },
      fixed: { refundAuthority: participants[0]!, documentHash: current.documentHash as `0x${string}` },
      roundLimit: scenario.roundLimit,
      deadline: BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 86_400n,
    });
    expect(result.transcript.outcome.status).to.be.oneOf(["broken", "expired"]);
    expect(result.version).to.equal(undefined);
    expect((await registry.agreement(id)).status).to.equal(AgreementStatus.Proposed);
  });

  it("uses ABI slices that match the compiled contracts", async function () {
    const check = (slice: Abi, artifact: Abi) => {
      for (const item of slice) {
        if (item.type === "function") {
          const found = artifact.filter((a): a is AbiFunction => a.type === "function" && a.name === item.name);
          expect(found.map((f) => toFunctionSelector(f)), item.name).to.include(toFunctionSelector(item));
        } else if (item.type === "event") {
          const found = artifact.filter((a): a is AbiEvent => a.type === "event" && a.name === item.name);
          expect(found.map((e) => toEventSelector(e)), item.name).to.include(toEventSelector(item));
        }
      }
    };
    check(negotiationHubAbi, (await hre.artifacts.readArtifact("NegotiationHub")).abi as Abi);
    check(registryNegotiationAbi, (await hre.artifacts.readArtifact("AgreementRegistry")).abi as Abi);
  });
});
