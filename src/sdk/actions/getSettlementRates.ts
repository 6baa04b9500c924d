import type { ConcordContext } from "../client";
import { withConcordErrors } from "../errors/decode";
import { agreementRegistryAbi } from "../abi";
import { versionKey, type SettlementRates } from "../settlements";
import { getVersion } from "./getVersion";

export type GetSettlementRatesParameters = {
  versions: readonly { agreementId: bigint; version: number }[];
  /** The block the settlements are in: the version then in force is read there (default: latest). */
  blockNumber?: bigint;
};

/**
 * The settlement rates (referral fee, reserve, order signer) of each version, for
 * {@link bookTransaction}: the version in force at `blockNumber` from the registry's
 * `settlementTerms`, any other version (or a node without that block's state) from its
 * VersionProposed event, checked against its stored hash ({@link getVersion}).
 *
 * @param context - Any context.
 * @param parameters - {@link GetSettlementRatesParameters}
 * @returns The rates by `versionKey(agreementId, version)`.
 */
export async function getSettlementRates(context: ConcordContext, parameters: GetSettlementRatesParameters): Promise<Map<string, SettlementRates>> {
  const rates = new Map<string, SettlementRates>();
  for (const { agreementId, version } of parameters.versions) {
    const key = versionKey(agreementId, version);
    if (rates.has(key)) continue;
    const inForce = await withConcordErrors(() =>
      context.publicClient.readContract({
        address: context.addresses.registry,
        abi: agreementRegistryAbi,
        functionName: "settlementTerms",
        args: [agreementId],
        blockNumber: parameters.blockNumber,
      }),
    ).catch(() => undefined);
    if (inForce && inForce.version === version) {
      rates.set(key, { referralFeeBps: inForce.referralFeeBps, reserveBps: inForce.reserveBps, orderSigner: inForce.orderSigner });
      continue;
    }
    const { terms } = await getVersion(context, { agreementId, version });
    rates.set(key, { referralFeeBps: terms.referralFeeBps, reserveBps: terms.reserveBps, orderSigner: terms.orderSigner });
  }
  return rates;
}
