import { Command } from "commander";
import { examples, lazyAction, writes } from "../options";

export function moneyCommands(): Command[] {
  const balanceCmd = examples(
    new Command("balance")
      .argument("[address]", "the account (default: yours)")
      .description("withdrawable balance and what is still to claim from agreement pools")
      .option("--token <address>", "an ERC-20 token (default: ETH)"),
    ["concord balance $HOTEL", "concord balance --account 1 --json"],
  ).action(lazyAction(() => import("../actions/money"), "balance"));

  const withdrawCmd = examples(
    writes(new Command("withdraw"))
      .description("claim your shares from agreement pools, then withdraw your balance (pull payment)")
      .option("--token <address>", "an ERC-20 token (default: ETH)")
      .option("--to <address>", "send to this address instead of your own")
      .option("--amount <amount>", "amount in token units (default: everything)"),
    ["concord withdraw --account 1", "concord withdraw --keystore hotel.json --password-file pw.txt --to $TREASURY --amount 0.5"],
  ).action(lazyAction(() => import("../actions/money"), "withdrawBalance"));

  const riskCmd = examples(
    new Command("risk")
      .argument("<agreementId>")
      .description("an agreement's settlement and refund history, its refund rate by volume (dust weighs nothing) and the reserve it suggests")
      .option("--token <address>", "an ERC-20 token (default: ETH)")
      .option("--wei", "volumes in base units (wei) instead of token units"),
    ["concord risk 1", "concord risk 1 --json"],
  ).action(lazyAction(() => import("../actions/money"), "risk"));

  return [balanceCmd, withdrawCmd, riskCmd];
}
