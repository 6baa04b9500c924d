/**
 * Compares what was read with what the plan expects, and records each disagreement as a
 * {Difference}: the account, the token, the amounts as data and the events that produced them.
 * {differenceMessage} words one, the amounts in base units or through a formatter.
 */
import { hexToBigInt, type Address, type Hex } from "viem";
import type { EventRef } from "../types";
import type { DifferenceKind, HoldingParts, PlannedHolding, PlannedWord, ValueKind } from "./plan";

export type { DifferenceKind, HoldingParts, ValueKind } from "./plan";

/** One way the chain disagrees with the rebuilt state. */
export type Difference = {
  kind: DifferenceKind;
  /** The account whose amount differs (the ledger itself for holdings, pools and lots; the scope for a bitmap). */
  account: Address;
  token: Address;
  /** What differs, in words ("balance of 0x… in 0x…"). */
  what: string;
  /** What `expected` and `actual` are: amounts of `token` in base units, counts, or hashes. */
  value: ValueKind;
  /** Rebuilt from events (an amount or a count; a hash or bitmap as hex). */
  expected: bigint | Hex;
  /** Read from the chain at the block. */
  actual: bigint | Hex;
  agreementId?: bigint;
  version?: number;
  partyIndex?: number;
  lotId?: bigint;
  /** The events that produced the expected value (the latest ones for long histories). */
  events: EventRef[];
  /** How many events produced it in all. */
  eventCount: number;
  /** For holdings: what the expected amount is made of. */
  parts?: HoldingParts;
  /** {differenceMessage} with amounts in base units. */
  message: string;
};

/** Shows an amount of `token` given in base units (token units and a symbol, say). */
export type AmountFormat = (token: Address, amount: bigint) => string;

const baseUnits: AmountFormat = (_token, amount) => amount.toString();

/** One of a difference's values as shown: an amount through `format` (default: base units), a count or a hash as it is. */
export function differenceValue(d: Pick<Difference, "value" | "token">, v: bigint | Hex, format: AmountFormat = baseUnits): string {
  return d.value === "amount" && typeof v === "bigint" ? format(d.token, v) : String(v);
}

/**
 * A difference in words: "<what>: rebuilt <expected>, chain <actual>", or for holdings what the
 * expected amount is made of. Amounts go through `format` (default: base units); counts and
 * hashes are shown as they are.
 */
export function differenceMessage(d: Omit<Difference, "message">, format: AmountFormat = baseUnits): string {
  const show = (v: bigint | Hex) => differenceValue(d, v, format);
  if (d.kind === "holdings" && d.parts) {
    const { balances, reserves, undistributed } = d.parts;
    return `the ledger holds ${show(d.actual)} of ${d.token}; events give ${show(d.expected)} (balances ${show(balances)} + reserves ${show(reserves)} + undistributed ${show(undistributed)})`;
  }
  return `${d.what}: rebuilt ${show(d.expected)}, chain ${show(d.actual)}`;
}

const mask = (bits: bigint) => (1n << bits) - 1n;
const withMessage = (d: Omit<Difference, "message">): Difference => ({ ...d, message: differenceMessage(d) });

/** The differences between one planned word and the word read. */
export function compareWord(planned: PlannedWord, word: Hex): Difference[] {
  const value = hexToBigInt(word);
  const out: Difference[] = [];
  for (const field of planned.fields) {
    const actual = (value >> field.shift) & mask(field.bits);
    if (actual === field.expected) continue;
    const show = field.show ?? ((v: bigint) => v);
    const { provenance, ...where } = planned.subject;
    out.push(withMessage({ kind: field.kind, ...where, what: field.what, value: field.value, expected: show(field.expected), actual: show(actual), events: [...provenance.recent], eventCount: provenance.count }));
  }
  return out;
}

/** The difference between what the ledger should hold of a token and what it holds, if any. */
export function compareHolding(planned: PlannedHolding, actual: bigint): Difference | undefined {
  if (actual === planned.expected) return undefined;
  const { provenance, ...where } = planned.subject;
  return withMessage({
    kind: "holdings",
    ...where,
    what: `holdings of ${planned.token}`,
    value: "amount",
    expected: planned.expected,
    actual,
    parts: planned.parts,
    events: [...provenance.recent],
    eventCount: provenance.count,
  });
}
