import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { simulateAndWrite, type WriteResult } from "../write";

export type ApproveVersionParameters = { agreementId: bigint; version: number };
export type ApproveVersionReturnType = WriteResult;

/**
 * Consents to a version on chain, from the context's account (for contract wallets that call, or
 * parties that prefer a transaction to a signature).
 *
 * @example
 * await approveVersion(context, { agreementId: 1n, version: 1 })
 */
export async function approveVersion(context: ConcordContext, parameters: ApproveVersionParameters): Promise<ApproveVersionReturnType> {
  return simulateAndWrite(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "approve",
    args: [parameters.agreementId, parameters.version],
  });
}
