import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { DEFAULT_APPROVAL_SECONDS } from "./approveVersion";
import { readTermsInForce } from "./getVersion";
import { chainTimeFromNow } from "./signConsent";

export type ApproveTerminationParameters = {
  agreementId: bigint;
  /** The active version (default: read from the registry). */
  version?: number;
  /** Unix time until which the approval counts (default: 30 days after the latest block). */
  expiry?: bigint;
};
export type ApproveTerminationReturnType = WriteResult & { version: number; party: Address; expiry: bigint };
export type ApproveTerminationErrorType = ConcordWriteErrorType;

/**
 * Consents on chain, until `expiry`, to terminating the agreement while `version` is active, as
 * the context's account; while live it replaces the account's signature in
 * {@link terminateAgreement}, and {@link revokeTerminationApproval} withdraws it.
 *
 * @param context - A context whose account is a consenter of the active version.
 * @param parameters - {@link ApproveTerminationParameters}
 * @returns The transaction, the version, the approving account and the expiry.
 *
 * @example
 * import { approveTermination } from "./src/sdk"
 * await approveTermination(restaurantContext, { agreementId: 1n })
 */
export async function approveTermination(
  context: ConcordContext,
  parameters: ApproveTerminationParameters,
): Promise<ApproveTerminationReturnType> {
  const result = await sendPlanned(context, await approveTerminationCall(context, parameters));
  const approved = eventArgs(result, agreementRegistryAbi, "TerminationApproved");
  return { ...result, version: approved.version, party: approved.party, expiry: approved.expiry };
}

/** The call {@link approveTermination} sends (version in force and expiry filled); {@link prepareApproveTermination} returns it encoded. */
export async function approveTerminationCall(context: ConcordContext, parameters: ApproveTerminationParameters): Promise<PlannedCall> {
  const version = parameters.version ?? (await readTermsInForce(context, { agreementId: parameters.agreementId })).activeVersion;
  const expiry = await chainTimeFromNow(context, DEFAULT_APPROVAL_SECONDS, parameters.expiry, "approval expiry");
  return planCall(
    { address: context.addresses.registry, abi: agreementRegistryAbi, functionName: "approveTermination", args: [parameters.agreementId, version, expiry] },
    `approve terminating agreement ${parameters.agreementId} at version ${version}, until ${expiry}`,
  );
}
