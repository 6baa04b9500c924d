/** Plain-text helpers for the story's output: amounts in token units and aligned tables. */
import { formatUnits } from "viem";

/** A token as the story prints it. */
export type TokenUnit = { symbol: string; decimals: number };

/** "1.5 ETH", "231.25 sUSD": exact (every digit formatUnits gives), never rounded. */
export function amount(value: bigint, unit: TokenUnit): string {
  return `${formatUnits(value, unit.decimals)} ${unit.symbol}`;
}

/** Basis points as a percentage: 750 -> "7.5%". */
export function percent(bps: number): string {
  return `${(bps / 100).toString()}%`;
}

/** A table with a header row, columns padded to their widest cell; numbers-like cells right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const right = (cell: string) => /^-?[0-9]/.test(cell);
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (right(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** A step heading. */
export function heading(step: number, title: string): string {
  return `\n== ${step}. ${title}`;
}
