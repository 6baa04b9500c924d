import { Command } from "commander";
import { examples, lazyAction, writes } from "../options";
import { withTermsOptions } from "./agreement";
import { negotiateAgentCommand } from "./negotiateAgent";

export function negotiateCommand(): Command {
  const negotiate = new Command("negotiate").description(
    "negotiate terms in rounds on chain (stacked alternating offers): open, offer, accept, withdraw-acceptance, end, expire, show, or run an automated agent",
  );

  examples(
    withTermsOptions(
      writes(negotiate
        .command("open"))
        .argument("<agreementId>")
        .description("open a negotiation with an opening offer (it counts as your acceptance); every account of the agreement's tree takes part")
        .option("--rounds <n>", "round limit (a round is one turn of every participant)", "10")
        .option("--duration <duration>", "time limit from now, at most 90 days, e.g. 2d", "1d")
        .option("--move-timeout <duration>", "after this long without a move anyone may expire it (at least 5m, at most the duration)", "1h"),
    ),
    ["concord negotiate open 1 --account 1 --shares $HOTEL=5000,$RESTAURANT=3000,$AIRLINE=2000 --referral-fee 500 --order-signer $TRAVEL_SITE --reserve 1000 --dispute-window 7d --move-timeout 30m"],
  ).action(lazyAction(() => import("../actions/negotiate"), "open"));

  examples(withTermsOptions(writes(negotiate.command("offer")).argument("<agreementId>").description("make a counter-offer on your turn (it clears the others' acceptances)")), [
    "concord negotiate offer 1 --account 3 --shares $HOTEL=4500,$RESTAURANT=3000,$AIRLINE=2500 --referral-fee 500 --order-signer $TRAVEL_SITE --reserve 1000 --dispute-window 7d",
  ]).action(lazyAction(() => import("../actions/negotiate"), "offer"));

  examples(writes(negotiate.command("accept")).argument("<agreementId>").description("accept the latest offer on your turn; the last acceptance activates it"), [
    "concord negotiate accept 1 --account 2",
  ]).action(lazyAction(() => import("../actions/negotiate"), "accept"));

  examples(writes(negotiate.command("withdraw-acceptance")).argument("<agreementId>").description("withdraw your acceptance of the latest offer, at any time (not a move)"), [
    "concord negotiate withdraw-acceptance 1 --account 2",
  ]).action(lazyAction(() => import("../actions/negotiate"), "withdrawAcceptanceMove"));

  examples(writes(negotiate.command("end")).argument("<agreementId>").description("end the negotiation without agreement; any participant, at any time"), [
    "concord negotiate end 1 --account 2",
  ]).action(lazyAction(() => import("../actions/negotiate"), "end"));

  examples(writes(negotiate.command("expire")).argument("<agreementId>").description("close a negotiation past its deadline, round limit or move timeout; anyone may"), [
    "concord negotiate expire 1 --account 4",
  ]).action(lazyAction(() => import("../actions/negotiate"), "expire"));

  examples(negotiate.command("show").argument("<agreementId>").description("the negotiation's state, whose turn it is, who accepts, and every offer"), [
    "concord negotiate show 2",
    "concord negotiate show 2 --json",
  ]).action(lazyAction(() => import("../actions/negotiate"), "show"));

  negotiate.addCommand(negotiateAgentCommand());

  return negotiate;
}
