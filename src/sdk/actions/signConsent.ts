import { randomBytes } from "node:crypto";
import type { Address, Hex } from "viem";
import { accountAddress, signerOf, walletOf, type ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { validateTerms, type Terms } from "../terms";
import { getConsentTypedData, getTerminationTypedData } from "../typedData";

/** A consent signature as the registry takes it. */
export type ConsentSignature = { signer: Address; nonce: bigint; deadline: bigint; signature: Hex };

export type SignConsentParameters = {
  agreementId: bigint;
  version: number;
  terms: Terms;
  /** Unordered nonce (default: a random 64-bit value); cancel it with cancelNonce. */
  nonce?: bigint;
  /** Unix time after which the signature is void (default: 7 days after the latest block). */
  deadline?: bigint;
};
export type SignConsentReturnType = ConsentSignature;

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
 * Signs consent to a version of terms (EIP-712) with the context's account. Signing needs no
 * transaction and can happen offline; any party can then submit the signatures with
 * {@link activateAgreement}.
 *
 * @example
 * const signature = await signConsent(context, { agreementId: 1n, version: 1, terms })
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
  const signature = await withConcordErrors(() =>
    walletOf(context).signTypedData({ account, ...typedData } as Parameters<NonNullable<ConcordContext["walletClient"]>["signTypedData"]>[0]),
  );
  return { signer: accountAddress(account), nonce, deadline, signature };
}

export type SignTerminationParameters = { agreementId: bigint; version: number; nonce?: bigint; deadline?: bigint };

/**
 * Signs consent to terminate the active version of an agreement (EIP-712).
 *
 * @example
 * const signature = await signTermination(context, { agreementId: 1n, version: 2 })
 */
export async function signTermination(context: ConcordContext, parameters: SignTerminationParameters): Promise<ConsentSignature> {
  const account = signerOf(context);
  const nonce = parameters.nonce ?? randomNonce();
  const deadline = await defaultDeadline(context, parameters.deadline);
  const typedData = getTerminationTypedData({
    chainId: context.chainId,
    registry: context.addresses.registry,
    agreementId: parameters.agreementId,
    version: parameters.version,
    nonce,
    deadline,
  });
  const signature = await withConcordErrors(() =>
    walletOf(context).signTypedData({ account, ...typedData } as Parameters<NonNullable<ConcordContext["walletClient"]>["signTypedData"]>[0]),
  );
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
