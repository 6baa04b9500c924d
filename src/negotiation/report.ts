/** Plain-text rendering of a negotiation for the driver and the demo. */
import type { Outcome, TranscriptEntry } from "./types";

const pct = (bps: number) => `${(bps / 100).toFixed(bps % 100 === 0 ? 0 : 2)}%`;

/** "shares 40%/30%/30%, fee 5%, reserve 10%/7d". */
export function describeOffer(offer: TranscriptEntry["offer"]): string {
  const reserve = offer.reserveBps === 0 ? "none" : `${pct(offer.reserveBps)}/${offer.disputeWindow / 86_400}d`;
  return `shares ${offer.shares.map(pct).join("/")}, fee ${pct(offer.referralFeeBps)}, reserve ${reserve}`;
}

export function roundHeader(names: readonly string[]): string {
  return `${"move".padStart(4)} ${"rnd".padStart(3)}  ${"who".padEnd(11)} ${"did".padEnd(7)} ${"offer".padEnd(52)} ${names
    .map((n) => n.slice(0, 8).padStart(8))
    .join(" ")}  accepted${" ".repeat(2)}gas`;
}

/** One table row: move, round, mover, what it did, the latest offer, each party's utility, who accepted. */
export function formatRound(entry: TranscriptEntry, names: readonly string[], gasUsed?: bigint): string {
  const who = names[entry.by] ?? `#${entry.by}`;
  const accepted = entry.accepted.map((a, i) => (a ? (names[i] ?? "?")[0]!.toUpperCase() : ".")).join("");
  return `${String(entry.move).padStart(4)} ${String(entry.round).padStart(3)}  ${who.padEnd(11)} ${entry.kind.padEnd(7)} ${describeOffer(
    entry.offer,
  ).padEnd(52)} ${entry.utilities.map((u) => u.toFixed(3).padStart(8)).join(" ")}  ${accepted.padEnd(8)}${
    gasUsed === undefined ? "" : String(gasUsed).padStart(8)
  }`;
}

export function describeOutcome(outcome: Outcome, names: readonly string[]): string {
  switch (outcome.status) {
    case "agreed":
      return `AGREED after ${outcome.moves} moves: ${describeOffer(outcome.offer)}`;
    case "expired":
      return `EXPIRED after ${outcome.moves} moves: ${outcome.reason}`;
    case "broken":
      return `BROKEN by ${names[outcome.by] ?? `#${outcome.by}`} at move ${outcome.moves}: ${outcome.reason}`;
  }
}
