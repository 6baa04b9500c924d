/**
 * Compares what was read with what the plan expects, and words each disagreement as a
 * {Difference} naming the account, the token, the amounts and the events that produced them.
 */
import { hexToBigInt, type Address, type Hex } from "viem";
import type { EventRef } from "../types";
import type { DifferenceKind, HoldingParts, PlannedHolding, PlannedWord } from "./plan";

export type { DifferenceKind, HoldingParts } from "./plan";

/** One way the chain disagrees with the rebuilt state. */
export type Difference = {
  kind: DifferenceKind;
  /** The account whose amount differs (the ledger itself for holdings, pools and lots; the scope for a bitmap). */
  account: Address;
  token: Address;
  /** Rebuilt from events (an amount; a hash or bitmap as hex). */
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
  /** In words, amounts in base units. */
  message: string;
};

const mask = (bits: bigint) => (1n << bits) - 1n;

/** The differences between one planned word and the word read. */
export function compareWord(planned: PlannedWord, word: Hex): Difference[] {
  const value = hexToBigInt(word);
  const out: Difference[] = [];
  for (const field of planned.fields) {
    const actual = (value >> field.shift) & mask(field.bits);
    if (actual === field.expected) continue;
    const show = field.show ?? ((v: bigint) => v);
    const { provenance, ...where } = planned.subject;
    const [e, a] = [show(field.expected), show(actual)];
    out.push({ kind: field.kind, ...where, expected: e, actual: a, events: [...provenance.recent], eventCount: provenance.count, message: `${field.what}: rebuilt ${e}, chain ${a}` });
  }
  return out;
}

/** The difference between what the ledger should hold of a token and what it holds, if any. */
export function compareHolding(planned: PlannedHolding, actual: bigint): Difference | undefined {
  if (actual === planned.expected) return undefined;
  const { provenance, ...where } = planned.subject;
  return {
    kind: "holdings",
    ...where,
    expected: planned.expected,
    actual,
    parts: planned.parts,
    events: [...provenance.recent],
    eventCount: provenance.count,
    message: planned.what.replace("{actual}", actual.toString()),
  };
}
