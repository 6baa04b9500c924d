import { randomBytes } from "node:crypto";
import type { Address, Hex } from "viem";
import { accountAddress, signerOf, walletOf, type ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { validateTerms, type Terms } from "../terms";
import { getConsentTypedData } from "../typedData";

/** A consent signature as the registry takes it. */
export type ConsentSignature = { signer: Address; nonce: bigint; deadline: bigint; signature: Hex };

export type SignConsentParameters = {
  agreementId: bigint;
  version: number;
  /** The full terms of that version: the signature binds their hash. */
  terms: Terms;
  /** Unordered nonce (default: a random 64-bit value); void it with {@link cancelNonce}. */
  nonce?: bigint;
  /** Unix time after which the signature is void (default: 7 days after the latest block). */
  deadline?: bigint;
};
export type SignConsentReturnType = ConsentSignature;
export type SignConsentErrorType = ConcordReadErrorType;

/** A fresh random nonce: nonces are unordered, so random ones never wait on each other. */
export function randomNonce(): bigint {
  return BigInt(`0x${randomBytes(8).toString("hex")}`);
}

/** Seven days after the chain's latest block (chain time, not the local clock), unless given. */
export async function defaultDeadline(context: ConcordContext, deadline?: bigint): Promise<bigint> {
  if (deadline !== undefined) {
    if (deadline <= 0n) throw new InvalidInputError(`deadline ${deadline} is not a unix time`);
    return deadline;
  }
  const block = await withConcordErrors(() => context.publicClient.getBlock({ blockTag: "latest" }));
  return block.timestamp + 7n * 86_400n;
}

/**
 * Signs consent to a version of terms (EIP-712, {@link getConsentTypedData}) with the context's
 * account: a local account (private key, mnemonic) signs in process, a JSON-RPC account through
 * the node's `eth_signTypedData_v4`. No transaction; any party can then submit the signatures
 * with {@link activateAgreement} or {@link activateAmendment}.
 *
 * @param context - A context whose wallet client (or `account`) is the signing party.
 * @param parameters - {@link SignConsentParameters}
 * @returns The signature with its signer, nonce and deadline.
 *
 * @example
 * import { signConsent } from "./src/sdk"
 * const signature = await signConsent(hotelContext, { agreementId: 1n, version: 1, terms })
 * // send `signature` to whoever activates: { signer, nonce, deadline, signature }
 */
export async function signConsent(context: ConcordContext, parameters: SignConsentParameters): Promise<SignConsentReturnType> {
  validateTerms(parameters.terms);
  const account = signerOf(context);
  const nonce = parameters.nonce ?? randomNonce();
  const deadline = await defaultDeadline(context, parameters.deadline);
  const typedData = getConsentTypedData({
    chainId: context.chainId,
    registry: context.addresses.registry,
    agreementId: parameters.agreementId,
    version: parameters.version,
    terms: parameters.terms,
    nonce,
    deadline,
  });
  const signature = await withConcordErrors(() => walletOf(context).signTypedData({ account, ...typedData }));
  return { signer: accountAddress(account), nonce, deadline, signature };
}

/** Sorts signatures by signer, as the registry requires, and refuses duplicates. */
export function sortSignatures(signatures: readonly ConsentSignature[]): ConsentSignature[] {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : BigInt(a.signer) > BigInt(b.signer) ? 1 : 0));
  sorted.forEach((s, i) => {
    if (i > 0 && BigInt(sorted[i - 1]!.signer) === BigInt(s.signer)) throw new InvalidInputError(`${s.signer} signed twice`);
  });
  return sorted;
}
