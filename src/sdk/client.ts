import type { Account, Address, Chain, PublicClient, Transport, WalletClient } from "viem";
import type { ConcordAddresses } from "./addresses";
import { loadDeployment } from "./addresses";
import { InvalidInputError } from "./errors/base";
import { withConcordErrors } from "./errors/decode";

/**
 * What every action needs: a public client for reads, a wallet client for writes (optional), the
 * deployment addresses and the chain id they belong to.
 */
export type ConcordContext = {
  publicClient: PublicClient;
  walletClient?: WalletClient<Transport, Chain | undefined, Account | undefined>;
  /** The account that signs transactions and typed data (default: the wallet client's account). */
  account?: Account | Address;
  addresses: ConcordAddresses;
  chainId: number;
};

export type CreateConcordContextParameters = {
  publicClient: PublicClient;
  walletClient?: ConcordContext["walletClient"];
  account?: Account | Address;
  /** Explicit addresses; when absent they are read from deploy/deployments/chain-<id>. */
  addresses?: ConcordAddresses;
  /** The chain id; read from the node when absent. */
  chainId?: number;
  /** Repository root holding deploy/deployments (default: this package's root), when addresses are read from it. */
  deploymentsRoot?: string;
};

/**
 * Builds a {@link ConcordContext}, reading the chain id from the node and the addresses from
 * `deploy/deployments/chain-<id>/deployed_addresses.json` when they are not given.
 *
 * @example
 * import { createPublicClient, createWalletClient, http } from "viem"
 * import { privateKeyToAccount } from "viem/accounts"
 * import { createConcordContext } from "./src/sdk"
 *
 * const transport = http("http://127.0.0.1:8545")
 * const context = await createConcordContext({
 *   publicClient: createPublicClient({ transport }),
 *   walletClient: createWalletClient({ account: privateKeyToAccount(process.env.CONCORD_PRIVATE_KEY as `0x${string}`), transport }),
 * })
 */
export async function createConcordContext(parameters: CreateConcordContextParameters): Promise<ConcordContext> {
  const chainId = parameters.chainId ?? (await withConcordErrors(() => parameters.publicClient.getChainId()));
  const addresses = parameters.addresses ? { ...parameters.addresses } : loadDeployment({ chainId, root: parameters.deploymentsRoot });
  return {
    publicClient: parameters.publicClient,
    walletClient: parameters.walletClient,
    account: parameters.account,
    addresses,
    chainId,
  };
}

/** The account that signs for `context`, or an error naming what is missing. */
export function signerOf(context: ConcordContext): Account | Address {
  const account = context.account ?? context.walletClient?.account;
  if (!account) throw new InvalidInputError("this action signs: give the context a wallet client with an account, or an account");
  return account;
}

/**
 * The address the context's calls are sent from: its account, which for a prepared call may be
 * a contract wallet's address with no key behind it.
 */
export function senderOf(context: ConcordContext): Address {
  const account = context.account ?? context.walletClient?.account;
  if (!account) {
    throw new InvalidInputError("this call is planned for its sender: give the context an account (for a contract wallet, its address)");
  }
  return accountAddress(account);
}

/** The wallet client of `context`, or an error. */
export function walletOf(context: ConcordContext): NonNullable<ConcordContext["walletClient"]> {
  if (!context.walletClient) throw new InvalidInputError("this action sends a transaction: give the context a wallet client");
  return context.walletClient;
}

export function accountAddress(account: Account | Address): Address {
  return typeof account === "string" ? account : account.address;
}
