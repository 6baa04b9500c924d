import { Command } from "commander";
import { examples, lazyAction, writes } from "../options";

export function withSettlementOptions(command: Command, entry: boolean): Command {
  command.option("--lot <id>", "the reserve lot (named in the settlement's output and its Settled event)");
  if (entry) command.option("--entry <n>", "with --lot: the settlement's index in the lot");
  return command
    .option("--order-ref <bytes32>", "or: the settlement's order reference")
    .option("--scope <address>", "with --order-ref: the order signer (intents) or the payer (direct payments)");
}

export function reserveCommands(): Command[] {
  const reserve = new Command("reserve").description("reserves held against refunds, in lots (the reserves of one call's settlements into one pool)");

  examples(withSettlementOptions(reserve.command("show").description("a reserve lot: its state, release time and every settlement's reserve"), false), [
    "concord reserve show --lot 1234…",
    "concord reserve show --order-ref 0x5b1c… --scope $TRAVEL_SITE --json",
  ]).action(lazyAction(() => import("../actions/reserve"), "show"));

  examples(withSettlementOptions(writes(reserve.command("release")).description("release a lot's reserve into its pool after the dispute window (anyone may)"), false), [
    "concord reserve release --lot $LOT --account 0   # LOT: the lot a settlement printed",
    "concord reserve release --order-ref $ORDER_REF --scope $TRAVEL_SITE --account 0",
  ]).action(lazyAction(() => import("../actions/reserve"), "release"));

  const refundCmd = examples(
    withSettlementOptions(
      writes(new Command("refund"))
        .description("refund from a settlement's reserve to its refund beneficiary, inside the dispute window (the refund authority only)")
        .requiredOption("--amount <amount>", "amount in token units"),
      true,
    ),
    [
      "concord refund --order-ref $ORDER_REF --scope $TRAVEL_SITE --account 1 --amount 0.05   # ORDER_REF=$(jq -r .payment.orderRef booking-1001.intent.json)",
      "concord refund --lot $LOT --entry 0 --account 1 --amount 0.05",
    ],
  ).action(lazyAction(() => import("../actions/reserve"), "refundSettlement"));

  return [reserve, refundCmd];
}
