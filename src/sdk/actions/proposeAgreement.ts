import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { validateTerms, type Terms } from "../terms";
import { simulateAndWrite, type WriteResult } from "../write";

export type ProposeAgreementParameters = { terms: Terms };
export type ProposeAgreementReturnType = WriteResult & { agreementId: bigint; termsHash: `0x${string}` };

/**
 * Proposes a new agreement with its first version of terms (status: proposed, nothing active yet).
 *
 * @example
 * const { agreementId } = await proposeAgreement(context, { terms })
 */
export async function proposeAgreement(
  context: ConcordContext,
  parameters: ProposeAgreementParameters,
): Promise<ProposeAgreementReturnType> {
  validateTerms(parameters.terms);
  const result = await simulateAndWrite(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "propose",
    args: [parameters.terms],
  });
  const proposed = result.events.find((e) => e.eventName === "VersionProposed")!;
  return { ...result, agreementId: proposed.args.agreementId as bigint, termsHash: proposed.args.termsHash as `0x${string}` };
}
