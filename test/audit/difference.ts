import { expect } from "chai";
import fc from "fast-check";
import { getAddress, numberToHex, type Address } from "viem";
import { compareHolding, compareWord } from "../../src/audit/reconcile/compare";
import { differenceMessage, type PlannedHolding, type PlannedWord, type ValueKind } from "../../src/audit/reconcile";

// A difference carries its amounts as data and is worded by one function: in base units for the
// auditor's own message, through a formatter (token units, say) for the CLI, which must touch
// amounts of the difference's token only, never counts or hashes.
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(numberToHex(BigInt(`0x${Buffer.from(b).toString("hex")}`), { size: 20 })) as Address);
const provenance = { count: 0, recent: [] };
const tagged = (token: Address, amount: bigint) => `<${amount} of ${token}>`;

describe("audit: differences as data, worded once", function () {
  it("words a word's field difference with its amounts formatted only when they are amounts", function () {
    fc.assert(
      fc.property(address, address, fc.constantFrom<ValueKind>("amount", "count", "hash"), fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), fc.bigInt({ min: 1n, max: 1000n }), (account, token, value, expected, delta) => {
        const planned: PlannedWord = {
          slot: numberToHex(1n, { size: 32 }),
          subject: { account, token, provenance },
          fields: [{ kind: value === "count" ? "risk" : value === "hash" ? "lot" : "balance", value, what: "the field", shift: 0n, bits: 256n, expected }],
        };
        const [d] = compareWord(planned, numberToHex(expected + delta, { size: 32 }));
        expect(d, "a changed word is a difference").to.not.equal(undefined);
        expect([d!.expected, d!.actual, d!.value, d!.token]).to.deep.equal([expected, expected + delta, value, token]);
        expect(d!.message).to.equal(`the field: rebuilt ${expected}, chain ${expected + delta}`);
        expect(differenceMessage(d!)).to.equal(d!.message);
        const formatted = differenceMessage(d!, tagged);
        if (value === "amount") expect(formatted).to.equal(`the field: rebuilt ${tagged(token, expected)}, chain ${tagged(token, expected + delta)}`);
        else expect(formatted).to.equal(d!.message);
        expect(compareWord(planned, numberToHex(expected, { size: 32 }))).to.deep.equal([]);
      }),
      { numRuns: 200 },
    );
  });

  it("words a holdings difference with its parts, each formatted", function () {
    fc.assert(
      fc.property(address, address, fc.bigInt({ min: 0n, max: 2n ** 96n }), fc.bigInt({ min: 0n, max: 2n ** 96n }), fc.bigInt({ min: 0n, max: 2n ** 96n }), fc.bigInt({ min: 1n, max: 10n ** 18n }), (ledger, token, balances, reserves, undistributed, extra) => {
        const expected = balances + reserves + undistributed;
        const planned: PlannedHolding = { token, expected, parts: { balances, reserves, undistributed }, subject: { account: ledger, token, provenance } };
        expect(compareHolding(planned, expected)).to.equal(undefined);
        const d = compareHolding(planned, expected + extra)!;
        expect(d.message).to.equal(`the ledger holds ${expected + extra} of ${token}; events give ${expected} (balances ${balances} + reserves ${reserves} + undistributed ${undistributed})`);
        expect(differenceMessage(d, tagged)).to.equal(
          `the ledger holds ${tagged(token, expected + extra)} of ${token}; events give ${tagged(token, expected)} (balances ${tagged(token, balances)} + reserves ${tagged(token, reserves)} + undistributed ${tagged(token, undistributed)})`,
        );
      }),
      { numRuns: 200 },
    );
  });
});
