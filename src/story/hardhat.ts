/**
 * The story's stage on a Hardhat network: the in-process network (`hardhat run scripts/demo.ts`,
 * the tests) or a running dev node (`--network localhost`). Deploys Concord through the Ignition
 * module (on a node Ignition records it in deploy/deployments/chain-<id>, where the CLI finds it),
 * deploys the stable token from the artifacts, and gives every member of the cast a viem wallet.
 */
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { createPublicClient, createWalletClient, getAddress, type Abi, type Address, type Chain, type Hex, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import ConcordModule from "../../deploy/modules/Concord";
import { deploymentDir, hardhatTransport, loadDeployment, type ConcordAddresses } from "../sdk";
import type { RunStoryParameters } from "./story";
import type { StoryCast, StoryWallet } from "./stage";

/** Hardhat's and anvil's well-known development mnemonic: funded accounts on dev chains only. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const DEV_CHAIN_ID = 31337;

/** Account index of each member of the cast (0 deploys). */
export const CAST_INDEX = { hotel: 1, restaurant: 2, airline: 3, travelSite: 4, guest1: 5, guest2: 6, earlierGuests: 7 } as const;

export type HardhatStage = Omit<RunStoryParameters, "log" | "seed"> & { network: string; chainId: number; notes: string[] };

async function hasCode(publicClient: PublicClient, address: Address): Promise<boolean> {
  const code = await publicClient.getCode({ address });
  return code !== undefined && code !== "0x";
}

/**
 * Sets the stage on `hre.network`. On a node, a deployment Ignition recorded for an earlier node
 * of the same chain id (its contracts are gone) is moved to .concord/stale-deployments, so that
 * Ignition deploys afresh instead of trusting a journal of a chain that no longer exists.
 */
export async function hardhatStage(hre: HardhatRuntimeEnvironment): Promise<HardhatStage> {
  const transport = hardhatTransport(hre.network.provider);
  const publicClient = createPublicClient({ transport, pollingInterval: 20 }) as PublicClient;
  const chainId = await publicClient.getChainId();
  if (chainId !== DEV_CHAIN_ID) {
    throw new Error(
      `network ${hre.network.name} has chain id ${chainId}: the demo needs a development chain (31337: hardhat node or anvil) with funded dev accounts and time travel`,
    );
  }
  const notes: string[] = [];
  if (hre.network.name !== "hardhat") {
    const dir = deploymentDir(chainId);
    if (fs.existsSync(dir)) {
      let stale = false;
      try {
        const recorded = loadDeployment({ chainId });
        stale = !(await hasCode(publicClient, recorded.registry)) || !(await hasCode(publicClient, recorded.ledger));
      } catch {
        stale = true;
      }
      if (stale) {
        const aside = path.join(path.dirname(dir), "..", "..", ".concord", "stale-deployments", `chain-${chainId}-${Date.now()}`);
        fs.mkdirSync(path.dirname(aside), { recursive: true });
        fs.renameSync(dir, aside);
        notes.push(`the deployment recorded in ${dir} has no code on this node (an earlier node's): moved it to ${aside}`);
      }
    }
  }
  const { registry, ledger } = await hre.ignition.deploy(ConcordModule);
  const addresses: ConcordAddresses = { registry: getAddress(await registry.getAddress()), ledger: getAddress(await ledger.getAddress()) };
  if (hre.network.name !== "hardhat") notes.push(`Concord deployment recorded in ${deploymentDir(chainId)}`);

  const chain = { id: chainId, name: hre.network.name, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [] } } } as Chain;
  const wallet = (index: number): StoryWallet => createWalletClient({ account: mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }), chain, transport });
  const cast = Object.fromEntries(Object.entries(CAST_INDEX).map(([role, index]) => [role, wallet(index)])) as StoryCast;

  const artifact = await hre.artifacts.readArtifact("MockERC20");
  const hash = await wallet(0).deployContract({ abi: artifact.abi as Abi, bytecode: artifact.bytecode as Hex, args: ["Stable USD", "sUSD", 6], chain });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error(`the stable token deployment ${hash} created no contract`);
  return { network: hre.network.name, chainId, notes, publicClient, cast, addresses, stableToken: getAddress(receipt.contractAddress), fromBlock: 0n };
}
