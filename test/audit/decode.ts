import { expect } from "chai";
import fc from "fast-check";
import { getAddress, toEventSelector, type AbiEvent, type Address, type Hex } from "viem";
import { abiOf, eventsOf } from "../../src/audit/abis";
import type { ContractRole } from "../../src/audit/types";
import { ConcordLogDecoder, UndecodableLogError } from "../../src/audit/fetch";

/**
 * The auditor's word reader (src/audit/decode.ts: small values as numbers, addresses checksummed) against viem's
 * `decodeEventLog` on random logs of every event whose parameters are all static: a log whose
 * every word is the canonical encoding of its type decodes to the same arguments both ways; any
 * other log (a word out of range, an address with high bits set, a bool other than 0 or 1, data
 * cut short or not hex) is refused by the fast decoder, which is stricter than viem there (viem,
 * for one, reads an indexed address from the low 20 bytes whatever the rest holds). Words are
 * valid values of their type most of the time, any 256-bit word otherwise, sometimes in upper
 * case.
 */
const ADDRESSES = { registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3", ledger: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" } as const satisfies Record<string, Address>;

/** A raw log as a node returns it: these parts, at a fixed place in block 16. */
const rawLog = (address: string, topics: Hex[], data: Hex, logIndex = 0) => ({
  address,
  topics,
  data,
  blockNumber: "0x10" as Hex,
  blockHash: `0x${"ab".repeat(32)}` as Hex,
  transactionHash: `0x${"cd".repeat(32)}` as Hex,
  transactionIndex: "0x0" as Hex,
  logIndex: `0x${logIndex.toString(16)}` as Hex,
});

const word = (value: bigint): string => (((value % (1n << 256n)) + (1n << 256n)) % (1n << 256n)).toString(16).padStart(64, "0");

/** A word holding a valid value of `type`. */
function validWord(type: string): fc.Arbitrary<string> {
  if (type === "address") return fc.bigInt({ min: 0n, max: (1n << 160n) - 1n }).map(word);
  if (type === "bool") return fc.boolean().map((b) => word(b ? 1n : 0n));
  const bytes = /^bytes(\d+)$/.exec(type);
  if (bytes) {
    const size = Number(bytes[1]);
    return fc.bigInt({ min: 0n, max: (1n << BigInt(8 * size)) - 1n }).map((v) => word(v << BigInt(256 - 8 * size)));
  }
  const [, sign, bitsText] = /^(uint|int)(\d*)$/.exec(type)!;
  const bits = BigInt(bitsText || 256);
  if (sign === "uint") {
    // Small values (below 2^53, the numbers' path) as often as any value of the type.
    const small = (1n << 53n) - 1n < (1n << bits) - 1n ? (1n << 53n) - 1n : (1n << bits) - 1n;
    return fc.oneof(fc.bigInt({ min: 0n, max: small }), fc.bigInt({ min: 0n, max: (1n << bits) - 1n })).map(word);
  }
  return fc.bigInt({ min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n }).map(word);
}

/** Whether `hex` (64 digits, any case) is the canonical ABI encoding of a value of `type`. */
function isCanonical(type: string, hex: string): boolean {
  const value = BigInt(`0x${hex}`);
  if (type === "address") return value < 1n << 160n;
  if (type === "bool") return value <= 1n;
  const bytes = /^bytes(\d+)$/.exec(type);
  if (bytes) return value % (1n << BigInt(256 - 8 * Number(bytes[1]))) === 0n;
  const [, sign, bitsText] = /^(uint|int)(\d*)$/.exec(type)!;
  const bits = BigInt(bitsText || 256);
  if (sign === "uint") return value < 1n << bits;
  const signed = value >= 1n << 255n ? value - (1n << 256n) : value;
  return signed >= -(1n << (bits - 1n)) && signed < 1n << (bits - 1n);
}

