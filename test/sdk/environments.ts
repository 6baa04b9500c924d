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
import { startAnvil, startHardhatNode, type LocalNode } from "../helpers/processes";

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

/** Deploys Concord to `node` (a process this test started) and builds its environment; stops the node if either fails. */
async function onNode(name: string, deploymentTag: string, node: LocalNode): Promise<SdkEnvironment> {
  try {
    const addresses = await ignitionDeploy(node.url, `sdk-test-${deploymentTag}-${node.port}`);
    return await build(name, http(node.url), addresses, node.stop);
  } catch (error) {
    await node.stop();
    throw error;
  }
}

/** A `hardhat node` process on a free loopback port. */
export async function hardhatNode(): Promise<SdkEnvironment> {
  return onNode("hardhat node", "hardhat", await startHardhatNode());
}

/** anvil (Foundry's node, a second EVM implementation) on a free loopback port, with a chain id of its own (31338, not Hardhat's). */
export async function anvil(): Promise<SdkEnvironment> {
  return onNode("anvil", "anvil", await startAnvil({ chainId: 31338 }));
}
