import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { Terms } from "../terms";
import { simulateAndWrite, type WriteResult } from "../write";
import { sortSignatures, type ConsentSignature } from "./signConsent";

export type TerminateAgreementParameters = {
  agreementId: bigint;
  /** The terms of the active version. */
  currentTerms: Terms;
  /** Termination signatures of the parties that have not approved on chain. */
  signatures: readonly ConsentSignature[];
};

/**
 * Terminates an agreement with every party's consent; it can no longer be settled.
 *
 * @example
 * await terminateAgreement(context, { agreementId: 1n, currentTerms, signatures })
 */
export async function terminateAgreement(context: ConcordContext, parameters: TerminateAgreementParameters): Promise<WriteResult> {
  return simulateAndWrite(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "terminate",
    args: [parameters.agreementId, parameters.currentTerms, sortSignatures(parameters.signatures)],
  });
}

/**
 * Consents on chain to terminating the active version.
 *
 * @example
 * await approveTermination(context, { agreementId: 1n })
 */
export async function approveTermination(context: ConcordContext, parameters: { agreementId: bigint }): Promise<WriteResult> {
  return simulateAndWrite(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "approveTermination",
    args: [parameters.agreementId],
  });
}

/**
 * Cancels an unused consent signature by using its nonce.
 *
 * @example
 * await cancelNonce(context, { nonce: 42n })
 */
export async function cancelNonce(context: ConcordContext, parameters: { nonce: bigint }): Promise<WriteResult> {
  return simulateAndWrite(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "cancelNonce",
    args: [parameters.nonce],
  });
}
