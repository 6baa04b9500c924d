import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { Wallet, encryptKeystoreJsonSync } from "ethers";
import { ROOT, concord, spawnConcord, useNodeForCli } from "../helpers/cli";

// hardhat node's first accounts.
const HOTEL = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const RESTAURANT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const AIRLINE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const TRAVEL_SITE = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
const GUEST = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
// Account 6 of the same mnemonic (a well-known test key, never used outside dev chains).
const GUEST_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e";

describe("concord CLI against a hardhat node (separate processes)", function () {
  this.timeout(300_000);
  const cli = useNodeForCli({ prefix: "concord-cli-" });
  const rpc = async (method: string, params: unknown[] = []) => {
    const response = await fetch(cli.node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    return ((await response.json()) as { result: unknown }).result;
  };
  const blockNumber = async () => BigInt((await rpc("eth_blockNumber")) as string);
  const json = async (args: string[], env: Record<string, string> = {}) => {
    const run = await concord([...args, "--json"], { ...cli.env, ...env });
    expect(run.code, `${args.join(" ")}: ${run.stderr}`).to.equal(0);
    return JSON.parse(run.stdout);
  };
  /** Runs a command that must fail with `code` and `message`, and checks that nothing was sent. */
  const refused = async (args: string[], code: number, message: RegExp) => {
    const before = await blockNumber();
    const run = await concord(args, cli.env);
    expect(run.code, run.stderr).to.equal(code);
    expect(run.stderr).to.match(message);
    expect(await blockNumber()).to.equal(before);
  };
  const file = (name: string) => path.join(cli.dir, name);

  it("prints help with examples for every command", async function () {
    const root = await concord(["--help"]);
    expect(root.code).to.equal(0);
    expect(root.stdout).to.include("Exit codes");
    const commands = [["agreement", "sign"], ["agreement", "approve"], ["settle"], ["intent", "sign"], ["refund"], ["reserve", "release"], ["audit", "verify"], ["negotiate", "open"], ["negotiate", "withdraw-acceptance"]];
    for (const command of commands) {
      const help = await concord([...command, "--help"]);
      expect(help.code, command.join(" ")).to.equal(0);
      expect(help.stdout).to.include("Examples:");
    }
    expect((await concord(["negotiate", "open", "--help"])).stdout).to.include("--move-timeout");
    expect((await concord(["agreement", "approve", "--help"])).stdout).to.include("--revoke");
    // Each command's help lists the shared options too.
    expect((await concord(["settle", "--help"])).stdout).to.match(/Global options:[\s\S]*--rpc-url[\s\S]*--keystore/);
  });

  it("stops quietly when the reader of its output closes the pipe (concord --help | head -1)", async function () {
    for (let i = 0; i < 3; i++) {
      const run = spawnSync("bash", ["-o", "pipefail", "-c", `"${process.execPath}" bin/concord.js --help | head -1`], { cwd: ROOT, encoding: "utf8" });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stderr).to.equal("");
      expect(run.stdout).to.match(/^Usage: concord/);
    }
  });

  it("runs the bundle: the travel site signs an intent, a guest pays it, the hotel refunds by reference, everyone withdraws, the audit matches", async function () {
    expect((await concord(["deploy"], cli.env)).code).to.equal(0);
    const proposed = await json(["agreement", "propose", "--account", "1", "--shares", `${HOTEL}=5000,${RESTAURANT}=3000,${AIRLINE}=2000`,
      "--referral-fee", "500", "--order-signer", TRAVEL_SITE, "--reserve", "1000", "--dispute-window", "7d", "--refund-authority", HOTEL]);
    expect(proposed).to.include({ agreementId: "1", version: 1 });

    // Two partners sign offline into files that name their signer; the airline approves on chain for a day.
    const files = [file("hotel.sig.json"), file("restaurant.sig.json")];
    for (const [account, out] of [["1", files[0]!], ["2", files[1]!]] as const) {
      expect((await concord(["agreement", "sign", "1", "--account", account, "--out", out], cli.env)).code).to.equal(0);
    }
    expect(JSON.parse(fs.readFileSync(files[1]!, "utf8"))).to.include({ kind: "consent", signer: RESTAURANT, version: 1 });
    const approved = await json(["agreement", "approve", "1", "--account", "3", "--expiry", "1d"]);
    expect(approved).to.include({ party: AIRLINE, version: 1 });
    const activated = await concord(["agreement", "activate", "1", "--account", "1", "--signatures", ...files], cli.env);
    expect(activated.code, activated.stderr).to.equal(0);
    expect(activated.stdout).to.include("agreement 1 version 1 is active");

    // Only the order signer's intents settle: a direct payment is refused before anything is sent.
    await refused(["settle", "1", "--account", "5", "--amount", "1", "--order-id", "X"], 2, /settles only intents of its order signer/);

    const quote = await json(["quote", "1", "--amount", "1.5", "--referrer", TRAVEL_SITE]);
    expect(quote).to.include({ referralFee: "75000000000000000", reserve: "150000000000000000", net: "1275000000000000000" });
    const intent = file("booking-1001.intent.json");
    const signed = await json(["intent", "sign", "1", "--account", "4", "--amount", "1.5", "--referrer", TRAVEL_SITE, "--order-id", "BKG-1001", "--out", intent]);
    expect(signed.orderSigner).to.equal(TRAVEL_SITE);
    expect(signed.payment).to.include({ gross: "1500000000000000000", referrer: TRAVEL_SITE });

    // The guest pays it with a key from the environment: attribution is the merchant's, the scope the order signer.
    const paid = await json(["settle", "--intent", intent], { CONCORD_PRIVATE_KEY: GUEST_KEY });
    expect(paid).to.include({ scope: TRAVEL_SITE, payer: GUEST, referrer: TRAVEL_SITE, referralFee: quote.referralFee, reserve: quote.reserve });
    expect(paid.lotId).to.not.equal("0");
    // The same intent settles once in its scope.
    const again = await concord(["settle", "--intent", intent, "--account", "6"], cli.env);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.match(/is already settled in the scope of 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65/);

    const shown = await concord(["reserve", "show", "--order-ref", paid.orderRef, "--scope", TRAVEL_SITE], cli.env);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/: held; 0\.15 ETH held/);
    const refunded = await json(["refund", "--order-ref", paid.orderRef, "--scope", TRAVEL_SITE, "--account", "1", "--amount", "0.05"]);
    expect(refunded).to.include({ beneficiary: GUEST, remainingReserve: "100000000000000000" });
    // A refund beyond what the reserve still holds is refused in token units, naming the reference.
    await refused(["refund", "--order-ref", paid.orderRef, "--scope", TRAVEL_SITE, "--account", "1", "--amount", "0.2"], 2,
      new RegExp(`--amount 0\\.2 is more than the reserve still held for order reference ${paid.orderRef}: 0\\.1 ETH \\(after earlier refunds\\)`));
    // Risk reads in token units (base units with --wei).
    const risk = await concord(["risk", "1"], cli.env);
    expect(risk.stdout, risk.stderr).to.match(/agreement 1: 1 settlements \(1\.5 ETH\), 1 refunds \(0\.05 ETH\)/);
    expect((await concord(["risk", "1", "--wei"], cli.env)).stdout).to.match(/1 settlements \(1500000000000000000 base units\), 1 refunds \(50000000000000000 base units\)/);
    expect(await json(["risk", "1"])).to.deep.include({ unit: { symbol: "ETH", decimals: 18 } });

    const balance = await json(["balance", HOTEL]);
    expect(balance.claimable).to.equal("637500000000000000"); // 50% of the 1.275 ETH net
    const withdrawn = await json(["withdraw", "--account", "1"]);
    expect(withdrawn.amount).to.equal("637500000000000000");
    expect((await json(["withdraw", "--account", "4"])).amount).to.equal("75000000000000000");
    expect((await json(["withdraw", "--account", "6"])).amount).to.equal("50000000000000000");

    const verified = await concord(["audit", "verify", "--data-dir", path.join(cli.dir, "audit")], cli.env);
    expect(verified.code, verified.stderr + verified.stdout).to.equal(0);
  });

  it("direct payments name a listed referrer and print their scope; approvals expire and can be revoked; a lot is released after its window", async function () {
    const proposed = await json(["agreement", "propose", "--account", "2", "--shares", `${RESTAURANT}=6000,${AIRLINE}=4000`,
      "--referral-fee", "300", "--referrers", TRAVEL_SITE, "--reserve", "2000", "--dispute-window", "1d", "--refund-authority", RESTAURANT]);
    const id = proposed.agreementId as string;
    await json(["agreement", "approve", id, "--account", "2", "--expiry", "1h"]);
    await json(["agreement", "approve", id, "--account", "3", "--expiry", "1h"]);
    const revoked = await json(["agreement", "approve", id, "--account", "3", "--revoke"]);
    expect(revoked).to.include({ revoked: true, party: AIRLINE });
    await refused(["agreement", "activate", id, "--account", "2"], 2, /0x90F79bf6EB2c4f870365E785982E1f101E93b906 has not consented/);
    // Approved again, but the approval lapses before activation.
    await json(["agreement", "approve", id, "--account", "3", "--expiry", "60"]);
    await rpc("evm_increaseTime", [120]);
    await rpc("evm_mine");
    await refused(["agreement", "activate", id, "--account", "2"], 2, /has not consented/);
    await json(["agreement", "approve", id, "--account", "2", "--expiry", "1h"]);
    await json(["agreement", "approve", id, "--account", "3", "--expiry", "1h"]);
    expect((await concord(["agreement", "activate", id, "--account", "2"], cli.env)).code).to.equal(0);

    await refused(["settle", id, "--account", "5", "--amount", "1", "--referrer", HOTEL, "--order-id", "D-1"], 2, /may not earn the referral fee/);
    const direct = await concord(["settle", id, "--account", "5", "--amount", "1", "--referrer", TRAVEL_SITE, "--order-id", "D-1"], cli.env);
    expect(direct.code, direct.stderr).to.equal(0);
    expect(direct.stdout).to.match(/scoped to 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc \(the payer: a direct payment\)/);
    const ref = /order reference (0x[0-9a-f]{64})/.exec(direct.stdout)![1]!;
    const payer = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
    // A retry of the same order (a booking site after a timeout) is refused, naming the transaction that paid it.
    const paidIn = /tx (0x[0-9a-f]{64})/.exec(direct.stdout)![1]!;
    await refused(["settle", id, "--account", "5", "--amount", "1", "--referrer", TRAVEL_SITE, "--order-id", "D-1"], 2,
      new RegExp(`order D-1 \\(reference ${ref}\\) is already settled in the scope of ${payer} by transaction ${paidIn}`));
    await refused(["reserve", "release", "--order-ref", ref, "--scope", payer, "--account", "0"], 2, /can be released only from/);
    await rpc("evm_increaseTime", [2 * 86_400]);
    await rpc("evm_mine");
    const released = await json(["reserve", "release", "--order-ref", ref, "--scope", payer, "--account", "0"]);
    expect(released.amount).to.equal("200000000000000000");
  });

  it("pins a nested party to its active version, and a nested member signs consent as itself", async function () {
    // Agreement 2 (restaurant 60%, airline 40%) is active at version 1: "#2" pins it.
    const proposed = await json(["agreement", "propose", "--account", "1", "--shares", `${HOTEL}=7000,#2=3000`]);
    const id = proposed.agreementId as string;
    const shown = await json(["agreement", "show", id]);
    expect(shown.version.terms.parties.find((p: { agreementId: string }) => p.agreementId === "2")).to.include({ version: 1, shareBps: 3000 });
    const member = file("nested-member.sig.json");
    expect((await concord(["agreement", "sign", id, "--account", "3", "--out", member], cli.env)).code).to.equal(0);
    expect(JSON.parse(fs.readFileSync(member, "utf8"))).to.include({ signer: AIRLINE });
    // Without the restaurant, a member of the nested agreement too, there is no consent.
    const hotel = file("nested-hotel.sig.json");
    expect((await concord(["agreement", "sign", id, "--account", "1", "--out", hotel], cli.env)).code).to.equal(0);
    await refused(["agreement", "activate", id, "--account", "1", "--signatures", hotel, member], 2, /0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC has not consented/);
    const restaurant = file("nested-restaurant.sig.json");
    expect((await concord(["agreement", "sign", id, "--account", "2", "--out", restaurant], cli.env)).code).to.equal(0);
    const activated = await concord(["agreement", "activate", id, "--account", "1", "--signatures", hotel, member, restaurant], cli.env);
    expect(activated.code, activated.stderr).to.equal(0);
    await refused(["agreement", "propose", "--account", "1", "--shares", `${HOTEL}=7000,#2@5=3000`], 2, /nested|version/i);
  });

  it("negotiates with a move timeout: offers, a withdrawn acceptance, and an end by a participant out of turn", async function () {
    const proposed = await json(["agreement", "propose", "--account", "1", "--shares", `${HOTEL}=4000,${RESTAURANT}=3000,${AIRLINE}=3000`]);
    const id = proposed.agreementId as string;
    const offer = ["--shares", `${HOTEL}=5000,${RESTAURANT}=3000,${AIRLINE}=2000`, "--referral-fee", "500", "--order-signer", TRAVEL_SITE, "--reserve", "1000", "--dispute-window", "7d", "--refund-authority", HOTEL];
    await refused(["negotiate", "open", id, "--account", "1", "--move-timeout", "1m", ...offer], 2, /move timeout/i);
    const opened = await json(["negotiate", "open", id, "--account", "1", "--rounds", "6", "--duration", "1d", "--move-timeout", "30m", ...offer]);
    expect(opened.participants).to.deep.equal([HOTEL, RESTAURANT, AIRLINE].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
    expect(opened.moveTimeout).to.equal(1800);
    // Turns follow the participants sorted by address after the opener: hotel, airline, restaurant.
    const accepted = await json(["negotiate", "accept", id, "--account", "3"]);
    expect(accepted).to.include({ agreed: false, move: 2 });
    await json(["negotiate", "withdraw-acceptance", id, "--account", "3"]);
    const state = await json(["negotiate", "show", id]);
    expect(state.accepted).to.deep.equal([HOTEL]);
    expect(state.status).to.equal("open");
    // The restaurant's turn, but the hotel ends it now.
    const ended = await json(["negotiate", "end", id, "--account", "1"]);
    expect(ended.broken).to.equal(true);
    expect((await json(["negotiate", "show", id])).status).to.equal("broken");
  });

  it("reads --version <n> on a subcommand as the command's own option, over a ws:// URL too; --json errors are JSON", async function () {
    const shown = await json(["agreement", "show", "1", "--version", "1"]);
    expect(shown).to.include({ schema: 1, agreementId: "1" });
    // The command reads it (a version agreement 1 does not have is refused), never the program's --version.
    await refused(["agreement", "show", "1", "--version", "2"], 2, /--version is 2; it must be from 1 to 1/);
    const sign = await concord(["agreement", "sign", "1", "--account", "1", "--version", "1"], cli.env);
    expect(sign.stdout).to.not.equal("0.1.0\n");
    const ws = await concord(["agreement", "show", "1", "--version", "1", "--json", "--rpc-url", cli.node.url.replace(/^http/, "ws")], cli.env);
    expect(ws.code, ws.stderr).to.equal(0);
    expect(JSON.parse(ws.stdout).status).to.equal("active");
    const failed = await concord(["agreement", "show", "42", "--json"], cli.env);
    expect(failed.code).to.equal(2);
    expect(JSON.parse(failed.stderr)).to.deep.include({ error: { code: 2, kind: "usage", message: "agreement 42 does not exist" } });
  });

  it("prints the signer and the receipts of every write, and --dry-run sends nothing", async function () {
    const before = await blockNumber();
    const dry = await json(["withdraw", "--account", "5", "--dry-run"]).catch(() => undefined);
    if (dry) expect(dry).to.include({ dryRun: true });
    expect(await blockNumber()).to.equal(before);
    const proposed = await json(["agreement", "propose", "--account", "2", "--shares", `${RESTAURANT}=5000,${AIRLINE}=5000`]);
    expect(proposed.signer).to.equal(RESTAURANT);
    expect(proposed.transactions).to.have.length(1);
    expect(proposed.transactions[0]).to.include({ hash: proposed.transactionHash, status: "success" });
    const wouldApprove = await json(["agreement", "approve", proposed.agreementId, "--account", "3", "--dry-run"]);
    expect(wouldApprove).to.deep.include({ dryRun: true, signer: AIRLINE });
    expect(wouldApprove.wouldSend.functionName).to.equal("approve");
    expect(await blockNumber()).to.equal(before + 1n);
  });

  it("signs with an encrypted keystore and never prints the key", async function () {
    const wallet = new Wallet(GUEST_KEY);
    const keystore = file("guest.json");
    fs.writeFileSync(keystore, encryptKeystoreJsonSync({ address: wallet.address, privateKey: wallet.privateKey }, "correct horse", { scrypt: { N: 2 ** 10 } }));
    fs.writeFileSync(file("pw"), "correct horse\n");
    fs.writeFileSync(file("bad-pw"), "wrong\n");
    const ok = await concord(["settle", "2", "--amount", "0.01", "--order-id", "BKG-2001", "--keystore", keystore, "--password-file", file("pw")], cli.env);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout + ok.stderr).to.not.include(GUEST_KEY.slice(2));
    const before = await blockNumber();
    const bad = await concord(["settle", "2", "--amount", "0.01", "--order-id", "BKG-2002", "--keystore", keystore, "--password-file", file("bad-pw")], cli.env);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/could not be decrypted/);
    expect(bad.stderr + bad.stdout).to.not.include(GUEST_KEY.slice(2));
    expect(await blockNumber()).to.equal(before);
    // A keystore written by `concord wallet import` (the key on standard input) signs as the key's account.
    const imported = spawnConcord(["wallet", "import", file("imported.json"), "--password-file", file("pw"), "--json"], cli.env);
    imported.child.stdin.end(`${GUEST_KEY}\n`);
    const made = await imported.done;
    expect(made.code, made.stderr).to.equal(0);
    expect(JSON.parse(made.stdout)).to.include({ schema: 1, address: GUEST });
    const signed = await json(["settle", "2", "--amount", "0.01", "--order-id", "BKG-2003", "--keystore", file("imported.json"), "--password-file", file("pw")]);
    expect(signed).to.include({ signer: GUEST, payer: GUEST });
    expect(JSON.stringify(signed).toLowerCase()).to.not.include(GUEST_KEY.slice(2));
  });

  describe("secrets never printed, whatever they are (fast-check, through the failing paths)", function () {
    const secretFree = (run: { stdout: string; stderr: string }, forms: string[]) => {
      const out = run.stdout + run.stderr;
      for (const form of forms) expect(out.toLowerCase(), "a secret was printed").to.not.include(form.toLowerCase());
    };
    // Passwords of 8 characters or more (shorter strings are not redacted), any characters; a password file ends at its last newline.
    const password = fc.string({ unit: "grapheme", minLength: 8, maxLength: 24 }).filter((p) => !/[\r\n]$/.test(p) && p.trim().length >= 8);

    it("a wrong keystore password, and a right one on a failing command, never appear", async function () {
      const keystore = file("fc-guest.json");
      await fc.assert(
        fc.asyncProperty(password, async (secret) => {
          fs.writeFileSync(keystore, encryptKeystoreJsonSync({ address: new Wallet(GUEST_KEY).address, privateKey: GUEST_KEY }, secret, { scrypt: { N: 2 ** 10 } }));
          fs.writeFileSync(file("fc-pw"), `${secret}x\n`);
          const wrong = await concord(["withdraw", "--keystore", keystore, "--password-file", file("fc-pw")], cli.env);
          expect(wrong.code, wrong.stderr).to.equal(2);
          secretFree(wrong, [`${secret}x`, GUEST_KEY.slice(2)]);
          fs.writeFileSync(file("fc-pw"), `${secret}\n`);
          const failing = await concord(["refund", "--lot", "7", "--amount", "0.1", "--keystore", keystore, "--password-file", file("fc-pw")], cli.env);
          expect(failing.code, failing.stderr).to.equal(2);
          secretFree(failing, [secret, GUEST_KEY.slice(2), BigInt(GUEST_KEY).toString()]);
        }),
        { numRuns: 6 },
      );
    });

    it("a private key that is not a key (beyond the curve order, in any case or decimal) is never echoed", async function () {
      const order = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const beyond = fc.bigInt({ min: order, max: 2n ** 256n - 1n });
      await fc.assert(
        fc.asyncProperty(beyond, fc.boolean(), fc.boolean(), async (key, upper, decimal) => {
          const hex = key.toString(16).padStart(64, "0");
          const given = decimal ? key.toString() : `0x${upper ? hex.toUpperCase() : hex}`;
          const run = await concord(["withdraw"], { ...cli.env, CONCORD_PRIVATE_KEY: given });
          expect(run.code, run.stderr).to.equal(2);
          expect(run.stderr).to.match(/CONCORD_PRIVATE_KEY is not/);
          secretFree(run, [hex, key.toString()]);
        }),
        { numRuns: 6 },
      );
    });

    it("an RPC URL's credentials and API key are never echoed", async function () {
      const token = fc.stringMatching(/^[A-Za-z0-9]{16,40}$/);
      await fc.assert(
        fc.asyncProperty(token, token, async (pass, apiKey) => {
          const run = await concord(["--rpc-url", `http://user:${pass}@127.0.0.1:9/v3/${apiKey}?key=${apiKey}`, "agreement", "show", "1"], cli.env);
          expect(run.code, run.stderr).to.equal(1);
          expect(run.stderr).to.match(/cannot reach the node at http:\/\/127\.0\.0\.1:9\/…/);
          secretFree(run, [pass, apiKey]);
        }),
        { numRuns: 4 },
      );
    });
  });

  describe("bad input: one clear line, the right exit code, nothing sent", function () {
    const cases: Array<{ name: string; args: string[]; code: number; message: RegExp }> = [
      { name: "a malformed address", args: ["settle", "2", "--account", "6", "--amount", "1", "--referrer", "0x123", "--order-id", "X"], code: 2, message: /--referrer "0x123" is not an address/ },
      { name: "a malformed amount", args: ["settle", "2", "--account", "6", "--amount", "1,5", "--order-id", "X"], code: 2, message: /--amount "1,5" is not a positive decimal amount/ },
      { name: "too many decimals", args: ["settle", "2", "--account", "6", "--amount", "0.0000000000000000001", "--order-id", "X"], code: 2, message: /has 19 decimals; the token has 18/ },
      { name: "an intent file and an agreement id together", args: ["settle", "1", "--intent", "x.json", "--account", "6"], code: 2, message: /--intent pays the payment the merchant signed/ },
      { name: "an intent signed by someone who is not the order signer", args: ["intent", "sign", "1", "--account", "2", "--amount", "1", "--order-id", "X", "--out", "/tmp/never.json"], code: 2, message: /order signer is 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65/ },
      { name: "shares that do not sum to 10,000", args: ["agreement", "propose", "--account", "1", "--shares", `${HOTEL}=5000,${RESTAURANT}=4900`], code: 2, message: /shares sum to 9,900 basis points; they must sum to 10,000/ },
      { name: "a malformed share list", args: ["agreement", "propose", "--account", "1", "--shares", `${HOTEL}:5000`], code: 2, message: /is not party=basisPoints/ },
      { name: "a missing signature file", args: ["agreement", "activate", "1", "--account", "1", "--signatures", "/nonexistent.json"], code: 2, message: /signature file \/nonexistent.json cannot be read/ },
      { name: "an unknown agreement", args: ["agreement", "show", "42"], code: 2, message: /agreement 42 does not exist/ },
      { name: "a wrong chain", args: ["--chain-id", "1", "agreement", "show", "1"], code: 2, message: /--chain-id 1 does not match/ },
      { name: "a self-referral", args: ["settle", "2", "--account", "4", "--amount", "1", "--referrer", TRAVEL_SITE, "--order-id", "X"], code: 2, message: /cannot be its own referrer/ },
      { name: "insufficient funds to withdraw", args: ["withdraw", "--account", "2", "--amount", "1000"], code: 2, message: /cannot withdraw/ },
      { name: "a refund of a reference never settled", args: ["refund", "--order-ref", "0x" + "ab".repeat(32), "--scope", HOTEL, "--account", "1", "--amount", "0.1"], code: 2, message: /ab{0,2}|never settled|no settlement/ },
      { name: "a refund naming a lot without its entry", args: ["refund", "--lot", "7", "--account", "1", "--amount", "0.1"], code: 2, message: /--lot needs --entry N/ },
      { name: "an unknown option", args: ["settle", "2", "--amount", "1", "--order-id", "X", "--amout", "1"], code: 2, message: /unknown option/ },
      { name: "an unreachable node", args: ["--rpc-url", "http://127.0.0.1:9", "agreement", "show", "1"], code: 1, message: /cannot reach the node/ },
      // Two signer sources: neither wins silently.
      { name: "two signer sources", args: ["withdraw", "--account", "1", "--keystore", "k.json"], code: 2, message: /two signer sources: --keystore k\.json and --account 1; give exactly one/ },
      // Strict parsers: what they do not understand is refused before anything is sent.
      { name: "a share with a trailing field", args: ["agreement", "propose", "--account", "1", "--shares", `${HOTEL}=5000=junk,${RESTAURANT}=5000`], code: 2, message: /is not party=basisPoints/ },
      { name: "an amount beyond uint256", args: ["quote", "2", "--amount", "9".repeat(90)], code: 2, message: /beyond the largest amount a uint256 holds/ },
      { name: "an agreement id beyond uint64", args: ["agreement", "show", "18446744073709551616"], code: 2, message: /agreement id 18446744073709551616 is beyond the largest uint64/ },
      { name: "confirmations beyond the head", args: ["audit", "verify", "--confirmations", "999999"], code: 2, message: /--confirmations 999999 is beyond the chain's head/ },
      { name: "a file as data dir", args: ["audit", "sync", "--data-dir", path.join(ROOT, "package.json")], code: 2, message: /--data-dir .*package\.json is a file, not a folder/ },
      { name: "an RPC URL without a scheme", args: ["--rpc-url", "127.0.0.1:8545", "agreement", "show", "1"], code: 2, message: /--rpc-url "127\.0\.0\.1:8545" is not an http:\/\/, https:\/\/, ws:\/\/ or wss:\/\/ URL/ },
      { name: "a signature file with a null field", args: ["agreement", "activate", "1", "--account", "1", "--signatures", path.join(ROOT, "test", "cli", "fixtures", "null-chain.sig.json")], code: 2, message: /null-chain\.sig\.json: field chainId is null, not a whole number/ },
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
      const proposed = await json(["agreement", "propose", "--account", "1", "--shares", `${HOTEL}=6000,${RESTAURANT}=4000`]);
      const expired = file("expired.json");
      expect((await concord(["agreement", "sign", proposed.agreementId, "--account", "1", "--deadline", "60", "--out", expired], cli.env)).code).to.equal(0);
      await rpc("evm_increaseTime", [120]);
      await rpc("evm_mine");
      await refused(["agreement", "activate", proposed.agreementId, "--account", "2", "--signatures", expired], 2, /expired at/);
    });
  });
});
