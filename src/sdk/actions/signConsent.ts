import { randomBytes } from "node:crypto";
import type { Address, Hex } from "viem";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { validateTerms, type Terms } from "../terms";
import { getConsentTypedData, hashTerms } from "../typedData";
import { signAs, signingAddress, type WalletSigningParameters } from "../wallets/contractWallet";
import { readProposedTerms } from "./getVersion";

/** A consent signature as the registry takes it: it names its signer. */
export type ConsentSignature = { signer: Address; nonce: bigint; deadline: bigint; signature: Hex };

export type SignConsentParameters = {
  agreementId: bigint;
  version: number;
  /**
   * The full terms of that version (the parent's own terms, also for a member of a nested party):
   * the signature binds their hash. Give `termsHash` instead to have the terms read from the
   * version's VersionProposed event.
   */
  terms?: Terms;
  /** The stored hash of the version's terms, when `terms` are not at hand (checked against them when both are given). */
  termsHash?: Hex;
  /** Unordered nonce (default: a random 64-bit value); void it with {@link cancelNonce}. */
  nonce?: bigint;
  /** Unix time after which the signature is void (default: 7 days after the latest block). */
  deadline?: bigint;
} & WalletSigningParameters;
export type SignConsentReturnType = ConsentSignature;
export type SignConsentErrorType = ConcordReadErrorType;

/** A fresh random nonce: nonces are unordered, so random ones never wait on each other. */
export function randomNonce(): bigint {
  return BigInt(`0x${randomBytes(8).toString("hex")}`);
}

/** `seconds` after the chain's latest block (chain time, not the local clock), unless `given`. */
export async function chainTimeFromNow(context: ConcordContext, seconds: bigint, given?: bigint, what = "deadline"): Promise<bigint> {
  if (given !== undefined) {
    if (given <= 0n) throw new InvalidInputError(`${what} ${given} is not a unix time`);
    return given;
  }
  const block = await withConcordErrors(() => context.publicClient.getBlock({ blockTag: "latest" }));
  return block.timestamp + seconds;
}

/** Seven days after the chain's latest block, unless given. */
export const defaultDeadline = (context: ConcordContext, deadline?: bigint) => chainTimeFromNow(context, 7n * 86_400n, deadline);

/** The terms to sign: those given (checked against `termsHash` when both are), or those the chain holds for `termsHash`. */
async function termsToSign(context: ConcordContext, parameters: SignConsentParameters): Promise<Terms> {
  if (parameters.terms) {
    validateTerms(parameters.terms);
    if (parameters.termsHash && hashTerms(parameters.terms) !== parameters.termsHash) {
      throw new InvalidInputError(`the terms given hash to ${hashTerms(parameters.terms)}, not to ${parameters.termsHash}`);
    }
    return parameters.terms;
  }
  if (!parameters.termsHash) throw new InvalidInputError("give the terms to consent to, or their hash");
  const read = await readProposedTerms(context, { agreementId: parameters.agreementId, version: parameters.version });
  if (read.termsHash !== parameters.termsHash) {
    throw new InvalidInputError(
      `agreement ${parameters.agreementId} version ${parameters.version} has terms hash ${read.termsHash}, not ${parameters.termsHash}`,
    );
  }
  return read.terms;
}

/**
 * Signs consent to a version of terms (EIP-712, {@link getConsentTypedData}) as the context's
 * account, or in the name of a contract wallet (`wallet`: {@link safeWallet}, {@link contractWallet};
 * the wallet's `isValidSignature` checks it first), named in the message as the signer. Any consenter signs the same parent digest: an
 * account party, or a member of a nested party (an account of the pinned child version's tree).
 * A local account (private key, mnemonic) signs in process, a JSON-RPC account through the node's
 * `eth_signTypedData_v4`. No transaction; anyone then submits the signatures with
 * {@link activateAgreement} or {@link activateAmendment}.
 *
 * @param context - A context whose wallet client (or `account`) is the consenter.
 * @param parameters - {@link SignConsentParameters}
 * @returns The signature with its signer, nonce and deadline.
 *
 * @example
 * import { signConsent } from "./src/sdk"
 * const signature = await signConsent(hotelContext, { agreementId: 1n, version: 1, terms })
 * // or, knowing only the hash: await signConsent(memberContext, { agreementId: 1n, version: 1, termsHash })
 * // a 2-of-3 Safe, two owners signing: await signConsent(context, { agreementId: 1n, version: 1, terms, wallet: safeWallet({ address: safe, owners: [alice, bob] }) })
 */
export async function signConsent(context: ConcordContext, parameters: SignConsentParameters): Promise<SignConsentReturnType> {
  const terms = await termsToSign(context, parameters);
  const signer = signingAddress(context, parameters);
  const nonce = parameters.nonce ?? randomNonce();
  const deadline = await defaultDeadline(context, parameters.deadline);
  const typedData = getConsentTypedData({
    chainId: context.chainId,
    registry: context.addresses.registry,
    agreementId: parameters.agreementId,
    version: parameters.version,
    terms,
    signer,
    nonce,
    deadline,
  });
  const signature = await signAs(context, typedData, parameters);
  return { signer, nonce, deadline, signature };
}

/** Sorts signatures by signer, as the registry requires, and refuses duplicates. */
export function sortSignatures(signatures: readonly ConsentSignature[]): ConsentSignature[] {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : BigInt(a.signer) > BigInt(b.signer) ? 1 : 0));
  sorted.forEach((s, i) => {
    if (i > 0 && BigInt(sorted[i - 1]!.signer) === BigInt(s.signer)) throw new InvalidInputError(`${s.signer} signed twice`);
  });
  return sorted;
}
