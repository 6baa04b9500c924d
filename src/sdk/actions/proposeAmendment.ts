import type { Hex } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { AgreementStatus, validateTerms, type NestedTerms, type Terms } from "../terms";
import { hashTerms } from "../typedData";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { getNestedTerms } from "./getNestedTerms";
import { readTermsInForce } from "./getVersion";

export type ProposeAmendmentParameters = {
  /** A proposed agreement (only its proposer amends it) or an active one (any consenter of the active version). */
  agreementId: bigint;
  /** The terms of the next version. */
  terms: Terms;
  /** The terms of the active version (default: read from its VersionProposed event). */
  currentTerms?: Terms;
  /** The nested terms reachable from `currentTerms` (default: read with {@link getNestedTerms}). */
  children?: readonly NestedTerms[];
};
export type ProposeAmendmentReturnType = WriteResult & {
  /** The number of the proposed version. */
  version: number;
  termsHash: Hex;
};
export type ProposeAmendmentErrorType = ConcordWriteErrorType;

/**
 * Proposes a new version of an agreement. On an active agreement only a consenter of the version
 * in force may propose (an account of its tree, members of nested parties included); the
 * registry checks that against the current terms and children, which are read here when not
 * given. It takes effect with {@link activateAmendment}, once every consenter of the new and of
 * the current version consented.
 *
 * @param context - A context with a wallet client whose account is a consenter.
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
  const result = await sendPlanned(context, await proposeAmendmentCall(context, parameters));
  const proposed = eventArgs(result, agreementRegistryAbi, "VersionProposed");
  return { ...result, version: proposed.version, termsHash: proposed.termsHash };
}

/** The call {@link proposeAmendment} sends (terms in force and nested terms read when not given); {@link prepareProposeAmendment} returns it encoded. */
export async function proposeAmendmentCall(context: ConcordContext, parameters: ProposeAmendmentParameters): Promise<PlannedCall> {
  validateTerms(parameters.terms);
  let currentTerms = parameters.currentTerms;
  let children = parameters.children;
  if (!currentTerms) {
    const inForce = await readTermsInForce(context, { agreementId: parameters.agreementId });
    // A proposed agreement's current terms are not read by the registry: any valid terms do.
    currentTerms = inForce.status === AgreementStatus.Active ? inForce.terms : parameters.terms;
    if (inForce.status !== AgreementStatus.Active) children ??= [];
  }
  children ??= await getNestedTerms(context, { terms: currentTerms });
  return planCall(
    {
      address: context.addresses.registry,
      abi: agreementRegistryAbi,
      functionName: "proposeAmendment",
      args: [parameters.agreementId, parameters.terms, currentTerms, children],
    },
    `propose an amendment of agreement ${parameters.agreementId} with terms ${hashTerms(parameters.terms)}`,
  );
}
