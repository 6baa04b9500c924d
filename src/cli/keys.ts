import fs from "node:fs";
import { getAddress, type Account, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ExitCode, UsageError, registerSecret } from "./errors";
import { parseAddress } from "./parse";

/** Where the signing key comes from: exactly one of them per command. */
export type KeyOptions = {
  keystore?: string;
  passwordFile?: string;
  account?: string;
  /** A contract wallet the call is prepared for (--from, with --prepare): nothing signs here. */
  from?: string;
};

/** A signer: a local account (keystore, CONCORD_PRIVATE_KEY) or an unlocked dev-chain account. */
export type ResolvedAccount = Account | Address;

/** The one signer source a command was given. */
export type SignerSource =
  | { kind: "keystore"; file: string }
  | { kind: "environment" }
  | { kind: "account"; account: string }
  | { kind: "wallet"; address: string }
  | { kind: "none" };

/** Ctrl-C at a prompt: exit 130, as a shell reports a command stopped by SIGINT. */
export class PromptCancelled extends UsageError {
  override name = "PromptCancelled";
  override readonly exitCode: ExitCode = ExitCode.Interrupted;
}

/** secp256k1's group order: a private key is from 1 to n - 1. */
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * The signer source among --keystore, CONCORD_PRIVATE_KEY and --account; two of them are refused
 * (exit 2, naming both), so that the wrong account never pays without a word.
 */
export function signerSource(options: KeyOptions): SignerSource {
  const given: Array<[SignerSource, string]> = [];
  if (options.keystore) given.push([{ kind: "keystore", file: options.keystore }, `--keystore ${options.keystore}`]);
  if (process.env.CONCORD_PRIVATE_KEY) given.push([{ kind: "environment" }, "CONCORD_PRIVATE_KEY (in the environment)"]);
  if (options.account !== undefined) given.push([{ kind: "account", account: options.account }, `--account ${options.account}`]);
  if (options.from !== undefined) given.push([{ kind: "wallet", address: options.from }, `--from ${options.from}`]);
  if (given.length > 1) {
    throw new UsageError(`two signer sources: ${given.map(([, name]) => name).join(" and ")}; give exactly one`);
  }
  if (options.passwordFile && !options.keystore) throw new UsageError("--password-file is the password of a --keystore: give the keystore too");
  return given[0]?.[0] ?? { kind: "none" };
}

/** Reads a secret from the terminal without echoing it (@inquirer/password); Ctrl-C exits 130. */
export async function promptSecret(message: string, what: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError(`${what} needs a terminal to prompt on; standard input is not one`);
  const { default: password } = await import("@inquirer/password");
  try {
    return await password({ message, mask: false }, { output: process.stderr });
  } catch (error) {
    if ((error as Error).name === "ExitPromptError") throw new PromptCancelled("cancelled at the prompt; nothing sent");
    throw error;
  }
}

/**
 * Reads the password of a keystore: --password-file, else a prompt on a terminal (asked twice when
 * `confirm`, for a keystore being written). Registered as a secret. The one place a password is read.
 */
