import fs from "node:fs";
import { getAddress, isAddress, isHex, zeroAddress, type Address, type Hex } from "viem";
import { UsageError } from "./errors";

/** --token: an ERC-20 token address, or ETH (the zero address) when not given. */
export const tokenOf = (token?: string): Address => (token ? parseAddress(token, "--token") : zeroAddress);

/** Parses a checksummed or lower-case address; names the option in the error. */
export function parseAddress(value: string, what: string): Address {
  if (!isAddress(value, { strict: true })) {
    throw new UsageError(`${what} "${value}" is not an address (0x and 40 hex digits, with a valid checksum when mixed-case)`);
  }
  return getAddress(value);
}

const UINT256_MAX = 2n ** 256n - 1n;

/** Unit suffixes of amounts: wei is the token's base unit; gwei and ether are 10^9 and 10^18 wei (18-decimal tokens only). */
const UNIT_SUFFIXES: Record<string, number> = { wei: 0, gwei: 9, ether: 18 };

/**
 * Parses an amount: a decimal in token units ("1.5"), or with a unit suffix ("1.5ether",
 * "2gwei", "123wei": base units). It must be above zero, fit the token's decimals and a uint256.
 */
export function parseAmount(value: string, decimals: number, what: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?(wei|gwei|ether)?$/.exec(value.trim());
  if (!match) throw new UsageError(`${what} "${value}" is not a positive decimal amount (for example 1.5, or 1.5ether, 2gwei, 123wei)`);
  const [, whole, fraction = "", suffix] = match;
  if (suffix && suffix !== "wei" && decimals !== 18) {
    throw new UsageError(`${what} "${value}": ${suffix} is a unit of 18-decimal tokens; this token has ${decimals} (give token units, or base units with wei)`);
  }
  const places = suffix ? UNIT_SUFFIXES[suffix]! : decimals;
  if (fraction.length > places) {
    throw new UsageError(suffix ? `${what} "${value}" has ${fraction.length} decimals; ${suffix} has ${places}` : `${what} "${value}" has ${fraction.length} decimals; the token has ${decimals}`);
  }
  const amount = BigInt(whole!) * 10n ** BigInt(places) + BigInt(fraction.padEnd(places, "0") || "0");
  if (amount === 0n) throw new UsageError(`${what} must be greater than zero`);
  if (amount > UINT256_MAX) throw new UsageError(`${what} "${value}" is beyond the largest amount a uint256 holds`);
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

/** Parses a non-negative integer that fits `bits` bits: an agreement id (uint64, the default), a lot id or nonce (uint256), a block. */
export function parseId(value: string, what: string, bits = 64): bigint {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${what} "${value}" is not a whole number`);
  const n = BigInt(value.trim());
  if (n >= 2n ** BigInt(bits)) throw new UsageError(`${what} ${value.trim()} is beyond the largest uint${bits} (${(2n ** BigInt(bits) - 1n).toLocaleString("en-US")})`);
  return n;
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
    const [who, share, ...extra] = item.split("=");
    if (!who || share === undefined || extra.length > 0) {
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

/** The kinds of field a JSON file of the CLI holds (signature and intent files). */
export type FieldKind = "string" | "integer" | "decimal" | "address" | "hex";

const FIELD_CHECKS: Record<FieldKind, { test: (v: unknown) => boolean; is: string }> = {
  string: { test: (v) => typeof v === "string" && v.length > 0, is: "a string" },
  integer: { test: (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0, is: "a whole number" },
  decimal: { test: (v) => typeof v === "string" && /^\d+$/.test(v) && BigInt(v) <= 2n ** 256n - 1n, is: "a decimal string of a uint256" },
  address: { test: (v) => typeof v === "string" && isAddress(v, { strict: false }), is: "an address" },
  hex: { test: (v) => typeof v === "string" && isHex(v), is: "hex" },
};

/**
 * Checks the fields of a parsed JSON file against `spec` before anything reads them: a missing,
 * null or wrongly typed field is one error naming the file and the field.
 */
export function checkFields<T extends string>(file: string, value: unknown, spec: Record<T, FieldKind>, where = ""): Record<T, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${file}${where ? ` ${where}` : ""} is not a JSON object`);
  }
  const record = value as Record<string, unknown>;
  for (const [field, kind] of Object.entries(spec) as Array<[T, FieldKind]>) {
    const check = FIELD_CHECKS[kind];
    if (!check.test(record[field])) {
      throw new UsageError(`${file}: field ${where ? `${where}.` : ""}${field} is ${record[field] === undefined ? "missing" : JSON.stringify(record[field])}, not ${check.is}`);
    }
  }
  return record as Record<T, unknown>;
}

/** --data-dir: a folder, or a path where one can be made (not a file). */
export function parseDataDir(dir: string): string {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory()) throw new UsageError(`--data-dir ${dir} is a file, not a folder: give a folder (it is made if missing)`);
  return dir;
}
