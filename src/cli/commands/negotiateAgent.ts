import { Command } from "commander";
import { TACTICS } from "../../negotiation/tactics";
import { DEFAULT_STANCE } from "../../negotiation/stanceDefaults";
import { examples, lazyAction } from "../options";

const HELP = `
What the agent does:
  It reads the open negotiation of the agreement from the chain, waits for your turn (polling every
  --poll-interval), and on each turn offers, accepts the latest offer, or ends the negotiation, as its
  tactic and your utility decide. It never accepts, and never offers, less than your reservation. Every
  move is simulated before it is sent, so a move that would revert costs nothing. It prints each round as
  it happens (yours and the others'), with your utility of the latest offer.
  Your utility weighs your share (risk-adjusted: expected refunds at your measured refund rate, money
  held in reserve) and how close the fee, reserve and window are to your ideals. The reserve you ask for
  follows your measured risk: a Beta estimate of the refund rate by volume over every agreement you are a
  party of (the ledger's own counters; dust settlements weigh nothing), as \`concord risk\` shows, unless
  --ideal-reserve is given.
  Tactics: boulware concedes late, linear steadily, conceder early, hardliner only at the end;
  tit-for-tat mirrors the others' concessions.
  When the negotiation lapses (deadline, round limit or move timeout) on your turn, the agent records the expiry
  on chain (one \`expire\` transaction). Run it again after a stop: it resumes from the chain's record.

Output: each round as it happens; with --json one document at the end (the rounds and the outcome);
  with --json-lines one JSON object per line: {"event":"start"}, {"event":"round"} per move, {"event":"result"}.

Exit codes: 0 agreed (the activated version is printed); 1 chain-side failure (RPC down, a move reverted);
  2 bad input, nothing sent (unknown tactic, reservation out of range, not a participant, no open negotiation);
  3 the negotiation ended without agreement (broken or expired); 5 stopped by --max-wait, the negotiation
  still open; 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM: a move already sent is waited for, never cut off.`;

export function negotiateAgentCommand(): Command {
  return examples(
    new Command("agent")
      .argument("<agreementId>")
      .description("run an automated agent for your party in the open negotiation, with a tactic and a reservation value, until it ends")
      .requiredOption("--tactic <name>", `how it concedes: ${Object.keys(TACTICS).join(" | ")}`)
      .requiredOption(
        "--reservation <value>",
        "the least you agree to: a utility from 0 to 1 (0.45), or a walk-away share (30%), the smallest share you would sign for at your ideal fee, reserve and window",
      )
      .option("--ideal-fee <bps>", "the referral fee you prefer, in basis points", String(DEFAULT_STANCE.idealReferralFeeBps))
      .option("--ideal-reserve <bps>", "the reserve you ask for, in basis points (default: what your measured refund risk recommends)")
      .option("--ideal-window <duration>", "the dispute window you prefer", `${DEFAULT_STANCE.idealDisputeWindowDays}d`)
      .option(
        "--weights <list>",
        "how much you care about money, fee, reserve and window: four numbers that sum to 1",
        Object.values(DEFAULT_STANCE.weights).join(","),
      )
      .option("--refund-exposure <fraction>", "the part of refunds beyond the reserve you pay yourself (1: merchant of record)", String(DEFAULT_STANCE.refundExposure))
      .option("--fee-elasticity <x>", "extra sales per unit of referral fee rate", String(DEFAULT_STANCE.feeElasticity))
      .option("--token <address>", "measure refund risk in this ERC-20 token (default: ETH)")
      .option("--seed <n>", "the agent's seed (default: from the agreement, the negotiation and your address)")
      .option("--poll-interval <ms>", "how often to read the chain while waiting for your turn", "1000")
      .option("--max-wait <duration>", "stop if no party moves for this long, e.g. 90s or 10m (default: wait until the negotiation ends)")
      .option("--from-block <n>", "first block to read Concord's events from, for the negotiation and your risk history (on a long chain: the deployment's block)", "0")
      .option("--json-lines", "print one JSON object per line as it happens: start, every round, the result")
      .addHelpText("after", HELP),
    [
      "concord negotiate agent 1 --account 2 --tactic boulware --reservation 30%",
      "concord negotiate agent 1 --keystore restaurant.json --password-file pw.txt --tactic conceder --reservation 0.4 --ideal-fee 300 --ideal-window 3d",
      "concord negotiate agent 1 --account 3 --tactic tit-for-tat --reservation 25% --max-wait 10m --json-lines | tee airline.jsonl",
    ],
  ).action(lazyAction(() => import("../actions/negotiateAgent"), "agent"));
}
