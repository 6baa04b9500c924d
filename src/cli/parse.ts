import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { UsageError } from "./errors";

/** Parses a checksummed or lower-case address; names the option in the error. */
export function parseAddress(value: string, what: string): Address {
  if (!isAddress(value, { strict: true })) {
    throw new UsageError(`${what} "${value}" is not an address (0x and 40 hex digits, with a valid checksum when mixed-case)`);
  }
  return getAddress(value);
}

/** Parses a decimal amount in token units ("1.5") into base units with `decimals` decimals. */
export function parseAmount(value: string, decimals: number, what: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new UsageError(`${what} "${value}" is not a positive decimal amount (for example 1.5)`);
  const [, whole, fraction = ""] = match;
  if (fraction.length > decimals) {
    throw new UsageError(`${what} "${value}" has ${fraction.length} decimals; the token has ${decimals}`);
  }
  const amount = BigInt(whole!) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  if (amount === 0n) throw new UsageError(`${what} must be greater than zero`);
  return amount;
}

/** Parses an integer in a range (basis points, indices, counts). */
export function parseInteger(value: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${what} "${value}" is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) {
    throw new UsageError(`${what} is ${n.toLocaleString("en-US")}; it must be from ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}`);
  }
  return n;
}

/** Parses a non-negative integer id such as an agreement id or a version. */
export function parseId(value: string, what: string): bigint {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${what} "${value}" is not a whole number`);
  return BigInt(value);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** Parses a duration: plain seconds or a number with s, m, h or d ("7d"). */
export function parseDuration(value: string, what: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new UsageError(`${what} "${value}" is not a duration (seconds, or a number with s, m, h or d, e.g. 7d)`);
  return Number(match[1]) * DURATION_UNITS[match[2] || "s"]!;
}

/** A party as given on the command line: an account, or a nested agreement with its pinned version (undefined: its active one). */
export type PartyArg = { account?: Address; agreementId?: bigint; version?: number; shareBps: number };

/**
 * Parses a share list: "0xHotel=5000,0xRestaurant=3000,#4@2=2000" (#N@V is nested agreement N
 * pinned to its version V; #N alone pins its active version). Shares are basis points; the SDK
 * checks that they sum to 10,000.
 */
export function parseShares(value: string, what = "--shares"): PartyArg[] {
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${what} is empty; give party=basisPoints pairs separated by commas`);
  return items.map((item) => {
    const [who, share] = item.split("=");
    if (!who || share === undefined) {
      throw new UsageError(`${what} entry "${item}" is not party=basisPoints (for example 0xabc...=5000 or #4@1=2000)`);
    }
    const shareBps = parseInteger(share, `share of ${who}`, 1, 10_000);
    if (who.startsWith("#")) {
      const [id, pinned] = who.slice(1).split("@");
      const agreementId = parseId(id ?? "", `${what} nested agreement`);
      if (pinned === undefined) return { agreementId, shareBps };
      return { agreementId, version: parseInteger(pinned, `${what} pinned version of #${agreementId}`, 1, 2 ** 32 - 1), shareBps };
    }
    return { account: parseAddress(who, `${what} party`), shareBps };
  });
}

/** Parses a 32-byte hex value (an order reference, a document hash). */
export function parseBytes32(value: string, what: string): Hex {
  if (!isHex(value) || value.length !== 66) throw new UsageError(`${what} "${value}" is not 32 bytes of hex (0x + 64 digits)`);
  return value;
}
