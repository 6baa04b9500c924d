import { expect } from "chai";
import fc from "fast-check";
import { csv } from "../../src/cli/output";

/** One cell as csv() writes it (a one-column file without its header and line end). */
const csvCell = (value: string | bigint) => csv(["h"], [[value]]).slice("h\n".length, -1);

/** Reads one cell back as a spreadsheet would (RFC 4180 quoting undone). */
const unquote = (cell: string) => (cell.startsWith('"') && cell.endsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell);

describe("CLI CSV cells (audit report --csv)", function () {
  const cases: Array<[string | bigint, string]> = [
    ["ETH", "ETH"],
    [123n, "123"],
    ["0.075", "0.075"],
    ["EUR,C", '"EUR,C"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    // A symbol a spreadsheet would run as a formula is made text.
    ["=HYPERLINK(\"http://x\")", '"\'=HYPERLINK(""http://x"")"'],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@SUM(A1)", "'@SUM(A1)"],
  ];
  for (const [value, cell] of cases) {
    it(`writes ${JSON.stringify(String(value))} as ${cell}`, function () {
      expect(csvCell(value)).to.equal(cell);
    });
  }

  it("every string reads back as itself (a formula-like one after its quote mark), and a quoted cell is one field", function () {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const cell = csvCell(text);
        const read = unquote(cell);
        expect(read).to.equal(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
        // Outside quotes no comma or line break is left to split the row.
        if (!cell.startsWith('"')) expect(cell).to.not.match(/[",\r\n]/);
      }),
    );
  });

  it("writes a header and one line per row", function () {
    expect(csv(["a", "b"], [["x", 1n], ["y,z", 2n]])).to.equal('a,b\nx,1\n"y,z",2\n');
  });
});