/** A word for a parameter: mostly valid, otherwise any 256-bit word; in either case. */
function anyWord(type: string): fc.Arbitrary<string> {
  const w = fc.oneof({ arbitrary: validWord(type), weight: 4 }, { arbitrary: fc.bigUintN(256).map(word), weight: 1 });
  return fc.tuple(w, fc.integer({ min: 0, max: 9 })).map(([x, c]) => (c === 0 ? x.toUpperCase() : x));
}

function staticEvents(role: ContractRole): AbiEvent[] {
  return eventsOf(abiOf(role)).filter((e) => !e.anonymous && e.inputs.every((i) => /^(uint\d*|address|bool|bytes32)$/.test(i.type)));
}

describe("audit decoding", function () {
  const fast = new ConcordLogDecoder(ADDRESSES);
  const reference = new ConcordLogDecoder(ADDRESSES, { viemOnly: true });

  const outcome = (decoder: ConcordLogDecoder, log: Parameters<ConcordLogDecoder["decode"]>[0]) => {
    try {
      return { args: decoder.decode(log).args };
    } catch (error) {
      expect(error).to.be.instanceOf(UndecodableLogError);
      return { refused: true };
    }
  };

  for (const role of ["registry", "ledger"] as const) {
    const events = staticEvents(role);

    it(`decodes random ${role} logs exactly as viem does, or refuses them as viem does`, function () {
      expect(events.length, `static ${role} events`).to.be.greaterThan(role === "ledger" ? 5 : 1);
      const logs = fc.constantFrom(...events).chain((event) => {
        const indexed = event.inputs.filter((i) => i.indexed);
        const plain = event.inputs.filter((i) => !i.indexed);
        return fc.record({
          event: fc.constant(event),
          topics: fc.tuple(...indexed.map((i) => anyWord(i.type))),
          data: fc.tuple(...plain.map((i) => anyWord(i.type))),
          damage: fc.constantFrom("none", "none", "none", "none", "short", "not hex", "topic not hex"),
          // Where a bad character goes (a share of the length) and which: blanks, which BigInt
          // would trim, signs, letters past f, a non-ASCII digit.
          at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          bad: fc.constantFrom("g", " ", "\n", "x", "+", "-", "G", "\u0660", "é"),
        });
      });
      fc.assert(
        fc.property(logs, ({ event, topics, data, damage, at, bad }) => {
          let body = data.join("");
          let topicWords = [...topics];
          const spoil = (text: string) => {
            const i = Math.floor(at * text.length);
            return `${text.slice(0, i)}${bad}${text.slice(i + 1)}`;
          };
          // An event without data (or without indexed parameters) has nothing of that kind to damage.
          const damaged = damage === "topic not hex" ? topicWords.length > 0 : damage !== "none" && body.length > 0;
          if (damaged && damage === "short") body = body.slice(0, -2);
          if (damaged && damage === "not hex") body = spoil(body);
          if (damaged && damage === "topic not hex") {
            const which = Math.floor(at * topicWords.length);
            topicWords = topicWords.map((t, i) => (i === which ? spoil(t) : t));
          }
          const log = rawLog(ADDRESSES[role].toLowerCase(), [toEventSelector(event), ...topicWords.map((t) => `0x${t}` as Hex)], `0x${body}`, 3);
          const indexed = event.inputs.filter((i) => i.indexed);
          const plain = event.inputs.filter((i) => !i.indexed);
          const canonical = !damaged && indexed.every((input, i) => isCanonical(input.type, topics[i]!)) && plain.every((input, i) => isCanonical(input.type, data[i]!));
          const got = outcome(fast, log);
          if (canonical) {
            expect(got, event.name).to.have.property("args");
            expect(got, event.name).to.deep.equal(outcome(reference, log));
          } else {
            expect(got, `${event.name} ${damage} ${JSON.stringify([topicWords, body])}`).to.deep.equal({ refused: true });
          }
        }),
        { numRuns: 1_000 },
      );
    });
  }
});

