import { expect } from "chai";
import fc from "fast-check";
import { bytesToHex, getAddress, keccak256, type Hex } from "viem";
import { entriesHashOf, wasmKeccak, type Keccak } from "../../src/audit/replay";

// The WebAssembly keccak a sync hashes its open lots with (src/audit/replay/lots.ts) is the same
// function as viem's: any bytes (around the 136-byte rate, where keccak absorbs a second block),
// one hasher reused for many inputs, and whole hash chains of lot entries.
describe("audit: the keccak of open lots' hash chains", function () {
  let keccak: Keccak;
  before(async function () {
    keccak = await wasmKeccak();
  });

  it("equals viem's keccak256 on any bytes, the hasher reused call after call", function () {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 8 }), (inputs) => {
        for (const bytes of inputs) expect(keccak(bytesToHex(bytes))).to.equal(keccak256(bytes));
      }),
      { numRuns: 300 },
    );
    for (const n of [0, 135, 136, 137, 271, 272]) expect(keccak(bytesToHex(new Uint8Array(n).fill(n)))).to.equal(keccak256(new Uint8Array(n).fill(n)));
  });

  it("gives every lot's hash chain as viem's keccak256 does", function () {
    const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => bytesToHex(b));
    const entry = fc.record({
      scope: hex(20).map((h) => getAddress(h)),
      orderRef: hex(32) as fc.Arbitrary<Hex>,
      beneficiary: hex(20).map((h) => getAddress(h)),
      reserve: fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
      refunded: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), (entries) => {
        expect(entriesHashOf(entries, keccak)).to.equal(entriesHashOf(entries));
      }),
      { numRuns: 200 },
    );
  });
});
