/** Printing for the CLI: human tables by default, one stable JSON document with --json. */

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** The same JSON on one line (for a stream of JSON lines). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Formats base units as a decimal in token units ("1.5"), without losing precision. */
export function formatUnits(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  const fraction = (abs % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole.toLocaleString("en-US")}${fraction ? `.${fraction}` : ""}`;
}

/** A left-aligned text table with a header row. */
export function table(rows: ReadonlyArray<Record<string, string | number | bigint | boolean>>): string {
  if (rows.length === 0) return "(none)";
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? "")));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break. A cell that a
 * spreadsheet would read as a formula (=, +, -, @, a tab or CR first: a token's symbol is whatever
 * its contract says) is prefixed with a single quote, so that opening the file runs nothing.
 */
export function csvCell(value: string | number | bigint): string {
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text: a header row, then one line per row, each cell through {@link csvCell}. */
export function csv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | bigint>>): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\n") + "\n";
}

/** The version of the CLI's JSON documents: it changes when a field changes meaning or goes away. */
export const JSON_SCHEMA = 1;

/** Prints a command's result: `json` as one document (with its `schema` version first), else the human text. */
export function emit(options: { json?: boolean }, data: Record<string, unknown>, human: () => string): void {
  process.stdout.write((options.json ? toJson({ schema: JSON_SCHEMA, ...data }) : human()) + "\n");
}
