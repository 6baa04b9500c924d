import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type Terms } from "../terms";
import { eventArgs, eventsArgs, writeConcord, type WriteResult } from "../write";
import { sortSignatures, type ConsentSignature } from "./signConsent";

export type ActivateAmendmentParameters = {
  agreementId: bigint;
  /** The proposed version to activate. */
  version: number;
  /** Its full terms. */
  terms: Terms;
  /** The terms of the version in force: their parties must consent too. */
  currentTerms: Terms;
  /** Signatures of every party of either version that did not approve on chain; any order. */
  signatures: readonly ConsentSignature[];
};
export type ActivateAmendmentReturnType = WriteResult & { unit: number; signers: Address[] };
export type ActivateAmendmentErrorType = ConcordWriteErrorType;

/**
 * Activates an amendment with the consent of the parties of the new and of the current version,
 * in one transaction. Settlements from the next block use the new version.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link ActivateAmendmentParameters}
 * @returns The transaction, the new distribution unit and the signers.
 *
 * @example
 * import { activateAmendment, signConsent } from "./src/sdk"
 * const signatures = await Promise.all(partyContexts.map((c) => signConsent(c, { agreementId: 1n, version: 2, terms: v2 })))
 * await activateAmendment(context, { agreementId: 1n, version: 2, terms: v2, currentTerms: v1, signatures })
 */
export async function activateAmendment(
  context: ConcordContext,
  parameters: ActivateAmendmentParameters,
): Promise<ActivateAmendmentReturnType> {
  validateTerms(parameters.terms);
  validateTerms(parameters.currentTerms);
  const result = await writeConcord(context, {
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
  const activated = eventArgs(result, agreementRegistryAbi, "VersionActivated");
  const signers = eventsArgs(result, agreementRegistryAbi, "ConsentSigned").map((e) => e.party);
  return { ...result, unit: activated.unit, signers };
}
