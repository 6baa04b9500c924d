import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import ConcordModule from "../../deploy/modules/Concord";
import { createConcordContext, hardhatTransport, type ConcordAddresses, type ConcordContext } from "../../src/sdk";
import { freePort, startHardhatNode, type LocalNode } from "../helpers/processes";

const ROOT = path.join(__dirname, "..", "..");
const MNEMONIC = "test test test test test test test test test test test junk";

/** One EVM node the SDK scenarios run against. */
export type SdkEnvironment = {
  name: string;
  publicClient: PublicClient;
  addresses: ConcordAddresses;
  chainId: number;
  accounts: Account[];
  /** A context acting as account `index`, signing locally (a viem local account). */
  as: (index: number) => Promise<ConcordContext>;
  /** A context acting as account `index` through the node (a JSON-RPC account: eth_sendTransaction, eth_signTypedData_v4). */
  asJsonRpc: (index: number) => Promise<ConcordContext>;
  /** The transport of the node, to wrap (counting requests, say). */
  transport: Transport;
  /** Deploys a contract from the Hardhat artifacts, as account 0. */
  deploy: (name: string, args: readonly unknown[]) => Promise<Address>;
  /** Moves block time forward and mines. */
  increaseTime: (seconds: number) => Promise<void>;
  stop: () => Promise<void>;
};

function accounts(): Account[] {
  return Array.from({ length: 10 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }));
}

async function build(
  name: string,
  transport: Transport,
  addresses: ConcordAddresses,
  stop: () => Promise<void>,
): Promise<SdkEnvironment> {
  const publicClient = createPublicClient({ transport, pollingInterval: 50 }) as PublicClient;
  const chainId = await publicClient.getChainId();
  const chain = { id: chainId, name, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [] } } } as Chain;
  const list = accounts();
  const wallet = (account: Account): WalletClient<Transport, Chain, Account> => createWalletClient({ account, chain, transport });
  return {
    name,
    publicClient,
    addresses,
    chainId,
    accounts: list,
    as: (index) =>
      createConcordContext({ publicClient, walletClient: wallet(list[index]!), addresses: { ...addresses }, chainId }),
    asJsonRpc: (index) =>
      createConcordContext({
        publicClient,
        walletClient: createWalletClient({ account: list[index]!.address, chain, transport }),
        addresses: { ...addresses },
        chainId,
      }),
    transport,
    deploy: async (contract, args) => {
      const artifact = await hre.artifacts.readArtifact(contract);
      const hash = await wallet(list[0]!).deployContract({ abi: artifact.abi, bytecode: artifact.bytecode as Hex, args });
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      return getAddress(receipt.contractAddress!);
    },
    increaseTime: async (seconds) => {
      await publicClient.request({ method: "evm_increaseTime", params: [seconds] } as never);
      await publicClient.request({ method: "evm_mine", params: [] } as never);
    },
    stop,
  };
}

/** The in-process Hardhat network, deployed through the Ignition module. */
export async function inProcess(): Promise<SdkEnvironment> {
  const { registry, ledger } = await hre.ignition.deploy(ConcordModule);
  const addresses = { registry: (await registry.getAddress()) as Address, ledger: (await ledger.getAddress()) as Address };
  return build("in-process hardhat", hardhatTransport(hre.network.provider), addresses, async () => undefined);
}

/** Deploys through `hardhat ignition deploy` to a node at `url`, into a throw-away deployment folder. */
async function ignitionDeploy(url: string, deploymentId: string): Promise<ConcordAddresses> {
  const cli = require.resolve("hardhat/internal/cli/cli");
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cli, "ignition", "deploy", "deploy/modules/Concord.ts", "--network", "localhost", "--deployment-id", deploymentId],
      { cwd: ROOT, env: { ...process.env, CONCORD_RPC_URL: url, HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "false" }, stdio: "pipe" },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`ignition deploy exited ${code}:\n${output}`))));
  });
  const dir = path.join(ROOT, "deploy", "deployments", deploymentId);
  const recorded = JSON.parse(fs.readFileSync(path.join(dir, "deployed_addresses.json"), "utf8")) as Record<string, Address>;
  fs.rmSync(dir, { recursive: true, force: true });
  return { registry: recorded["Concord#AgreementRegistry"]!, ledger: recorded["Concord#SettlementLedger"]! };
}

/** A `hardhat node` process on a free loopback port. */
export async function hardhatNode(): Promise<SdkEnvironment> {
  const node: LocalNode = await startHardhatNode();
  try {
    const addresses = await ignitionDeploy(node.url, `sdk-test-hardhat-${node.port}`);
    return await build("hardhat node", http(node.url), addresses, node.stop);
  } catch (error) {
    await node.stop();
    throw error;
  }
}

/** anvil (Foundry's node, a second EVM implementation) on a free loopback port. */
export async function anvil(): Promise<SdkEnvironment> {
  const port = await freePort();
  // The platform package's binary itself, not the npm wrapper: killing the wrapper would leave anvil running.
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const platform = process.platform === "win32" ? "win32" : process.platform;
  const entry = path.join(ROOT, "node_modules", "@foundry-rs", `anvil-${platform}-${arch}`, "bin", "anvil");
  if (!fs.existsSync(entry)) throw new Error(`anvil binary not found at ${entry}: run npm ci`);
  const child = spawn(entry, ["--port", String(port), "--host", "127.0.0.1", "--hardfork", "cancun", "--chain-id", "31338", "--silent"], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await createPublicClient({ transport: http(url) }).getChainId();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const addresses = await ignitionDeploy(url, `sdk-test-anvil-${port}`);
    return await build("anvil", http(url), addresses, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}
