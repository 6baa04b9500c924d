import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { zeroAddress, type Address, type Hex } from "viem";
import { contextMoveSender, PartySetupError, playParty, termsForOffer, type PartyRound, type PlayPartyReturnType } from "../../src/negotiation/party";
import { agentsFor, randomScenario } from "../../src/negotiation/scenario";
import { simulate } from "../../src/negotiation/simulate";
import { DEFAULT_STANCE, StanceError, partyAgent, type PartyStance } from "../../src/negotiation/stance";
import { boulware, linear } from "../../src/negotiation/tactics";
import { offerToTerms, type ChainTerms } from "../../src/negotiation/terms";
import { getAgreement, getNegotiation, getVersion, hashTerms, openNegotiation, proposeAgreement } from "../../src/sdk";
import { deployConcord, sortAddresses } from "./fixture";

describe("playing one party of an on-chain negotiation (playParty)", function () {
  this.timeout(120_000);

  async function fixture() {
    const d = await deployConcord();
    const participants = sortAddresses(d.accounts.slice(1, 4));
    const outsider = d.accounts[7]!;
    const contexts = await Promise.all([...participants, outsider].map((a) => d.contextOf(a)));
    const fixed = { refundAuthority: participants[0]!, orderSigner: participants[0]!, documentHash: `0x${"cd".repeat(32)}` as Hex };
    const currentTerms = offerToTerms({ shares: [3_400, 3_300, 3_300], referralFeeBps: 0, reserveBps: 0, disputeWindow: 0 }, participants, fixed);
    const { agreementId: id } = await proposeAgreement(contexts[0]!, { terms: currentTerms });
    return { ...d, id, participants, outsider, contexts, currentTerms, fixed };
  }

  type Fixture = Awaited<ReturnType<typeof fixture>>;

  /** Opens the negotiation from participant 0 with `opening` terms: a week, a day per move. */
  async function open(f: Fixture, opening: ChainTerms, roundLimit: number): Promise<void> {
    await openNegotiation(f.contexts[0]!, { agreementId: f.id, roundLimit, duration: 7 * 86_400, moveTimeout: 86_400, initialOffer: opening, currentTerms: f.currentTerms });
  }
  const stateOf = (f: Fixture) => getNegotiation(f.contexts[0]!, { agreementId: f.id });

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
        playParty({ context: f.contexts[i]!, agreementId: f.id,
          agent: agents[i]!,
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

    const info = await getAgreement(f.contexts[0]!, { agreementId: f.id });
    expect(info.status).to.equal("active");
    expect(info.activeVersion).to.equal(outcome.version);
    expect((await getVersion(f.contexts[0]!, { agreementId: f.id, version: info.activeVersion })).termsHash).to.equal(hashTerms(outcome.terms));
    expect(outcome.termsHash).to.equal(hashTerms(outcome.terms));
  });

  it("without an overlap every party reports the same end: broken by the same party, which alone knows why", async function () {
    const f = await loadFixture(fixture);
    const scenario = randomScenario(77, { parties: 3, overlap: "none", roundLimit: 3 });
    const agents = agentsFor(scenario);
    const offline = simulate({ agents: agentsFor(scenario), roundLimit: 3, timeLimitSeconds: scenario.timeLimitSeconds });
    await open(f, offerToTerms(offline.entries[0]!.offer, f.participants, f.fixed), 3);
    const results = await Promise.all(
      f.participants.map((account, i) =>
        playParty({ context: f.contexts[i]!, agreementId: f.id, agent: agents[i]!, pollIntervalMs: 5 }),
      ),
    );
    const statuses = results.map((r) => r.outcome.status);
    expect(new Set(statuses).size).to.equal(1);
    const ended = offline.outcome;
    if (ended.status !== "broken") throw new Error(`scenario 77 should break offline, it ${ended.status}`);
    // Offline the end is the breaker's move; on chain a participant may end at any time, so it is no move.
    for (const r of results) expect(r.outcome).to.include({ status: "broken", by: ended.by, moves: ended.moves - 1 });
    expect(results[ended.by]!.outcome).to.have.property("reason", ended.reason);
    expect(results.filter((_, i) => i !== ended.by).every((r) => !("reason" in r.outcome))).to.equal(true);
    expect((await getAgreement(f.contexts[0]!, { agreementId: f.id })).status).to.equal("proposed");
  });

  it("when the deadline passes before its move, reports the expiry and records it on chain (the party whose turn it was)", async function () {
    const f = await loadFixture(fixture);
    await open(f, f.currentTerms, 5);
    const stance: PartyStance = { ...DEFAULT_STANCE, tactic: linear, idealReserveBps: 1_000, reservation: { utility: 0.2 } };
    const send = contextMoveSender(f.contexts[1]!);
    const calls: string[] = [];
    const result = await playParty({ context: f.contexts[1]!, agreementId: f.id,
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
    expect((await stateOf(f)).status).to.equal("expired");
  });

  describe("refuses before sending anything", function () {
    const stance: PartyStance = { ...DEFAULT_STANCE, tactic: linear, idealReserveBps: 1_000, reservation: { utility: 0.2 } };
    const agentFor = (setup: { participants: readonly unknown[]; self: number }) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 1 }).agent;

    it("when there is no open negotiation", async function () {
      const f = await loadFixture(fixture);
      const before = await blockNumber(f);
      const run = playParty({ context: f.contexts[1]!, agreementId: f.id, agent: agentFor });
      await expectSetupError(run, /agreement \d+ has no negotiation/);
      expect(await blockNumber(f)).to.equal(before);
    });

    it("when the account is not a participant", async function () {
      const f = await loadFixture(fixture);
      await open(f, f.currentTerms, 5);
      const before = await blockNumber(f);
      const run = playParty({ context: f.contexts[3]!, agreementId: f.id, agent: agentFor });
      await expectSetupError(run, /is not a participant of negotiation 1/);
      expect(await blockNumber(f)).to.equal(before);
    });

    it("when the agent cannot be made (the factory refuses)", async function () {
      const f = await loadFixture(fixture);
      await open(f, f.currentTerms, 5);
      const before = await blockNumber(f);
      const run = playParty({ context: f.contexts[1]!, agreementId: f.id,
        agent: (setup) => partyAgent({ ...setup, stance: { ...stance, reservation: { walkAwayShareBps: 9_500 } }, refundRate: 0.02, seed: 1 }).agent,
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
      const run = playParty({ context: f.contexts[2]!, agreementId: f.id,
        agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 3 }).agent,
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
      const send = contextMoveSender(f.contexts[1]!);
      const result = await playParty({ context: f.contexts[1]!, agreementId: f.id,
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
      expect((await stateOf(f)).moves).to.equal(2);
    });

    it("after --max-wait without a move by anyone", async function () {
      const f = await loadFixture(fixture);
      await open(f, f.currentTerms, 5);
      const started = Date.now();
      const result = await playParty({ context: f.contexts[2]!, agreementId: f.id,
        agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 3 }).agent,
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
        context: { ...f.contexts[2]!, publicClient },
        agreementId: f.id,
        agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 3 }).agent,
        pollIntervalMs: 5,
        maxWaitMs: 300,
      });
    // Reads 2-5 fail: four in a row are waited out.
    expect((await play(flaky((n) => n >= 2 && n <= 5))).outcome).to.include({ status: "stopped", cause: "max-wait" });
    let error: unknown;
    await play(flaky((n) => n >= 2)).catch((e: unknown) => (error = e));
    expect((error as Error | undefined)?.message).to.equal("socket hang up");
  });

  it("when nobody moves within the move timeout, reports it as the reason of the expiry", async function () {
    const f = await loadFixture(fixture);
    await open(f, f.currentTerms, 5);
    const stance: PartyStance = { ...DEFAULT_STANCE, tactic: linear, idealReserveBps: 1_000, reservation: { utility: 0.2 } };
    // Participant 2 sits down; participant 1, whose turn it is, never moves: two days pass (the timeout is one day, the deadline a week).
    const result = await playParty({
      context: f.contexts[2]!,
      agreementId: f.id,
      agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 5 }).agent,
      pollIntervalMs: 5,
      onStart: () => {
        void hre.network.provider.send("evm_increaseTime", [2 * 86_400]).then(() => hre.network.provider.send("evm_mine", []));
      },
    });
    expect(result.outcome).to.include({ status: "expired", moves: 1 });
    if (result.outcome.status !== "expired") throw new Error("not expired");
    expect(result.outcome.reason).to.equal("move timeout: nobody moved for 86400 s after move 1");
    // Not its turn: it leaves recording the expiry to the party that was to move (or anyone else).
    expect(result.transactions).to.deep.equal([]);
  });

  it("keeps the opener's refund authority, order signer, document hash and referrer list in its offers", function () {
    const participants = ["0x0000000000000000000000000000000000000001", "0x0000000000000000000000000000000000000002"] as Address[];
    const opening: ChainTerms = {
      parties: participants.map((account) => ({ account, agreementId: 0n, version: 0, shareBps: 5_000 })),
      referralFeeBps: 500,
      referrers: ["0x00000000000000000000000000000000000000aa"],
      reserveBps: 1_000,
      disputeWindow: 86_400,
      refundAuthority: participants[1]!,
      orderSigner: zeroAddress,
      dustPartyIndex: 0,
      documentHash: `0x${"11".repeat(32)}`,
    };
    const offer = { shares: [6_000, 4_000], referralFeeBps: 300, reserveBps: 500, disputeWindow: 3 * 86_400 };
    expect(termsForOffer(offer, { participants, opening })).to.deep.include({ referrers: opening.referrers, refundAuthority: participants[1], orderSigner: zeroAddress, documentHash: opening.documentHash });
    // No fee, no referrers (the registry's rule); with an order signer its intents name the referrer.
    expect(termsForOffer({ ...offer, referralFeeBps: 0 }, { participants, opening })).to.deep.include({ referralFeeBps: 0, referrers: [] });
    const merchant = "0x00000000000000000000000000000000000000bb" as Address;
    expect(termsForOffer(offer, { participants, opening: { ...opening, referrers: [], orderSigner: merchant } })).to.deep.include({ orderSigner: merchant, referrers: [] });
    expect(() => termsForOffer(offer, { participants, opening: { ...opening, referralFeeBps: 0, referrers: [] } })).to.throw("needs the referrers who may earn it");
  });
});

async function expectSetupError(run: Promise<unknown>, message: RegExp): Promise<void> {
  let error: unknown;
  await run.catch((e: unknown) => (error = e));
  expect(error).to.be.instanceOf(PartySetupError);
  expect((error as Error).message).to.match(message);
}
