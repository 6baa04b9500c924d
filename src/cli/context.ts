import fs from "node:fs";
import { createPublicClient, createWalletClient, defineChain, encodeFunctionData, erc20Abi, http, webSocket, zeroAddress, type Abi, type Address, type PublicClient, type Transport } from "viem";
import {
  createConcordContext,
  loadDeployment,
  withConcordErrors,
  type ConcordAddresses,
  type ConcordContext,
} from "../sdk";
import { ChainError, DryRunStop, UsageError, registerSecret } from "./errors";
import { resolveAccount } from "./keys";
import type { GlobalOptions } from "./options";
import { parseAddress, parseInteger } from "./parse";


/** The RPC URL's parts that may be credentials: user, password, query values, long path segments (API keys). */
function registerUrlSecrets(value: string, url: URL | undefined): void {
  if (!url) return;
  for (const part of [url.username, url.password, ...url.searchParams.values()]) {
    registerSecret(part);
    registerSecret(safeDecode(part));
  }
  for (const segment of url.pathname.split("/")) if (segment.length >= 16) registerSecret(segment);
  if (url.username || url.password || url.search || url.pathname.length > 1) registerSecret(value);
}

const safeDecode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

const tryUrl = (value: string): URL | undefined => {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};

/** An RPC URL as it may be printed: scheme and host only; a path or query (often an API key) shown as "/…". */
export function displayUrl(value: string): string {
  const url = tryUrl(value);
  if (url && url.host) return `${url.protocol}//${url.host}${url.pathname.length > 1 || url.search ? "/…" : ""}`;
  const host = value.slice(value.lastIndexOf("@") + 1).split(/[/?#]/)[0] ?? "";
  return host === value ? value : `${host}…`;
}

/** Checks --rpc-url: http(s):// or ws(s):// (a scheme is required); its credentials are registered as secrets. */
export function parseRpcUrl(value: string): URL {
  const url = tryUrl(value);
  registerUrlSecrets(value, url);
  if (!url || !/^(https?|wss?):$/.test(url.protocol) || !url.host) {
    throw new UsageError(`--rpc-url "${displayUrl(value)}" is not an http://, https://, ws:// or wss:// URL (the scheme is required)`);
  }
  return url;
}

/** viem's transport for an RPC URL: WebSocket for ws:// and wss://, else HTTP. */
export function transportFor(url: URL, options: { retryCount: number; timeout: number }): Transport {
  return url.protocol === "ws:" || url.protocol === "wss:" ? webSocket(url.toString(), options) : http(url.toString(), options);
}

/** A public client on the RPC URL, with the chain id checked against --chain-id when given. */
export async function connect(options: GlobalOptions): Promise<{ publicClient: PublicClient; chainId: number }> {
  const url = parseRpcUrl(options.rpcUrl);
  const expected = options.chainId === undefined ? undefined : parseInteger(options.chainId, "--chain-id", 1, Number.MAX_SAFE_INTEGER);
  const publicClient = createPublicClient({ transport: transportFor(url, { retryCount: 1, timeout: 20_000 }), pollingInterval: 250 });
  let chainId: number;
  try {
    chainId = await withConcordErrors(() => publicClient.getChainId());
  } catch (error) {
    throw new ChainError(`cannot reach the node at ${displayUrl(options.rpcUrl)}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (expected !== undefined && expected !== chainId) {
    throw new UsageError(`--chain-id ${expected} does not match the node at ${displayUrl(options.rpcUrl)}, which is chain ${chainId}`);
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
  checkPrepareOptions(options);
  const { publicClient, chainId } = await connect(options);
  const addresses = addressesFor(options, chainId);
  const code = await publicClient.getCode({ address: addresses.registry });
  if (!code || code === "0x") {
    throw new UsageError(`no contract at registry ${addresses.registry} on chain ${chainId}: wrong chain or stale deployment`);
  }
  const account = await resolveAccount(options, publicClient);
  if (needs.signer && !account) {
    throw new UsageError("this command signs: give --keystore (with --password-file), CONCORD_PRIVATE_KEY, --account N on a dev chain, or --from WALLET with --prepare FILE");
  }
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const base = account ? createWalletClient({ account, chain, transport: transportFor(parseRpcUrl(options.rpcUrl), { retryCount: 1, timeout: 60_000 }) }) : undefined;
  // --dry-run and --prepare: the SDK simulates every write (the gas estimate, as the signer or the
  // --from wallet) and then hands it to writeContract, which here stops the command with the call.
  const walletClient = base && (options.dryRun || options.prepare)
    ? ({
        ...base,
        writeContract: async (call: { address: Address; abi: Abi; functionName: string; args?: readonly unknown[]; value?: bigint; gas?: bigint }) => {
          const data = encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args ?? [] } as never);
          throw new DryRunStop(
            { from: signerOf(account!), to: call.address, functionName: call.functionName, args: call.args ?? [], value: call.value ?? 0n, gas: call.gas, data, chainId },
            options.prepare,
          );
        },
      } as unknown as typeof base)
    : base;
  return createConcordContext({ publicClient, walletClient, account, addresses, chainId });
}

/** --prepare and --from are checked before anything is read or simulated. */
function checkPrepareOptions(options: GlobalOptions): void {
  if (options.from !== undefined && !options.prepare) {
    throw new UsageError(`--from ${options.from} names a wallet that signs elsewhere: give --prepare FILE to write its call`);
  }
  if (!options.prepare) return;
  if (options.dryRun) throw new UsageError("give --dry-run (print the call) or --prepare FILE (write it), not both");
  if (fs.existsSync(options.prepare)) throw new UsageError(`--prepare ${options.prepare}: the file exists; name a new one`);
}

const signerOf = (account: Address | { address: Address }): Address => (typeof account === "string" ? account : account.address);

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
