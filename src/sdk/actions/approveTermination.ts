import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { eventArgs, writeConcord, type WriteResult } from "../write";

export type ApproveTerminationParameters = { agreementId: bigint };
export type ApproveTerminationReturnType = WriteResult & { version: number; party: Address };
export type ApproveTerminationErrorType = ConcordWriteErrorType;

/**
 * Consents on chain to terminating the version in force, from the context's account; replaces
 * that party's signature in {@link terminateAgreement}.
 *
 * @param context - A context whose account is a party of the version in force.
 * @param parameters - {@link ApproveTerminationParameters}
 * @returns The transaction, the version and the approving party.
 *
 * @example
 * import { approveTermination } from "./src/sdk"
 * await approveTermination(restaurantContext, { agreementId: 1n })
 */
export async function approveTermination(
  context: ConcordContext,
  parameters: ApproveTerminationParameters,
): Promise<ApproveTerminationReturnType> {
  const result = await writeConcord(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "approveTermination",
    args: [parameters.agreementId],
  });
  const approved = eventArgs(result, agreementRegistryAbi, "TerminationApproved");
  return { ...result, version: approved.version, party: approved.party };
}
