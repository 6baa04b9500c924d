import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";

export type CancelNonceParameters = {
  /** The nonce of a consent or termination signature the account gave and wants void. */
  nonce: bigint;
};
export type CancelNonceReturnType = WriteResult;
export type CancelNonceErrorType = ConcordWriteErrorType;

/**
 * Voids a consent or termination signature of the context's account before anyone submits it,
 * by using up its nonce.
 *
 * @param context - A context whose account gave the signature.
 * @param parameters - {@link CancelNonceParameters}
 * @returns The transaction (its NonceCancelled event among `events`).
 *
 * @example
 * import { cancelNonce, signConsent } from "./src/sdk"
 * const signature = await signConsent(hotelContext, { agreementId: 1n, version: 1, terms })
 * await cancelNonce(hotelContext, { nonce: signature.nonce }) // the signature can no longer be used
 */
export async function cancelNonce(context: ConcordContext, parameters: CancelNonceParameters): Promise<CancelNonceReturnType> {
  return sendPlanned(context, await cancelNonceCall(context, parameters));
}

/** The call {@link cancelNonce} sends; {@link prepareCancelNonce} returns it encoded. */
export async function cancelNonceCall(context: ConcordContext, parameters: CancelNonceParameters): Promise<PlannedCall> {
  return planCall(
    { address: context.addresses.registry, abi: agreementRegistryAbi, functionName: "cancelNonce", args: [parameters.nonce] },
    `cancel consent nonce ${parameters.nonce}`,
  );
}
