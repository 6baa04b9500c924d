/**
 * A fresh Concord deployment on the in-process Hardhat network, and a viem context per account
 * (JSON-RPC accounts of the network, which signs for them), for the negotiation suites.
 */
import hre, { ethers } from "hardhat";
import { createPublicClient, createWalletClient, getAddress, type Address, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { createConcordContext, hardhatTransport, type ConcordAddresses, type ConcordContext } from "../../src/sdk";

export type Deployment = {
  addresses: Required<ConcordAddresses>;
  publicClient: PublicClient;
  /** The network's accounts 0..n, checksummed. */
  accounts: Address[];
  /** A context signing as `account`. */
  contextOf: (account: Address) => Promise<ConcordContext>;
};

export async function deployConcord(): Promise<Deployment> {
  const registry = await ethers.deployContract("AgreementRegistry");
  const ledger = await ethers.deployContract("SettlementLedger", [await registry.getAddress()]);
  const addresses = {
    registry: getAddress(await registry.getAddress()),
    ledger: getAddress(await ledger.getAddress()),
    negotiationHub: getAddress(await registry.negotiationHub()),
  };
  // The SDK's transport over the in-process network: reverts come back as the node's `execution reverted`, decoded by name.
  const transport = hardhatTransport(hre.network.provider);
  const publicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 20 }) as PublicClient;
  const accounts = (await ethers.getSigners()).map((s) => getAddress(s.address));
  const contextOf = (account: Address) =>
    createConcordContext({ publicClient, walletClient: createWalletClient({ account, chain: hardhat, transport }), addresses, chainId: hardhat.id });
  return { addresses, publicClient, accounts, contextOf };
}

/** Accounts sorted ascending, as the contracts order parties and participants. */
export const sortAddresses = (accounts: readonly Address[]): Address[] => [...accounts].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
