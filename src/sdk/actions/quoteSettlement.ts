import { zeroAddress, type Address } from "viem";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { computeSplit, type Split } from "../split";
import { ReferrerPolicy, splitTermsOf, type Terms } from "../terms";
import { getAgreement } from "./getAgreement";
import { getVersion } from "./getVersion";

export type QuoteSettlementParameters = {
  agreementId: bigint;
  gross: bigint;
  referrer?: Address;
  /** The payer, to apply the no-self-referral rule (optional). */
  payer?: Address;
  /** Terms of the active version, when already known (saves the event lookup). */
  terms?: Terms;
};
export type QuoteSettlementReturnType = Split & {
  agreementId: bigint;
  version: number;
  referrer: Address;
  /** Each party's credit with who it is. */
  parties: Array<{ account: Address; agreementId: bigint; shareBps: number; credit: bigint }>;
};
export type QuoteSettlementErrorType = ConcordReadErrorType;

/**
 * Previews the exact split of a settlement, with the contract's own rule (src/sdk/split.ts): no
 * transaction. Throws when the referrer would not be allowed.
 *
 * @param context - Any context.
 * @param parameters - {@link QuoteSettlementParameters}
 * @returns The split (referral fee, reserve, net, per-party credits) exactly as the ledger will make it.
 *
 * @example
 * import { parseEther } from "viem"
 * import { quoteSettlement } from "./src/sdk"
 * const quote = await quoteSettlement(context, { agreementId: 1n, gross: parseEther("1.5"), referrer: travelSite })
 * // quote.referralFee, quote.reserve, quote.parties[i].credit
 */
export async function quoteSettlement(
  context: ConcordContext,
  parameters: QuoteSettlementParameters,
): Promise<QuoteSettlementReturnType> {
  if (parameters.gross <= 0n) throw new InvalidInputError(`gross amount is ${parameters.gross}; it must be positive`);
  const agreement = await getAgreement(context, { agreementId: parameters.agreementId });
  if (agreement.status !== "active") {
    throw new InvalidInputError(`agreement ${parameters.agreementId} is ${agreement.status}, not active: it cannot be settled`);
  }
  const terms = parameters.terms ?? (await getVersion(context, { agreementId: parameters.agreementId, version: agreement.activeVersion })).terms;
  const referrer = parameters.referrer ?? zeroAddress;
  const hasReferrer = referrer !== zeroAddress;
  if (hasReferrer) {
    if (parameters.payer && parameters.payer.toLowerCase() === referrer.toLowerCase()) {
      throw new InvalidInputError(`the payer ${referrer} cannot be its own referrer`);
    }
    const allowed =
      terms.referrerPolicy === ReferrerPolicy.Open ||
      (terms.referrerPolicy === ReferrerPolicy.Allowlist && terms.referrers.some((r) => r.toLowerCase() === referrer.toLowerCase()));
    if (!allowed) {
      throw new InvalidInputError(`${referrer} may not earn the referral fee of agreement ${parameters.agreementId} (referrer policy)`);
    }
  }
  const split = computeSplit(splitTermsOf(terms), parameters.gross, hasReferrer);
  return {
    ...split,
    agreementId: parameters.agreementId,
    version: agreement.activeVersion,
    referrer,
    parties: terms.parties.map((p, i) => ({ account: p.account, agreementId: p.agreementId, shareBps: p.shareBps, credit: split.credits[i]! })),
  };
}
