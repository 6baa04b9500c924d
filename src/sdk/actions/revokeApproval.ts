import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";

export type RevokeApprovalParameters = { agreementId: bigint; version: number };
export type RevokeApprovalReturnType = WriteResult & { party: Address };
export type RevokeApprovalErrorType = ConcordWriteErrorType;

/**
 * Withdraws the context account's on-chain approval of a version ({@link approveVersion}): from
 * the next block an activation needs the account's signature again.
 *
 * @param context - A context whose account approved the version.
 * @param parameters - {@link RevokeApprovalParameters}
 * @returns The transaction and the account.
 *
 * @example
 * import { revokeApproval } from "./src/sdk"
 * await revokeApproval(airlineContext, { agreementId: 1n, version: 2 })
 */
export async function revokeApproval(context: ConcordContext, parameters: RevokeApprovalParameters): Promise<RevokeApprovalReturnType> {
  const result = await sendPlanned(context, await revokeApprovalCall(context, parameters));
  return { ...result, party: eventArgs(result, agreementRegistryAbi, "ApprovalRevoked").party };
}

/** The call {@link revokeApproval} sends; {@link prepareRevokeApproval} returns it encoded. */
export async function revokeApprovalCall(context: ConcordContext, parameters: RevokeApprovalParameters): Promise<PlannedCall> {
  return planCall(
    { address: context.addresses.registry, abi: agreementRegistryAbi, functionName: "revokeApproval", args: [parameters.agreementId, parameters.version] },
    `revoke the on-chain approval of version ${parameters.version} of agreement ${parameters.agreementId}`,
  );
}
