import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ethers } from "hardhat";
import { numberToHex } from "viem";
import { balanceSlot } from "../../src/audit/reads";
import { settlementLedgerAbi } from "../../src/sdk/abi";
import { nodeChain } from "../audit/env";
import { buildRichHistory, ETH, type RichHistory } from "../audit/history";
import { concord } from "../helpers/cli";
import { startHardhatNode, type LocalNode } from "../helpers/processes";

/** Builds the auditor's rich history on a spawned node. */
const historyOn = async (node: LocalNode): Promise<RichHistory> => buildRichHistory(await nodeChain(node.url));

describe("concord audit against a hardhat node (separate processes)", function () {
  this.timeout(300_000);
  let node: LocalNode;
  let dir: string;

  before(async function () {
    node = await startHardhatNode();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-audit-cli-"));
  });
  after(async function () {
    await node?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const audit = (history: RichHistory, command: string, ...args: string[]) =>
    concord(
      [
        "audit", command, "--rpc-url", node.url, "--registry", history.chain.addresses.registry, "--ledger", history.chain.addresses.ledger,
        "--from-block", String(history.chain.deployBlock), "--data-dir", path.join(dir, `${history.chain.addresses.ledger}`), ...args,
      ],
      { CONCORD_PRIVATE_KEY: "" },
    );

  it("verifies a rich history (exit 0) and prints statements in token units", async function () {
    const history = await historyOn(node);
    const verified = await audit(history, "verify");
    expect(verified.stderr).to.equal("");
    expect(verified.code).to.equal(0);
    expect(verified.stdout).to.match(/^verified at block \d+: every balance, reserve and holding matches/);
    // --all-order-refs also reads every scope's order-reference bitmap words; by default the reserve lots only.
    type Checked = { checked: { lots: number; orderBitmaps: number; orderReferences: string } };
    const reserves = JSON.parse((await audit(history, "verify", "--json")).stdout) as Checked;
    const all = await audit(history, "verify", "--all-order-refs", "--json");
    expect(all.code).to.equal(0);
    expect((JSON.parse(all.stdout) as Checked).checked).to.include({ orderReferences: "all" });
    expect((JSON.parse(all.stdout) as Checked).checked.orderBitmaps).to.be.greaterThan(3);
    expect(reserves.checked).to.include({ orderReferences: "reserves", orderBitmaps: 0 });
    expect(reserves.checked.lots).to.be.greaterThan(3);

    const human = await audit(history, "report", "--partner", history.people.travelSite);
    expect(human.code).to.equal(0);
    const json = await audit(history, "report", "--partner", history.people.travelSite, "--json");
    expect(json.code).to.equal(0);
    type Token = { token: string; referralFees: string };
    const partners = (JSON.parse(json.stdout) as { partners: Array<{ partner: string; tokens: Token[] }> }).partners;
    expect(partners.map((p) => p.partner)).to.deep.equal([history.people.travelSite]);
    // Every referral fee the JSON states in base units appears in the table in token units with its symbol.
    const fees = partners[0]!.tokens.filter((t) => t.referralFees !== "0");
    expect(fees.length).to.equal(2); // ETH and the token
    for (const t of fees) {
      const [symbol, decimals] = t.token === ethers.ZeroAddress ? ["ETH", 18] : ["EURC", 6];
      const units = ethers.formatUnits(t.referralFees, decimals).replace(/\.0$/, "");
      expect(human.stdout).to.match(new RegExp(`referral-fees\\s+${units.replace(".", "\\.")} ${symbol}`));
    }

    // The CSV for accountants: every row names its token's symbol and decimals, amounts in token units
    // (no thousands separators); with --wei in base units under amount_wei.
    const csv = await audit(history, "report", "--partner", history.people.travelSite, "--csv");
    expect(csv.code, csv.stderr).to.equal(0);
    const [header, ...lines] = csv.stdout.trim().split("\n");
    expect(header).to.equal("partner,token,symbol,decimals,item,agreement,amount");
    const wei = await audit(history, "report", "--partner", history.people.travelSite, "--csv", "--wei");
    const [weiHeader, ...weiLines] = wei.stdout.trim().split("\n");
    expect(weiHeader).to.equal("partner,token,symbol,decimals,item,agreement,amount_wei");
    expect(weiLines).to.have.length(lines.length);
    lines.forEach((line, i) => {
      const [partner, token, symbol, decimals, item, , amount] = line.split(",");
      const [, , , , weiItem, , amountWei] = weiLines[i]!.split(",");
      expect([partner, weiItem]).to.deep.equal([history.people.travelSite, item]);
      expect([symbol, decimals]).to.deep.equal(token === ethers.ZeroAddress ? ["ETH", "18"] : ["EURC", "6"]);
      expect(ethers.parseUnits(amount!, Number(decimals))).to.equal(BigInt(amountWei!));
    });
    for (const t of fees) {
      const decimals = t.token === ethers.ZeroAddress ? 18 : 6;
      expect(lines).to.include(`${history.people.travelSite},${t.token},${decimals === 18 ? "ETH" : "EURC"},${decimals},referral-fees,,${ethers.formatUnits(t.referralFees, decimals).replace(/\.0$/, "")}`);
    }
  });

  it("exits 4 and names the account, the amounts and the events when a balance word holds one wei more", async function () {
    const history = await historyOn(node);
    const referrer = history.people.travelSite;
    const { ledger } = history.chain.addresses;
    const balance = await history.chain.publicClient.readContract({ address: ledger, abi: settlementLedgerAbi, functionName: "balanceOf", args: [referrer, ETH] });
    // The word holds balance + 1 once credited: one wei more is balance + 2.
    await history.chain.setStorageAt(ledger, balanceSlot(referrer, ETH), numberToHex(balance + 2n, { size: 32 }));
    const result = await audit(history, "verify");
    expect(result.code).to.equal(4);
    expect(result.stdout).to.match(/^MISMATCH at block \d+: 1 differences, 0 law violations/);
    // The ETH difference: the rebuilt balance and the chain's, one wei apart, in ETH units.
    const row = result.stdout.split("\n").find((l) => l.startsWith("balance") && l.includes(referrer) && l.includes("ETH"));
    expect(row, result.stdout).to.not.equal(undefined);
    const [expected, actual] = [...row!.matchAll(/([\d.,]+) ETH/g)].map((m) => ethers.parseEther(m[1]!.replaceAll(",", "")));
    expect(actual! - expected!).to.equal(1n);
    // The difference's own line says it in ETH too.
    expect(result.stdout).to.match(new RegExp(`- balance of ${referrer} in ${ETH}: rebuilt [\\d.,]+ ETH, chain [\\d.,]+ ETH`));
    // Each difference says which events produced the amount it expected.
    expect(result.stdout).to.match(/from Settled in block \d+, tx 0x[0-9a-f]{64}/);

    const json = await audit(history, "verify", "--json");
    expect(json.code).to.equal(4);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; differences: Array<{ account: string; kind: string }> };
    expect(parsed.ok).to.equal(false);
    expect(parsed.differences.filter((d) => d.kind === "balance").map((d) => d.account)).to.include(referrer);
  });

  it("states a holdings difference in ETH (base units with --wei, the unit beside base units in --json)", async function () {
    const history = await historyOn(node);
    const { ledger } = history.chain.addresses;
    const held = await history.chain.publicClient.getBalance({ address: ledger });
    // One ETH more than the events give, as a forced transfer (selfdestruct) would leave it.
    await rpc("hardhat_setBalance", [ledger, numberToHex(held + 10n ** 18n)]);
    const result = await audit(history, "verify");
    expect(result.code, result.stderr).to.equal(4);
    const line = result.stdout.split("\n").find((l) => l.startsWith("- the ledger holds"));
    expect(line, result.stdout).to.match(new RegExp(`^- the ledger holds [\\d.,]+ ETH of ${ETH}; events give [\\d.,]+ ETH \\(balances [\\d.,]+ ETH \\+ reserves [\\d.,]+ ETH \\+ undistributed [\\d.,]+ ETH\\)$`));
    const [holds, given] = [...line!.matchAll(/([\d.,]+) ETH/g)].map((m) => ethers.parseEther(m[1]!.replaceAll(",", "")));
    expect([holds, given]).to.deep.equal([held + 10n ** 18n, held]);

    const wei = await audit(history, "verify", "--wei");
    expect(wei.stdout).to.include(`- the ledger holds ${held + 10n ** 18n} base units of ETH of ${ETH}; events give ${held} base units of ETH`);
    const json = JSON.parse((await audit(history, "verify", "--json")).stdout) as { differences: Array<{ kind: string; expected: string; actual: string; unit?: unknown }> };
    const holding = json.differences.find((d) => d.kind === "holdings");
    expect(holding).to.deep.include({ expected: held.toString(), actual: (held + 10n ** 18n).toString(), unit: { symbol: "ETH", decimals: 18 } });
  });

  const rpc = async (method: string, params: unknown[]) => {
    const response = await fetch(node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    const body = (await response.json()) as { error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
  };
});
