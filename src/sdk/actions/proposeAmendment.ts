import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { validateTerms, type Terms } from "../terms";
import { simulateAndWrite, type WriteResult } from "../write";

export type ProposeAmendmentParameters = { agreementId: bigint; terms: Terms };
export type ProposeAmendmentReturnType = WriteResult & { version: number; termsHash: `0x${string}` };

/**
 * Proposes a new version of an active agreement. It takes effect with {@link activateAmendment}.
 *
 * @example
 * const { version } = await proposeAmendment(context, { agreementId: 1n, terms: newTerms })
 */
export async function proposeAmendment(
  context: ConcordContext,
  parameters: ProposeAmendmentParameters,
): Promise<ProposeAmendmentReturnType> {
  validateTerms(parameters.terms);
  const result = await simulateAndWrite(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "proposeAmendment",
    args: [parameters.agreementId, parameters.terms],
  });
  const proposed = result.events.find((e) => e.eventName === "VersionProposed")!;
  return { ...result, version: Number(proposed.args.version), termsHash: proposed.args.termsHash as `0x${string}` };
}
