import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, getAddress, zeroAddress, type Address, type EIP1193Provider, type Hex, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { negotiationHubAbi } from "../../src/negotiation/abi";
import { clientsFromProvider } from "../../src/negotiation/onchain";
import {
  PartySetupError,
  playParty,
  termsForOffer,
  walletMoveSender,
  type PartyRound,
  type PlayPartyReturnType,
} from "../../src/negotiation/party";
import { agentsFor, randomScenario } from "../../src/negotiation/scenario";
import { simulate } from "../../src/negotiation/simulate";
import { DEFAULT_STANCE, StanceError, measuredRisk, membershipsOf, partyAgent, partySeed, readPartyRisk, type PartyStance } from "../../src/negotiation/stance";
import { boulware, conceder, linear } from "../../src/negotiation/tactics";
import { offerToTerms, type ChainTerms } from "../../src/negotiation/terms";
import { createConcordContext, hardhatTransport, InvalidInputError } from "../../src/sdk";
import { AgreementStatus, ETH, activateWithSignatures, deployConcord, makeTerms } from "../helpers/concord";

describe("playing one party of an on-chain negotiation (playParty)", function () {
  this.timeout(120_000);

  async function fixture() {
    const signers = await ethers.getSigners();
    const parties = signers.slice(1, 4).sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const { registry } = await deployConcord();
    const hub = getAddress(await registry.negotiationHub());
    const current = makeTerms(parties.map((p) => [p.address, p === parties[0] ? 3_400 : 3_300] as [string, number]));
    await registry.connect(parties[0]!).propose(current);
    const id = await registry.agreementCount();
    const participants = parties.map((p) => getAddress(p.address)) as Address[];
    const outsider = getAddress(signers[7]!.address);
    const { publicClient, wallets } = clientsFromProvider(hre.network.provider as unknown as EIP1193Provider, hardhat, [...participants, outsider]);
    const currentTerms: ChainTerms = {
      ...current,
      parties: current.parties.map((p) => ({ ...p, account: getAddress(p.account) })),
      refundAuthority: getAddress(current.refundAuthority),
      referrers: [],
      documentHash: current.documentHash as Hex,
    };
    const fixed = { refundAuthority: participants[0]!, documentHash: current.documentHash as Hex };
    return { registry, hub, id, participants, outsider, publicClient, wallets, currentTerms, fixed };
  }

  type Fixture = Awaited<ReturnType<typeof fixture>>;

  /** Opens the negotiation from participant 0 with `opening` terms. */
  async function open(f: Fixture, opening: ChainTerms, roundLimit: number): Promise<void> {
    const deadline = (await f.publicClient.getBlock()).timestamp + 7n * 86_400n;
    const { request } = await f.publicClient.simulateContract({
      address: f.hub,
      abi: negotiationHubAbi,
      functionName: "open",
      args: [f.id, roundLimit, deadline, opening, f.currentTerms],
      account: f.wallets[0]!.account,
    });
    const hash = await f.wallets[0]!.writeContract({ ...request, chain: f.wallets[0]!.chain });
    await f.publicClient.waitForTransactionReceipt({ hash });
  }

  const blockNumber = async (f: Fixture) => f.publicClient.getBlockNumber({ cacheTime: 0 });

  it("three parties playing concurrently make the moves of the chain-free simulation and agree on the active version", async function () {
    const f = await loadFixture(fixture);
    const scenario = randomScenario(4242, { parties: 3, overlap: "overlap", margin: 0.1, roundLimit: 8 });
    const agents = agentsFor(scenario);
    const offline = simulate({ agents: agentsFor(scenario), roundLimit: scenario.roundLimit, timeLimitSeconds: scenario.timeLimitSeconds });
    // The opener's opening offer is the simulation's first move.
    await open(f, offerToTerms(offline.entries[0]!.offer, f.participants, f.fixed), scenario.roundLimit);

    const seen: PartyRound[][] = [[], [], []];
    const results = await Promise.all(
      f.participants.map((account, i) =>
        playParty({
          publicClient: f.publicClient,
          hub: f.hub,
          agreementId: f.id,
          account,
          agent: agents[i]!,
          send: walletMoveSender(f.publicClient, f.wallets[i]!, f.hub),
          pollIntervalMs: 5,
          onRound: (r) => seen[i]!.push(r),
        }),
      ),
    );

    for (const [i, result] of results.entries()) {
      expect(result.outcome.status, `participant ${i}`).to.equal("agreed");
      expect(seen[i]!.map((r) => r.move)).to.deep.equal(offline.entries.map((e) => e.move));
      // Every party saw every move, and sent exactly its own (the opening offer was sent by the test).
      expect(result.rounds.filter((r) => r.mine && r.move > 1).map((r) => r.transactionHash)).to.deep.equal(result.transactions);
    }
    expect(results[0]!.rounds.map((r) => [r.kind, r.by, r.offer])).to.deep.equal(offline.entries.map((e) => [e.kind, e.by, e.offer]));
    if (offline.outcome.status !== "agreed") throw new Error("the scenario should agree offline");
    const outcome = results[0]!.outcome;
    if (outcome.status !== "agreed") throw new Error("not agreed");
    expect(outcome.offer).to.deep.equal(offline.outcome.offer);
    expect(results.map((r) => (r.outcome.status === "agreed" ? r.outcome.version : 0))).to.deep.equal([outcome.version, outcome.version, outcome.version]);

    const [status, , active] = await f.registry.agreement(f.id);
    expect(status).to.equal(AgreementStatus.Active);
    expect(active).to.equal(BigInt(outcome.version));
    const agreed = { ...outcome.terms, parties: outcome.terms.parties.map((p) => ({ ...p })), referrers: [...outcome.terms.referrers] };
    expect(await f.registry.termsHash(f.id, active)).to.equal(await f.registry.hashTerms(agreed));
    expect(outcome.termsHash).to.equal(await f.registry.hashTerms(agreed));
  });

  it("without an overlap every party reports the same end: broken by the same party, which alone knows why", async function () {
    const f = await loadFixture(fixture);
    const scenario = randomScenario(77, { parties: 3, overlap: "none", roundLimit: 3 });
    const agents = agentsFor(scenario);
    const offline = simulate({ agents: agentsFor(scenario), roundLimit: 3, timeLimitSeconds: scenario.timeLimitSeconds });
    await open(f, offerToTerms(offline.entries[0]!.offer, f.participants, f.fixed), 3);
    const results = await Promise.all(
      f.participants.map((account, i) =>
        playParty({ publicClient: f.publicClient, hub: f.hub, agreementId: f.id, account, agent: agents[i]!, send: walletMoveSender(f.publicClient, f.wallets[i]!, f.hub), pollIntervalMs: 5 }),
      ),
    );
    const statuses = results.map((r) => r.outcome.status);
    expect(new Set(statuses).size).to.equal(1);
    const ended = offline.outcome;
    if (ended.status !== "broken") throw new Error(`scenario 77 should break offline, it ${ended.status}`);
    for (const r of results) expect(r.outcome).to.include({ status: "broken", by: ended.by, moves: ended.moves });
    expect(results[ended.by]!.outcome).to.have.property("reason", ended.reason);
    expect(results.filter((_, i) => i !== ended.by).every((r) => !("reason" in r.outcome))).to.equal(true);
    expect((await f.registry.agreement(f.id)).status).to.equal(AgreementStatus.Proposed);
  });

  it("when the deadline passes before its move, reports the expiry and records it on chain (the party whose turn it was)", async function () {
    const f = await loadFixture(fixture);
    await open(f, f.currentTerms, 5);
    const stance: PartyStance = { ...DEFAULT_STANCE, tactic: linear, idealReserveBps: 1_000, reservation: { utility: 0.2 } };
    const send = walletMoveSender(f.publicClient, f.wallets[1]!, f.hub);
    const calls: string[] = [];
    const result = await playParty({
      publicClient: f.publicClient, hub: f.hub, agreementId: f.id, account: f.participants[1]!,
      agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 5 }).agent,
      send: async (move) => {
        calls.push(move.functionName);
        // The week runs out while this party thinks.
        if (calls.length === 1) await hre.network.provider.send("evm_increaseTime", [8 * 86_400]);
        return send(move);
      },
      pollIntervalMs: 5,
    });
    expect(calls).to.have.length(2);
    expect(calls[1]).to.equal("expire");
    expect(result.outcome).to.include({ status: "expired", moves: 1 });
    if (result.outcome.status !== "expired") throw new Error("not expired");
    expect(result.outcome.reason).to.match(/^deadline passed/);
    expect(result.transactions).to.deep.equal([result.outcome.expireTransaction]);
    const state = await f.publicClient.readContract({ address: f.hub, abi: negotiationHubAbi, functionName: "negotiation", args: [f.id] });
    expect(state.status).to.equal(4);
  });

  describe("refuses before sending anything", function () {
    const stance: PartyStance = { ...DEFAULT_STANCE, tactic: linear, idealReserveBps: 1_000, reservation: { utility: 0.2 } };
    const agentFor = (setup: { participants: readonly unknown[]; self: number }) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 1 }).agent;

    it("when there is no open negotiation", async function () {
      const f = await loadFixture(fixture);
      const before = await blockNumber(f);
      const run = playParty({ publicClient: f.publicClient, hub: f.hub, agreementId: f.id, account: f.participants[1]!, agent: agentFor, send: walletMoveSender(f.publicClient, f.wallets[1]!, f.hub) });
      await expectSetupError(run, /agreement \d+ has no negotiation/);
      expect(await blockNumber(f)).to.equal(before);
    });

    it("when the account is not a participant", async function () {
      const f = await loadFixture(fixture);
      await open(f, f.currentTerms, 5);
      const before = await blockNumber(f);
      const run = playParty({ publicClient: f.publicClient, hub: f.hub, agreementId: f.id, account: f.outsider, agent: agentFor, send: walletMoveSender(f.publicClient, f.wallets[3]!, f.hub) });
      await expectSetupError(run, /is not a participant of negotiation 1/);
      expect(await blockNumber(f)).to.equal(before);
    });

    it("when the agent cannot be made (the factory refuses)", async function () {
      const f = await loadFixture(fixture);
      await open(f, f.currentTerms, 5);
      const before = await blockNumber(f);
      const run = playParty({
        publicClient: f.publicClient, hub: f.hub, agreementId: f.id, account: f.participants[1]!,
        agent: (setup) => partyAgent({ ...setup, stance: { ...stance, reservation: { walkAwayShareBps: 9_500 } }, refundRate: 0.02, seed: 1 }).agent,
        send: walletMoveSender(f.publicClient, f.wallets[1]!, f.hub),
      });
      let error: unknown;
      await run.catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(StanceError);
      expect((error as Error).message).to.match(/95% is more than any offer gives one of 3 participants \(at most 90%/);
      expect(await blockNumber(f)).to.equal(before);
    });
  });

  describe("stops between moves", function () {
    const stance: PartyStance = { ...DEFAULT_STANCE, tactic: boulware, idealReserveBps: 1_000, reservation: { utility: 0.2 } };

    it("on its signal, while waiting for another party's turn, without sending", async function () {
      const f = await loadFixture(fixture);
      await open(f, f.currentTerms, 5);
      const before = await blockNumber(f);
      const controller = new AbortController();
      let started = false;
      const run = playParty({
        publicClient: f.publicClient, hub: f.hub, agreementId: f.id, account: f.participants[2]!,
        agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 3 }).agent,
        send: walletMoveSender(f.publicClient, f.wallets[2]!, f.hub),
        pollIntervalMs: 60_000,
        signal: controller.signal,
        onRound: () => {
          started = true;
          setTimeout(() => controller.abort("SIGINT"), 20);
        },
      });
      const result: PlayPartyReturnType = await run;
      expect(started).to.equal(true);
      expect(result.outcome).to.include({ status: "stopped", cause: "signal", moves: 1 });
      expect(result.transactions).to.deep.equal([]);
      expect(await blockNumber(f)).to.equal(before);
    });

    it("on a signal while its move is being sent: the move is finished and reported, then it stops", async function () {
      const f = await loadFixture(fixture);
      await open(f, f.currentTerms, 5);
      const controller = new AbortController();
      const send = walletMoveSender(f.publicClient, f.wallets[1]!, f.hub);
      const result = await playParty({
        publicClient: f.publicClient, hub: f.hub, agreementId: f.id, account: f.participants[1]!,
        agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 3 }).agent,
        send: (move) => {
          controller.abort("SIGINT");
          return send(move);
        },
        pollIntervalMs: 5,
        signal: controller.signal,
      });
      expect(result.outcome).to.include({ status: "stopped", cause: "signal", moves: 2 });
      expect(result.transactions).to.have.length(1);
      const last = result.rounds[result.rounds.length - 1]!;
      expect(last).to.include({ move: 2, mine: true, transactionHash: result.transactions[0] });
      const state = await f.publicClient.readContract({ address: f.hub, abi: negotiationHubAbi, functionName: "negotiation", args: [f.id] });
      expect(state.moves).to.equal(2);
    });

    it("after --max-wait without a move by anyone", async function () {
      const f = await loadFixture(fixture);
      await open(f, f.currentTerms, 5);
      const started = Date.now();
      const result = await playParty({
        publicClient: f.publicClient, hub: f.hub, agreementId: f.id, account: f.participants[2]!,
        agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 3 }).agent,
        send: walletMoveSender(f.publicClient, f.wallets[2]!, f.hub),
        pollIntervalMs: 10,
        maxWaitMs: 150,
      });
      expect(result.outcome).to.include({ status: "stopped", cause: "max-wait" });
      expect(Date.now() - started).to.be.at.least(150);
    });
  });

  it("waits out a few failed reads while waiting, and gives up after five in a row", async function () {
    const f = await loadFixture(fixture);
    await open(f, f.currentTerms, 5);
    const stance: PartyStance = { ...DEFAULT_STANCE, tactic: boulware, idealReserveBps: 1_000, reservation: { utility: 0.2 } };
    /** The client, with the head's block failing on the reads that `fails` picks (counted from 1). */
    const flaky = (fails: (read: number) => boolean) => {
      let reads = 0;
      return new Proxy(f.publicClient, {
        get(target, prop, receiver) {
          if (prop !== "getBlock") return Reflect.get(target, prop, receiver);
          return async (args: Parameters<typeof target.getBlock>[0]) => {
            if (args?.blockTag === "latest" && fails(++reads)) throw new Error("socket hang up");
            return target.getBlock(args);
          };
        },
      });
    };
    const play = (publicClient: typeof f.publicClient) =>
      playParty({
        publicClient, hub: f.hub, agreementId: f.id, account: f.participants[2]!,
        agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 3 }).agent,
        send: walletMoveSender(f.publicClient, f.wallets[2]!, f.hub),
        pollIntervalMs: 5,
        maxWaitMs: 300,
      });
    // Reads 2-5 fail: four in a row are waited out.
    expect((await play(flaky((n) => n >= 2 && n <= 5))).outcome).to.include({ status: "stopped", cause: "max-wait" });
    let error: unknown;
    await play(flaky((n) => n >= 2)).catch((e: unknown) => (error = e));
    expect((error as Error | undefined)?.message).to.equal("socket hang up");
  });

  it("keeps the opener's refund authority, document hash and referrer allowlist in its offers", function () {
    const participants = ["0x0000000000000000000000000000000000000001", "0x0000000000000000000000000000000000000002"] as Address[];
    const opening: ChainTerms = {
      parties: participants.map((account) => ({ account, agreementId: 0n, shareBps: 5_000 })),
      referralFeeBps: 500,
      referrerPolicy: 2,
      referrers: ["0x00000000000000000000000000000000000000aa"],
      reserveBps: 1_000,
      disputeWindow: 86_400,
      refundAuthority: participants[1]!,
      dustPartyIndex: 0,
      documentHash: `0x${"11".repeat(32)}`,
    };
    const offer = { shares: [6_000, 4_000], referralFeeBps: 300, reserveBps: 500, disputeWindow: 3 * 86_400 };
    expect(termsForOffer(offer, { participants, opening })).to.deep.include({ referrerPolicy: 2, referrers: opening.referrers, refundAuthority: participants[1], documentHash: opening.documentHash });
    expect(termsForOffer({ ...offer, referralFeeBps: 0 }, { participants, opening })).to.deep.include({ referrerPolicy: 0, referrers: [] });
  });
});

