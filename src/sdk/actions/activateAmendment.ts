import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { validateTerms, type Terms } from "../terms";
import { simulateAndWrite, type WriteResult } from "../write";
import { sortSignatures, type ConsentSignature } from "./signConsent";

export type ActivateAmendmentParameters = {
  agreementId: bigint;
  version: number;
  terms: Terms;
  /** The terms of the active version: their parties must consent too. */
  currentTerms: Terms;
  signatures: readonly ConsentSignature[];
};
export type ActivateAmendmentReturnType = WriteResult & { unit: number };

/**
 * Activates an amendment with the consent of the parties of the new and of the current version.
 *
 * @example
 * await activateAmendment(context, { agreementId: 1n, version: 2, terms: v2, currentTerms: v1, signatures })
 */
export async function activateAmendment(
  context: ConcordContext,
  parameters: ActivateAmendmentParameters,
): Promise<ActivateAmendmentReturnType> {
  validateTerms(parameters.terms);
  const result = await simulateAndWrite(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "activateAmendment",
    args: [
      parameters.agreementId,
      parameters.version,
      parameters.terms,
      parameters.currentTerms,
      sortSignatures(parameters.signatures),
    ],
  });
  const activated = result.events.find((e) => e.eventName === "VersionActivated")!;
  return { ...result, unit: Number(activated.args.unit) };
}
