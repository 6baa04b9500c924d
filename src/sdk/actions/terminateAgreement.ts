import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type NestedTerms, type Terms } from "../terms";
import { eventArgs, eventsArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { terminationDigest } from "../typedData";
import { withWalletDiagnosis } from "../wallets/contractWallet";
import { getNestedTerms } from "./getNestedTerms";
import { readTermsInForce } from "./getVersion";
import { sortSignatures, type ConsentSignature } from "./signConsent";

export type TerminateAgreementParameters = {
  agreementId: bigint;
  /** The terms of the version in force (default: read from its VersionProposed event; checked on chain against the stored hash). */
  currentTerms?: Terms;
  /** The nested terms reachable from `currentTerms` (default: read with {@link getNestedTerms}). */
  children?: readonly NestedTerms[];
  /** Termination signatures ({@link signTermination}) of the consenters without a live on-chain approval; any order. */
  signatures: readonly ConsentSignature[];
};
export type TerminateAgreementReturnType = WriteResult & {
  /** The version that was in force. */
  version: number;
  signers: Address[];
};
export type TerminateAgreementErrorType = ConcordWriteErrorType;

/**
 * Terminates an agreement with the consent of every consenter of its active version (members of
 * nested parties included): no new settlements; held reserves and undistributed pools still pay
 * out, and the final remainders can be swept.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link TerminateAgreementParameters}
 * @returns The transaction, the terminated version and the signers.
 *
 * @example
 * import { signTermination, terminateAgreement } from "./src/sdk"
 * const signatures = [await signTermination(hotelContext, { agreementId: 1n, version: 2 })]
 * await terminateAgreement(context, { agreementId: 1n, signatures })
 */
export async function terminateAgreement(
  context: ConcordContext,
  parameters: TerminateAgreementParameters,
): Promise<TerminateAgreementReturnType> {
  const planned = await terminateAgreementCall(context, parameters);
  // Only when a wallet's signature is refused: the version it signed is the one in force.
  const digestOf = async (s: { signer: Address; nonce: bigint; deadline: bigint }) => {
    const { activeVersion } = await readTermsInForce(context, { agreementId: parameters.agreementId });
    return terminationDigest({ chainId: context.chainId, registry: context.addresses.registry, agreementId: parameters.agreementId, version: activeVersion, ...s });
  };
  const result = await withWalletDiagnosis(context, parameters.signatures, digestOf, () => sendPlanned(context, planned));
  const terminated = eventArgs(result, agreementRegistryAbi, "AgreementTerminated");
  const signers = eventsArgs(result, agreementRegistryAbi, "TerminationSigned").map((e) => e.party);
  return { ...result, version: terminated.version, signers };
}

/** The call {@link terminateAgreement} sends (terms in force and nested terms read when not given); {@link prepareTerminateAgreement} returns it encoded. */
export async function terminateAgreementCall(context: ConcordContext, parameters: TerminateAgreementParameters): Promise<PlannedCall> {
  const currentTerms = parameters.currentTerms ?? (await readTermsInForce(context, { agreementId: parameters.agreementId })).terms;
  validateTerms(currentTerms);
  const children = parameters.children ?? (await getNestedTerms(context, { terms: currentTerms }));
  const signatures = sortSignatures(parameters.signatures);
  return planCall(
    { address: context.addresses.registry, abi: agreementRegistryAbi, functionName: "terminate", args: [parameters.agreementId, currentTerms, children, signatures] },
    `terminate agreement ${parameters.agreementId} with the consent of ${signatures.map((s) => s.signer).join(", ") || "on-chain approvals only"}`,
  );
}
