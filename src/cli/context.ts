import { createPublicClient, createWalletClient, defineChain, erc20Abi, http, zeroAddress, type Address, type PublicClient } from "viem";
import {
  createConcordContext,
  loadDeployment,
  withConcordErrors,
  type ConcordAddresses,
  type ConcordContext,
} from "../sdk";
import { ChainError, UsageError } from "./errors";
import { resolveAccount } from "./keys";
import type { GlobalOptions } from "./options";
import { parseAddress } from "./parse";


/** A public client on the RPC URL, with the chain id checked against --chain-id when given. */
export async function connect(options: GlobalOptions): Promise<{ publicClient: PublicClient; chainId: number }> {
  let url: URL;
  try {
    url = new URL(options.rpcUrl);
  } catch {
    throw new UsageError(`--rpc-url "${options.rpcUrl}" is not a URL`);
  }
  const publicClient = createPublicClient({ transport: http(url.toString(), { retryCount: 1, timeout: 20_000 }), pollingInterval: 250 });
  let chainId: number;
  try {
    chainId = await withConcordErrors(() => publicClient.getChainId());
  } catch (error) {
    throw new ChainError(`cannot reach the node at ${options.rpcUrl}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (options.chainId !== undefined && Number(options.chainId) !== chainId) {
    throw new UsageError(`--chain-id ${options.chainId} does not match the node at ${options.rpcUrl}, which is chain ${chainId}`);
  }
  return { publicClient: publicClient as PublicClient, chainId };
}

/** Deployment addresses from --registry/--ledger, else from the recorded Ignition deployment. */
export function addressesFor(options: GlobalOptions, chainId: number): ConcordAddresses {
  if (options.registry || options.ledger) {
    if (!options.registry || !options.ledger) throw new UsageError("give both --registry and --ledger, or neither");
    return { registry: parseAddress(options.registry, "--registry"), ledger: parseAddress(options.ledger, "--ledger") };
  }
  try {
    return loadDeployment({ chainId });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]}; run \`concord deploy\` or pass --registry and --ledger`);
  }
}

/** Everything a command needs; `signer` is required for commands that sign or send. */
export async function contextFor(options: GlobalOptions, needs: { signer: boolean }): Promise<ConcordContext> {
  const { publicClient, chainId } = await connect(options);
  const addresses = addressesFor(options, chainId);
  const code = await publicClient.getCode({ address: addresses.registry });
  if (!code || code === "0x") {
    throw new UsageError(`no contract at registry ${addresses.registry} on chain ${chainId}: wrong chain or stale deployment`);
  }
  const account = await resolveAccount(options, publicClient);
  if (needs.signer && !account) {
    throw new UsageError("this command signs: give --keystore (with --password-file), CONCORD_PRIVATE_KEY, or --account N on a dev chain");
  }
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const walletClient = account
    ? createWalletClient({ account, chain, transport: http(options.rpcUrl, { retryCount: 1, timeout: 60_000 }) })
    : undefined;
  return createConcordContext({ publicClient, walletClient, account, addresses, chainId });
}

/** The address of the context's signer. */
export function signerAddress(context: ConcordContext): Address {
  const account = context.account ?? context.walletClient?.account;
  if (!account) throw new UsageError("no signing account given");
  return typeof account === "string" ? account : account.address;
}

/** A token's decimals and symbol (ETH for the zero address). */
export async function tokenInfo(context: Pick<ConcordContext, "publicClient" | "chainId">, token: Address): Promise<{ decimals: number; symbol: string }> {
  if (token === zeroAddress) return { decimals: 18, symbol: "ETH" };
  try {
    const [decimals, symbol] = await Promise.all([
      context.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "decimals" }),
      context.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "symbol" }),
    ]);
    return { decimals, symbol };
  } catch {
    throw new UsageError(`--token ${token} is not an ERC-20 token on chain ${context.chainId}`);
  }
}
