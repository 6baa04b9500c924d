import { Command } from "commander";
import { examples, lazyAction, writes } from "../options";

export function withTermsOptions(command: Command): Command {
  return command
    .requiredOption("--shares <list>", "parties and basis points: 0xHotel=5000,0xRestaurant=3000,#4@1=2000 (#N@V: nested agreement N pinned to version V; #N: its active version)")
    .option("--referral-fee <bps>", "referral fee in basis points (at most 2,000)", "0")
    .option("--order-signer <address>", "the merchant of record: only its signed payment intents settle, and they name the referrer")
    .option("--referrers <list>", "without an order signer: the referrers a direct payment may name (required with a fee)")
    .option("--reserve <bps>", "reserve held per settlement, in basis points (at most 5,000)", "0")
    .option("--dispute-window <duration>", "how long reserves are held: seconds or 7d, 12h (required with a reserve)")
    .option("--refund-authority <address>", "who may refund from reserves")
    .option("--dust-party <address|#id>", "the party that receives rounding dust (default: the first party)")
    .option("--document <file>", "an off-chain contract whose keccak256 goes in the terms")
    .option("--document-hash <bytes32>", "the document hash itself");
}

export function agreementCommand(): Command {
  const agreement = new Command("agreement").description("propose, sign, approve, activate, amend, terminate and query agreements");

  examples(
    withTermsOptions(writes(agreement.command("propose")).description("propose a new agreement (first version of its terms)")),
    [
        "concord agreement propose --account 1 --shares $HOTEL=5000,$RESTAURANT=3000,$AIRLINE=2000 --referral-fee 500 --order-signer $TRAVEL_SITE --reserve 1000 --dispute-window 7d --refund-authority $HOTEL",
      "concord agreement propose --account 1 --shares $HOTEL=7000,#2@1=3000 --referral-fee 300 --referrers $TRAVEL_SITE",
    ],
  ).action(lazyAction(() => import("../actions/agreement"), "propose"));

  examples(
    withTermsOptions(writes(agreement.command("amend")).argument("<agreementId>").description("propose a new version of an active agreement")),
    ["concord agreement amend 1 --account 1 --shares $HOTEL=6000,$RESTAURANT=4000"],
  ).action(lazyAction(() => import("../actions/agreement"), "amend"));

  examples(
    agreement
      .command("sign")
      .argument("<agreementId>")
      .description("sign consent to a version (EIP-712) as any consenter, a member of a nested party included: writes a signature file, naming you as its signer, for `activate`")
      .option("--version <n>", "the version (default: the latest)")
      .option("--termination", "sign consent to terminate the active version instead")
      .option("--out <file>", "write the signature here (default: standard output)")
      .option("--deadline <duration>", "validity from now, e.g. 7d", "7d")
      .option("--nonce <n>", "an unused nonce of yours (default: random)")
      .option("--wallet <address>", "sign as one owner of this Safe (a multisig partner), adding your part to --out; each owner names the same file, and it is ready once the Safe accepts it"),
    [
      "concord agreement sign 1 --account 2 --out restaurant.sig.json",
      "concord agreement sign 3 --account 5 --out member.sig.json   # a member of nested agreement #2, consenting to #3",
      "concord agreement sign 1 --termination --keystore hotel.json --password-file pw.txt --out hotel.term.json",
      "concord agreement sign 1 --wallet 0xSafe… --keystore owner1.json --out safe.sig.json   # then the next owner, same file",
    ],
  ).action(lazyAction(() => import("../actions/agreement"), "sign"));

  examples(
    writes(agreement
      .command("approve"))
      .argument("<agreementId>")
      .description("consent on chain, by a transaction from your account; it counts until --expiry and can be revoked")
      .option("--version <n>", "the version (default: the latest; with --termination the active one)")
      .option("--termination", "approve terminating the active version instead")
      .option("--expiry <duration>", "how long the approval counts, from the latest block (e.g. 30d, 12h)", "30d")
      .option("--revoke", "withdraw your approval instead"),
    ["concord agreement approve 1 --account 3 --expiry 7d", "concord agreement approve 1 --account 3 --revoke", "concord agreement approve 1 --account 2 --termination"],
  ).action(lazyAction(() => import("../actions/agreement"), "approve"));

  examples(
    writes(agreement
      .command("activate"))
      .argument("<agreementId>")
      .description("submit the consenters' signature files and activate a version (or an amendment) in one transaction; the terms of nested parties go with it")
      .option("--version <n>", "the version (default: the latest)")
      .option("--signatures <files...>", "signature files written by `agreement sign`", []),
    ["concord agreement activate 1 --account 1 --signatures hotel.sig.json restaurant.sig.json airline.sig.json"],
  ).action(lazyAction(() => import("../actions/agreement"), "activate"));

  examples(
    writes(agreement
      .command("terminate"))
      .argument("<agreementId>")
      .description("terminate with every consenter's consent, nested members included (termination signature files and/or on-chain approvals)")
      .option("--signatures <files...>", "termination signature files (agreement sign --termination)", []),
    ["concord agreement terminate 1 --account 1 --signatures hotel.term.json airline.term.json   # the restaurant approved on chain"],
  ).action(lazyAction(() => import("../actions/agreement"), "terminate"));

  examples(
    agreement.command("show").argument("<agreementId>").description("an agreement's status and the terms of a version").option("--version <n>", "the version (default: active, else latest)"),
    ["concord agreement show 1", "concord agreement show 2 --version 1 --json"],
  ).action(lazyAction(() => import("../actions/agreement"), "show"));

  examples(
    agreement.command("list").description("agreements, optionally only those a party belongs to").option("--party <address>", "only agreements with this party"),
    ["concord agreement list", "concord agreement list --party $RESTAURANT --json"],
  ).action(lazyAction(() => import("../actions/agreement"), "list"));

  examples(agreement.command("history").argument("<agreementId>").description("every event of an agreement, in chain order"), [
    "concord agreement history 1",
  ]).action(lazyAction(() => import("../actions/agreement"), "history"));

  return agreement;
}

