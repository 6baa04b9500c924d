/**
 * The split rule, written once for TypeScript: how a settlement's gross splits into referral
 * fee, reserve and net, and how a pool pays its parties in whole units. It is the twin of
 * `contracts/libraries/SplitMath.sol` and of the ledger's `distribute` / `claim` /
 * `sweepRemainder` (docs/contracts.md, "Settlement" and "Pools and payouts"), and is
 * property-tested against the contracts (test/SplitMath.property.ts).
 */
import { InvalidInputError } from "./errors/base";

/** Basis points in a whole: shares sum to exactly this. */
export const TOTAL_BPS = 10_000n;

/** Thrown when terms or amounts given to the split rule are not valid. */
export class SplitInputError extends InvalidInputError {
  override name = "SplitInputError";
}

/** How one settlement's gross splits: referralFee + reserve + net === gross. */
export type SettlementSplit = {
  readonly gross: bigint;
  /** Paid to the referrer; zero without one. */
  readonly referralFee: bigint;
  /** Held until the dispute window ends, then released into the pool (or refunded). */
  readonly reserve: bigint;
  /** Into the pool's `total`. */
  readonly net: bigint;
};

function bps(value: number | bigint, what: string): bigint {
  const v = BigInt(value);
  if (v < 0n || v > TOTAL_BPS) throw new SplitInputError(`${what} is ${v} basis points; it must be from 0 to 10,000`);
  return v;
}

/**
 * The split of one settlement, exactly as the ledger makes it (SplitMath.split):
 * `referralFee = hasReferrer ? gross * feeBps / 10,000 : 0`, `reserve = gross * reserveBps / 10,000`,
 * `net = gross - referralFee - reserve`.
 *
 * @example
 * quoteSplit(1_000_000n, 500, 1_000, true) // { gross: 1_000_000n, referralFee: 50_000n, reserve: 100_000n, net: 850_000n }
 */
export function quoteSplit(gross: bigint, feeBps: number | bigint, reserveBps: number | bigint, hasReferrer: boolean): SettlementSplit {
  if (gross <= 0n) throw new SplitInputError(`gross amount is ${gross}; it must be positive`);
  const fee = bps(feeBps, "referral fee");
  const reserveRate = bps(reserveBps, "reserve");
  if (fee + reserveRate > TOTAL_BPS) {
    throw new SplitInputError(`referral fee ${fee} and reserve ${reserveRate} basis points exceed 10,000 together`);
  }
  const referralFee = hasReferrer ? (gross * fee) / TOTAL_BPS : 0n;
  const reserve = (gross * reserveRate) / TOTAL_BPS;
  return { gross, referralFee, reserve, net: gross - referralFee - reserve };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The distribution unit of a share list: 10,000 / gcd(shares). A pool pays out only whole units,
 * so that every party's share of them is exact.
 */
export function distributionUnit(shares: readonly number[]): bigint {
  if (shares.length === 0) throw new SplitInputError("terms have no parties");
  let sum = 0;
  let divisor = 0;
  shares.forEach((share, index) => {
    if (!Number.isInteger(share) || share <= 0 || share > 10_000) {
      throw new SplitInputError(`share of party ${index} is ${share} basis points; it must be a whole number from 1 to 10,000`);
    }
    sum += share;
    divisor = gcd(divisor, share);
  });
  if (sum !== 10_000) throw new SplitInputError(`shares sum to ${sum.toLocaleString("en-US")} basis points; they must sum to 10,000`);
  return TOTAL_BPS / BigInt(divisor);
}

function positiveUnit(unit: bigint): bigint {
  if (unit <= 0n || TOTAL_BPS % unit !== 0n) throw new SplitInputError(`distribution unit ${unit} does not divide 10,000`);
  return unit;
}

/** The whole-unit part of a pool's total: what its parties may be paid (`total - total % unit`). */
export function distributable(total: bigint, unit: bigint): bigint {
  if (total < 0n) throw new SplitInputError(`pool total ${total} is negative`);
  return total - (total % positiveUnit(unit));
}

/** The part of a pool's total below one unit: what only the dust party gets, once the pool is closed. */
export function poolRemainder(total: bigint, unit: bigint): bigint {
  if (total < 0n) throw new SplitInputError(`pool total ${total} is negative`);
  return total % positiveUnit(unit);
}

/** A party's exact share of `amount` (a whole number of units): `amount * shareBps / 10,000`. */
export function partyShare(amount: bigint, shareBps: number | bigint): bigint {
  return (amount * BigInt(shareBps)) / TOTAL_BPS;
}

/** The state of a pool the payout rule reads (the ledger's `Pool`, without `held`). */
export type PoolState = { readonly total: bigint; readonly distributed: bigint };

/** What one party is owed and where it would then stand. */
export type PartyCredit = {
  /** Credited to the party's balance (an account) or to the pinned child's pool (a nested party). */
  readonly amount: bigint;
  /** The pool total the party is paid up to afterwards. */
  readonly paidUpTo: bigint;
};

/**
 * What `claim(index, party, proof)` credits one party: its share of the whole units from where it
 * stands (the pool's `distributed`, or its own `paidUpTo` when higher) to the pool's distributable
 * total. Zero when there is nothing new.
 *
 * @example
 * claimCredit({ total: 1_005n, distributed: 0n }, 10n, 3_000, 0n) // { amount: 300n, paidUpTo: 1_000n }
 */
export function claimCredit(pool: PoolState, unit: bigint, shareBps: number, paidUpTo: bigint): PartyCredit {
  const upTo = distributable(pool.total, unit);
  const start = paidUpTo > pool.distributed ? paidUpTo : pool.distributed;
  if (upTo <= start) return { amount: 0n, paidUpTo };
  return { amount: partyShare(upTo - start, shareBps), paidUpTo: upTo };
}

/**
 * What `distribute(parties)` credits every party, in the terms' order: each party's share of the
 * whole units from the pool's `distributed` (or, for a party that claimed since, from its own
 * `paidUpTo` when higher) to the distributable total. `paidUpTo[i]` is the ledger's
 * `paidUpTo(agreementId, version, token, i)` (0 for a party that never claimed).
 */
export function distributionCredits(
  pool: PoolState,
  unit: bigint,
  shares: readonly number[],
  paidUpTo: readonly bigint[] = [],
): { amounts: bigint[]; upTo: bigint } {
  const upTo = distributable(pool.total, unit);
  const amounts = shares.map((share, i) => {
    const paid = paidUpTo[i] ?? 0n;
    const start = paid > pool.distributed ? paid : pool.distributed;
    return upTo > start ? partyShare(upTo - start, share) : 0n;
  });
  return { amounts, upTo };
}

/**
 * Every party's pro-rata entitlement from a pool whose total is `total`: its share of the whole
 * units. Whatever distributions and claims happened, a party never receives more than this.
 */
export function entitlements(total: bigint, unit: bigint, shares: readonly number[]): bigint[] {
  const whole = distributable(total, unit);
  return shares.map((share) => partyShare(whole, share));
}