describe("audit decoding: runs of logs from both contracts", function () {
  it("decodes interleaved registry and ledger logs, and refuses an unknown event between them, as viem does", function () {
    const byRole = { registry: staticEvents("registry"), ledger: staticEvents("ledger") };
    const oneLog = fc.constantFrom("registry" as const, "ledger" as const).chain((role) =>
      fc.constantFrom(...byRole[role]).chain((event) =>
        fc.record({
          role: fc.constant(role),
          event: fc.constant(event),
          topics: fc.tuple(...event.inputs.filter((i) => i.indexed).map((i) => validWord(i.type))),
          data: fc.tuple(...event.inputs.filter((i) => !i.indexed).map((i) => validWord(i.type))),
          unknown: fc.constantFrom(false, false, false, false, false, true), // a topic0 no Concord contract emits
          spelling: fc.constantFrom("lower", "checksummed"),
        }),
      ),
    );
    fc.assert(
      fc.property(fc.array(oneLog, { minLength: 2, maxLength: 30 }), (logs) => {
        const fast = new ConcordLogDecoder(ADDRESSES);
        const reference = new ConcordLogDecoder(ADDRESSES, { viemOnly: true });
        logs.forEach(({ role, event, topics, data, unknown, spelling }, i) => {
          const log = rawLog(
            spelling === "lower" ? ADDRESSES[role].toLowerCase() : ADDRESSES[role],
            [unknown ? `0x${"ee".repeat(32)}` : toEventSelector(event), ...topics.map((t) => `0x${t}` as Hex)],
            `0x${data.join("")}`,
            i,
          );
          const outcome = (decoder: ConcordLogDecoder) => {
            try {
              const decoded = decoder.decode(log);
              return { contract: decoded.contract, address: decoded.address, eventName: decoded.eventName, args: decoded.args };
            } catch (error) {
              expect(error).to.be.instanceOf(UndecodableLogError);
              return { refused: true };
            }
          };
          const got = outcome(fast);
          expect(got, `${role} ${event.name}${unknown ? " (unknown topic0)" : ""}`).to.deep.equal(outcome(reference));
          expect(got, event.name).to.have.property(unknown ? "refused" : "args");
          // The decoders share everything but the arguments' decoding: check the rest against the log itself.
          if (!unknown) expect(got).to.include({ contract: role, address: getAddress(log.address), eventName: event.name });
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe("audit decoding: remembered addresses", function () {
  const settled = eventsOf(abiOf("ledger")).find((e) => e.name === "Settled")!;
  const word = (hex: string) => hex.padStart(64, "0");
  const log = (referrer: string) =>
    rawLog(
      ADDRESSES.ledger.toLowerCase(),
      [toEventSelector(settled), `0x${"11".repeat(32)}`, `0x${word("1")}`],
      // version, token, payer, gross, referrer, refundBeneficiary
      `0x${[word("1"), word("bb".repeat(20)), word("cc".repeat(20)), word("3e8"), referrer, word("cc".repeat(20))].join("")}`,
    );

  it("alternating referrers decode to their own addresses, and a refused address is refused every time", function () {
    const decoder = new ConcordLogDecoder(ADDRESSES);
    const a = word("12".repeat(20));
    const b = word("0");
    const c = word("34".repeat(20));
    const seen = [a, b, a, b, c, a, c, b].map((w) => decoder.decode(log(w)).args.referrer);
    expect(seen).to.deep.equal(
      [a, b, a, b, c, a, c, b].map((w) => getAddress(`0x${w.slice(24)}`)),
    );
    const bad = word(`${"12".repeat(19)}1g`);
    for (let i = 0; i < 3; i += 1) expect(() => decoder.decode(log(bad))).to.throw(UndecodableLogError);
    expect(decoder.decode(log(a)).args.referrer).to.equal(getAddress(`0x${a.slice(24)}`));
  });
});
