/**
 * Array parameters in PostgreSQL's binary format (what `array_recv` reads), for bulk inserts
 * through PGlite.
 *
 * PGlite sends a parameter that is a `Uint8Array` as it is, in the binary format; any other
 * array it first writes as a text literal (`{"…","…"}`, escaping every element with two regular
 * expressions), then measures its UTF-8 length character by character, twice, in JavaScript,
 * and PostgreSQL then parses the literal character by character. For the store's appends (a
 * kilobyte and more of hex and JSON per event) that was about a third of the time an append
 * took (`npm run bench:store`). Here each element is one length word and its UTF-8 bytes,
 * written by the platform's `TextEncoder`.
 *
 * The SQL must give such a parameter its array type (`$1::text[]`, `$2::int4[]`)
 * so that PostgreSQL reads it as that type.
 */

/** Element type ids (pg_type.oid) of the arrays this module writes. */
const OID = { int4: 23, text: 25 } as const;

const encoder = new TextEncoder();

/** A growing byte buffer with big-endian integer writes. */
class Writer {
  private bytes: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(64, capacity));
    this.view = new DataView(this.bytes.buffer);
  }

  private ensure(extra: number) {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.length + extra, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  int32(value: number) {
    this.ensure(4);
    this.view.setInt32(this.length, value);
    this.length += 4;
  }

  /** A length word, then the string's UTF-8 bytes. */
  lengthAndText(value: string) {
    // One byte per character for ASCII (hex, addresses, JSON of numbers); more is made room for below.
    this.ensure(4 + value.length);
    const at = this.length;
    let { read, written } = encoder.encodeInto(value, this.bytes.subarray(at + 4));
    if (read < value.length) {
      this.ensure(4 + value.length * 3); // UTF-8 is at most three bytes per UTF-16 unit
      ({ read, written } = encoder.encodeInto(value, this.bytes.subarray(at + 4)));
    }
    this.view.setInt32(at, written);
    this.length = at + 4 + written;
  }

  done(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/**
 * The header of a one-dimensional array without NULLs: dimensions, flags, element type, then
 * its size and lower bound (an empty array has no dimension, as PostgreSQL writes one).
 */
function header(count: number, oid: number, capacity: number): Writer {
  const w = new Writer(20 + capacity);
  w.int32(count === 0 ? 0 : 1);
  w.int32(0);
  w.int32(oid);
  if (count > 0) {
    w.int32(count);
    w.int32(1);
  }
  return w;
}

/** A `text[]` parameter (`$n::text[]`). */
export function textArray(values: readonly string[]): Uint8Array {
  let size = 0;
  for (const v of values) size += 4 + v.length;
  const w = header(values.length, OID.text, size);
  for (const v of values) w.lengthAndText(v);
  return w.done();
}

/** An `int4[]` parameter (`$n::int4[]`); every value must be a 32-bit signed integer. */
export function int4Array(values: readonly number[]): Uint8Array {
  const w = header(values.length, OID.int4, values.length * 8);
  for (const v of values) {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RangeError(`int4Array: ${v} is not a 32-bit integer`);
    w.int32(4);
    w.int32(v);
  }
  return w.done();
}
