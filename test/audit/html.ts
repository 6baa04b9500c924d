import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { chromium, type Browser, type Page } from "playwright-core";
import { erc20Abi, formatUnits, getAddress, type Address } from "viem";
import { report, reportToHtml, reportToJson, type TokenLabel } from "../../src/audit";
import { settlementLedgerAbi } from "../../src/sdk/abi";
import { inProcessChain } from "./env";
import { buildRichHistory, ETH } from "./history";

/** Debian's chromium (CI installs it through .ci/run); no browser is downloaded. */
const CHROMIUM = process.env.CONCORD_CHROMIUM ?? "/usr/bin/chromium";
const OUTPUT = path.join(__dirname, "..", "..", ".concord", "test-output");

type TokenJson = {
  token: string;
  earnedByAgreement: Record<string, string>;
  toClaimByAgreement: Record<string, string>;
  referralFees: string;
  reservesHeld: string;
  reservesReleased: string;
  refundsIssued: string;
  refundsReceived: string;
  withdrawn: string;
};
type ReportJson = { fromBlock: string; toBlock: string; partners: { partner: string; tokens: TokenJson[] }[] };

/** What a loaded page shows: its console and page errors, the requests it made, and its diagram and statements as drawn. */
type Shown = {
  errors: string[];
  requests: string[];
  flows: {
    token: string;
    heading: string;
    nodes: { id: string; kind: string; height: number }[];
    links: { source: string; target: string; kind: string; base: string; d: string }[];
  }[];
  rows: { partner: string; token: string; symbol: string; item: string; agreement: string; amount: string }[];
};

async function open(browser: Browser, file: string): Promise<{ page: Page; shown: Shown }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => void (m.type() === "error" && errors.push(`console: ${m.text()}`)));
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector("body[data-rendered=true]", { timeout: 10_000 }).catch(() => errors.push("the page never finished rendering"));
  const drawn = await page.evaluate(() => ({
    flows: Array.from(document.querySelectorAll("section.flows")).map((s) => ({
      token: s.getAttribute("data-token") ?? "",
      heading: s.querySelector("h2")?.textContent ?? "",
      nodes: Array.from(s.querySelectorAll("g.node")).map((g) => ({
        id: g.getAttribute("data-node-id") ?? "",
        kind: g.getAttribute("data-kind") ?? "",
        height: Number(g.querySelector("rect")?.getAttribute("height")),
      })),
      links: Array.from(s.querySelectorAll("path.link")).map((p) => ({
        source: p.getAttribute("data-source") ?? "",
        target: p.getAttribute("data-target") ?? "",
        kind: p.getAttribute("data-kind") ?? "",
        base: p.getAttribute("data-base") ?? "",
        d: p.getAttribute("d") ?? "",
      })),
    })),
    rows: Array.from(document.querySelectorAll("section.statement tbody tr")).map((tr) => {
      const cells = Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? "");
      return { partner: tr.closest("section")?.getAttribute("data-partner") ?? "", token: tr.getAttribute("data-token") ?? "", symbol: cells[0]!, item: cells[1]!, agreement: cells[2]!, amount: cells[3]! };
    }),
  }));
  return { page, shown: { errors, requests, ...drawn } };
}

