import { Command } from "commander";
import { examples, lazyAction, writes } from "../options";

export function settleCommands(): Command[] {
  const settleCmd = examples(
    writes(new Command("settle"))
      .argument("[agreementId]", "the agreement (a direct payment); not with --intent")
      .description("pay for an order once: a direct payment, or a merchant's signed intent (--intent); the split is made on chain")
      .option("--intent <file>", "pay the payment intent a merchant signed (`concord intent sign`): anyone may")
      .option("--amount <amount>", "gross amount in token units (e.g. 1.5)")
      .option("--token <address>", "an ERC-20 token (default: ETH)")
      .option("--referrer <address>", "the channel that brought the customer (one the terms list)")
      .option("--order-id <id>", "your order id (never put personal data in it): the same id always gives the same reference, so a retry is refused")
      .option("--salt <bytes32>", "the order's salt (default: derived from the order id and your order key, $CONCORD_HOME or ~/.concord/order-key)")
      .option("--order-ref <bytes32>", "an order reference made off chain, instead of --order-id")
      .option("--beneficiary <address>", "who a refund is credited to (default: you, the payer)")
      .option("--permit", "pay an EIP-2612 token with a permit instead of an approval")
      .option("--approve", "approve the ledger for the amount first if the allowance is short"),
    [
      "concord settle 3 --account 6 --amount 1.5 --referrer $TRAVEL_SITE --order-id BKG-1001   # agreement 3 takes direct payments",
      "concord settle --intent booking-1001.intent.json --account 5",
      "concord settle --intent booking-1002.intent.json --account 6 --permit",
    ],
  ).action(lazyAction(() => import("../actions/settle"), "pay"));

  const intent = new Command("intent").description("payment intents: the merchant of record signs a payment that anyone may pay");
  examples(
    intent
      .command("sign")
      .argument("<agreementId>")
      .description("sign a payment intent as the agreement's order signer (EIP-712), offline: writes a file the customer pays with `settle --intent`")
      .requiredOption("--amount <amount>", "gross amount in token units")
      .option("--token <address>", "an ERC-20 token (default: ETH)")
      .option("--referrer <address>", "the channel that brought the customer (you attest it)")
      .option("--order-id <id>", "your order id (never put personal data in it): the same id always gives the same reference, so a retry is refused")
      .option("--salt <bytes32>", "the order's salt (default: derived from the order id and your order key, $CONCORD_HOME or ~/.concord/order-key)")
      .option("--order-ref <bytes32>", "an order reference made off chain, instead of --order-id")
      .option("--beneficiary <address>", "who a refund is credited to (default: whoever pays)")
      .option("--valid-for <duration>", "how long the intent can be paid, from the latest block", "1d")
      .requiredOption("--out <file>", "write the intent here"),
    ["concord intent sign 1 --account 4 --amount 1.5 --referrer $TRAVEL_SITE --order-id BKG-1001 --out booking-1001.intent.json"],
  ).action(lazyAction(() => import("../actions/settle"), "signIntentFile"));

  const quoteCmd = examples(
    new Command("quote")
      .argument("<agreementId>")
      .description("preview the exact split of a payment (no transaction)")
      .requiredOption("--amount <amount>", "gross amount in token units")
      .option("--token <address>", "an ERC-20 token (default: ETH)")
      .option("--referrer <address>", "the referrer, if any"),
    ["concord quote 1 --amount 1.5 --referrer $TRAVEL_SITE"],
  ).action(lazyAction(() => import("../actions/settle"), "quote"));

  return [settleCmd, intent, quoteCmd];
}
