import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { validateTerms, type Terms } from "../terms";
import { simulateAndWrite, type WriteResult } from "../write";
import { sortSignatures, type ConsentSignature } from "./signConsent";

export type ActivateAgreementParameters = {
  agreementId: bigint;
  /** The version to activate (default 1). */
  version?: number;
  terms: Terms;
  /** Every party's consent that is not already given on chain; sorted here. */
  signatures: readonly ConsentSignature[];
};
export type ActivateAgreementReturnType = WriteResult & { version: number; unit: number };

/**
 * Submits every party's signature and activates a proposed agreement in one transaction.
 *
 * @example
 * const sigs = [await signConsent(hotelCtx, p), await signConsent(restaurantCtx, p)]
 * await activateAgreement(context, { agreementId: 1n, terms, signatures: sigs })
 */
export async function activateAgreement(
  context: ConcordContext,
  parameters: ActivateAgreementParameters,
): Promise<ActivateAgreementReturnType> {
  validateTerms(parameters.terms);
  const version = parameters.version ?? 1;
  const result = await simulateAndWrite(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "activate",
    args: [parameters.agreementId, version, parameters.terms, sortSignatures(parameters.signatures)],
  });
  const activated = result.events.find((e) => e.eventName === "VersionActivated")!;
  return { ...result, version, unit: Number(activated.args.unit) };
}
