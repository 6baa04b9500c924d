import { Command } from "commander";
import { negotiationHubAbi, getAgreement, getConcordEvents, getVersion, simulateAndWrite, contractAddresses, type Terms } from "../../sdk";
import type { ConcordContext } from "../../sdk";
import { contextFor, signerAddress } from "../context";
import { UsageError } from "../errors";
import { emit, table } from "../output";
import { parseDuration, parseId, parseInteger } from "../parse";
import { termsFromOptions } from "./agreement";
import { negotiateAgentCommand } from "./negotiateAgent";
import { examples, optionsOf } from "./shared";

const STATUS = ["none", "open", "agreed", "broken", "expired"];

/** The latest offer of the open negotiation of an agreement, from the hub's events. */
async function latestOffer(context: ConcordContext, agreementId: bigint): Promise<Terms> {
  const events = await getConcordEvents(context, { contracts: ["negotiationHub"], eventNames: ["OfferMade"] });
  const mine = events.filter((e) => e.args.agreementId === agreementId);
  const last = mine[mine.length - 1];
  if (!last) throw new UsageError(`agreement ${agreementId} has no negotiation offer`);
  return last.args.terms as Terms;
}

/** The terms in force: the active version, or the latest proposed one. */
async function currentTerms(context: ConcordContext, agreementId: bigint): Promise<Terms> {
  const info = await getAgreement(context, { agreementId });
  return (await getVersion(context, { agreementId, version: info.activeVersion || info.latestVersion })).terms;
}

async function move(context: ConcordContext, functionName: "offer" | "accept" | "end" | "open" | "expire", args: readonly unknown[]) {
  const { negotiationHub } = await contractAddresses(context);
  return simulateAndWrite(context, { address: negotiationHub, abi: negotiationHubAbi, functionName, args });
}

function withOfferOptions(command: Command): Command {
  return command
    .requiredOption("--shares <list>", "offered parties and basis points: 0xHotel=5000,0xRestaurant=3000,0xAirline=2000")
    .option("--referral-fee <bps>", "referral fee in basis points", "0")
    .option("--referrer-policy <policy>", "none | open | allowlist")
    .option("--referrers <list>", "allowlisted referrers")
    .option("--reserve <bps>", "reserve in basis points", "0")
    .option("--dispute-window <duration>", "seconds or 7d")
    .option("--refund-authority <address>", "who may refund")
    .option("--dust-party <address|#id>", "who receives rounding dust");
}

export function negotiateCommand(): Command {
  const negotiate = new Command("negotiate").description(
    "negotiate terms in rounds on chain (stacked alternating offers): open, offer, accept, end, show, or run an automated agent",
  );

  examples(
    withOfferOptions(
      negotiate
        .command("open")
        .argument("<agreementId>")
        .description("open a negotiation with an opening offer (it counts as your acceptance)")
        .option("--rounds <n>", "round limit", "10")
        .option("--duration <duration>", "time limit from now, e.g. 1h or 2d", "1d"),
    ),
    ["concord negotiate open 1 --account 1 --shares 0xHotel=5000,0xRestaurant=3000,0xAirline=2000 --referral-fee 500 --reserve 1000 --dispute-window 7d"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<Parameters<typeof termsFromOptions>[0] & { rounds: string; duration: string }>(command);
    const agreementId = parseId(id, "agreement id");
    const offer = termsFromOptions(o);
    const context = await contextFor(o, { signer: true });
    const now = (await context.publicClient.getBlock({ blockTag: "latest" })).timestamp;
    const deadline = now + BigInt(parseDuration(o.duration, "--duration"));
    const rounds = parseInteger(o.rounds, "--rounds", 1, 1_000_000);
    const result = await move(context, "open", [agreementId, rounds, deadline, offer, await currentTerms(context, agreementId)]);
    emit(o, { agreementId, deadline, roundLimit: rounds, transactionHash: result.hash }, () =>
      `${signerAddress(context)} opened a negotiation on agreement ${id}: ${rounds} rounds, until ${new Date(Number(deadline) * 1000).toISOString()}`,
    );
  });

  examples(withOfferOptions(negotiate.command("offer").argument("<agreementId>").description("make a counter-offer on your turn")), [
    "concord negotiate offer 1 --account 2 --shares 0xHotel=4500,0xRestaurant=3500,0xAirline=2000 --referral-fee 500 --reserve 1000 --dispute-window 7d",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<Parameters<typeof termsFromOptions>[0]>(command);
    const offer = termsFromOptions(o);
    const context = await contextFor(o, { signer: true });
    const result = await move(context, "offer", [parseId(id, "agreement id"), offer]);
    emit(o, { agreementId: BigInt(id), transactionHash: result.hash }, () => `${signerAddress(context)} offered new terms on agreement ${id}`);
  });

  examples(negotiate.command("accept").argument("<agreementId>").description("accept the latest offer on your turn; the last acceptance activates it"), [
    "concord negotiate accept 1 --account 3",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const result = await move(context, "accept", [agreementId, await latestOffer(context, agreementId)]);
    const agreed = result.events.find((e) => e.eventName === "NegotiationAgreed");
    emit(o, { agreementId, agreed: Boolean(agreed), version: agreed?.args.version ?? null, transactionHash: result.hash }, () =>
      agreed
        ? `every party accepted: agreement ${id} version ${String(agreed.args.version)} is active`
        : `${signerAddress(context)} accepted the latest offer on agreement ${id}`,
    );
  });

  examples(negotiate.command("end").argument("<agreementId>").description("end the negotiation on your turn (it breaks)"), [
    "concord negotiate end 1 --account 2",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const context = await contextFor(o, { signer: true });
    const result = await move(context, "end", [parseId(id, "agreement id")]);
    emit(o, { agreementId: BigInt(id), transactionHash: result.hash }, () => `negotiation on agreement ${id} broken by ${signerAddress(context)}`);
  });

  examples(negotiate.command("show").argument("<agreementId>").description("the negotiation's state, whose turn it is and every round"), [
    "concord negotiate show 1",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: false });
    const { negotiationHub } = await contractAddresses(context);
    const state = await context.publicClient.readContract({ address: negotiationHub, abi: negotiationHubAbi, functionName: "negotiation", args: [agreementId] });
    const next = await context.publicClient
      .readContract({ address: negotiationHub, abi: negotiationHubAbi, functionName: "nextMover", args: [agreementId] })
      .catch(() => null);
    const events = (await getConcordEvents(context, { contracts: ["negotiationHub"] })).filter((e) => e.args.agreementId === agreementId);
    emit(o, { state, nextMover: next, rounds: events.map((e) => ({ event: e.eventName, block: e.blockNumber, args: e.args })) }, () =>
      [
        `negotiation of agreement ${id}: ${STATUS[Number((state as { status: number }).status)] ?? "unknown"}${next ? `, next mover ${next}` : ""}`,
        table(
          events.map((e) => ({
            block: e.blockNumber,
            event: e.eventName,
            by: String(e.args.proposer ?? e.args.party ?? e.args.opener ?? ""),
            shares: e.args.terms ? (e.args.terms as Terms).parties.map((p) => p.shareBps).join("/") : "",
            fee: e.args.terms ? String((e.args.terms as Terms).referralFeeBps) : "",
            reserve: e.args.terms ? String((e.args.terms as Terms).reserveBps) : "",
          })),
        ),
      ].join("\n"),
    );
  });

  negotiate.addCommand(negotiateAgentCommand());

  return negotiate;
}
