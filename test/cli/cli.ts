import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { Wallet, encryptKeystoreJsonSync } from "ethers";
import { concord, useNodeForCli } from "../helpers/cli";

// hardhat node's first accounts.
const HOTEL = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const RESTAURANT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const AIRLINE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const TRAVEL_SITE = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
// Account 6 of the same mnemonic (a well-known test key, never used outside dev chains).
const GUEST_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e";

describe("concord CLI against a hardhat node (separate processes)", function () {
  this.timeout(300_000);
  const cli = useNodeForCli({ prefix: "concord-cli-" });
  const blockNumber = async () => {
    const response = await fetch(cli.node.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
    });
    return BigInt(((await response.json()) as { result: string }).result);
  };

  it("prints help with examples for every command", async function () {
    const root = await concord(["--help"]);
    expect(root.code).to.equal(0);
    expect(root.stdout).to.include("Exit codes");
    for (const command of [["agreement", "sign"], ["settle"], ["audit", "verify"], ["negotiate", "open"]]) {
      const help = await concord([...command, "--help"]);
      expect(help.code, command.join(" ")).to.equal(0);
      expect(help.stdout).to.include("Examples:");
    }
  });

  it("runs a three-partner story: deploy, propose, sign offline, activate, settle with a referrer, query, withdraw, audit", async function () {
    expect((await concord(["deploy"], cli.env)).code).to.equal(0);
    const proposed = await concord(
      ["agreement", "propose", "--account", "1", "--json", "--shares", `${HOTEL}=5000,${RESTAURANT}=3000,${AIRLINE}=2000`,
        "--referral-fee", "500", "--reserve", "1000", "--dispute-window", "7d", "--refund-authority", HOTEL],
      cli.env,
    );
    expect(proposed.code, proposed.stderr).to.equal(0);
    expect(JSON.parse(proposed.stdout)).to.include({ agreementId: "1", version: 1 });

    // Each partner signs offline into a file; the hotel submits all three.
    const files: string[] = [];
    for (const account of ["1", "2", "3"]) {
      const file = path.join(cli.dir, `consent-${account}.json`);
      const signed = await concord(["agreement", "sign", "1", "--account", account, "--out", file], cli.env);
      expect(signed.code, signed.stderr).to.equal(0);
      files.push(file);
    }
    const activated = await concord(["agreement", "activate", "1", "--account", "1", "--signatures", ...files], cli.env);
    expect(activated.code, activated.stderr).to.equal(0);

    const quote = JSON.parse((await concord(["quote", "1", "--amount", "1.5", "--referrer", TRAVEL_SITE, "--json"], cli.env)).stdout);
    expect(quote.referralFee).to.equal("75000000000000000");
    expect(quote.reserve).to.equal("150000000000000000");

    // The guest pays with a key from the environment.
    const settled = await concord(
      ["settle", "1", "--amount", "1.5", "--referrer", TRAVEL_SITE, "--order-id", "BKG-1001", "--json"],
      { ...cli.env, CONCORD_PRIVATE_KEY: GUEST_KEY },
    );
    expect(settled.code, settled.stderr).to.equal(0);
    const s = JSON.parse(settled.stdout);
    expect(s.referralFee).to.equal(quote.referralFee);
    expect(settled.stdout + settled.stderr).to.not.include(GUEST_KEY.slice(2));

    const shown = await concord(["agreement", "show", "1"], cli.env);
    expect(shown.stdout).to.include("active version 1");
    const listed = JSON.parse((await concord(["agreement", "list", "--party", RESTAURANT, "--json"], cli.env)).stdout);
    expect(listed.map((a: { agreementId: string }) => a.agreementId)).to.deep.equal(["1"]);

    const balance = JSON.parse((await concord(["balance", HOTEL, "--json"], cli.env)).stdout);
    expect(balance.claimable).to.equal("637500000000000000");
    const withdrawn = await concord(["withdraw", "--account", "1", "--json"], cli.env);
    expect(withdrawn.code, withdrawn.stderr).to.equal(0);
    expect(JSON.parse(withdrawn.stdout).amount).to.equal("637500000000000000");

    const verified = await concord(["audit", "verify", "--data-dir", path.join(cli.dir, "audit")], cli.env);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout).to.include("matches");
  });

  it("signs with an encrypted keystore and never prints the key", async function () {
    const wallet = new Wallet(GUEST_KEY);
    const keystore = path.join(cli.dir, "guest.json");
    fs.writeFileSync(keystore, encryptKeystoreJsonSync({ address: wallet.address, privateKey: wallet.privateKey }, "correct horse", { scrypt: { N: 2 ** 10 } }));
    fs.writeFileSync(path.join(cli.dir, "pw"), "correct horse\n");
    fs.writeFileSync(path.join(cli.dir, "bad-pw"), "wrong\n");
    const ok = await concord(
      ["settle", "1", "--amount", "0.01", "--order-id", "BKG-2001", "--keystore", keystore, "--password-file", path.join(cli.dir, "pw")],
      cli.env,
    );
    expect(ok.code, ok.stderr).to.equal(0);
    const before = await blockNumber();
    const bad = await concord(
      ["settle", "1", "--amount", "0.01", "--order-id", "BKG-2002", "--keystore", keystore, "--password-file", path.join(cli.dir, "bad-pw")],
      cli.env,
    );
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/could not be decrypted/);
    expect(bad.stderr + bad.stdout).to.not.include(GUEST_KEY.slice(2));
    expect(await blockNumber()).to.equal(before);
  });

  describe("bad input: one clear line, the right exit code, nothing sent", function () {
    const cases: Array<{ name: string; args: string[]; code: number; message: RegExp }> = [
      { name: "a malformed address", args: ["settle", "1", "--account", "6", "--amount", "1", "--referrer", "0x123", "--order-id", "X"], code: 2, message: /--referrer "0x123" is not an address/ },
      { name: "a malformed amount", args: ["settle", "1", "--account", "6", "--amount", "1,5", "--order-id", "X"], code: 2, message: /--amount "1,5" is not a positive decimal amount/ },
      { name: "too many decimals", args: ["settle", "1", "--account", "6", "--amount", "0.0000000000000000001", "--order-id", "X"], code: 2, message: /has 19 decimals; the token has 18/ },
      { name: "shares that do not sum to 10,000", args: ["agreement", "propose", "--account", "1", "--shares", `${HOTEL}=5000,${RESTAURANT}=4900`], code: 2, message: /shares sum to 9,900 basis points; they must sum to 10,000/ },
      { name: "a malformed share list", args: ["agreement", "propose", "--account", "1", "--shares", `${HOTEL}:5000`], code: 2, message: /is not party=basisPoints/ },
      { name: "a missing signature file", args: ["agreement", "activate", "1", "--account", "1", "--signatures", "/nonexistent.json"], code: 2, message: /signature file \/nonexistent.json cannot be read/ },
      { name: "an unknown agreement", args: ["agreement", "show", "42"], code: 2, message: /agreement 42 does not exist/ },
      { name: "a wrong chain", args: ["--chain-id", "1", "agreement", "show", "1"], code: 2, message: /--chain-id 1 does not match/ },
      { name: "a self-referral", args: ["settle", "1", "--account", "6", "--amount", "1", "--referrer", "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "--order-id", "X"], code: 2, message: /cannot be its own referrer/ },
      { name: "insufficient funds to withdraw", args: ["withdraw", "--account", "2", "--amount", "1000"], code: 2, message: /cannot withdraw/ },
      { name: "a refund by someone who is not the refund authority", args: ["refund", "0x" + "ab".repeat(32), "--account", "2", "--amount", "0.1"], code: 2, message: /never settled/ },
      { name: "an unknown option", args: ["settle", "1", "--amount", "1", "--order-id", "X", "--amout", "1"], code: 2, message: /unknown option/ },
      { name: "an unreachable node", args: ["--rpc-url", "http://127.0.0.1:9", "agreement", "show", "1"], code: 1, message: /cannot reach the node/ },
    ];
    for (const c of cases) {
      it(`rejects ${c.name}`, async function () {
        const before = await blockNumber();
        const run = await concord(c.args, cli.env);
        expect(run.code, run.stderr).to.equal(c.code);
        expect(run.stderr).to.match(c.message);
        expect(run.stderr.trim().split("\n").filter((l) => l.startsWith("error:"))).to.have.length.at.most(1);
        expect(await blockNumber()).to.equal(before);
      });
    }

    it("rejects an expired signature file before sending anything", async function () {
      const proposed = JSON.parse(
        (await concord(["agreement", "propose", "--account", "1", "--json", "--shares", `${HOTEL}=6000,${RESTAURANT}=4000`], cli.env)).stdout,
      );
      const file = path.join(cli.dir, "expired.json");
      expect((await concord(["agreement", "sign", proposed.agreementId, "--account", "1", "--deadline", "60", "--out", file], cli.env)).code).to.equal(0);
      await fetch(cli.node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "evm_increaseTime", params: [120] }) });
      await fetch(cli.node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "evm_mine", params: [] }) });
      const before = await blockNumber();
      const run = await concord(["agreement", "activate", proposed.agreementId, "--account", "2", "--signatures", file], cli.env);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/expired at/);
      expect(await blockNumber()).to.equal(before);
    });
  });
});
