import { expect } from "chai";
import fc from "fast-check";
import { PGlite } from "@electric-sql/pglite";
import { int4Array, textArray } from "../../src/audit/pg-arrays";

// The binary array parameters the store's appends send (src/audit/pg-arrays.ts), read back by
// PostgreSQL itself: any text (quotes, backslashes, commas, braces, multi-byte characters, the
// empty string) and any 32-bit integer come back exactly, in order.
describe("audit store: binary array parameters", function () {
  this.timeout(120_000);
  let db: PGlite;
  before(async function () {
    db = await PGlite.create();
  });
  after(async function () {
    await db.close();
  });

  const texts = async (param: Uint8Array) =>
    (await db.query<{ x: string }>("SELECT x FROM unnest($1::text[]) WITH ORDINALITY AS u(x, o) ORDER BY o", [param])).rows.map((r) => r.x);
  const ints = async (param: Uint8Array) =>
    (await db.query<{ x: number }>("SELECT x FROM unnest($1::int4[]) WITH ORDINALITY AS u(x, o) ORDER BY o", [param])).rows.map((r) => r.x);

  it("round-trips any text[] through PostgreSQL", async function () {
    // PostgreSQL text cannot hold NUL; everything else can.
    const text = fc.oneof(fc.fullUnicodeString(), fc.stringOf(fc.constantFrom('"', "\\", ",", "{", "}", " ", "NULL", "é", "€", "😀")), fc.hexaString());
    await fc.assert(
      fc.asyncProperty(fc.array(text.filter((s) => !s.includes("\u0000")), { maxLength: 40 }), async (values) => {
        expect(await texts(textArray(values))).to.deep.equal(values);
      }),
      { numRuns: 150 },
    );
  });

  it("round-trips any int4[] through PostgreSQL, and refuses what is not a 32-bit integer", async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 40 }), async (values) => {
        expect(await ints(int4Array(values))).to.deep.equal(values);
      }),
      { numRuns: 100 },
    );
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN]) {
      expect(() => int4Array([1, bad])).to.throw(RangeError, String(bad));
    }
  });

  it("makes room for text longer than its first guess (multi-byte characters in a long value)", async function () {
    const long = ["a".repeat(100), "€".repeat(5_000), "😀".repeat(3_000) + "x"];
    expect(await texts(textArray(long))).to.deep.equal(long);
  });
});