async function expectSetupError(run: Promise<unknown>, message: RegExp): Promise<void> {
  let error: unknown;
  await run.catch((e: unknown) => (error = e));
  expect(error).to.be.instanceOf(PartySetupError);
  expect((error as Error).message).to.match(message);
}

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
    const counters = new Map([[1n, { settledVolume: 1_000n, settledCount: 40n, refundCount: 8n, refundedVolume: 100n }]]);
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
    expect(risky.estimate.evidence).to.be.closeTo(16, 1e-9);
    expect(risky.estimate.refundProbability).to.be.greaterThan(fresh.estimate.refundProbability);
    expect(risky.reserveBps).to.be.greaterThan(0);
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
  async function fixture() {
    const [, hotel, restaurant, airline, payer, desk, stranger] = await ethers.getSigners();
    const { registry, ledger } = await deployConcord();
    const options = { reserveBps: 2_000, refundAuthority: desk!.address };
    const stay = await activateWithSignatures(registry, makeTerms([[hotel!.address, 6_000], [restaurant!.address, 4_000]], options), [hotel!, restaurant!]);
    const flight = await activateWithSignatures(registry, makeTerms([[hotel!.address, 2_000], [airline!.address, 8_000]], options), [hotel!, airline!]);
    // Version 2 of the flight agreement, proposed only: the hotel's latest share there is 50%.
    await (await registry.connect(hotel!).proposeAmendment(flight, makeTerms([[hotel!.address, 5_000], [airline!.address, 5_000]], options))).wait();
    const gross = ethers.parseEther("1");
    const settle = async (id: bigint, order: string) => {
      const receipt = await (await ledger.connect(payer!).settle(id, ETH, gross, ETH, ethers.id(order), { value: gross })).wait();
      return receipt!.blockNumber;
    };
    for (let i = 0; i < 4; i++) await settle(stay, `stay-${i}`);
    for (let i = 0; i < 2; i++) await settle(flight, `flight-${i}`);
    const [settled] = await ledger.queryFilter(ledger.filters.Settled(ethers.id("stay-0")));
    const record = { agreementId: stay, version: 1n, token: ETH, payer: payer!.address, reserve: settled!.args.reserve, releaseAt: settled!.args.releaseAt };
    await (await ledger.connect(desk!).refund(ethers.id("stay-0"), record, ethers.parseEther("0.1"))).wait();
    const addresses = { registry: getAddress(await registry.getAddress()), ledger: getAddress(await ledger.getAddress()) };
    const accounts = { hotel: getAddress(hotel!.address), airline: getAddress(airline!.address), stranger: getAddress(stranger!.address) };
    return { addresses, accounts, stay, flight, gross };
  }

  /** A read-only SDK context over the in-process network (built per test: nothing cached across snapshots). */
  const contextOf = (f: Awaited<ReturnType<typeof fixture>>) =>
    createConcordContext({ publicClient: createPublicClient({ transport: hardhatTransport(hre.network.provider) }) as PublicClient, addresses: { ...f.addresses }, chainId: hardhat.id });

  const none = { settledVolume: 0n, settledCount: 0n, refundCount: 0n, refundedVolume: 0n };

  it("pools every agreement the party belongs to, at its latest share, with the ledger's counters in the token", async function () {
    const f = await loadFixture(fixture);
    const context = await contextOf(f);
    const stayCounters = { settledVolume: 4n * f.gross, settledCount: 4n, refundCount: 1n, refundedVolume: ethers.parseEther("0.1") };
    const flightCounters = { settledVolume: 2n * f.gross, settledCount: 2n, refundCount: 0n, refundedVolume: 0n };

    const hotel = await readPartyRisk(context, { account: f.accounts.hotel });
    expect(hotel).to.deep.equal(
      measuredRisk([
        { agreementId: f.stay, shareBps: 6_000, counters: stayCounters },
        { agreementId: f.flight, shareBps: 5_000, counters: flightCounters },
      ]),
    );
    expect(hotel.estimate.evidence).to.be.closeTo(4 * 0.6 + 2 * 0.5, 1e-9);
    expect(hotel.reserveBps).to.be.greaterThan(0);
    expect(await readPartyRisk(context, { account: f.accounts.hotel, token: ETH as Address })).to.deep.equal(hotel);

    const airline = await readPartyRisk(context, { account: f.accounts.airline });
    expect(airline).to.deep.equal(measuredRisk([{ agreementId: f.flight, shareBps: 5_000, counters: flightCounters }]));
    expect(airline.estimate.evidence).to.be.closeTo(1, 1e-9);
  });

  it("leaves the prior for a stranger, a token nothing settled in, and a fromBlock after every proposal", async function () {
    const f = await loadFixture(fixture);
    const context = await contextOf(f);
    const prior = measuredRisk([]);
    expect(await readPartyRisk(context, { account: f.accounts.stranger })).to.deep.equal(prior);

    const otherToken = f.addresses.ledger; // any address in which nothing settled
    const inOtherToken = await readPartyRisk(context, { account: f.accounts.hotel, token: otherToken });
    expect(inOtherToken).to.deep.equal(
      measuredRisk([
        { agreementId: f.stay, shareBps: 6_000, counters: none },
        { agreementId: f.flight, shareBps: 5_000, counters: none },
      ]),
    );
    expect(inOtherToken.estimate.evidence).to.equal(0);

    const after = (await context.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    expect(await readPartyRisk(context, { account: f.accounts.hotel, fromBlock: after })).to.deep.equal(prior);
  });

  it("names an account or token that is not an address", async function () {
    const f = await loadFixture(fixture);
    const context = await contextOf(f);
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => readPartyRisk(context, { account: f.accounts.hotel, token: "0xnot-a-token" as Address }), 'token "0xnot-a-token" is not an address'],
      [() => readPartyRisk(context, { account: "0x1234" as Address }), 'account "0x1234" is not an address'],
    ];
    for (const [run, message] of cases) {
      let error: unknown;
      await run().catch((e: unknown) => (error = e));
      expect(error, message).to.be.instanceOf(InvalidInputError);
      expect((error as Error).message).to.contain(message);
    }
  });
});
