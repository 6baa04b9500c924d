import { expect } from "chai";
import fc from "fast-check";
import { jsonRows, openPglite, type SqlDatabase } from "../../src/audit/db";

// The one bulk-insert parameter of the store's appends (src/audit/db.ts, jsonRows), read back by
// PostgreSQL's own JSON parser through json_to_recordset: any text (quotes, backslashes, commas,
// braces, multi-byte characters, the empty string), any 32-bit integer, any uint256 as NUMERIC,
// NULL and nested JSON (an event's arguments) come back exactly, row by row, in order.
describe("audit store: bulk rows as one JSON parameter", function () {
  this.timeout(120_000);
  let db: SqlDatabase;
  before(async function () {
    db = await openPglite(undefined);
  });
  after(async function () {
    await db.close();
  });

  type Row = { s: string; i: number; n: bigint | null; j: Record<string, unknown> };
  const readBack = async (rows: Row[]) =>
    (
      await db.query<{ s: string; i: number; n: string | null; j: Record<string, unknown> }>(
        `SELECT s, i, n::text AS n, j FROM json_to_recordset($1::json) AS r(o int4, s text, i int4, n numeric, j jsonb) ORDER BY o`,
        [jsonRows(rows.map((r, o) => ({ o, ...r })))],
      )
    ).rows.map((r) => ({ s: r.s, i: r.i, n: r.n === null ? null : BigInt(r.n), j: r.j }));

  // PostgreSQL text and jsonb cannot hold NUL (no Concord event has a string argument); everything else can.
  const text = fc
    .oneof(fc.fullUnicodeString(), fc.stringOf(fc.constantFrom('"', "\\", ",", "{", "}", " ", "NULL", "é", "€", "😀", "\n", "\t")), fc.hexaString())
    .filter((s) => !s.includes("\u0000"));
  const row = fc.record({
    s: text,
    i: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    n: fc.option(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), { nil: null }),
    j: fc.record({ amount: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), who: text, list: fc.array(fc.bigInt({ min: 0n, max: 2n ** 128n }), { maxLength: 4 }) }),
  });

  it("round-trips any rows through json_to_recordset: bigints as exact NUMERIC and as decimal strings inside JSON", async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 30 }), async (rows) => {
        const expected = rows.map((r) => ({ ...r, j: { amount: r.j.amount.toString(), who: r.j.who, list: r.j.list.map(String) } }));
        expect(await readBack(rows)).to.deep.equal(expected);
      }),
      { numRuns: 150 },
    );
  });

  it("refuses a value its column cannot hold, naming it, rather than storing something else", async function () {
    let error: unknown;
    try {
      await db.query("SELECT * FROM json_to_recordset($1::json) AS r(i int4)", [jsonRows([{ i: 2 ** 31 }])]);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/2147483648.*out of range|out of range.*integer/);
  });
});