export async function readPassword(passwordFile: string | undefined, keystore: string, options: { confirm?: boolean } = {}): Promise<string> {
  let password: string;
  if (passwordFile) {
    try {
      password = fs.readFileSync(passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch {
      throw new UsageError(`password file ${passwordFile} cannot be read`);
    }
    registerSecret(password);
  } else {
    if (!process.stdin.isTTY) throw new UsageError(`the password of ${keystore} needs --password-file when standard input is not a terminal`);
    password = await promptSecret(`password for ${keystore}:`, "--keystore");
    registerSecret(password);
    if (options.confirm && (await promptSecret(`the same password again:`, "--keystore")) !== password) {
      throw new UsageError(`the two passwords for ${keystore} differ; nothing written`);
    }
  }
  if (options.confirm && password === "") throw new UsageError(`the password for ${keystore} is empty: a keystore needs one`);
  return password;
}

/**
 * A private key as a 0x-prefixed 32-byte hex string, checked to be a secp256k1 key (from 1 to
 * the curve order minus 1). Every form of it is registered as a secret first, and no error names it.
 */
export function parsePrivateKey(key: string, source: string): Hex {
  registerSecret(key);
  const text = key.trim();
  registerSecret(text);
  const hex = /^0x/i.test(text) ? `0x${text.slice(2)}` : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError(`${source} is not a 32-byte hex private key (0x and 64 hex digits)`);
  const value = BigInt(hex);
  registerSecret(value.toString());
  if (value === 0n || value >= CURVE_ORDER) throw new UsageError(`${source} is not a secp256k1 private key: it must be above 0 and below the curve order`);
  return hex.toLowerCase() as Hex;
}

/**
 * Reads a private key to import: a hidden prompt on a terminal, else all of standard input (a
 * pipe or a file, never the command line, where shells and process lists keep it). Checked and
 * registered as a secret by {@link parsePrivateKey}.
 */
export async function readPrivateKey(): Promise<Hex> {
  if (process.stdin.isTTY) return parsePrivateKey(await promptSecret("private key (hex):", "wallet import"), "the private key");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  registerSecret(text);
  if (text.trim() === "") throw new UsageError("wallet import reads the private key from standard input (or a prompt on a terminal): it was empty");
  return parsePrivateKey(text, "the private key on standard input");
}

function accountFromPrivateKey(key: string, source: string): Account {
  return privateKeyToAccount(parsePrivateKey(key, source));
}

/**
 * Decrypts a Web3 Secret Storage (v3) keystore, with ethers loaded only now, and returns its
 * private key, registered as a secret so that no error or log line can print it.
 */
export async function keystorePrivateKey(keystore: string, passwordFile: string | undefined): Promise<Hex> {
  let json: string;
  try {
    json = fs.readFileSync(keystore, "utf8");
  } catch {
    throw new UsageError(`keystore file ${keystore} cannot be read`);
  }
  const password = await readPassword(passwordFile, keystore);
  const { Wallet } = await import("ethers");
  let privateKey: string;
  try {
    privateKey = (await Wallet.fromEncryptedJson(json, password)).privateKey;
  } catch {
    throw new UsageError(`keystore ${keystore} could not be decrypted: wrong password or not a keystore file`);
  }
  return parsePrivateKey(privateKey, `the key in ${keystore}`);
}

/** Refuses a keystore path that exists (exit 2): a keystore is never overwritten. */
export function refuseExistingFile(file: string): void {
  if (fs.existsSync(file)) throw new UsageError(`${file} exists: a keystore is never overwritten; choose another file`);
}

/**
 * Writes a Web3 Secret Storage (v3) keystore encrypted with `password` (scrypt, ethers' defaults,
 * ethers loaded only now) holding `privateKey`, or a new random key when none is given; the file is
 * made readable by the user only and never overwrites one. Returns the keystore's address.
 */
export async function writeKeystore(file: string, password: string, privateKey?: Hex): Promise<Address> {
  refuseExistingFile(file);
  const { Wallet } = await import("ethers");
  const wallet = new Wallet(privateKey ?? Wallet.createRandom().privateKey);
  registerSecret(wallet.privateKey);
  const json = await wallet.encrypt(password);
  try {
    fs.writeFileSync(file, json + "\n", { flag: "wx", mode: 0o600 });
  } catch (error) {
    throw new UsageError(`cannot write the keystore ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return getAddress(wallet.address);
}

/** The address a v3 keystore names (its `address` field), read without its password. */
export function keystoreAddress(file: string): Address {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`keystore file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not a keystore: not JSON`);
  }
  const keystore = (typeof json === "object" && json !== null ? json : {}) as { version?: unknown; address?: unknown; crypto?: unknown; Crypto?: unknown };
  if (Number(keystore.version) !== 3 || typeof (keystore.crypto ?? keystore.Crypto) !== "object") {
    throw new UsageError(`${file} is not a Web3 Secret Storage v3 keystore (version ${JSON.stringify(keystore.version ?? null)}, no crypto section)`);
  }
  const address = typeof keystore.address === "string" ? keystore.address.replace(/^(0x)?/i, "0x") : undefined;
  if (!address || !/^0x[0-9a-fA-F]{40}$/.test(address)) {
    throw new UsageError(`${file} names no address (field address is ${JSON.stringify(keystore.address ?? null)}): only decrypting it tells whose key it is`);
  }
  return getAddress(address.toLowerCase());
}

/**
 * Resolves the account that signs from its one source ({@link signerSource}): a keystore (with
 * --password-file or a prompt), CONCORD_PRIVATE_KEY, or --account N (an unlocked account of a
 * local dev chain). Undefined when none is given (read-only commands).
 */
export async function resolveAccount(options: KeyOptions, publicClient: PublicClient): Promise<ResolvedAccount | undefined> {
  const source = signerSource(options);
  switch (source.kind) {
    case "keystore":
      return accountFromPrivateKey(await keystorePrivateKey(source.file, options.passwordFile), `keystore ${source.file}`);
    case "environment":
      return accountFromPrivateKey(process.env.CONCORD_PRIVATE_KEY!, "CONCORD_PRIVATE_KEY");
    case "account":
      return unlockedAccount(source.account, publicClient);
    case "wallet":
      // Calls are simulated as the wallet and written out (--prepare), never signed here.
      return parseAddress(source.address, "--from");
    case "none":
      return undefined;
  }
}

/** An unlocked account of a dev chain, by index (eth_accounts) or address. */
export async function unlockedAccount(account: string, publicClient: PublicClient): Promise<Address> {
  if (/^0x/i.test(account)) return parseAddress(account, "--account");
  if (!/^\d+$/.test(account)) throw new UsageError(`--account "${account}" is not an index or an address`);
  const accounts = (await publicClient.request({ method: "eth_accounts" } as never)) as readonly Address[];
  const index = Number(account);
  const address = accounts[index];
  if (!address) {
    throw new UsageError(`--account ${index}: the node has ${accounts.length} unlocked accounts (a dev chain such as hardhat node has 20)`);
  }
  return getAddress(address);
}
