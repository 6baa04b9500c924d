import { Command } from "commander";
import { examples, lazyAction, writes } from "../options";

export function deployCommand(): Command {
  return examples(
    new Command("deploy").description(
      "deploy the registry (with its negotiation hub) and the ledger through the Ignition module; addresses are recorded in deploy/deployments/chain-<id>",
    ),
    [
      "concord deploy --account 0   # on $CONCORD_RPC_URL, else http://127.0.0.1:8545",
      "concord deploy --rpc-url https://rpc.example --chain-id 8453 --keystore deployer.json --password-file pw.txt",
      "CONCORD_PRIVATE_KEY=0x… concord deploy --rpc-url https://rpc.example --chain-id 8453",
    ],
  ).action(lazyAction(() => import("../actions/deploy"), "deploy"));
}
