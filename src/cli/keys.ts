import fs from "node:fs";
import { privateKeyToAccount } from "viem/accounts";
import { getAddress, type Account, type Address, type PublicClient } from "viem";
import { UsageError, registerSecret } from "./errors";
import { parseAddress } from "./parse";

/** Where the signing key comes from, in order of precedence. */
export type KeyOptions = {
  keystore?: string;
  passwordFile?: string;
  account?: string;
};

/** A signer: a local account (keystore, CONCORD_PRIVATE_KEY) or an unlocked dev-chain account. */
export type ResolvedAccount = Account | Address;

/** Reads a password from the terminal without echoing it. */
async function promptPassword(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new UsageError("--keystore needs --password-file when standard input is not a terminal");
  }
  const readline = await import("node:readline");
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write(question);
    output._writeToOutput = () => undefined;
    rl.question("", (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
  });
}

function accountFromPrivateKey(key: string, source: string): Account {
  const hex = (key.startsWith("0x") ? key : `0x${key}`).trim() as `0x${string}`;
  registerSecret(hex);
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError(`${source} is not a 32-byte hex private key`);
  return privateKeyToAccount(hex);
}

/**
 * Decrypts a JSON keystore (password from `passwordFile`, else a prompt on a terminal) and returns
 * its private key, registered as a secret so that no error or log line can print it.
 */
export async function keystorePrivateKey(keystore: string, passwordFile: string | undefined): Promise<`0x${string}`> {
  let json: string;
  try {
    json = fs.readFileSync(keystore, "utf8");
  } catch {
    throw new UsageError(`keystore file ${keystore} cannot be read`);
  }
  let password: string;
  if (passwordFile) {
    try {
      password = fs.readFileSync(passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch {
      throw new UsageError(`password file ${passwordFile} cannot be read`);
    }
  } else {
    password = await promptPassword(`password for ${keystore}: `);
  }
  registerSecret(password);
  // Web3 Secret Storage v3 through ethers, loaded only when a keystore is used.
  const { Wallet } = await import("ethers");
  let wallet: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
  try {
    wallet = await Wallet.fromEncryptedJson(json, password);
  } catch {
    throw new UsageError(`keystore ${keystore} could not be decrypted: wrong password or not a keystore file`);
  }
  registerSecret(wallet.privateKey);
  return wallet.privateKey as `0x${string}`;
}

/**
 * Resolves the account that signs: `--keystore` (with `--password-file` or a prompt), else
 * `CONCORD_PRIVATE_KEY`, else `--account N` (an unlocked account of a local dev chain). Returns
 * undefined when none is given (read-only commands).
 */
export async function resolveAccount(options: KeyOptions, publicClient: PublicClient): Promise<ResolvedAccount | undefined> {
  if (options.keystore) return accountFromPrivateKey(await keystorePrivateKey(options.keystore, options.passwordFile), `keystore ${options.keystore}`);
  const envKey = process.env.CONCORD_PRIVATE_KEY;
  if (envKey) return accountFromPrivateKey(envKey, "CONCORD_PRIVATE_KEY");
  if (options.account !== undefined) {
    if (/^0x/i.test(options.account)) return parseAddress(options.account, "--account");
    if (!/^\d+$/.test(options.account)) throw new UsageError(`--account "${options.account}" is not an index or an address`);
    const accounts = (await publicClient.request({ method: "eth_accounts" } as never)) as readonly Address[];
    const index = Number(options.account);
    const address = accounts[index];
    if (!address) {
      throw new UsageError(`--account ${index}: the node has ${accounts.length} unlocked accounts (a dev chain such as hardhat node has 20)`);
    }
    return getAddress(address);
  }
  return undefined;
}
