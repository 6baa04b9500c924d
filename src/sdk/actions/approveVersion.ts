import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { chainTimeFromNow } from "./signConsent";

/** How long an on-chain approval lasts unless an expiry is given: 30 days. */
export const DEFAULT_APPROVAL_SECONDS = 30n * 86_400n;

export type ApproveVersionParameters = {
  agreementId: bigint;
  version: number;
  /** Unix time until which the approval counts (default: 30 days after the latest block). */
  expiry?: bigint;
};
export type ApproveVersionReturnType = WriteResult & {
  /** The account whose consent was recorded (the sender). */
  party: Address;
  /** Until when it counts. */
  expiry: bigint;
};
export type ApproveVersionErrorType = ConcordWriteErrorType;

/**
 * Consents to a version on chain, as the context's account, until `expiry`: for contract wallets
 * that cannot sign EIP-712 messages, or consenters that prefer a transaction to a signature. While
 * live it replaces the account's signature in {@link activateAgreement} and
 * {@link activateAmendment}; {@link revokeApproval} withdraws it.
 *
 * @param context - A context whose account is a consenter of the version.
 * @param parameters - {@link ApproveVersionParameters}
 * @returns The transaction, the approving account and the expiry.
 *
 * @example
 * import { approveVersion } from "./src/sdk"
 * const { party, expiry } = await approveVersion(context, { agreementId: 1n, version: 1 })
 */
export async function approveVersion(context: ConcordContext, parameters: ApproveVersionParameters): Promise<ApproveVersionReturnType> {
  const result = await sendPlanned(context, await approveVersionCall(context, parameters));
  const approved = eventArgs(result, agreementRegistryAbi, "VersionApproved");
  return { ...result, party: approved.party, expiry: approved.expiry };
}

/** The call {@link approveVersion} sends (expiry filled); {@link prepareApproveVersion} returns it encoded. */
export async function approveVersionCall(context: ConcordContext, parameters: ApproveVersionParameters): Promise<PlannedCall> {
  const expiry = await chainTimeFromNow(context, DEFAULT_APPROVAL_SECONDS, parameters.expiry, "approval expiry");
  return planCall(
    { address: context.addresses.registry, abi: agreementRegistryAbi, functionName: "approve", args: [parameters.agreementId, parameters.version, expiry] },
    `approve version ${parameters.version} of agreement ${parameters.agreementId}, until ${expiry}`,
  );
}
