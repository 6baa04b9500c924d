import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { pasted, ROOT, runProcess as run, useNodeForCli } from "./helpers/cli";
import { allExamples, CHAIN_READS } from "./helpers/helpExamples";

/** The fenced code block that follows `<!-- readme-test: <name>` in README.md. */
function readmeBlock(name: string): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const marker = readme.indexOf(`<!-- readme-test: ${name}`);
  if (marker < 0) throw new Error(`README.md has no block marked readme-test: ${name}`);
  const match = /```\w*\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (!match) throw new Error(`no code block after the readme-test: ${name} marker`);
  return match[1]!;
}

describe("the README's walkthrough and SDK example, as written", function () {
  this.timeout(600_000);
  // The work folder is inside the repository, so that `npx concord` finds the package's own bin, as it does for a user.
  const cli = useNodeForCli({ parent: path.join(ROOT, ".concord"), prefix: "readme-" });

  it("the CLI walkthrough runs line by line against a fresh node", async function () {
    const { code, output } = await run("bash", ["-e", "-o", "pipefail", "-c", readmeBlock("cli")], cli.dir, cli.env);
    expect(code, output).to.equal(0);
    expect(output).to.contain("agreement 1 version 1 is active");
    expect(output).to.match(/referral fee 0\.075 ETH to 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65; reserve 0\.15 ETH held in lot \d+ until/);
    expect(output).to.contain("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 withdrew 0.075 ETH");
    expect(output).to.contain("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC withdrew 0.3825 ETH");
    expect(output).to.contain("every participant accepted: agreement 2 version 2 is active");
    expect(output).to.match(/verified at block \d+: every balance, reserve and holding matches the replayed history/);
    // Signature files went where the walkthrough said.
    for (const file of ["hotel.sig.json", "restaurant.sig.json", "airline.sig.json"]) expect(fs.existsSync(path.join(cli.dir, file))).to.equal(true);
  });

  // The commands that only read the chain (CHAIN_READS): their examples in --help run as pasted
  // after the walkthrough, in its folder and with its variables ($HOTEL…); examples with "…" name a
  // value to fill in. The writes' examples run in their own walkthrough (test/cli/writeExamples.ts).
  it("the --help examples of the commands that read the chain run as pasted against the walkthrough's chain", async function () {
    const variables = readmeBlock("cli").split("\n").filter((l) => /^[A-Z_]+=0x[0-9a-fA-F]{40}$/.test(l)).join("\n");
    expect(variables.split("\n")).to.have.length(4);
    const examples = allExamples().filter((e) => CHAIN_READS.includes(e.path));
    expect(examples.map((e) => e.path).sort()).to.deep.equal([...CHAIN_READS].sort());
    let ran = 0;
    for (const { path: command, lines } of examples) {
      for (const line of lines.filter((l) => !l.includes("…"))) {
        const { code, output } = await pasted(line, cli.dir, cli.env, variables);
        expect(code, `${command}: ${line}\n${output}`).to.equal(0);
        ran += 1;
      }
    }
    expect(ran).to.be.greaterThan(12);
    expect(fs.readFileSync(path.join(cli.dir, "hotel.csv"), "utf8")).to.match(/^partner,token,symbol,decimals,item,agreement,amount\n0x70997970C51812dc3A010C7d01b50e0d17dc79C8,/);
  });

  it("the SDK example type-checks under the project's compiler options and runs as pasted", async function () {
    const file = path.join(ROOT, `.readme-example-${process.pid}.ts`);
    fs.writeFileSync(file, readmeBlock("sdk"));
    try {
      const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
      const program = ts.createProgram([file], { ...config.options, noEmit: true });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diagnostics).to.deep.equal([]);

      const { code, output } = await run(process.execPath, ["-r", "ts-node/register/transpile-only", file], ROOT, cli.env);
      expect(code, output).to.equal(0);
      expect(output).to.contain("fee 0.075 ETH to the travel site, reserve 0.15 ETH");
      expect(output).to.contain("the quote predicted the split: true");
        // The walkthrough already withdrew the restaurant's first share; this is its 30% of the new
      // agreement's net: 1.5 ETH less the 0.075 fee and the 0.15 reserve still held.
      expect(output, output).to.contain("the restaurant withdrew 0.3825 ETH");
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("the multisig lines type-check against the SDK, with the names the SDK example defines (test/sdk/wallets.ts runs the same calls on a real Safe)", function () {
    const file = path.join(ROOT, `.readme-multisig-${process.pid}.ts`);
    const context = [
      'import type { Address, LocalAccount } from "viem";',
      'import { executeSafeTransaction, prepareWithdraw, safeWallet, type ConcordClient, type Terms } from "./src/sdk";',
      "declare const hotel: ConcordClient, terms: Terms, agreementId: bigint, safe: Address, ownerA: LocalAccount, ownerB: LocalAccount;",
      "export async function multisig() {",
    ].join("\n");
    fs.writeFileSync(file, `${context}\n${readmeBlock("sdk-multisig")}\nreturn consent;\n}\n`);
    try {
      const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
      const program = ts.createProgram([file], { ...config.options, noEmit: true });
      expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).to.deep.equal([]);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