describe("audit report --html: the statements as a picture, in a real browser", function () {
  let browser: Browser;

  before(async function () {
    // Missing chromium fails the suite: CI installs Debian's package, and a skipped browser test proves nothing.
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CONCORD_CHROMIUM`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });
    fs.mkdirSync(OUTPUT, { recursive: true });
  });
  after(async function () {
    await browser?.close();
  });

  async function pageFixture() {
    const history = await buildRichHistory(await inProcessChain());
    const { chain } = history;
    const parameters = { client: chain.publicClient, ledger: chain.addresses.ledger, fromBlock: chain.deployBlock, dataDir: null } as const;
    const statements = await report({ ...parameters, flows: true });
    const json = JSON.parse(reportToJson(statements)) as ReportJson;
    const token = chain.addresses.token;
    const read = (functionName: "symbol" | "decimals") => chain.publicClient.readContract({ address: token, abi: erc20Abi, functionName });
    const tokens = new Map<string, TokenLabel>([[ETH, { symbol: "ETH", decimals: 18 }], [token, { symbol: (await read("symbol")) as string, decimals: Number(await read("decimals")) }]]);
    // The settlements as the chain's own logs tell them, not the auditor's replay.
    const settled = await chain.publicClient.getContractEvents({ address: chain.addresses.ledger, abi: settlementLedgerAbi, eventName: "Settled", fromBlock: chain.deployBlock });
    return { history, statements, json, tokens, settled };
  }

  it("loads from file:// without errors or requests, one node per payer, agreement and partner, and the amounts of --json", async function () {
    const f = await loadFixture(pageFixture);
    const html = reportToHtml(f.statements, { tokens: f.tokens, chainId: f.history.chain.chainId, ledger: f.history.chain.addresses.ledger });
    const file = path.join(OUTPUT, "audit-report.html");
    fs.writeFileSync(file, html);
    const { page, shown } = await open(browser, file);
    try {
      const screenshot = path.join(OUTPUT, "audit-report.png");
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`      page ${file} (${Math.ceil(Buffer.byteLength(html) / 1024)} kB), screenshot ${screenshot}`);
    } finally {
      await page.close();
    }
    expect(shown.errors).to.deep.equal([]);
    expect(shown.requests).to.deep.equal([pathToFileURL(file).href]);
    expect(Buffer.byteLength(html)).to.be.below(200 * 1024);

    const labelOf = (token: string) => [...f.tokens].find(([key]) => key.toLowerCase() === token.toLowerCase())![1]!;
    const units = (token: string, base: string) => `${formatUnits(BigInt(base), labelOf(token).decimals)} ${labelOf(token).symbol}`;
    const sum = (values: Iterable<string>) => [...values].reduce((s, v) => s + BigInt(v), 0n);
    const tokensSettled = [...new Set(f.settled.map((l) => getAddress(l.args.token!)))];
    expect(shown.flows.map((s) => s.token).sort()).to.deep.equal(tokensSettled.sort()); // ETH and the token
    for (const section of shown.flows) {
      const { token } = section;
      expect(section.heading).to.equal(`Flows in ${labelOf(token).symbol}`);
      const ids = section.nodes.map((n) => n.id);
      expect(new Set(ids).size, "a node twice").to.equal(ids.length);
      for (const n of section.nodes) expect(n.height, n.id).to.be.at.least(1);
      for (const l of section.links) expect(l.d, `${l.source} → ${l.target}`).to.match(/^M[\d.]+,[\d.]+C/);
      const of = (kind: string) => section.nodes.filter((n) => n.kind === kind).map((n) => n.id.slice(n.id.indexOf(":") + 1)).sort();

      // Payers and the gross each paid each agreement: from the chain's Settled logs.
      const settled = f.settled.filter((l) => getAddress(l.args.token!) === token);
      expect(of("payer")).to.deep.equal([...new Set(settled.map((l) => l.args.payer!))].sort());
      const paid = new Map<string, bigint>();
      for (const l of settled) paid.set(`payer:${l.args.payer}|agreement:${l.args.agreementId}`, (paid.get(`payer:${l.args.payer}|agreement:${l.args.agreementId}`) ?? 0n) + l.args.gross!);
      const paidLinks = section.links.filter((l) => l.kind === "paid");
      expect(new Map(paidLinks.map((l) => [`${l.source}|${l.target}`, BigInt(l.base)]))).to.deep.equal(paid);
      for (const id of new Set(settled.map((l) => l.args.agreementId!.toString()))) expect(of("agreement")).to.include(id);

      // One node per partner credited or owed in the token; what flows into it is its --json statement.
      const expected = new Map<string, bigint>();
      for (const p of f.json.partners) {
        const t = p.tokens.find((x) => x.token === token);
        const received = t ? sum(Object.values(t.earnedByAgreement)) + sum(Object.values(t.toClaimByAgreement)) + BigInt(t.referralFees) + BigInt(t.refundsReceived) : 0n;
        if (received > 0n) expected.set(p.partner, received);
      }
      expect(of("partner")).to.deep.equal([...expected.keys()].sort());
      for (const [partner, received] of expected) {
        expect(sum(section.links.filter((l) => l.target === `partner:${partner}`).map((l) => l.base)), partner).to.equal(received);
      }
      // Referral fees and refunds appear as their own links.
      for (const p of f.json.partners) {
        const t = p.tokens.find((x) => x.token === token);
        if (!t) continue;
        expect(sum(section.links.filter((l) => l.kind === "referral-fee" && l.target === `partner:${p.partner}`).map((l) => l.base)), `${p.partner} fees`).to.equal(BigInt(t.referralFees));
        expect(sum(section.links.filter((l) => l.kind === "refund" && l.target === `partner:${p.partner}`).map((l) => l.base)), `${p.partner} refunds`).to.equal(BigInt(t.refundsReceived));
      }
    }
    expect(shown.flows.flatMap((s) => s.links.map((l) => l.kind))).to.include.members(["paid", "referral-fee", "earned", "to-claim", "nested", "refund", "reserve-held"]);

    // Every figure of --json, in token units, in its partner's statement, and nothing else.
    const wanted: Shown["rows"] = [];
    for (const p of f.json.partners) {
      for (const t of p.tokens) {
        const push = (item: string, base: string, agreement = "") => void (base !== "0" && wanted.push({ partner: p.partner, token: t.token, symbol: labelOf(t.token).symbol, item, agreement, amount: units(t.token, base) }));
        for (const [id, base] of Object.entries(t.earnedByAgreement)) push("earned", base, id);
        for (const [id, base] of Object.entries(t.toClaimByAgreement)) push("to-claim", base, id);
        push("referral-fees", t.referralFees);
        push("reserves-held", t.reservesHeld);
        push("reserves-released", t.reservesReleased);
        push("refunds-issued", t.refundsIssued);
        push("refunds-received", t.refundsReceived);
        push("withdrawn", t.withdrawn);
      }
    }
    const key = (r: Shown["rows"][number]) => JSON.stringify(r);
    expect(wanted.length).to.be.greaterThan(20);
    expect(shown.rows.map(key).sort()).to.deep.equal(wanted.map(key).sort());
  });

  it("shows a hostile token symbol and title as text: nothing in them runs or becomes markup", async function () {
    const f = await loadFixture(pageFixture);
    const token = f.history.chain.addresses.token;
    const symbol = `<img src=x onerror="window.__pwned = 1">`;
    const title = `</script><script>window.__pwned = 2</script><!-- & "quotes"`;
    const html = reportToHtml(f.statements, { tokens: new Map<string, TokenLabel>([[ETH, { symbol: "ETH", decimals: 18 }], [token, { symbol, decimals: 6 }]]), title });
    expect(html).not.to.include(symbol);
    expect(html).not.to.include("</script><script>window");
    const file = path.join(OUTPUT, "audit-report-hostile.html");
    fs.writeFileSync(file, html);
    const { page, shown } = await open(browser, file);
    try {
      expect(shown.errors).to.deep.equal([]);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
      expect(await page.evaluate(() => document.querySelectorAll("img").length)).to.equal(0);
      expect(await page.title()).to.equal(title);
      expect(await page.evaluate(() => document.querySelector("h1")?.textContent)).to.equal(title);
      expect(shown.flows.find((s) => s.token === token)?.heading).to.equal(`Flows in ${symbol}`);
      const rows = shown.rows.filter((r) => r.token === token);
      expect(rows).to.have.length.above(0);
      for (const r of rows) expect([r.symbol, r.amount.endsWith(` ${symbol}`)]).to.deep.equal([symbol, true]);
    } finally {
      await page.close();
    }
  });
});
