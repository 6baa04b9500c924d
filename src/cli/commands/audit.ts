import { Command, Option } from "commander";
import { examples, lazyAction, writes } from "../options";

export function withAuditOptions(command: Command): Command {
  return command
    .option("--data-dir <dir>", "where the replay store lives (default .concord/audit/<chain>-<ledger>)")
    .addOption(new Option("--database-url <url>", "keep the store in a PostgreSQL server instead (postgres://user:password@host:port/database)").env("CONCORD_DATABASE_URL"))
    .option("--from-block <n>", "first block of a first sync (the deployment block)")
    .option("--to-block <n>", "last block (default: head minus confirmations)")
    .option("--confirmations <n>", "blocks to stay behind the head", "0");
}

export function auditCommand(): Command {
  const audit = new Command("audit").description("replay the whole history from events, reconcile it with the chain, export statements (no keys needed)");

  examples(withAuditOptions(audit.command("sync").description("replay new events into the local store (resumes; rolls back reorganisations)")), [
    "concord audit sync",
  ]).action(lazyAction(() => import("../actions/audit"), "syncStore"));

  examples(
    withAuditOptions(audit.command("verify").description("sync, then reconcile every balance, reserve and holding with the chain: exit 0 if all match, 4 if not"))
      .option("--all-order-refs", "also read the stored marker of every settlement that never held a reserve (by default only settlements with a reserve are read)")
      .option("--wei", "the differences' amounts in base units (wei) instead of token units"),
    ["concord audit verify && echo every wei accounted for", "concord audit verify --all-order-refs --json"],
  ).action(lazyAction(() => import("../actions/audit"), "verifyStore"));

  examples(
    withAuditOptions(
      audit
        .command("report")
        .description("per-partner statements: earned and still to claim by agreement, referral fees, reserves, refunds, withdrawn")
        .option("--partner <address...>", "only these partners")
        .option("--csv", "CSV for accountants: partner, token, symbol, decimals, item, agreement, amount in token units")
        .option("--wei", "amounts in base units (wei) instead of token units (the CSV's column is then amount_wei)")
        .option("--html <file>", "write one self-contained HTML page: each partner's statement and a Sankey diagram of the period's flows"),
    ),
    ["concord audit report", "concord audit report --partner $HOTEL --csv > hotel.csv", "concord audit report --json", "concord audit report --html statements.html"],
  ).action(lazyAction(() => import("../actions/audit"), "report"));

  examples(
    withAuditOptions(
      audit
        .command("watch")
        .description("follow the chain live: apply each new block, check every law, roll back reorganisations, one line per settlement (Ctrl-C stops; the store stays consistent)")
        .option("--interval <ms>", "polling interval in milliseconds (over ws:// the node's newHeads subscription wakes the watch)", "1000")
        .option("--json-lines", "one JSON object per line: synced, settlement, reorganisation, violation, stopped"),
    ),
    [
      "concord audit watch --rpc-url http://127.0.0.1:8545",
      "concord audit watch --rpc-url ws://127.0.0.1:8545 --json-lines",
      "concord audit watch --database-url postgres://auditor@db.internal/concord",
    ],
  ).action(lazyAction(() => import("../actions/auditWatch"), "watchStore"));

  return audit;
}
