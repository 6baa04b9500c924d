/**
 * A real Safe multisig for tests, deployed from the Safe's own npm artifacts
 * (@safe-global/safe-smart-account, a devDependency): the singleton, the proxy factory and the
 * CompatibilityFallbackHandler (its ERC-1271 isValidSignature), then a proxy set up with the owners
 * and threshold, exactly as the Safe's own deployment does.
 */
import fs from "node:fs";
import path from "node:path";
import {
  createWalletClient,
  encodeFunctionData,
  getAddress,
  parseEventLogs,
  zeroAddress,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
} from "viem";

type Artifact = { abi: Abi; bytecode: Hex };

const ARTIFACTS = path.join(path.dirname(require.resolve("@safe-global/safe-smart-account/package.json")), "build", "artifacts", "contracts");

function artifact(relative: string): Artifact {
  const json = JSON.parse(fs.readFileSync(path.join(ARTIFACTS, relative), "utf8")) as Artifact;
  return { abi: json.abi, bytecode: json.bytecode };
}

const SAFE = artifact("Safe.sol/Safe.json");
const FACTORY = artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json");
const FALLBACK_HANDLER = artifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json");

/** The Safe's contracts on one chain. */
export type SafeDeployment = { singleton: Address; factory: Address; fallbackHandler: Address };

type Chainish = { publicClient: PublicClient; transport: Transport; chainId: number };

function walletOf(env: Chainish, account: Account) {
  const chain = { id: env.chainId, name: "test", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [] } } } as Chain;
  return createWalletClient({ account, chain, transport: env.transport });
}

async function deploy(env: Chainish, deployer: Account, { abi, bytecode }: Artifact): Promise<Address> {
  const hash = await walletOf(env, deployer).deployContract({ abi, bytecode, args: [] });
  const receipt = await env.publicClient.waitForTransactionReceipt({ hash });
  return getAddress(receipt.contractAddress!);
}

/** Deploys the Safe singleton, its proxy factory and the compatibility fallback handler. */
export async function deploySafeContracts(env: Chainish, deployer: Account): Promise<SafeDeployment> {
  return {
    singleton: await deploy(env, deployer, SAFE),
    factory: await deploy(env, deployer, FACTORY),
    fallbackHandler: await deploy(env, deployer, FALLBACK_HANDLER),
  };
}

/** A new Safe proxy with `owners` and `threshold` (and the fallback handler that answers isValidSignature). */
export async function createSafe(
  env: Chainish,
  deployer: Account,
  contracts: SafeDeployment,
  parameters: { owners: readonly Address[]; threshold: number; saltNonce?: bigint },
): Promise<Address> {
  const initializer = encodeFunctionData({
    abi: SAFE.abi,
    functionName: "setup",
    args: [parameters.owners, BigInt(parameters.threshold), zeroAddress, "0x", contracts.fallbackHandler, zeroAddress, 0n, zeroAddress],
  });
  const hash = await walletOf(env, deployer).writeContract({
    address: contracts.factory,
    abi: FACTORY.abi,
    functionName: "createProxyWithNonce",
    args: [contracts.singleton, initializer, parameters.saltNonce ?? 0n],
    chain: undefined,
  } as never);
  const receipt = await env.publicClient.waitForTransactionReceipt({ hash });
  const [created] = parseEventLogs({ abi: FACTORY.abi, eventName: "ProxyCreation", logs: receipt.logs }) as unknown as { args: { proxy: Address } }[];
  if (!created) throw new Error(`createProxyWithNonce ${hash} created no Safe`);
  return getAddress(created.args.proxy);
}
