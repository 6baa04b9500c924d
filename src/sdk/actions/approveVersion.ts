import type { Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { eventArgs, writeConcord, type WriteResult } from "../write";

export type ApproveVersionParameters = { agreementId: bigint; version: number };
export type ApproveVersionReturnType = WriteResult & {
  /** The party whose consent was recorded (the sender). */
  party: Address;
};
export type ApproveVersionErrorType = ConcordWriteErrorType;

/**
 * Consents to a version on chain, from the context's account: for contract wallets that cannot
 * sign EIP-712 messages, or parties that prefer a transaction to a signature. An approval
 * replaces that party's signature in {@link activateAgreement} and {@link activateAmendment}.
 *
 * @param context - A context whose account is a party of the version.
 * @param parameters - {@link ApproveVersionParameters}
 * @returns The transaction and the approving party.
 *
 * @example
 * import { approveVersion } from "./src/sdk"
 * const { party } = await approveVersion(context, { agreementId: 1n, version: 1 })
 */
export async function approveVersion(context: ConcordContext, parameters: ApproveVersionParameters): Promise<ApproveVersionReturnType> {
  const result = await writeConcord(context, {
    address: context.addresses.registry,
    abi: agreementRegistryAbi,
    functionName: "approve",
    args: [parameters.agreementId, parameters.version],
  });
  return { ...result, party: eventArgs(result, agreementRegistryAbi, "VersionApproved").party };
}
