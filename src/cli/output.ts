/** Printing for the CLI: human tables by default, one stable JSON document with --json. */
import Table from "cli-table3";
import { stringify } from "csv-stringify/sync";
import { formatUnits as viemFormatUnits } from "viem";

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** The same JSON on one line (for a stream of JSON lines). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Formats base units as a decimal in token units ("1,234.5"), without losing precision (viem's formatUnits, with thousands separators). */
export function formatUnits(amount: bigint, decimals: number): string {
  const [whole, fraction] = viemFormatUnits(amount, decimals).split(".");
  const grouped = BigInt(whole!).toLocaleString("en-US");
  return `${whole!.startsWith("-") && !grouped.startsWith("-") ? "-" : ""}${grouped}${fraction ? `.${fraction}` : ""}`;
}

/** A borderless, left-aligned text table with a header row and a rule under it (cli-table3). */
export function table(rows: ReadonlyArray<Record<string, string | number | bigint | boolean>>): string {
  if (rows.length === 0) return "(none)";
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? "")));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const t = new Table({ chars: BORDERLESS, style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true } });
  t.push(columns, widths.map((w) => "-".repeat(w)), ...cells);
  return t.toString().split("\n").map((line) => line.trimEnd()).join("\n");
}

const BORDERLESS = {
  top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  ",
};

/**
 * One CSV cell's text before quoting: a cell that a spreadsheet would read as a formula (=, +, -,
 * @, a tab or CR first: a token's symbol is whatever its contract says) is prefixed with a single
 * quote, so that opening the file runs nothing.
 */
export function neutralizeFormula(value: string | number | bigint): string {
  const text = String(value);
  return typeof value === "string" && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** CSV text (RFC 4180, csv-stringify): a header row, then one line per row, formula-like cells neutralised. */
export function csv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | bigint>>): string {
  return stringify([header, ...rows].map((row) => row.map(neutralizeFormula)), { record_delimiter: "\n" });
}

/** The version of the CLI's JSON documents: it changes when a field changes meaning or goes away. */
export const JSON_SCHEMA = 1;

/** Prints a command's result: `json` as one document (with its `schema` version first), else the human text. */
export function emit(options: { json?: boolean }, data: Record<string, unknown>, human: () => string): void {
  process.stdout.write((options.json ? toJson({ schema: JSON_SCHEMA, ...data }) : human()) + "\n");
}
