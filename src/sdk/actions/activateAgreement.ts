import type { Address, Hex } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { validateTerms, type NestedTerms, type Terms } from "../terms";
import { eventArgs, eventsArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { consentDigest } from "../typedData";
import { withWalletDiagnosis } from "../wallets/contractWallet";
import { getNestedTerms } from "./getNestedTerms";
import { sortSignatures, type ConsentSignature } from "./signConsent";

export type ActivateAgreementParameters = {
  agreementId: bigint;
  /** The version to activate (default 1). */
  version?: number;
  /** The full terms of that version (checked on chain against the stored hash). */
  terms: Terms;
  /** The nested terms reachable from `terms` (default: read with {@link getNestedTerms}). */
  children?: readonly NestedTerms[];
  /** The consent signatures of every consenter without a live on-chain approval; any order (sorted by signer here). */
  signatures: readonly ConsentSignature[];
};
export type ActivateAgreementReturnType = WriteResult & {
  version: number;
  /** The version's distribution unit (10,000 / gcd of the shares). */
  unit: number;
  /** The Merkle root of the parties the ledger pays out against. */
  partiesRoot: Hex;
  /** The accounts whose signatures were consumed, in order. */
  signers: Address[];
};
export type ActivateAgreementErrorType = ConcordWriteErrorType;

/**
 * Submits the consent signatures and activates a proposed agreement, in one transaction. Every
 * consenter of the terms (the account parties and the members of nested parties, see
 * {@link getConsenters}) has signed or holds a live on-chain approval.
 *
 * @param context - Any context with a wallet client: the sender need not be a party.
 * @param parameters - {@link ActivateAgreementParameters}
 * @returns The transaction, the version, its distribution unit and the signers.
 *
 * @example
 * import { activateAgreement, signConsent } from "./src/sdk"
 * const signatures = [
 *   await signConsent(hotelContext, { agreementId: 1n, version: 1, terms }),
 *   await signConsent(restaurantContext, { agreementId: 1n, version: 1, terms }),
 * ]
 * const { unit } = await activateAgreement(context, { agreementId: 1n, terms, signatures })
 */
export async function activateAgreement(
  context: ConcordContext,
  parameters: ActivateAgreementParameters,
): Promise<ActivateAgreementReturnType> {
  const version = parameters.version ?? 1;
  const planned = await activateAgreementCall(context, parameters);
  const digestOf = (s: { signer: Address; nonce: bigint; deadline: bigint }) =>
    consentDigest({ chainId: context.chainId, registry: context.addresses.registry, agreementId: parameters.agreementId, version, terms: parameters.terms, ...s });
  const result = await withWalletDiagnosis(context, parameters.signatures, digestOf, () => sendPlanned(context, planned));
  const activated = eventArgs(result, agreementRegistryAbi, "VersionActivated");
  const signers = eventsArgs(result, agreementRegistryAbi, "ConsentSigned").map((e) => e.party);
  return { ...result, version, unit: activated.unit, partiesRoot: activated.partiesRoot, signers };
}

/** The call {@link activateAgreement} sends (nested terms read when not given); {@link prepareActivateAgreement} returns it encoded. */
export async function activateAgreementCall(context: ConcordContext, parameters: ActivateAgreementParameters): Promise<PlannedCall> {
  validateTerms(parameters.terms);
  const version = parameters.version ?? 1;
  const children = parameters.children ?? (await getNestedTerms(context, { terms: parameters.terms }));
  const signatures = sortSignatures(parameters.signatures);
  return planCall(
    {
      address: context.addresses.registry,
      abi: agreementRegistryAbi,
      functionName: "activate",
      args: [parameters.agreementId, version, parameters.terms, children, signatures],
    },
    `activate agreement ${parameters.agreementId} version ${version} with the consent of ${signatures.map((s) => s.signer).join(", ") || "on-chain approvals only"}`,
  );
}
