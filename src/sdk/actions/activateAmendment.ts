import type { Address, Hex } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type NestedTerms, type Terms } from "../terms";
import { eventArgs, eventsArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { consentDigest } from "../typedData";
import { withWalletDiagnosis } from "../wallets/contractWallet";
import { getNestedTerms } from "./getNestedTerms";
import { readTermsInForce } from "./getVersion";
import { sortSignatures, type ConsentSignature } from "./signConsent";

export type ActivateAmendmentParameters = {
  agreementId: bigint;
  /** The proposed version to activate. */
  version: number;
  /** Its full terms. */
  terms: Terms;
  /** The terms of the version in force (default: read from its VersionProposed event): their consenters consent too. */
  currentTerms?: Terms;
  /** The nested terms reachable from either (default: read with {@link getNestedTerms}). */
  children?: readonly NestedTerms[];
  /** Signatures of every consenter of either version without a live on-chain approval; any order. */
  signatures: readonly ConsentSignature[];
};
export type ActivateAmendmentReturnType = WriteResult & { unit: number; partiesRoot: Hex; signers: Address[] };
export type ActivateAmendmentErrorType = ConcordWriteErrorType;

/**
 * Activates an amendment with the consent of every consenter of the new and of the current
 * version (members of nested parties included), in one transaction. Settlements from the next
 * block use the new version.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link ActivateAmendmentParameters}
 * @returns The transaction, the new distribution unit, its parties root and the signers.
 *
 * @example
 * import { activateAmendment, signConsent } from "./src/sdk"
 * const signatures = await Promise.all(consenterContexts.map((c) => signConsent(c, { agreementId: 1n, version: 2, terms: v2 })))
 * await activateAmendment(context, { agreementId: 1n, version: 2, terms: v2, signatures })
 */
export async function activateAmendment(
  context: ConcordContext,
  parameters: ActivateAmendmentParameters,
): Promise<ActivateAmendmentReturnType> {
  const planned = await activateAmendmentCall(context, parameters);
  const digestOf = (s: { signer: Address; nonce: bigint; deadline: bigint }) =>
    consentDigest({ chainId: context.chainId, registry: context.addresses.registry, agreementId: parameters.agreementId, version: parameters.version, terms: parameters.terms, ...s });
  const result = await withWalletDiagnosis(context, parameters.signatures, digestOf, () => sendPlanned(context, planned));
  const activated = eventArgs(result, agreementRegistryAbi, "VersionActivated");
  const signers = eventsArgs(result, agreementRegistryAbi, "ConsentSigned").map((e) => e.party);
  return { ...result, unit: activated.unit, partiesRoot: activated.partiesRoot, signers };
}

/** The call {@link activateAmendment} sends (terms in force and nested terms read when not given); {@link prepareActivateAmendment} returns it encoded. */
export async function activateAmendmentCall(context: ConcordContext, parameters: ActivateAmendmentParameters): Promise<PlannedCall> {
  validateTerms(parameters.terms);
  const currentTerms = parameters.currentTerms ?? (await readTermsInForce(context, { agreementId: parameters.agreementId })).terms;
  validateTerms(currentTerms);
  const children = parameters.children ?? (await getNestedTerms(context, { terms: [parameters.terms, currentTerms] }));
  const signatures = sortSignatures(parameters.signatures);
  return planCall(
    {
      address: context.addresses.registry,
      abi: agreementRegistryAbi,
      functionName: "activateAmendment",
      args: [parameters.agreementId, parameters.version, parameters.terms, currentTerms, children, signatures],
    },
    `activate amendment version ${parameters.version} of agreement ${parameters.agreementId} with the consent of ${signatures.map((s) => s.signer).join(", ") || "on-chain approvals only"}`,
  );
}
