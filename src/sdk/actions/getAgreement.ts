import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { AGREEMENT_STATUS_NAMES } from "../terms";

export type GetAgreementParameters = { agreementId: bigint; blockNumber?: bigint };
export type GetAgreementReturnType = {
  agreementId: bigint;
  status: (typeof AGREEMENT_STATUS_NAMES)[number];
  latestVersion: number;
  /** 0 while nothing is active. */
  activeVersion: number;
  referralFeeBps: number;
  reserveBps: number;
  disputeWindow: number;
  referrerPolicy: number;
  unit: number;
};
export type GetAgreementErrorType = ConcordReadErrorType;

/**
 * Reads an agreement's status, versions and the settlement parameters of its active version, in
 * one round of reads (optionally at a past block).
 *
 * @param context - Any context.
 * @param parameters - {@link GetAgreementParameters}
 * @returns {@link GetAgreementReturnType}; an InvalidInputError names an id that does not exist.
 *
 * @example
 * import { getAgreement } from "./src/sdk"
 * const agreement = await getAgreement(context, { agreementId: 1n })
 * // { status: "active", latestVersion: 1, activeVersion: 1, referralFeeBps: 500, reserveBps: 1000, ... }
 */
export async function getAgreement(context: ConcordContext, parameters: GetAgreementParameters): Promise<GetAgreementReturnType> {
  return withConcordErrors(async () => {
    const read = { address: context.addresses.registry, abi: agreementRegistryAbi, blockNumber: parameters.blockNumber } as const;
    const [[status, latestVersion, activeVersion], config] = await Promise.all([
      context.publicClient.readContract({ ...read, functionName: "agreement", args: [parameters.agreementId] }),
      context.publicClient.readContract({ ...read, functionName: "settlementConfig", args: [parameters.agreementId] }),
    ]);
    if (status === 0) throw new InvalidInputError(`agreement ${parameters.agreementId} does not exist`);
    return {
      agreementId: parameters.agreementId,
      status: AGREEMENT_STATUS_NAMES[status] ?? "none",
      latestVersion,
      activeVersion,
      referralFeeBps: config.referralFeeBps,
      reserveBps: config.reserveBps,
      disputeWindow: config.disputeWindow,
      referrerPolicy: config.referrerPolicy,
      unit: config.unit,
    };
  });
}
