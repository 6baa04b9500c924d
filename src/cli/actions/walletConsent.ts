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
import { parseAddress } from "../parse";
import { readWalletSignatureFile, writeSignatureFile, type SignatureKind, type WalletSignatureFile } from "../signatureFile";

export type WalletSigning = {
  kind: SignatureKind;
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

/**
 * Signs `what` as one owner (the command's signer) of the Safe `wallet`, adding the part to `out`
 * (created by the first owner), and checks with the Safe whether the combined signature is enough.
 */
export async function signAsWalletOwner(context: ConcordContext, signer: Address | LocalAccount, options: { wallet: string; out?: string }, what: WalletSigning): Promise<WalletSigned> {
  const safe = parseAddress(options.wallet, "--wallet");
  if (!options.out) throw new UsageError("--wallet collects the owners' parts in one file: give --out FILE (each owner names the same file)");
  const { chainId, addresses } = context;
  const existing = fs.existsSync(options.out) ? readWalletSignatureFile(options.out, { kind: what.kind, chainId, registry: addresses.registry, agreementId: what.agreementId, version: what.version, wallet: safe }) : undefined;
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
  writeSignatureFile(options.out, file);
  return { file, owner: getAddress(owner.address), complete: refusal === undefined, refusal };
}
