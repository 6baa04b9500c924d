import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { ABI_DIR, findPublicContracts, renderAll } from "../../scripts/generate-abis";

describe("generated ABIs", function () {
  before(async function () {
    await hre.run("compile", { quiet: true });
  });

  it("are reproducible from the contracts: src/sdk/abi matches a fresh generation, file for file", async function () {
    const fresh = renderAll();
    const committed = fs.readdirSync(ABI_DIR).filter((f) => f.endsWith(".ts")).sort();
    expect(committed, "src/sdk/abi holds files the generator would not write: run npm run generate").to.deep.equal(
      [...fresh.keys()].sort(),
    );
    for (const [file, contents] of fresh) {
      expect(fs.readFileSync(path.join(ABI_DIR, file), "utf8"), `src/sdk/abi/${file} is stale: run npm run generate`).to.equal(contents);
    }
  });

  it("render identically twice (no timestamps, no unordered output)", function () {
    expect([...renderAll()]).to.deep.equal([...renderAll()]);
  });

  it("cover every deployable top-level contract and nothing from mocks, interfaces or libraries", async function () {
    const names = findPublicContracts().map((c) => c.name);
    expect(names).to.include.members(["AgreementRegistry", "SettlementLedger"]);
    const expected: string[] = [];
    for (const fqn of await hre.artifacts.getAllFullyQualifiedNames()) {
      const [source, name] = fqn.split(":") as [string, string];
      if (!/^contracts\/[^/]+\.sol$/.test(source)) continue;
      if ((await hre.artifacts.readArtifact(fqn)).bytecode !== "0x") expected.push(name);
    }
    expect(names).to.deep.equal(expected.sort());
    for (const name of names) expect(name).to.not.match(/^Mock|Faulty/);
  });
});
