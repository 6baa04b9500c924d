import type { Hex } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type Terms } from "../terms";
import { eventArgs, writeConcord, type WriteResult } from "../write";

export type ProposeAmendmentParameters = {
  /** An active agreement. */
  agreementId: bigint;
  /** The terms of the next version. */
  terms: Terms;
};
export type ProposeAmendmentReturnType = WriteResult & {
  /** The number of the proposed version. */
  version: number;
  termsHash: Hex;
};
export type ProposeAmendmentErrorType = ConcordWriteErrorType;

/**
 * Proposes a new version of an active agreement. It takes effect with {@link activateAmendment},
 * once every party of the new and of the current version consented.
 *
 * @param context - A context with a wallet client.
 * @param parameters - {@link ProposeAmendmentParameters}
 * @returns The transaction, the new version number and its terms hash.
 *
 * @example
 * import { buildTerms, proposeAmendment } from "./src/sdk"
 * const v2 = buildTerms({ parties: [{ account: hotel, shareBps: 5_500 }, { account: restaurant, shareBps: 4_500 }] })
 * const { version } = await proposeAmendment(context, { agreementId: 1n, terms: v2 })
 */
export async function proposeAmendment(
  context: ConcordContext,
  parameters: ProposeAmendmentParameters,
): Promise<ProposeAmendmentReturnType> {
  validateTerms(parameters.terms);
  const result = await writeConcord(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "proposeAmendment",
    args: [parameters.agreementId, parameters.terms],
  });
  const proposed = eventArgs(result, agreementRegistryAbi, "VersionProposed");
  return { ...result, version: proposed.version, termsHash: proposed.termsHash };
}
