import { spawn } from "node:child_process";
import path from "node:path";
import { Command } from "commander";
import { loadDeployment } from "../../sdk";
import { connect } from "../context";
import { ChainError, UsageError, redactSecrets } from "../errors";
import { emit } from "../output";
import { examples, optionsOf } from "./shared";

const ROOT = path.join(__dirname, "..", "..", "..");

export function deployCommand(): Command {
  return examples(
    new Command("deploy").description(
      "deploy the registry (with its negotiation hub) and the ledger through the Ignition module; addresses are recorded in deploy/deployments/chain-<id>",
    ),
    ["concord deploy --rpc-url http://127.0.0.1:8545", "CONCORD_PRIVATE_KEY=0x… concord deploy --rpc-url https://rpc.example --chain-id 8453"],
  ).action(async (_o, command: Command) => {
    const o = optionsOf(command);
    const { chainId } = await connect(o);
    if (o.keystore) throw new UsageError("deploy signs through Hardhat: use CONCORD_PRIVATE_KEY, or the node's unlocked accounts");
    const cli = require.resolve("hardhat/internal/cli/cli");
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, "ignition", "deploy", "deploy/modules/Concord.ts", "--network", "localhost"], {
        cwd: ROOT,
        env: {
          ...process.env,
          CONCORD_RPC_URL: o.rpcUrl,
          // The user asked for this deployment; Ignition would otherwise prompt on chains other than 31337.
          HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "false",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let text = "";
      child.stdout.on("data", (d: Buffer) => (text += d.toString()));
      child.stderr.on("data", (d: Buffer) => (text += d.toString()));
      child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new ChainError(`ignition deploy failed: ${redactSecrets(text.trim().split("\n").slice(-3).join(" "))}`))));
    });
    const addresses = loadDeployment({ chainId });
    emit(o, { chainId, ...addresses, deployment: `deploy/deployments/chain-${chainId}` }, () =>
      [`deployed on chain ${chainId}`, `AgreementRegistry ${addresses.registry}`, `SettlementLedger  ${addresses.ledger}`, output.includes("already") ? "(Ignition found an existing deployment)" : ""]
        .filter(Boolean)
        .join("\n"),
    );
  });
}
