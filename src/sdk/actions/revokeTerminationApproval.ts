import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";

export type RevokeTerminationApprovalParameters = { agreementId: bigint; version: number };
export type RevokeTerminationApprovalReturnType = WriteResult & { party: Address };
export type RevokeTerminationApprovalErrorType = ConcordWriteErrorType;

/**
 * Withdraws the context account's on-chain approval of terminating the agreement at `version`
 * ({@link approveTermination}).
 *
 * @param context - A context whose account approved the termination.
 * @param parameters - {@link RevokeTerminationApprovalParameters}
 * @returns The transaction and the account.
 *
 * @example
 * import { revokeTerminationApproval } from "./src/sdk"
 * await revokeTerminationApproval(airlineContext, { agreementId: 1n, version: 1 })
 */
export async function revokeTerminationApproval(
  context: ConcordContext,
  parameters: RevokeTerminationApprovalParameters,
): Promise<RevokeTerminationApprovalReturnType> {
  const result = await sendPlanned(context, await revokeTerminationApprovalCall(context, parameters));
  return { ...result, party: eventArgs(result, agreementRegistryAbi, "TerminationApprovalRevoked").party };
}

/** The call {@link revokeTerminationApproval} sends; {@link prepareRevokeTerminationApproval} returns it encoded. */
export async function revokeTerminationApprovalCall(
  context: ConcordContext,
  parameters: RevokeTerminationApprovalParameters,
): Promise<PlannedCall> {
  return planCall(
    {
      address: context.addresses.registry,
      abi: agreementRegistryAbi,
      functionName: "revokeTerminationApproval",
      args: [parameters.agreementId, parameters.version],
    },
    `revoke the on-chain approval of terminating agreement ${parameters.agreementId} at version ${parameters.version}`,
  );
}
