/**
 * What every step of the story shares: the cast and their SDK contexts, names for printing, the
 * tokens, and the dev chain's clock.
 */
import { erc20Abi, keccak256, stringToHex, zeroAddress, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from "viem";
import { createConcordContext, type ConcordAddresses, type ConcordContext } from "../sdk";
import type { TokenUnit } from "./format";

export type StoryWallet = WalletClient<Transport, Chain | undefined, Account>;

/** The accounts of the story. */
export type StoryCast = {
  hotel: StoryWallet;
  restaurant: StoryWallet;
  airline: StoryWallet;
  /** The travel site: the merchant of record of the bundle (it signs the payment intents) and its referrer. */
  travelSite: StoryWallet;
  /** Books the bundle on the travel site; pays its intent in ETH. */
  guest1: StoryWallet;
  /** Books directly; pays its intent in the stable token with a permit. */
  guest2: StoryWallet;
  /** Last season's guests, whose orders make the history that risk is measured on. */
  earlierGuests: StoryWallet;
};

export type StoryStage = {
  publicClient: PublicClient;
  cast: StoryCast;
  addresses: ConcordAddresses;
  chainId: number;
  stableToken: Address;
  stable: TokenUnit;
  log: (line: string) => void;
  /** The SDK context that signs as `wallet` (one per wallet). */
  as: (wallet: StoryWallet) => Promise<ConcordContext>;
  /** The cast member with `account`. */
  walletOf: (account: Address) => StoryWallet;
  nameOf: (account: Address) => string;
  unitOf: (token: Address) => TokenUnit;
  documentHash: (text: string) => Hex;
  /** Moves the dev chain's clock and mines a block. */
  increaseTime: (seconds: number) => Promise<void>;
};

export const ETH_UNIT: TokenUnit = { symbol: "ETH", decimals: 18 };

export async function makeStage(parameters: {
  publicClient: PublicClient;
  cast: StoryCast;
  addresses: ConcordAddresses;
  stableToken: Address;
  log?: (line: string) => void;
}): Promise<StoryStage> {
  const { publicClient, cast, addresses, stableToken } = parameters;
  const chainId = await publicClient.getChainId();
  const contexts = new Map<StoryWallet, ConcordContext>();
  const as = async (wallet: StoryWallet): Promise<ConcordContext> => {
    let context = contexts.get(wallet);
    if (!context) {
      context = await createConcordContext({ publicClient, walletClient: wallet, addresses, chainId });
      contexts.set(wallet, context);
    }
    return context;
  };
  const roles: Array<[keyof StoryCast, string]> = [
    ["hotel", "hotel"],
    ["restaurant", "restaurant"],
    ["airline", "airline"],
    ["travelSite", "travel site"],
    ["guest1", "guest 1"],
    ["guest2", "guest 2"],
    ["earlierGuests", "earlier guests"],
  ];
  const names = new Map(roles.map(([role, name]) => [cast[role].account.address.toLowerCase(), name]));
  const stable: TokenUnit = {
    symbol: await publicClient.readContract({ address: stableToken, abi: erc20Abi, functionName: "symbol" }),
    decimals: await publicClient.readContract({ address: stableToken, abi: erc20Abi, functionName: "decimals" }),
  };
  return {
    publicClient,
    cast,
    addresses,
    chainId,
    stableToken,
    stable,
    log: parameters.log ?? (() => undefined),
    as,
    walletOf: (account) => {
      const role = roles.find(([r]) => cast[r].account.address.toLowerCase() === account.toLowerCase());
      if (!role) throw new Error(`${account} is not in the story's cast`);
      return cast[role[0]];
    },
    nameOf: (account) => names.get(account.toLowerCase()) ?? account,
    unitOf: (token) => (token === zeroAddress ? ETH_UNIT : stable),
    documentHash: (text) => keccak256(stringToHex(`concord-demo: ${text}`)),
    increaseTime: async (seconds) => {
      await publicClient.request({ method: "evm_increaseTime", params: [seconds] } as never);
      await publicClient.request({ method: "evm_mine", params: [] } as never);
    },
  };
}
