import { spawn } from "node:child_process";
import path from "node:path";
import type { Command } from "commander";
import { loadDeployment } from "../../sdk";
import { connect, displayUrl } from "../context";
import { privateKeyToAccount } from "viem/accounts";
import { keystorePrivateKey, parsePrivateKey, signerSource, unlockedAccount } from "../keys";
import { ChainError, UsageError, redactSecrets } from "../errors";
import { emit } from "../output";
import { optionsOf } from "../options";

const ROOT = path.join(__dirname, "..", "..", "..");

/** Hardhat's command line, or a one-line answer when this install has no Hardhat (a production install). */
export function hardhatCli(resolve: (id: string) => string = require.resolve): string {
  try {
    return resolve("hardhat/internal/cli/cli");
  } catch {
    throw new UsageError(
      "concord deploy runs Hardhat Ignition, which this install does not include: deploy from a clone of the repository (npm ci, then npx concord deploy), and give the addresses here with --registry and --ledger",
    );
  }
}

export async function deploy(command: Command): Promise<void> {
  const o = optionsOf(command);
  const cli = hardhatCli();
  const { chainId, publicClient } = await connect(o);
  // Ignition signs with the localhost network's accounts: the key (from the keystore or
  // CONCORD_PRIVATE_KEY) goes to the child through its environment only, never its arguments;
  // otherwise the node's unlocked account (--account N, default the first) is the default sender.
  const source = signerSource(o);
  const privateKey =
    source.kind === "keystore" ? await keystorePrivateKey(source.file, o.passwordFile) : source.kind === "environment" ? parsePrivateKey(process.env.CONCORD_PRIVATE_KEY!, "CONCORD_PRIVATE_KEY") : undefined;
  // An explicit --account keeps its own message (a bad index or address names it); without any
  // source, a node with no unlocked account is told how to give a key.
  const sender = privateKey
    ? privateKeyToAccount(privateKey).address
    : source.kind === "account"
      ? await unlockedAccount(source.account, publicClient)
      : await unlockedAccount("0", publicClient).catch(() => {
          throw new UsageError(`the node at ${displayUrl(o.rpcUrl)} has no unlocked account: deploy with --keystore and --password-file, CONCORD_PRIVATE_KEY, or --account N`);
        });
  const args = [cli, "ignition", "deploy", "deploy/modules/Concord.ts", "--network", "localhost"];
  if (!privateKey) args.push("--default-sender", sender);
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        CONCORD_RPC_URL: o.rpcUrl,
        CONCORD_PRIVATE_KEY: privateKey ?? "",
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
  emit(o, { chainId, ...addresses, deployment: `deploy/deployments/chain-${chainId}`, signer: sender }, () =>
    [`deployed on chain ${chainId} by ${sender}`, `AgreementRegistry ${addresses.registry}`, `SettlementLedger  ${addresses.ledger}`, output.includes("already") ? "(Ignition found an existing deployment)" : ""]
      .filter(Boolean)
      .join("\n"),
  );
}
