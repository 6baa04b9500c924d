import { getAddress, isAddress, zeroAddress, type Address } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { quoteSplit, type SettlementSplit } from "../split";

export type QuoteSettlementParameters = {
  agreementId: bigint;
  gross: bigint;
  /** The one referrer to pay (default none). */
  referrer?: Address;
  /** Who will pay and send the transaction, to apply the no-self-referral rule (optional). */
  payer?: Address;
  /** The version the caller expects to settle under; a quote for another active version is refused. */
  version?: number;
  /** The block to quote at (default latest). */
  blockNumber?: bigint;
};
export type QuoteSettlementReturnType = SettlementSplit & {
  agreementId: bigint;
  /** The active version the split was computed under: pin it in the payment ({@link settle}). */
  version: number;
  referrer: Address;
  referralFeeBps: number;
  reserveBps: number;
  /** Seconds the reserve is held before it can be released. */
  disputeWindow: number;
  /** The merchant of record whose intents are the only settlements accepted (zero: direct payments, scoped to the payer). */
  orderSigner: Address;
};
export type QuoteSettlementErrorType = ConcordReadErrorType;

/**
 * Previews a settlement's split with the contract's own rule (src/sdk/split.ts, the twin of
 * SplitMath): referral fee, reserve and net into the pool, exactly as the ledger's Settled event
 * will carry them for a payment pinned to the returned version. No transaction. Refuses what the
 * ledger would refuse before anything is signed: an agreement that cannot settle, another version
 * than the one expected, a referrer the terms do not allow (direct payments), self-referral.
 *
 * @param context - Any context.
 * @param parameters - {@link QuoteSettlementParameters}
 * @returns The split and the terms it was computed under.
 *
 * @example
 * import { parseEther } from "viem"
 * import { quoteSettlement } from "./src/sdk"
 * const quote = await quoteSettlement(context, { agreementId: 1n, gross: parseEther("1.5"), referrer: travelSite })
 * // quote.referralFee + quote.reserve + quote.net === quote.gross; settle with version: quote.version
 */
export async function quoteSettlement(
  context: ConcordContext,
  parameters: QuoteSettlementParameters,
): Promise<QuoteSettlementReturnType> {
  const { agreementId } = parameters;
  if (parameters.gross <= 0n) throw new InvalidInputError(`gross amount is ${parameters.gross}; it must be positive`);
  const referrer = parameters.referrer ?? zeroAddress;
  if (!isAddress(referrer, { strict: false })) throw new InvalidInputError(`referrer "${referrer}" is not an address`);
  const read = { address: context.addresses.registry, abi: agreementRegistryAbi, blockNumber: parameters.blockNumber } as const;
  const terms = await withConcordErrors(() => context.publicClient.readContract({ ...read, functionName: "settlementTerms", args: [agreementId] }));
  if (terms.version === 0) throw new InvalidInputError(`agreement ${agreementId} is not active: it cannot be settled`);
  if (parameters.version !== undefined && parameters.version !== terms.version) {
    throw new InvalidInputError(`agreement ${agreementId} settles under version ${terms.version}, not the expected version ${parameters.version}`);
  }
  const hasReferrer = BigInt(referrer) !== 0n;
  if (hasReferrer) {
    if (parameters.payer && getAddress(parameters.payer) === getAddress(referrer)) {
      throw new InvalidInputError(`the payer ${referrer} cannot be its own referrer`);
    }
    if (terms.orderSigner === zeroAddress) {
      const allowed = await withConcordErrors(() =>
        context.publicClient.readContract({ ...read, functionName: "isReferrerAllowed", args: [agreementId, terms.version, referrer] }),
      );
      if (!allowed) throw new InvalidInputError(`${referrer} may not earn the referral fee of agreement ${agreementId} version ${terms.version}`);
    }
  }
  return {
    ...quoteSplit(parameters.gross, terms.referralFeeBps, terms.reserveBps, hasReferrer),
    agreementId,
    version: terms.version,
    referrer: hasReferrer ? getAddress(referrer) : zeroAddress,
    referralFeeBps: terms.referralFeeBps,
    reserveBps: terms.reserveBps,
    disputeWindow: terms.disputeWindow,
    orderSigner: terms.orderSigner,
  };
}
