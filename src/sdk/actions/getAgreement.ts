import { zeroAddress, type Address } from "viem";
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
  /** 0 while nothing is active (for a terminated agreement: the version that was in force). */
  activeVersion: number;
  /** Who proposed the agreement. */
  proposer: Address;
  /** The settlement parameters of the active version (zero while none can settle). */
  referralFeeBps: number;
  reserveBps: number;
  disputeWindow: number;
  /** The merchant of record whose intents are the only settlements accepted (zero: direct payments). */
  orderSigner: Address;
  /** The active version's distribution unit (0 while nothing is active). */
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
 * // { status: "active", latestVersion: 1, activeVersion: 1, referralFeeBps: 500, reserveBps: 1000, orderSigner: "0x…", ... }
 */
export async function getAgreement(context: ConcordContext, parameters: GetAgreementParameters): Promise<GetAgreementReturnType> {
  return withConcordErrors(async () => {
    const read = { address: context.addresses.registry, abi: agreementRegistryAbi, blockNumber: parameters.blockNumber } as const;
    const [[status, latestVersion, activeVersion], settlement, proposer] = await Promise.all([
      context.publicClient.readContract({ ...read, functionName: "agreement", args: [parameters.agreementId] }),
      context.publicClient.readContract({ ...read, functionName: "settlementTerms", args: [parameters.agreementId] }),
      context.publicClient.readContract({ ...read, functionName: "proposer", args: [parameters.agreementId] }),
    ]);
    if (status === 0) throw new InvalidInputError(`agreement ${parameters.agreementId} does not exist`);
    const payout =
      activeVersion === 0
        ? undefined
        : await context.publicClient.readContract({ ...read, functionName: "versionPayout", args: [parameters.agreementId, activeVersion] });
    const canSettle = settlement.version !== 0;
    return {
      agreementId: parameters.agreementId,
      status: AGREEMENT_STATUS_NAMES[status] ?? "none",
      latestVersion,
      activeVersion,
      proposer,
      referralFeeBps: canSettle ? settlement.referralFeeBps : 0,
      reserveBps: canSettle ? settlement.reserveBps : 0,
      disputeWindow: canSettle ? settlement.disputeWindow : 0,
      orderSigner: canSettle ? settlement.orderSigner : zeroAddress,
      unit: payout?.unit ?? 0,
    };
  });
}
