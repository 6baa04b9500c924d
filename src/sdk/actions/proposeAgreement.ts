import type { Hex } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type Terms } from "../terms";
import { hashTerms } from "../typedData";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";

export type ProposeAgreementParameters = {
  /** The first version's terms, as {@link buildTerms} makes them. */
  terms: Terms;
};
export type ProposeAgreementReturnType = WriteResult & {
  /** The new agreement's id (from its AgreementProposed event). */
  agreementId: bigint;
  /** The EIP-712 struct hash the registry stored for version 1. */
  termsHash: Hex;
};
export type ProposeAgreementErrorType = ConcordWriteErrorType;

/**
 * Proposes a new agreement with its first version of terms (status: proposed, nothing active
 * yet). The parties then consent by signature ({@link signConsent}) or on chain
 * ({@link approveVersion}) and anyone activates it ({@link activateAgreement}).
 *
 * @param context - A context with a wallet client ({@link createConcordContext}).
 * @param parameters - {@link ProposeAgreementParameters}
 * @returns The transaction, its receipt, the agreement id and terms hash. {@link ProposeAgreementReturnType}
 *
 * @example
 * import { buildTerms, createConcordContext, proposeAgreement } from "./src/sdk"
 * const context = await createConcordContext({ publicClient, walletClient }) // viem clients
 * const terms = buildTerms({ parties: [{ account: hotel, shareBps: 6_000 }, { account: restaurant, shareBps: 4_000 }] })
 * const { agreementId, termsHash } = await proposeAgreement(context, { terms })
 */
export async function proposeAgreement(
  context: ConcordContext,
  parameters: ProposeAgreementParameters,
): Promise<ProposeAgreementReturnType> {
  const result = await sendPlanned(context, await proposeAgreementCall(context, parameters));
  const proposed = eventArgs(result, agreementRegistryAbi, "VersionProposed");
  return { ...result, agreementId: proposed.agreementId, termsHash: proposed.termsHash };
}

/** The call {@link proposeAgreement} sends; {@link prepareProposeAgreement} returns it encoded. */
export async function proposeAgreementCall(context: ConcordContext, parameters: ProposeAgreementParameters): Promise<PlannedCall> {
  validateTerms(parameters.terms);
  return planCall(
    { address: context.addresses.registry, abi: agreementRegistryAbi, functionName: "propose", args: [parameters.terms] },
    `propose an agreement of ${parameters.terms.parties.length} parties with terms ${hashTerms(parameters.terms)}`,
  );
}
