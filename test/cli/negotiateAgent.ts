import { expect } from "chai";
import hre from "hardhat";
import { createPublicClient, createWalletClient, getAddress, http, type Abi, type Address, type Hex, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import {
  buildTerms,
  contractAddresses,
  createConcordContext,
  getAgreement,
  getConcordEvents,
  getVersion,
  hashTerms,
  openNegotiation,
  proposeAgreement,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { spawnConcord, type CliProcess } from "../helpers/cli";
import { startHardhatNode, type LocalNode } from "../helpers/processes";


// hardhat node's accounts 1-3: the partners; account 5 is no party.
const HOTEL = getAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
/** The travel site (dev account 4): the one referrer direct payments may name. */
const TRAVEL_SITE = getAddress("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65");
const RESTAURANT = getAddress("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
const AIRLINE = getAddress("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
const DEPLOYER = getAddress("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

type Run = Awaited<CliProcess["done"]>;

/**
 * The CLI's entry point run in this process (the same `main` the binary calls), its output and
 * exit code captured: for the cases that fail before any move, so that the suite stays quick.
 */
async function concordInProcess(args: string[]): Promise<Run> {
  const { main } = await import("../../src/cli/main");
  let stdout = "";
  let stderr = "";
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const savedCode = process.exitCode;
  const savedKey = process.env.CONCORD_PRIVATE_KEY;
  delete process.env.CONCORD_PRIVATE_KEY;
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
  try {
    await main(["node", "concord", ...args]);
    return { code: Number(process.exitCode ?? 0), signal: null, stdout, stderr };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    process.exitCode = savedCode;
    if (savedKey !== undefined) process.env.CONCORD_PRIVATE_KEY = savedKey;
  }
}

describe("concord negotiate agent (separate processes against a hardhat node)", function () {
  this.timeout(240_000);
  let node: LocalNode;
  let env: Record<string, string>;
  let addressArgs: string[];
  let publicClient: PublicClient;
  let context: ConcordContext;
  /** Agreements set up in `before`: one negotiation opened by the CLI, others through the SDK. */
  const ids = { story: 0n, noOverlap: 0n, waiting: 0n, neverNegotiated: 0n };

  const concord = (args: string[]) => spawnConcord([...addressArgs, ...args], env).done;
  const blockNumber = () => publicClient.getBlockNumber({ cacheTime: 0 });
  const termsOf = (shares: [Address, number][]): Terms =>
    buildTerms({
      parties: shares.map(([account, shareBps]) => ({ account, shareBps })),
      referralFeeBps: 500,
      referrers: [TRAVEL_SITE],
      reserveBps: 1_000,
      disputeWindow: 7 * 86_400,
      refundAuthority: HOTEL,
    });
  const asParty = async (account: Address) => createConcordContext({ ...context, walletClient: createWalletClient({ account, chain: hardhat, transport: http(node.url) }) });
  /** Proposes `terms` from the hotel and, with `rounds`, opens a negotiation from the hotel with them as the opening offer. */
  const setUp = async (terms: Terms, rounds?: number): Promise<bigint> => {
    const hotel = await asParty(HOTEL);
    const { agreementId } = await proposeAgreement(hotel, { terms });
    if (rounds !== undefined) {
      await openNegotiation(hotel, { agreementId, roundLimit: rounds, duration: 86_400, moveTimeout: 3_600, initialOffer: terms, currentTerms: terms });
    }
    return agreementId;
  };

  before(async function () {
    node = await startHardhatNode();
    publicClient = createPublicClient({ chain: hardhat, transport: http(node.url) }) as PublicClient;
    // Deployed directly (not through `concord deploy`), so that no deployment record is written in the repository.
    const deployer = createWalletClient({ account: DEPLOYER, chain: hardhat, transport: http(node.url) });
    const deploy = async (name: string, args: unknown[]) => {
      const artifact = await hre.artifacts.readArtifact(name);
      const hash = await deployer.deployContract({ abi: artifact.abi as Abi, bytecode: artifact.bytecode as Hex, args });
      return getAddress((await publicClient.waitForTransactionReceipt({ hash })).contractAddress!);
    };
    const registry = await deploy("AgreementRegistry", []);
    const ledger = await deploy("SettlementLedger", [registry]);
    addressArgs = ["--registry", registry, "--ledger", ledger];
    env = { CONCORD_RPC_URL: node.url, CONCORD_PRIVATE_KEY: "" };
    context = await createConcordContext({ publicClient, addresses: { registry, ledger }, chainId: hardhat.id });

    // The hotel opens the story's negotiation through the CLI, with the proposal as its opening offer.
    ids.story = await setUp(termsOf([[HOTEL, 5_000], [RESTAURANT, 3_000], [AIRLINE, 2_000]]));
    const opened = await concord([
      "negotiate", "open", String(ids.story), "--account", "1", "--rounds", "10", "--duration", "1d",
      "--shares", `${HOTEL}=5000,${RESTAURANT}=3000,${AIRLINE}=2000`, "--referral-fee", "500", "--referrers", TRAVEL_SITE, "--reserve", "1000", "--dispute-window", "7d", "--refund-authority", HOTEL,
    ]);
    expect(opened.code, opened.stderr).to.equal(0);

    const even = termsOf([[HOTEL, 3_400], [RESTAURANT, 3_300], [AIRLINE, 3_300]]);
    ids.noOverlap = await setUp(even, 3);
    ids.waiting = await setUp(even, 5);
    ids.neverNegotiated = await setUp(even);
  });
  after(async function () {
    await node?.stop();
  });

  it("documents the command, its reservation forms and its exit codes in --help", async function () {
    const help = await concordInProcess(["negotiate", "agent", "--help"]);
    expect(help.code).to.equal(0);
    for (const text of ["--tactic <name>", "--reservation <value>", "--poll-interval <ms>", "--max-wait <duration>", "walk-away share", "Exit codes", "Examples:"]) {
      expect(help.stdout).to.include(text);
    }
  });

  it("three partners' agents, run at once with different tactics and overlapping reservations, agree; the active version is the accepted offer", async function () {
    const common = ["negotiate", "agent", String(ids.story), "--poll-interval", "100"];
    const [hotel, restaurant, airline] = await Promise.all([
      concord([...common, "--account", "1", "--tactic", "boulware", "--reservation", "30%", "--json"]),
      concord([...common, "--account", "2", "--tactic", "conceder", "--reservation", "25%", "--ideal-fee", "300", "--json-lines"]),
      concord([...common, "--account", "3", "--tactic", "tit-for-tat", "--reservation", "20%", "--ideal-window", "14d"]),
    ]);
    for (const run of [hotel!, restaurant!, airline!]) expect(run.code, run.stderr + run.stdout).to.equal(0);

    // --json: one document at the end.
    const hotelDoc = JSON.parse(hotel!.stdout);
    // --json-lines: a start line, a line per round, a result line.
    const lines = restaurant!.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0].event).to.equal("start");
    expect(lines[0].risk.recommendedReserveBps).to.be.a("number");
    expect(lines[0]).to.deep.include({ tactic: "conceder", participants: [RESTAURANT, HOTEL, AIRLINE] });
    expect(lines.slice(1, -1).every((l) => l.event === "round")).to.equal(true);
    const restaurantDoc = lines[lines.length - 1];
    expect(restaurantDoc.event).to.equal("result");
    expect(restaurantDoc.rounds).to.have.length(lines.length - 2);
    // Human: every round as it happened, then the activated version.
    expect(airline!.stdout).to.match(/tactic tit-for-tat; reservation 0\.\d{3} \(= a 20% share at fee 5%/);
    expect(airline!.stdout).to.match(/\n\s+1\s+1\s+0x7099…79C8\s+offer/);

    const outcome = hotelDoc.outcome;
    expect(outcome.status).to.equal("agreed");
    for (const doc of [hotelDoc, restaurantDoc]) {
      expect(doc.outcome).to.deep.include({ status: "agreed", version: outcome.version, termsHash: outcome.termsHash });
      expect(doc.outcome.utility).to.be.at.least(doc.reservation.utility);
      expect(doc.transactions.length).to.be.greaterThan(0);
    }
    expect(airline!.stdout).to.include(`agreement ${ids.story} version ${outcome.version} is active (terms hash ${outcome.termsHash})`);
    // All three saw the same rounds.
    expect(restaurantDoc.rounds.map((r: { transactionHash: string }) => r.transactionHash)).to.deep.equal(hotelDoc.rounds.map((r: { transactionHash: string }) => r.transactionHash));

    // On chain: the agreement is active at the agreed version, whose terms are the accepted offer.
    const agreement = await getAgreement(context, { agreementId: ids.story });
    expect(agreement.status).to.equal("active");
    expect(agreement.activeVersion).to.equal(outcome.version);
    const version = await getVersion(context, { agreementId: ids.story, version: outcome.version });
    expect(version.termsHash).to.equal(outcome.termsHash);
    const offers = (await getConcordEvents(context, { events: ["OfferMade"] })).filter((e) => e.args.agreementId === ids.story);
    const accepted = offers[offers.length - 1]!.args.terms;
    expect(hashTerms(accepted)).to.equal(version.termsHash);
    expect(version.terms.parties.map((p) => [p.account, p.shareBps])).to.deep.equal(
      outcome.offer.shares.map((s: { account: string; shareBps: number }) => [s.account, s.shareBps]),
    );
    expect([version.terms.referralFeeBps, version.terms.reserveBps, version.terms.disputeWindow]).to.deep.equal([
      outcome.offer.referralFeeBps,
      outcome.offer.reserveBps,
      outcome.offer.disputeWindow,
    ]);
    // Every move the agents reported is on chain, made by the party they named.
    const moves = hotelDoc.rounds.filter((r: { mine: boolean }) => r.mine).map((r: { transactionHash: string }) => r.transactionHash);
    expect(moves.length).to.be.greaterThan(0);
    for (const hash of moves) expect((await publicClient.getTransaction({ hash })).from.toLowerCase()).to.equal(HOTEL.toLowerCase());
  });

  it("exits 3 for every agent when the reservations leave nothing to agree on, and the agreement stays proposed", async function () {
    const common = ["negotiate", "agent", String(ids.noOverlap), "--poll-interval", "100", "--json", "--tactic", "hardliner"];
    const runs = await Promise.all(["1", "2", "3"].map((account) => concord([...common, "--account", account, "--reservation", "60%"])));
    const outcomes = runs.map((run) => {
      expect(run.code, run.stderr + run.stdout).to.equal(3);
      return JSON.parse(run.stdout).outcome;
    });
    expect(outcomes[0].status).to.be.oneOf(["broken", "expired"]);
    for (const o of outcomes) expect(o).to.deep.include({ status: outcomes[0].status, moves: outcomes[0].moves });
    expect((await getAgreement(context, { agreementId: ids.noOverlap })).status).to.equal("proposed");
  });

  it("stops cleanly on SIGTERM while waiting for its turn (exit 143, nothing sent) and after --max-wait (exit 5)", async function () {
    // The restaurant's turn comes after the airline's, which no one plays here.
    const before = await blockNumber();
    const waiting = spawnConcord(
      [...addressArgs, "negotiate", "agent", String(ids.waiting), "--account", "2", "--tactic", "linear", "--reservation", "0.3", "--poll-interval", "100", "--json-lines"],
      env,
    );
    await waiting.started;
    waiting.child.kill("SIGTERM");
    const stopped = await waiting.done;
    expect(stopped.code, stopped.stderr).to.equal(143);
    expect(stopped.stderr).to.match(/SIGTERM: stopping/);
    const result = JSON.parse(stopped.stdout.trim().split("\n").pop()!);
    expect(result).to.deep.include({ event: "result", transactions: [] });
    expect(result.outcome).to.deep.include({ status: "stopped", cause: "signal", moves: 1 });

    const timedOut = await concord(["negotiate", "agent", String(ids.waiting), "--account", "2", "--tactic", "linear", "--reservation", "0.3", "--poll-interval", "100", "--max-wait", "1s"]);
    expect(timedOut.code, timedOut.stderr).to.equal(5);
    expect(timedOut.stdout).to.match(/no participant moved for 1 s; stopped waiting after move 1; the negotiation is still open; run the agent again to resume/);
    expect(await blockNumber()).to.equal(before);
  });

  describe("bad input: one clear line, exit 2, nothing sent", function () {
    const agent = (id: () => bigint, ...args: string[]) => () => ["negotiate", "agent", String(id()), ...args];
    const cases: Array<{ name: string; args: () => string[]; message: RegExp }> = [
      { name: "an unknown tactic", args: agent(() => ids.waiting, "--account", "2", "--tactic", "stubborn", "--reservation", "0.3"), message: /--tactic "stubborn" is not a tactic: use boulware, linear, conceder, hardliner, tit-for-tat/ },
      { name: "a reservation utility above 1", args: agent(() => ids.waiting, "--account", "2", "--tactic", "linear", "--reservation", "1.5"), message: /--reservation 1\.5 is out of range: a utility is from 0 to 1/ },
      { name: "a walk-away share above 100%", args: agent(() => ids.waiting, "--account", "2", "--tactic", "linear", "--reservation", "120%"), message: /--reservation 120% is out of range/ },
      { name: "a reservation that is not a number", args: agent(() => ids.waiting, "--account", "2", "--tactic", "linear", "--reservation", "lots"), message: /--reservation "lots" is not a utility from 0 to 1 \(0\.45\) or a walk-away share \(30%\)/ },
      { name: "a walk-away share no offer can give", args: agent(() => ids.waiting, "--account", "2", "--tactic", "linear", "--reservation", "95%"), message: /a walk-away share of 95% is more than any offer gives one of 3 participants \(at most 90%/ },
      { name: "a reservation utility no offer reaches", args: agent(() => ids.waiting, "--account", "2", "--tactic", "linear", "--reservation", "0.999"), message: /reservation 0\.999 is above the most any offer gives this party/ },
      { name: "weights that do not sum to 1", args: agent(() => ids.waiting, "--account", "2", "--tactic", "linear", "--reservation", "0.3", "--weights", "0.5,0.5,0.5,0"), message: /--weights "0\.5,0\.5,0\.5,0" sum to 1\.5; they must sum to 1/ },
      { name: "an account that is not a party", args: agent(() => ids.waiting, "--account", "5", "--tactic", "linear", "--reservation", "0.3"), message: /0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc is not a participant of negotiation 1 on agreement \d+/ },
      { name: "an agreement without a negotiation", args: agent(() => ids.neverNegotiated, "--account", "2", "--tactic", "linear", "--reservation", "0.3"), message: /agreement \d+ has no negotiation; nothing was sent/ },
      { name: "an unknown agreement", args: agent(() => 999n, "--account", "2", "--tactic", "linear", "--reservation", "0.3"), message: /agreement 999 does not exist/ },
      { name: "no signing account", args: agent(() => ids.waiting, "--tactic", "linear", "--reservation", "0.3"), message: /this command signs/ },
      { name: "--json with --json-lines", args: agent(() => ids.waiting, "--account", "2", "--tactic", "linear", "--reservation", "0.3", "--json", "--json-lines"), message: /not both/ },
    ];

    const check = (run: Run, c: (typeof cases)[number]) => {
      expect(run.code, `${c.name}: ${run.stderr}`).to.equal(2);
      expect(run.stderr, c.name).to.match(c.message);
      // With --json the one line is the JSON error document ({"error": {"code", "message"}}).
      const lines = run.stderr.trim().split("\n");
      if (c.args().includes("--json")) {
        expect(lines, c.name).to.have.length(1);
        expect(JSON.parse(lines[0]!).error.message, c.name).to.match(c.message);
      } else {
        expect(lines.filter((l) => l.startsWith("error:")), c.name).to.have.length(1);
      }
      expect(run.stdout, c.name).to.equal("");
    };

    it(`rejects ${cases.map((c) => c.name).join(", ")}`, async function () {
      const before = await blockNumber();
      for (const c of cases) check(await concordInProcess(["--rpc-url", node.url, ...addressArgs, ...c.args()]), c);
      expect(await blockNumber()).to.equal(before);
    });

    it("rejects them the same way from a separate process (an unknown tactic, an account that is not a party)", async function () {
      const before = await blockNumber();
      const chosen = [cases[0]!, cases.find((c) => c.name === "an account that is not a party")!];
      const runs = await Promise.all(chosen.map((c) => concord(c.args())));
      runs.forEach((run, i) => check(run, chosen[i]!));
      expect(await blockNumber()).to.equal(before);
    });

    it("rejects an agent for a negotiation that has already agreed", async function () {
      const run = await concordInProcess(["--rpc-url", node.url, ...addressArgs, "negotiate", "agent", String(ids.story), "--account", "2", "--tactic", "linear", "--reservation", "0.3"]);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/agreement \d+ has no open negotiation: negotiation 1 is agreed; nothing was sent/);
    });
  });
});
