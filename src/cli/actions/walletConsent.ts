/**
 * `agreement sign --wallet SAFE --out FILE`: the owners of a Safe sign its consent (or
 * termination) offline, one after another, into one signature file. The first owner's run picks
 * the nonce and deadline; each later run signs the same message and adds its part; the file's
 * `signature` is always the owners' parts combined as the Safe requires, so `activate` (or
 * `terminate`) takes the file as soon as enough owners have signed.
 */
import fs from "node:fs";
import { getAddress, type Address, type Hex, type LocalAccount } from "viem";
import { toAccount } from "viem/accounts";
import {
  checkWalletSignature,
  combineSafeSignatures,
  consentDigest,
  safeWallet,
  signConsent,
  signTermination,
  terminationDigest,
  WalletSignatureRefusedError,
  type ConcordContext,
  type SafeOwnerSignature,
  type Terms,
} from "../../sdk";
import { UsageError } from "../errors";
import { checkFields, parseAddress } from "../parse";

/** A signature file of a Safe: the one `activate` reads, plus each owner's part. */
export type WalletSignatureFile = {
  kind: "consent" | "termination";
  chainId: number;
  registry: Address;
  agreementId: string;
  version: number;
  signer: Address;
  nonce: string;
  deadline: string;
  signature: Hex;
  owners: SafeOwnerSignature[];
};

export type WalletSigning = {
  kind: WalletSignatureFile["kind"];
  agreementId: bigint;
  version: number;
  /** The version's terms (consent only). */
  terms?: Terms;
  nonce?: bigint;
  deadline: bigint;
};

/** The outcome of one owner's run: the file as written, and whether the Safe accepts it yet. */
export type WalletSigned = { file: WalletSignatureFile; owner: Address; complete: boolean; refusal?: string };

/** The signer as one owner of the Safe: a local key as it is, an unlocked node account through the node. */
function ownerAccount(context: ConcordContext, account: Address | LocalAccount): LocalAccount {
  if (typeof account !== "string") return account;
  const wallet = context.walletClient!;
  return toAccount({
    address: account,
    signMessage: ({ message }) => wallet.signMessage({ account, message }),
    signTypedData: (typedData) => wallet.signTypedData({ ...(typedData as unknown as Parameters<typeof wallet.signTypedData>[0]), account }),
    signTransaction: () => {
      throw new UsageError("an owner's part of a wallet signature signs no transaction");
    },
  });
}

function readExisting(path: string, expected: { kind: string; chainId: number; registry: Address; agreementId: bigint; version: number; safe: Address }): WalletSignatureFile {
  let parsed: WalletSignatureFile;
  try {
    parsed = JSON.parse(fs.readFileSync(path, "utf8")) as WalletSignatureFile;
  } catch {
    throw new UsageError(`signature file ${path} cannot be read as JSON`);
  }
  checkFields(`signature file ${path}`, parsed, { kind: "string", chainId: "integer", registry: "address", agreementId: "decimal", version: "integer", signer: "address", nonce: "decimal", deadline: "decimal", signature: "hex" });
  if (!Array.isArray(parsed.owners)) throw new UsageError(`signature file ${path} has no owners' parts: it was not written by agreement sign --wallet`);
  parsed.owners.forEach((part, i) => checkFields(`signature file ${path}`, part, { owner: "address", signature: "hex" }, `owners[${i}]`));
  const mismatch = (what: string, got: unknown, want: unknown) => new UsageError(`signature file ${path} is for ${what} ${String(got)}, not ${String(want)}; name a new --out file`);
  if (parsed.kind !== expected.kind) throw mismatch("a", parsed.kind, expected.kind);
  if (parsed.chainId !== expected.chainId) throw mismatch("chain", parsed.chainId, expected.chainId);
  if (getAddress(parsed.registry) !== getAddress(expected.registry)) throw mismatch("registry", parsed.registry, expected.registry);
  if (BigInt(parsed.agreementId) !== expected.agreementId) throw mismatch("agreement", parsed.agreementId, expected.agreementId);
  if (parsed.version !== expected.version) throw mismatch("version", parsed.version, expected.version);
  if (getAddress(parsed.signer) !== expected.safe) throw mismatch("the wallet", parsed.signer, expected.safe);
  return parsed;
}

/**
 * Signs `what` as one owner (the command's signer) of the Safe `wallet`, adding the part to `out`
 * (created by the first owner), and checks with the Safe whether the combined signature is enough.
 */
export async function signAsWalletOwner(context: ConcordContext, signer: Address | LocalAccount, options: { wallet: string; out?: string }, what: WalletSigning): Promise<WalletSigned> {
  const safe = parseAddress(options.wallet, "--wallet");
  if (!options.out) throw new UsageError("--wallet collects the owners' parts in one file: give --out FILE (each owner names the same file)");
  const { chainId, addresses } = context;
  const existing = fs.existsSync(options.out) ? readExisting(options.out, { kind: what.kind, chainId, registry: addresses.registry, agreementId: what.agreementId, version: what.version, safe }) : undefined;
  const owner = ownerAccount(context, signer);
  if (existing?.owners.some((p) => getAddress(p.owner) === getAddress(owner.address))) {
    throw new UsageError(`owner ${owner.address} already signed ${options.out} for the wallet ${safe}`);
  }
  const nonce = existing ? BigInt(existing.nonce) : what.nonce;
  const deadline = existing ? BigInt(existing.deadline) : what.deadline;
  if (existing && what.nonce !== undefined && what.nonce !== nonce) throw new UsageError(`--nonce ${what.nonce}: ${options.out} is signed with nonce ${nonce}`);
  const wallet = safeWallet({ address: safe, owners: [owner] });
  const part =
    what.kind === "consent"
      ? await signConsent(context, { agreementId: what.agreementId, version: what.version, terms: what.terms!, nonce, deadline, wallet, check: false })
      : await signTermination(context, { agreementId: what.agreementId, version: what.version, nonce, deadline, wallet, check: false });
  const owners = [...(existing?.owners ?? []), { owner: getAddress(owner.address), signature: part.signature }];
  const signature = combineSafeSignatures(owners);
  const message = { agreementId: what.agreementId, version: what.version, signer: safe, nonce: part.nonce, deadline: part.deadline, chainId, registry: addresses.registry };
  const digest = what.kind === "consent" ? consentDigest({ ...message, terms: what.terms! }) : terminationDigest(message);
  let refusal: string | undefined;
  try {
    await checkWalletSignature(context, { wallet: safe, digest, signature });
  } catch (error) {
    if (!(error instanceof WalletSignatureRefusedError)) throw error;
    refusal = error.message;
  }
  const file: WalletSignatureFile = {
    kind: what.kind,
    chainId,
    registry: addresses.registry,
    agreementId: what.agreementId.toString(),
    version: what.version,
    signer: safe,
    nonce: part.nonce.toString(),
    deadline: part.deadline.toString(),
    signature,
    owners,
  };
  fs.writeFileSync(options.out, `${JSON.stringify(file, null, 2)}\n`);
  return { file, owner: getAddress(owner.address), complete: refusal === undefined, refusal };
}
