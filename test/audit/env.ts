import hre from "hardhat";
import {
  createPublicClient,
  createWalletClient,
  custom,
  getAddress,
  http,
  parseEventLogs,
  TransactionReceiptNotFoundError,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { agreementRegistryAbi } from "../../src/sdk/abi";

/** A write of a contract function as viem's `writeContract` takes it. */
export type Write = { address: Address; abi: Abi; functionName: string; args: readonly unknown[]; value?: bigint };
/** What a write left: its receipt's logs, decoded with the ABI written to. */
export type Written = { logs: { eventName: string; args: Record<string, unknown> }[]; blockNumber: bigint };

const MNEMONIC = "test test test test test test test test test test test junk";

/** A chain the auditor tests build histories on: the in-process network or a spawned node. */
export type AuditChain = {
  publicClient: PublicClient;
  transport: Transport;
  chainId: number;
  accounts: Account[];
  addresses: { registry: Address; ledger: Address; negotiationHub: Address; token: Address };
  /** The block the registry was deployed in. */
  deployBlock: bigint;
  /** Sends a write as account `index`, waits for its receipt and decodes its events. */
  write: (index: number, call: Write) => Promise<Written>;
  /** Signs EIP-712 typed data as account `index`. */
  signTypedData: (index: number, typedData: Record<string, unknown>) => Promise<Hex>;
  increaseTime: (seconds: number) => Promise<void>;
  /** Sets one storage word of `address` (hardhat_setStorageAt). */
  setStorageAt: (address: Address, slot: Hex, value: Hex) => Promise<void>;
};

/**
 * The receipt of a sent transaction, asked for until it is there. Not viem's
 * `waitForTransactionReceipt`: it asks again only when the block number moves, and anvil on a
 * loaded machine was seen to report the new block before its receipt, so that a bench waited
 * for a block that automine never makes.
 */
async function receiptOf(publicClient: PublicClient, hash: Hex, timeoutMs: number): Promise<TransactionReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await publicClient.getTransactionReceipt({ hash });
    } catch (error) {
      if (!(error instanceof TransactionReceiptNotFoundError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Deploys the registry (with its hub), the ledger and a 6-decimal test token over `transport`. */
export async function deployOn(transport: Transport, options: { receiptTimeoutMs?: number } = {}): Promise<AuditChain> {
  // cacheTime 0: tests read the head right after their own writes; viem would otherwise answer from its cache.
  const publicClient = createPublicClient({ transport, pollingInterval: 20, cacheTime: 0 }) as PublicClient;
  const chainId = await publicClient.getChainId();
  const chain = { id: chainId, name: "audit", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [] } } } as Chain;
  const accounts = Array.from({ length: 10 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }));
  const deployer = createWalletClient({ account: accounts[0]!, chain, transport });
  const deploy = async (name: string, args: readonly unknown[]) => {
    const artifact = await hre.artifacts.readArtifact(name);
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode as Hex, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    return { address: getAddress(receipt.contractAddress!), block: receipt.blockNumber };
  };
  const registry = await deploy("AgreementRegistry", []);
  const ledger = await deploy("SettlementLedger", [registry.address]);
  const token = await deploy("MockERC20", ["Euro Coin", "EURC", 6]);
  const negotiationHub = await publicClient.readContract({ address: registry.address, abi: agreementRegistryAbi, functionName: "negotiationHub" });
  const addresses = { registry: registry.address, ledger: ledger.address, negotiationHub, token: token.address };
  const send = (method: string, params: unknown[]) => publicClient.request({ method, params } as never);
  return {
    publicClient,
    transport,
    chainId,
    accounts,
    addresses,
    deployBlock: registry.block,
    write: async (index, call) => {
      const wallet = createWalletClient({ account: accounts[index]!, chain, transport });
      const hash = await wallet.writeContract(call as never);
      const receipt = await receiptOf(publicClient, hash, options.receiptTimeoutMs ?? 180_000);
      if (receipt.status !== "success") throw new Error(`${call.functionName} reverted in ${hash}`);
      const logs = parseEventLogs({ abi: call.abi, logs: receipt.logs }) as unknown as Written["logs"];
      return { logs, blockNumber: receipt.blockNumber };
    },
    signTypedData: (index, typedData) => accounts[index]!.signTypedData!(typedData as never),
    increaseTime: async (seconds) => {
      await send("evm_increaseTime", [seconds]);
      await send("evm_mine", []);
    },
    setStorageAt: async (address, slot, value) => void (await send("hardhat_setStorageAt", [address, slot, value])),
  };
}

/** The in-process Hardhat network. */
export const inProcessChain = () => deployOn(custom(hre.network.provider));

/**
 * A node at `url` (a `hardhat node` this test started). `requestTimeoutMs` and `receiptTimeoutMs`
 * (viem's defaults: 10 s and 180 s) are for long runs on a loaded machine (scripts/bench-audit-scale.ts).
 */
export const nodeChain = (url: string, options: { requestTimeoutMs?: number; receiptTimeoutMs?: number } = {}) =>
  deployOn(http(url, options.requestTimeoutMs === undefined ? undefined : { timeout: options.requestTimeoutMs }), { receiptTimeoutMs: options.receiptTimeoutMs });
