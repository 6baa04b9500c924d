import { expect } from "chai";
import fc from "fast-check";
import { keccak256, type Hex } from "viem";
import { keccak256Hex } from "../../src/audit/keccak";
import { hashSettlementRecord } from "../../src/audit/reconcile";

const hex = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;

describe("audit keccak256", function () {
  it("equals viem's keccak256 at every length around the 136-byte rate", function () {
    for (let length = 0; length <= 3 * 136 + 2; length += 1) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length * 7) & 0xff);
      expect(keccak256Hex(hex(bytes)), `length ${length}`).to.equal(keccak256(hex(bytes)));
    }
    expect(keccak256Hex("0x")).to.equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  });

  it("equals viem's keccak256 on random inputs, upper-case hex included", function () {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.boolean(), (bytes, upper) => {
        const input = hex(bytes);
        const given = (upper ? `0x${input.slice(2).toUpperCase()}` : input) as Hex;
        return keccak256Hex(given) === keccak256(input);
      }),
      { numRuns: 2_000 },
    );
  });

  it("hashes settlement records as abi.encode of their six words", function () {
    fc.assert(
      fc.property(fc.bigUintN(64), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.bigUintN(128), fc.integer({ min: 0, max: 2 ** 40 }), (agreementId, version, token, payer, reserve, releaseAt) => {
        const s = { agreementId, version, token: hex(token), payer: hex(payer), reserve, releaseAt } as Parameters<typeof hashSettlementRecord>[0];
        const words = [agreementId, BigInt(version), BigInt(hex(token)), BigInt(hex(payer)), reserve, BigInt(releaseAt)].map((w) => w.toString(16).padStart(64, "0")).join("");
        return hashSettlementRecord(s) === keccak256(`0x${words}`);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses what is not whole bytes of hex", function () {
    expect(() => keccak256Hex("0x123" as Hex)).to.throw(/whole bytes/);
    expect(() => keccak256Hex("1234" as Hex)).to.throw(/whole bytes/);
    expect(() => keccak256Hex("0x12zz" as Hex)).to.throw(/hex digit/);
  });
});
