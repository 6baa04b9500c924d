import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { ABI_DIR, renderAll } from "../../scripts/generate-abis";

describe("generated ABIs", function () {
  it("are reproducible from the contracts: src/sdk/abi matches a fresh generation", async function () {
    await hre.run("compile", { quiet: true });
    for (const [file, contents] of renderAll()) {
      const committed = fs.readFileSync(path.join(ABI_DIR, file), "utf8");
      expect(committed, `src/sdk/abi/${file} is stale: run npm run generate`).to.equal(contents);
    }
  });
});
