/**
 * The settlement split rule, written once for TypeScript. It is the twin of
 * `contracts/libraries/SplitMath.sol` and is property-tested against the contract
 * (test/SplitMath.property.ts), so that a quote is exactly what the contract credits.
 */

/** Basis points in a whole: shares sum to exactly this. */
export const TOTAL_BPS = 10_000n;

/** The parts of a version of terms that the split rule reads. */
export type SplitTerms = {
  /** Party shares in basis points, in the order of the terms" parties. */
  readonly shares: readonly number[];
  readonly referralFeeBps: number;
  readonly reserveBps: number;
  /** Index of the party that receives rounding dust. */
  readonly dustPartyIndex: number;
};

/** The exact split of one settlement's gross amount. */
export type Split = {
  readonly gross: bigint;
  /** Paid to the referrer; zero without one. */
  readonly referralFee: bigint;
  /** Held until the dispute window ends. */
  readonly reserve: bigint;
  /** gross - referralFee - reserve. */
  readonly net: bigint;
  /** The part of `net` split exactly by shares (whole distribution units). */
  readonly distributable: bigint;
  /** net % unit, credited to the dust party. */
  readonly dust: bigint;
  /** Each party's credit, dust included for the dust party; sums to `net`. */
  readonly credits: readonly bigint[];
};

/** Thrown when terms or amounts given to the split rule are not valid. */
export class SplitInputError extends Error {
  override name = "SplitInputError";
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The distribution unit of a share list: 10,000 / gcd(shares). Net amounts are split in whole
 * units so that every party's credit is exact.
 */
export function distributionUnit(shares: readonly number[]): bigint {
  if (shares.length === 0) throw new SplitInputError("terms have no parties");
  let sum = 0;
  let divisor = 0;
  shares.forEach((share, index) => {
    if (!Number.isInteger(share) || share <= 0 || share > 10_000) {
      throw new SplitInputError(`share of party ${index} is ${share} basis points; it must be an integer from 1 to 10,000`);
    }
    sum += share;
    divisor = gcd(divisor, share);
  });
  if (sum !== 10_000) {
    throw new SplitInputError(`shares sum to ${sum.toLocaleString("en-US")} basis points; they must sum to 10,000`);
  }
  return TOTAL_BPS / BigInt(divisor);
}

/** Splits a net amount into whole distribution units and dust (SplitMath.splitNet). */
export function splitNet(net: bigint, unit: bigint): { distributable: bigint; dust: bigint } {
  const dust = net % unit;
  return { distributable: net - dust, dust };
}

/** A party's exact entitlement from a pool's distributable total (SplitMath.partyShare). */
export function partyShare(distributable: bigint, shareBps: number | bigint): bigint {
  return (distributable * BigInt(shareBps)) / TOTAL_BPS;
}

/**
 * Terms checked once and turned into what the split rule computes with: for splitting many
 * amounts under the same terms (a replay of every settlement) without checking them again.
 * Holds its own copy of the shares, so later changes to the terms given do not reach it.
 */
export type PreparedSplit = {
  readonly unit: bigint;
  readonly shares: readonly bigint[];
  readonly referralFeeBps: bigint;
  readonly reserveBps: bigint;
  readonly dustPartyIndex: number;
};

/** Checks `terms` and prepares them for {@link splitPrepared}; throws {@link SplitInputError} as {@link computeSplit} does. */
export function prepareSplit(terms: SplitTerms): PreparedSplit {
  if (terms.dustPartyIndex < 0 || terms.dustPartyIndex >= terms.shares.length) {
    throw new SplitInputError(`dust party index ${terms.dustPartyIndex} is out of range for ${terms.shares.length} parties`);
  }
  const unit = distributionUnit(terms.shares);
  return Object.freeze({
    unit,
    shares: Object.freeze(terms.shares.map((share) => BigInt(share))),
    referralFeeBps: BigInt(terms.referralFeeBps),
    reserveBps: BigInt(terms.reserveBps),
    dustPartyIndex: terms.dustPartyIndex,
  });
}

/** {@link computeSplit} under terms already prepared by {@link prepareSplit}. */
export function splitPrepared(prepared: PreparedSplit, gross: bigint, hasReferrer: boolean): Split {
  if (gross <= 0n) throw new SplitInputError(`gross amount is ${gross}; it must be positive`);
  const referralFee = hasReferrer ? (gross * prepared.referralFeeBps) / TOTAL_BPS : 0n;
  const reserve = (gross * prepared.reserveBps) / TOTAL_BPS;
  const net = gross - referralFee - reserve;
  const { distributable, dust } = splitNet(net, prepared.unit);
  const credits = new Array<bigint>(prepared.shares.length);
  for (let index = 0; index < credits.length; index += 1) {
    credits[index] = partyShare(distributable, prepared.shares[index]!) + (index === prepared.dustPartyIndex ? dust : 0n);
  }
  return { gross, referralFee, reserve, net, distributable, dust, credits };
}

/**
 * Computes the split of `gross` exactly as the SettlementLedger does.
 *
 * @example
 * const split = computeSplit({ shares: [5000, 3000, 2000], referralFeeBps: 500, reserveBps: 1000, dustPartyIndex: 0 }, 1_000_000n, true)
 * // split.referralFee === 50_000n, split.reserve === 100_000n, split.credits === [425_000n, 255_000n, 170_000n]
 */
export function computeSplit(terms: SplitTerms, gross: bigint, hasReferrer: boolean): Split {
  if (gross <= 0n) throw new SplitInputError(`gross amount is ${gross}; it must be positive`);
  return splitPrepared(prepareSplit(terms), gross, hasReferrer);
}

/**
 * Splits a released reserve (or a nested agreement's incoming share) among parties: the same
 * unit rule as a settlement's net amount.
 */
export function splitAmongParties(terms: Pick<SplitTerms, "shares" | "dustPartyIndex">, amount: bigint): bigint[] {
  const unit = distributionUnit(terms.shares);
  const { distributable, dust } = splitNet(amount, unit);
  return terms.shares.map(
    (share, index) => partyShare(distributable, share) + (index === terms.dustPartyIndex ? dust : 0n),
  );
}
