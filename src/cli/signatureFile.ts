/**
 * The signature file of `agreement sign`: one consenter's EIP-712 consent (or termination)
 * signature with what it is bound to, read back by `activate` and `terminate`, and by the next
 * owner of a Safe adding its part (`sign --wallet`). Written, schema-checked and matched to its
 * agreement here only, so every command refuses a wrong file with the same words.
 */
import fs from "node:fs";
import { getAddress, type Address, type Hex } from "viem";
import type { ConsentSignature, SafeOwnerSignature } from "../sdk";
import { UsageError } from "./errors";
import { checkFields, parseAddress, type FieldKind } from "./parse";

export type SignatureKind = "consent" | "termination";

/** What `activate` (or `terminate`) reads. */
export type SignatureFile = {
  kind: SignatureKind;
  chainId: number;
  registry: Address;
  agreementId: string;
  version: number;
  signer: Address;
  nonce: string;
  deadline: string;
  signature: Hex;
};

/** A signature file of a Safe: the one `activate` reads, plus each owner's part. */
export type WalletSignatureFile = SignatureFile & { owners: SafeOwnerSignature[] };

const SIGNATURE_FIELDS = {
  kind: "string",
  chainId: "integer",
  registry: "address",
  agreementId: "decimal",
  version: "integer",
  signer: "address",
  nonce: "decimal",
  deadline: "decimal",
  signature: "hex",
} as const satisfies Record<keyof SignatureFile, FieldKind>;

/** What a signature file must be bound to, for the command reading it. */
export type SignatureTarget = { kind: SignatureKind; chainId: number; registry: Address; agreementId: bigint; version: number };

/** Reads `path` as a signature file: not JSON, or a missing or wrongly typed field, is one error naming the file. */
function parseSignatureFile(path: string): SignatureFile {
  let parsed: SignatureFile;
  try {
    parsed = JSON.parse(fs.readFileSync(path, "utf8")) as SignatureFile;
  } catch {
    throw new UsageError(`signature file ${path} cannot be read as JSON`);
  }
  checkFields(`signature file ${path}`, parsed, SIGNATURE_FIELDS);
  return parsed;
}

/** Refuses a file for another kind, chain, registry, agreement or version, naming it (`hint` tells the reader what to do instead). */
function checkTarget(path: string, parsed: SignatureFile, target: SignatureTarget, hint = ""): void {
  const wrong = (what: string, got: unknown, want: unknown) => new UsageError(`signature file ${path} is for ${what} ${String(got)}, not ${String(want)}${hint}`);
  if (parsed.kind !== target.kind) throw wrong("a", parsed.kind, target.kind);
  if (parsed.chainId !== target.chainId) throw wrong("chain", parsed.chainId, target.chainId);
  if (parsed.registry.toLowerCase() !== target.registry.toLowerCase()) throw wrong("registry", parsed.registry, target.registry);
  if (BigInt(parsed.agreementId) !== target.agreementId) throw wrong("agreement", parsed.agreementId, target.agreementId);
  if (parsed.version !== target.version) throw wrong("version", parsed.version, target.version);
}

/** The consenters' signatures for `activate` or `terminate`, each file checked against `target`; an expired one is refused. */
export function readSignatureFiles(files: readonly string[], target: SignatureTarget & { now: bigint }): ConsentSignature[] {
  return files.map((file) => {
    const parsed = parseSignatureFile(file);
    checkTarget(file, parsed, target);
    const deadline = BigInt(parsed.deadline);
    if (deadline < target.now) {
      throw new UsageError(`the signature of ${parsed.signer} in ${file} expired at ${new Date(Number(deadline) * 1000).toISOString()}`);
    }
    return { signer: parseAddress(parsed.signer, `signer in ${file}`), nonce: BigInt(parsed.nonce), deadline, signature: parsed.signature };
  });
}

/** The file the earlier owners of the Safe `wallet` signed into, checked against `target` and the wallet. */
export function readWalletSignatureFile(path: string, target: SignatureTarget & { wallet: Address }): WalletSignatureFile {
  const hint = "; name a new --out file";
  const parsed = parseSignatureFile(path) as WalletSignatureFile;
  if (!Array.isArray(parsed.owners)) throw new UsageError(`signature file ${path} has no owners' parts: it was not written by agreement sign --wallet`);
  parsed.owners.forEach((part, i) => checkFields(`signature file ${path}`, part, { owner: "address", signature: "hex" }, `owners[${i}]`));
  checkTarget(path, parsed, target, hint);
  if (getAddress(parsed.signer) !== getAddress(target.wallet)) {
    throw new UsageError(`signature file ${path} is for the wallet ${parsed.signer}, not ${target.wallet}${hint}`);
  }
  return parsed;
}

/** Writes a signature file as `agreement sign` does (pretty JSON, one trailing newline). */
export function writeSignatureFile(path: string, file: SignatureFile | WalletSignatureFile): void {
  fs.writeFileSync(path, signatureFileText(file));
}

/** The text of a signature file (printed when `sign` has no --out). */
export function signatureFileText(file: SignatureFile | WalletSignatureFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
