import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import type { NestedTerms, Terms } from "../terms";
import { getNestedTerms } from "./getNestedTerms";

export type GetConsentersParameters = {
  terms: Terms;
  /** The nested terms reachable from `terms` (default: read with {@link getNestedTerms}). */
  children?: readonly NestedTerms[];
  fromBlock?: bigint;
};
export type GetConsentersReturnType = Address[];
export type GetConsentersErrorType = ConcordReadErrorType;

/**
 * Every account whose consent `terms` need (the registry's `consenters` view): the account
 * parties and, through each nested party, the accounts of the child's pinned version,
 * recursively; sorted ascending without repeats. For an amendment, the consenters of the new
 * terms and of the version in force both consent.
 *
 * @param context - Any context.
 * @param parameters - {@link GetConsentersParameters}
 * @returns The sorted accounts.
 *
 * @example
 * import { getConsenters } from "./src/sdk"
 * const accounts = await getConsenters(context, { terms })
 * // each of them signs with signConsent (or approves on chain) before activateAgreement
 */
export async function getConsenters(context: ConcordContext, parameters: GetConsentersParameters): Promise<GetConsentersReturnType> {
  const children = parameters.children ?? (await getNestedTerms(context, { terms: parameters.terms, fromBlock: parameters.fromBlock }));
  const accounts = await withConcordErrors(() =>
    context.publicClient.readContract({
      address: context.addresses.registry,
      abi: agreementRegistryAbi,
      functionName: "consenters",
      args: [parameters.terms, children],
    }),
  );
  return [...accounts];
}
