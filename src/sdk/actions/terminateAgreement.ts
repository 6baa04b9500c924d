import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type Terms } from "../terms";
import { eventArgs, eventsArgs, writeConcord, type WriteResult } from "../write";
import { sortSignatures, type ConsentSignature } from "./signConsent";

export type TerminateAgreementParameters = {
  agreementId: bigint;
  /** The terms of the version in force (checked on chain against the stored hash). */
  currentTerms: Terms;
  /** Termination signatures ({@link signTermination}) of the parties that did not approve on chain; any order. */
  signatures: readonly ConsentSignature[];
};
export type TerminateAgreementReturnType = WriteResult & {
  /** The version that was in force. */
  version: number;
  signers: Address[];
};
export type TerminateAgreementErrorType = ConcordWriteErrorType;

/**
 * Terminates an agreement with the consent of every party of its current version: no new
 * settlements; held reserves and undistributed pools still pay out.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link TerminateAgreementParameters}
 * @returns The transaction, the terminated version and the signers.
 *
 * @example
 * import { signTermination, terminateAgreement } from "./src/sdk"
 * const signatures = [await signTermination(hotelContext, { agreementId: 1n, version: 2 })]
 * await terminateAgreement(context, { agreementId: 1n, currentTerms: v2, signatures })
 */
export async function terminateAgreement(
  context: ConcordContext,
  parameters: TerminateAgreementParameters,
): Promise<TerminateAgreementReturnType> {
  validateTerms(parameters.currentTerms);
  const result = await writeConcord(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "terminate",
    args: [parameters.agreementId, parameters.currentTerms, sortSignatures(parameters.signatures)],
  });
  const terminated = eventArgs(result, agreementRegistryAbi, "AgreementTerminated");
  const signers = eventsArgs(result, agreementRegistryAbi, "TerminationSigned").map((e) => e.party);
  return { ...result, version: terminated.version, signers };
}
