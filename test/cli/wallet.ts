import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { Wallet } from "ethers";
import { privateKeyToAccount } from "viem/accounts";
import { ROOT, spawnConcord, type CliRun } from "../helpers/cli";

const BIN = path.join(ROOT, "bin", "concord.js");
// hardhat node's account 1 (a well-known test key, never used outside dev chains).
const HOTEL_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const HOTEL = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PASSWORD = "correct horse battery staple";

/** Runs concord with `input` on standard input (a pipe, not a terminal). */
async function withStdin(args: string[], input: string): Promise<CliRun> {
  const run = spawnConcord(args);
  run.child.stdin.end(input);
  const { code, stdout, stderr } = await run.done;
  return { code: code ?? -1, stdout, stderr };
}

/**
 * Runs concord on a terminal (util-linux `script` gives it a pseudo-terminal) and types each answer
 * once the output shows its prompt; the process is stopped by its pid if it outlives `timeoutMs`.
 */
function inTerminal(args: string[], answers: Array<[prompt: string, answer: string]>, cwd: string, timeoutMs = 60_000): Promise<{ code: number; output: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  const child = spawn("script", ["-qec", command, "/dev/null"], { cwd });
  let output = "";
  let next = 0;
  let seen = 0;
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
    const [prompt, answer] = answers[next] ?? [];
    const at = prompt === undefined ? -1 : output.indexOf(prompt, seen);
    if (at >= 0) {
      seen = at + prompt!.length;
      next += 1;
      child.stdin.write(`${answer}\r`);
    }
  });
  const timer = setTimeout(() => child.pid && process.kill(child.pid, "SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    }),
  );
}

