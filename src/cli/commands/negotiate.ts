import { Command } from "commander";
import {
  acceptOffer,
  endNegotiation,
  expireNegotiation,
  getNegotiation,
  offerTerms,
  openNegotiation,
  withdrawAcceptance,
  type Terms,
} from "../../sdk";
import { contextFor, signerAddress } from "../context";
import { UsageError } from "../errors";
import { emit, table } from "../output";
import { parseDuration, parseId, parseInteger } from "../parse";
import { describeTerms, termsFromOptions, withTermsOptions, type TermsOptions } from "./agreement";
import { negotiateAgentCommand } from "./negotiateAgent";
import { examples, optionsOf } from "./shared";

const iso = (seconds: bigint | number) => new Date(Number(seconds) * 1000).toISOString();
const sharesOf = (terms: Terms) => terms.parties.map((p) => `${p.agreementId ? `#${p.agreementId}@${p.version}` : p.account.slice(0, 8)} ${p.shareBps}`).join(", ");

export function negotiateCommand(): Command {
  const negotiate = new Command("negotiate").description(
    "negotiate terms in rounds on chain (stacked alternating offers): open, offer, accept, withdraw-acceptance, end, expire, show, or run an automated agent",
  );

  examples(
    withTermsOptions(
      negotiate
        .command("open")
        .argument("<agreementId>")
        .description("open a negotiation with an opening offer (it counts as your acceptance); every account of the agreement's tree takes part")
        .option("--rounds <n>", "round limit (a round is one turn of every participant)", "10")
        .option("--duration <duration>", "time limit from now, at most 90 days, e.g. 2d", "1d")
        .option("--move-timeout <duration>", "after this long without a move anyone may expire it (at least 5m, at most the duration)", "1h"),
    ),
    ["concord negotiate open 1 --account 1 --shares 0xHotel=5000,0xRestaurant=3000,0xAirline=2000 --referral-fee 500 --order-signer 0xTravelSite --reserve 1000 --dispute-window 7d --move-timeout 30m"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<TermsOptions & { rounds: string; duration: string; moveTimeout: string }>(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const offer = await termsFromOptions(o, context);
    const roundLimit = parseInteger(o.rounds, "--rounds", 1, 2 ** 32 - 1);
    const duration = parseDuration(o.duration, "--duration");
    const moveTimeout = parseDuration(o.moveTimeout, "--move-timeout");
    const result = await openNegotiation(context, { agreementId, roundLimit, duration, moveTimeout, initialOffer: offer });
    emit(o, { agreementId, negotiationId: result.negotiationId, participants: result.participants, deadline: result.deadline, roundLimit, moveTimeout, transactionHash: result.hash }, () =>
      [
        `${signerAddress(context)} opened negotiation ${result.negotiationId} on agreement ${id}: ${roundLimit} rounds, until ${iso(result.deadline)}, ${moveTimeout} s per move at most`,
        `participants in turn order: ${result.participants.join(", ")}`,
      ].join("\n"),
    );
  });

  examples(withTermsOptions(negotiate.command("offer").argument("<agreementId>").description("make a counter-offer on your turn (it clears the others' acceptances)")), [
    "concord negotiate offer 1 --account 2 --shares 0xHotel=4500,0xRestaurant=3500,0xAirline=2000 --referral-fee 500 --order-signer 0xTravelSite --reserve 1000 --dispute-window 7d",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<TermsOptions>(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const terms = await termsFromOptions(o, context);
    const result = await offerTerms(context, { agreementId, terms });
    emit(o, { agreementId, move: result.move, offerHash: result.offerHash, transactionHash: result.hash }, () => `${signerAddress(context)} offered new terms on agreement ${id} (move ${result.move})`);
  });

  examples(negotiate.command("accept").argument("<agreementId>").description("accept the latest offer on your turn; the last acceptance activates it"), [
    "concord negotiate accept 1 --account 3",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const result = await acceptOffer(context, { agreementId });
    emit(o, { agreementId, move: result.move, agreed: result.agreed, version: result.version ?? null, transactionHash: result.hash }, () =>
      result.agreed
        ? `every participant accepted: agreement ${id} version ${result.version} is active`
        : `${signerAddress(context)} accepted the latest offer on agreement ${id} (move ${result.move})`,
    );
  });

  examples(negotiate.command("withdraw-acceptance").argument("<agreementId>").description("withdraw your acceptance of the latest offer, at any time (not a move)"), [
    "concord negotiate withdraw-acceptance 1 --account 1",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const result = await withdrawAcceptance(context, { agreementId });
    emit(o, { agreementId, withdrawn: true, transactionHash: result.hash }, () => `${signerAddress(context)} no longer accepts the latest offer on agreement ${id}`);
  });

  examples(negotiate.command("end").argument("<agreementId>").description("end the negotiation without agreement; any participant, at any time"), [
    "concord negotiate end 1 --account 2",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const result = await endNegotiation(context, { agreementId });
    emit(o, { agreementId, broken: true, transactionHash: result.hash }, () => `negotiation on agreement ${id} ended by ${signerAddress(context)}`);
  });

  examples(negotiate.command("expire").argument("<agreementId>").description("close a negotiation past its deadline, round limit or move timeout; anyone may"), [
    "concord negotiate expire 1 --account 4",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const result = await expireNegotiation(context, { agreementId });
    emit(o, { agreementId, expired: true, transactionHash: result.hash }, () => `negotiation on agreement ${id} closed as expired`);
  });

  examples(negotiate.command("show").argument("<agreementId>").description("the negotiation's state, whose turn it is, who accepts, and every offer"), [
    "concord negotiate show 1",
    "concord negotiate show 1 --json",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: false });
    const n = await getNegotiation(context, { agreementId });
    if (n.negotiationId === 0) throw new UsageError(`agreement ${id} was never negotiated`);
    const accepts = new Set(n.accepted.map((a) => a.toLowerCase()));
    emit(o, n, () =>
      [
        `negotiation ${n.negotiationId} of agreement ${id}: ${n.status}${n.nextMover ? `, next mover ${n.nextMover}` : ""}`,
        `${n.moves} moves of ${n.roundLimit * n.participants.length}; deadline ${iso(n.deadline)}; move timeout ${n.moveTimeout} s (last move ${iso(n.lastMoveAt)})`,
        table(n.participants.map((p, i) => ({ "#": i, participant: p, accepts: accepts.has(p.toLowerCase()) ? "yes" : "" }))),
        ...(n.latestOffer
          ? [`latest offer (move ${n.latestOffer.move} by ${n.latestOffer.proposer}): ${sharesOf(n.latestOffer.terms)}`, describeTerms(n.latestOffer.terms)]
          : []),
      ].join("\n"),
    );
  });

  negotiate.addCommand(negotiateAgentCommand());

  return negotiate;
}
