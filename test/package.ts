import { expect } from "chai";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { hardhatNode, type SdkEnvironment } from "./sdk/environments";

const ROOT = path.join(__dirname, "..");
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel", "error"];

type PackageJson = {
  name: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;

type Run = { code: number; stdout: string; stderr: string };

/** Runs a command to its end (npm through the npm that runs these tests, when there is one). */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function npm(args: string[], cwd: string): Promise<Run> {
  const result = await run("npm", args, cwd);
  if (result.code !== 0) throw new Error(`npm ${args.join(" ")} in ${cwd} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

// What an integrator writes: the SDK by the package's name, viem beside it, and the two subpaths.
const INTEGRATOR_SOURCE = `
import { createPublicClient, createWalletClient, http, parseEther, type Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { buildTerms, createConcordClient, makeOrderRef, randomSalt, type ConcordAddresses } from "concord";
import { ConcordLogDecoder, type VerifyResult } from "concord/audit";
import { createRng, type Offer } from "concord/negotiation";

const MNEMONIC = "test test test test test test test test test test test junk";

async function main(): Promise<void> {
  const transport = http(process.env.RPC_URL);
  const publicClient = createPublicClient({ transport });
  const addresses: ConcordAddresses = { registry: process.env.REGISTRY as Address, ledger: process.env.LEDGER as Address };
  const as = (index: number) =>
    createConcordClient({
      publicClient,
      walletClient: createWalletClient({ account: mnemonicToAccount(MNEMONIC, { addressIndex: index }), transport }),
      addresses,
    });
  const [hotel, restaurant, guest] = await Promise.all([as(1), as(2), as(5)]);
  const referrer = mnemonicToAccount(MNEMONIC, { addressIndex: 4 }).address;
  const who = (client: typeof hotel): Address => client.context.walletClient!.account!.address;

  const terms = buildTerms({
    parties: [
      { account: who(hotel), shareBps: 6_000 },
      { account: who(restaurant), shareBps: 4_000 },
    ],
    referralFeeBps: 500,
    referrers: [referrer],
    reserveBps: 0,
    disputeWindow: 0,
    refundAuthority: who(hotel),
  });
  const { agreementId } = await hotel.proposeAgreement({ terms });
  const signatures = await Promise.all([hotel, restaurant].map((c) => c.signConsent({ agreementId, version: 1, terms })));
  await hotel.activateAgreement({ agreementId, terms, signatures });

  const gross = parseEther("1.5");
  const quote = await guest.quoteSettlement({ agreementId, gross, referrer });
  const orderRef = makeOrderRef({ orderId: "BKG-1", salt: randomSalt() });
  const { settled } = await guest.settle({ payment: { agreementId, version: quote.version, gross, referrer, orderRef } });
  const { balance } = await guest.getBalance({ account: referrer, includeClaimable: false });

  const verified: VerifyResult | undefined = undefined;
  const offer: Offer | undefined = undefined;
  console.log(
    JSON.stringify({
      agreementId: agreementId.toString(),
      gross: gross.toString(),
      quotedFee: quote.referralFee.toString(),
      settledFee: settled.referralFee.toString(),
      referrerBalance: balance.toString(),
      subpaths: [typeof ConcordLogDecoder, typeof createRng(1).next, verified, offer],
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
`;

const PGLITE_DECLARATIONS = `${path.sep}node_modules${path.sep}@electric-sql${path.sep}pglite${path.sep}`;

/**
 * Type-checks `file` as an integrator's strict project would, resolving packages by their `exports`:
 * "bundler" resolution (a CommonJS or bundled project) checks every declaration file, ours included,
 * except PGlite's (they name Emscripten's types, which PGlite does not depend on); "node16" checks
 * an ECMAScript module (`.mts`) with `skipLibCheck`, as `tsc --init` writes it. viem's declarations
 * are ECMAScript modules, so viem itself refuses a CommonJS file under "node16".
 */
function typeErrors(file: string, resolution: "bundler" | "node16"): string[] {
  const options: ts.CompilerOptions =
    resolution === "bundler"
      ? { module: ts.ModuleKind.Preserve, moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: false }
      : { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, skipLibCheck: true };
  const program = ts.createProgram([file], {
    ...options,
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    types: ["node"],
    typeRoots: [path.join(ROOT, "node_modules", "@types")],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => !d.file?.fileName.includes(PGLITE_DECLARATIONS))
    .map((d) => {
      const where = d.file && d.start !== undefined ? `${path.relative(path.dirname(file), d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : "";
      return where + ts.flattenDiagnosticMessageText(d.messageText, "\n");
    });
}

describe("the installable package", function () {
  this.timeout(600_000);
  let work: string;
  let tarball: string;
  let packed: string[];

  before(async function () {
    for (const built of ["dist/cli/main.js", "dist/sdk/index.d.ts"]) {
      if (!fs.existsSync(path.join(ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` (test:integration builds first)`);
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), "concord-package-"));
    // The build is already there (test:integration builds first): pack it as it is.
    const { stdout } = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], ROOT);
    const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, result!.filename);
    packed = result!.files.map((f) => f.path);
  });

  after(function () {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("packs the build, the bin and the contract interfaces, and no sources, tests or scripts", function () {
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin)];
    for (const entry of Object.values(manifest.exports)) {
      if (typeof entry === "string") targets.push(entry);
      else targets.push(entry.types, entry.default);
    }
    for (const target of targets) expect(packed, `${target} is named by package.json`).to.include(path.normalize(target));
    expect(packed).to.include("contracts/interfaces/ISettlementLedger.sol");
    expect(packed.filter((p) => /^(src|test|scripts|typechain-types|artifacts|cache)\//.test(p) || p === "bin/register-ts.js")).to.deep.equal([]);
  });

  it("installs from the tarball, type-checks an integrator's file importing the SDK by name, and runs it against a hardhat node", async function () {
    const project = path.join(work, "integrator");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "integrator", version: "1.0.0", private: true }));
    await npm(["install", tarball, ...NPM_FLAGS], project);
    // Only the package's dependencies came with it: none of its build or test tools.
    for (const tool of ["hardhat", "typescript", "ts-node", "mocha"]) expect(fs.existsSync(path.join(project, "node_modules", tool)), tool).to.equal(false);

    fs.writeFileSync(path.join(project, "main.ts"), INTEGRATOR_SOURCE);
    fs.writeFileSync(path.join(project, "main.mts"), INTEGRATOR_SOURCE);
    expect(typeErrors(path.join(project, "main.ts"), "bundler")).to.deep.equal([]);
    expect(typeErrors(path.join(project, "main.mts"), "node16")).to.deep.equal([]);
    // A path that the package does not export is refused, as Node refuses it.
    fs.writeFileSync(path.join(project, "private.ts"), `import { settle } from "concord/dist/sdk/actions/settle";\nexport const s = settle;\n`);
    expect(typeErrors(path.join(project, "private.ts"), "bundler").join("\n")).to.match(/Cannot find module 'concord\/dist\/sdk\/actions\/settle'/);

    // Run as an ECMAScript module: Node finds the named exports of the package's CommonJS build.
    const javascript = ts.transpileModule(INTEGRATOR_SOURCE, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } });
    fs.writeFileSync(path.join(project, "main.mjs"), javascript.outputText);
    const required = await run(process.execPath, ["-e", "const c = require('concord'); console.log(typeof c.buildTerms, typeof c.createConcordClient, typeof require('concord/audit').verify)"], project);
    expect(required.stdout.trim(), required.stderr).to.equal("function function function");

    const version = await run("npx", ["--no", "--", "concord", "--version"], project);
    expect(version.code, version.stderr).to.equal(0);
    expect(version.stdout.trim()).to.equal(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version);

    let chain: SdkEnvironment | undefined;
    try {
      chain = await hardhatNode();
      const env = { RPC_URL: chain.publicClient.transport.url as string, REGISTRY: chain.addresses.registry, LEDGER: chain.addresses.ledger };
      const { code, stdout, stderr } = await run(process.execPath, ["main.mjs"], project, env);
      expect(code, stderr).to.equal(0);
      const result = JSON.parse(stdout) as Record<string, string | unknown[]>;
      // 5% of the 1.5 ETH gross to the one referrer, as the terms say, and the quote said so before.
      const fee = (1_500_000_000_000_000_000n * 500n) / 10_000n;
      expect(result).to.deep.include({ quotedFee: fee.toString(), settledFee: fee.toString(), referrerBalance: fee.toString() });
      expect(result.subpaths).to.deep.equal(["function", "function", null, null]);
    } finally {
      await chain?.stop();
    }
  });

  it("runs `concord --help` after a production install (npm ci --omit=dev) of the project", async function () {
    const copy = path.join(work, "production");
    fs.mkdirSync(copy);
    for (const entry of ["package.json", "package-lock.json", "bin", "dist"]) fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    await npm(["ci", "--omit=dev", ...NPM_FLAGS], copy);
    expect(fs.existsSync(path.join(copy, "node_modules", "hardhat")), "hardhat is a build tool, not a dependency").to.equal(false);
    for (const args of [["--help"], ["audit", "--help"], ["negotiate", "--help"]]) {
      const { code, stdout, stderr } = await run("npx", ["--no", "--", "concord", ...args], copy);
      expect(code, `concord ${args.join(" ")}: ${stderr}`).to.equal(0);
      expect(stdout).to.match(/^Usage: concord/);
    }
    // Deploying needs Hardhat, a build tool: the answer says where to deploy from, in one line.
    const deploy = await run("npx", ["--no", "--", "concord", "deploy", "--rpc-url", "http://127.0.0.1:9"], copy);
    expect(deploy.code, deploy.stderr).to.equal(2);
    expect(deploy.stderr).to.match(/^error: concord deploy runs Hardhat Ignition, which this install does not include: deploy from a clone of the repository.*\n$/);
  });
});

/**
 * A mocha file pattern as a regular expression: the forms the scripts use (`*` within a folder,
 * `[A-Z]` ranges and `{a,b}` alternatives), and nothing else.
 */
function patternToRegExp(pattern: string): RegExp {
  if (/\*\*|\?/.test(pattern)) throw new Error(`pattern ${pattern} uses a glob form this check does not read`);
  const source = pattern
    .replace(/[.+^$()|\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*")
    .replace(/\{([^}]*)\}/g, (_, list: string) => `(?:${list.split(",").join("|")})`);
  return new RegExp(`^${source}$`);
}

/** The test files and the ignored ones a mocha script names (quotes stripped: mocha expands them). */
function specsOf(script: string): { specs: RegExp[]; ignores: RegExp[] } {
  const tokens = script.split(/\s+/).map((t) => t.replace(/^'(.*)'$/, "$1"));
  const specs: RegExp[] = [];
  const ignores: RegExp[] = [];
  tokens.forEach((token, i) => {
    if (!token.startsWith("test/")) return;
    (tokens[i - 1] === "--ignore" ? ignores : specs).push(patternToRegExp(token));
  });
  return { specs, ignores };
}

function runsFile(script: string, file: string): boolean {
  const { specs, ignores } = specsOf(script);
  return specs.some((r) => r.test(file)) && !ignores.some((r) => r.test(file));
}

describe("tests by speed", function () {
  const groups = ["test:unit", "test:contracts", "test:integration"] as const;

  it("npm test runs every group and the lint, and fails when any of them fails", function () {
    for (const script of [...groups, "lint"]) expect(manifest.scripts.test).to.contain(`npm run ${script} || status=1`);
    expect(manifest.scripts.test).to.match(/exit \$status$/);
  });

  it("puts every suite in the repository in exactly one group, and names no file that is gone", function () {
    const tracked = execFileSync("git", ["ls-files", "test"], { cwd: ROOT, encoding: "utf8" }).split("\n");
    const suites = tracked.filter((f) => f.endsWith(".ts") && /^\s*describe\(/m.test(fs.readFileSync(path.join(ROOT, f), "utf8")));
    expect(suites).to.include.members(["test/AgreementRegistry.ts", "test/package.ts", "test/negotiation/agents.property.ts"]);
    for (const suite of suites) {
      expect(groups.filter((g) => runsFile(manifest.scripts[g]!, suite)), suite).to.have.length(1);
    }
    for (const group of groups) {
      for (const token of manifest.scripts[group]!.split(/\s+/).filter((t) => /^test\/[\w./-]+\.ts$/.test(t))) {
        expect(fs.existsSync(path.join(ROOT, token)), `${group} names ${token}`).to.equal(true);
      }
    }
  });

  it("keeps the unit group off any chain: no Hardhat, no node processes", function () {
    const unit = manifest.scripts["test:unit"]!.split(/\s+/).filter((t) => t.startsWith("test/"));
    expect(unit).to.have.length.above(0);
    for (const file of unit) {
      const source = fs.readFileSync(path.join(ROOT, file), "utf8");
      expect(source, file).not.to.match(/from "hardhat"|hardhat-network-helpers|helpers\/processes|helpers\/concord/);
    }
  });
});