describe("concord wallet new|import|address (Web3 Secret Storage v3 keystores)", function () {
  this.timeout(300_000);
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const decrypt = async (name: string, password = PASSWORD) => Wallet.fromEncryptedJson(fs.readFileSync(file(name), "utf8"), password);

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-wallet-"));
    fs.writeFileSync(file("pw"), `${PASSWORD}\n`);
    fs.writeFileSync(file("empty-pw"), "");
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("new writes a keystore of a fresh key, readable by its owner only, that its password decrypts and address reads without it", async function () {
    const made = await withStdin(["wallet", "new", file("new.json"), "--password-file", file("pw"), "--json"], "");
    expect(made.code, made.stderr).to.equal(0);
    const { schema, address, keystore } = JSON.parse(made.stdout);
    expect({ schema, keystore }).to.deep.equal({ schema: 1, keystore: file("new.json") });
    expect(fs.statSync(file("new.json")).mode & 0o777).to.equal(0o600);
    const wallet = await decrypt("new.json");
    expect(wallet.address).to.equal(address);
    // The key itself is printed nowhere.
    expect(made.stdout + made.stderr).to.not.include(wallet.privateKey.slice(2));
    const read = await withStdin(["wallet", "address", file("new.json")], "");
    expect(read).to.deep.include({ code: 0, stdout: `${address}\n`, stderr: "" });
    const readJson = await withStdin(["wallet", "address", file("new.json"), "--json"], "");
    expect(JSON.parse(readJson.stdout)).to.deep.equal({ schema: 1, address, keystore: file("new.json") });
  });

  it("import encrypts a private key from standard input (fast-check: any key, either case, with or without 0x), never printing it", async function () {
    const order = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 1n, max: order - 1n }), fc.boolean(), fc.boolean(), async (key, upper, prefixed) => {
        const hex = key.toString(16).padStart(64, "0");
        const given = `${prefixed ? "0x" : ""}${upper ? hex.toUpperCase() : hex}\n`;
        const name = `import-${n++}.json`;
        const run = await withStdin(["wallet", "import", file(name), "--password-file", file("pw"), "--json"], given);
        expect(run.code, run.stderr).to.equal(0);
        const expected = privateKeyToAccount(`0x${hex}`).address;
        expect(JSON.parse(run.stdout).address).to.equal(expected);
        expect((await decrypt(name)).privateKey).to.equal(`0x${hex}`);
        expect((run.stdout + run.stderr).toLowerCase()).to.not.include(hex);
      }),
      { numRuns: 3 },
    );
  });

  describe("refusals: exit 2, one line naming the bad value, no file written", function () {
    const cases: Array<{ name: string; args: (f: typeof file) => string[]; stdin?: string; message: RegExp; unwritten?: string; secret?: string }> = [
      { name: "new onto an existing file", args: (f) => ["wallet", "new", f("pw"), "--password-file", f("pw")], message: /pw exists: a keystore is never overwritten/ },
      { name: "import onto an existing file", args: (f) => ["wallet", "import", f("pw"), "--password-file", f("pw")], stdin: HOTEL_KEY, message: /pw exists: a keystore is never overwritten/ },
      { name: "new without a password on a pipe", args: (f) => ["wallet", "new", f("nopw.json")], message: /the password of .*nopw\.json needs --password-file when standard input is not a terminal/, unwritten: "nopw.json" },
      { name: "new with an empty password", args: (f) => ["wallet", "new", f("emptypw.json"), "--password-file", f("empty-pw")], message: /the password for .*emptypw\.json is empty/, unwritten: "emptypw.json" },
      { name: "import of nothing", args: (f) => ["wallet", "import", f("nokey.json"), "--password-file", f("pw")], stdin: "", message: /it was empty/, unwritten: "nokey.json" },
      { name: "import of a short key", args: (f) => ["wallet", "import", f("short.json"), "--password-file", f("pw")], stdin: "0x1234abcd5678ef\n", message: /is not a 32-byte hex private key/, unwritten: "short.json", secret: "1234abcd5678ef" },
      {
        name: "import of a key beyond the curve order",
        args: (f) => ["wallet", "import", f("big.json"), "--password-file", f("pw")],
        stdin: `0x${"f".repeat(64)}`,
        message: /is not a secp256k1 private key/,
        unwritten: "big.json",
        secret: "f".repeat(64),
      },
      { name: "address of a file that is not JSON", args: (f) => ["wallet", "address", f("pw")], message: /pw is not a keystore: not JSON/ },
      { name: "address of a JSON file that is not a v3 keystore", args: (f) => ["wallet", "address", f("v1.json")], message: /v1\.json is not a Web3 Secret Storage v3 keystore \(version 1/ },
      { name: "address of a keystore without an address", args: (f) => ["wallet", "address", f("anon.json")], message: /anon\.json names no address \(field address is null\)/ },
      { name: "address of a missing file", args: (f) => ["wallet", "address", f("missing.json")], message: /keystore file .*missing\.json cannot be read \(ENOENT\)/ },
      { name: "an unknown subcommand", args: () => ["wallet", "create", "x.json"], message: /unknown command 'create'/ },
    ];
    before(function () {
      fs.writeFileSync(file("v1.json"), JSON.stringify({ version: 1, address: HOTEL.slice(2) }));
      fs.writeFileSync(file("anon.json"), JSON.stringify({ version: 3, crypto: { kdf: "scrypt" } }));
    });
    for (const c of cases) {
      it(`refuses ${c.name}`, async function () {
        const before = fs.readFileSync(file("pw"), "utf8");
        const run = await withStdin(c.args(file), c.stdin ?? "");
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stderr.trim().split("\n").filter((l) => l.startsWith("error:")), run.stderr).to.have.length(1);
        expect(run.stderr).to.match(c.message);
        expect(fs.readFileSync(file("pw"), "utf8")).to.equal(before);
        if (c.unwritten) expect(fs.existsSync(file(c.unwritten))).to.equal(false);
        if (c.secret) expect((run.stdout + run.stderr).toLowerCase()).to.not.include(c.secret);
        // With --json the refusal is a JSON error document with the same exit code.
        const json = await withStdin([...c.args(file), "--json"], c.stdin ?? "");
        expect(json.code).to.equal(2);
        expect(JSON.parse(json.stderr).error).to.include({ code: 2, kind: "usage" });
      });
    }
  });

  describe("on a terminal: hidden prompts", function () {
    it("new asks for the password twice and writes a keystore that password decrypts", async function () {
      const secret = "tr0ub4dor&3 (with a paren";
      const run = await inTerminal(["wallet", "new", "prompted.json"], [["password for prompted.json", secret], ["the same password again", secret]], dir);
      expect(run.code, run.output).to.equal(0);
      expect(run.output).to.not.include(secret);
      const wallet = await decrypt("prompted.json", secret);
      expect(run.output).to.include(`wrote a new key for ${wallet.address} to prompted.json`);
    });

    it("new refuses two different passwords, writing nothing", async function () {
      const run = await inTerminal(["wallet", "new", "mismatch.json"], [["password for mismatch.json", "first password"], ["the same password again", "second password"]], dir);
      expect(run.code, run.output).to.equal(2);
      expect(run.output).to.include("the two passwords for mismatch.json differ; nothing written");
      expect(fs.existsSync(file("mismatch.json"))).to.equal(false);
    });

    it("import reads the key at a hidden prompt and never echoes it", async function () {
      const run = await inTerminal(["wallet", "import", "hotel.json"], [["private key", HOTEL_KEY], ["password for hotel.json", PASSWORD], ["the same password again", PASSWORD]], dir);
      expect(run.code, run.output).to.equal(0);
      expect(run.output.toLowerCase()).to.not.include(HOTEL_KEY.slice(2));
      expect(run.output).to.include(`wrote the key of ${HOTEL} to hotel.json`);
      expect((await decrypt("hotel.json")).privateKey).to.equal(HOTEL_KEY);
    });
  });
});
