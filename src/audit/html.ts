/**
 * The statements as a picture (`concord audit report --html FILE`): one self-contained HTML page
 * with each partner's statement in token units and, per token, a Sankey diagram of the period's
 * flows (payers → agreements → parties, referrers, refunds and reserves; src/audit/flows.ts).
 *
 * The page needs no network when it is viewed: d3-sankey and the d3 modules it needs (their UMD
 * builds, read from node_modules when the page is written) and the page's own script and styles
 * are inline, and its Content-Security-Policy forbids every fetch. The data is one JSON document in
 * a `<script type="application/json">` element, escaped for that context; the page's script renders
 * it with `textContent` and attributes only, so no name, symbol or address is ever parsed as HTML.
 */
import fs from "node:fs";
import path from "node:path";
import { formatUnits, type Address } from "viem";
import type { Flow, FlowKind, FlowNodeId } from "./flows";
import { statementRows, type AuditReport } from "./report";

/** A token's symbol and decimals (null: the token did not say; amounts are shown in base units). */
export type TokenLabel = { symbol: string; decimals: number } | null;

export type ReportHtmlOptions = {
  /** Symbol and decimals of every token in the report, keyed by address (any case). */
  tokens: ReadonlyMap<string, TokenLabel>;
  title?: string;
  chainId?: number;
  ledger?: Address;
  /** When the page was written (default now). */
  generatedAt?: Date;
};

/** The libraries the page inlines, in load order (each UMD build registers itself on `window.d3`). */
const LIBRARIES = [
  ["d3-array", "dist/d3-array.min.js"],
  ["d3-path", "dist/d3-path.min.js"],
  ["d3-shape", "dist/d3-shape.min.js"],
  ["d3-sankey", "dist/d3-sankey.min.js"],
] as const;

/** Thrown when a library the page inlines cannot be read from node_modules. */
export class ReportHtmlLibraryError extends Error {
  override name = "ReportHtmlLibraryError";
}

let libraryCache: string | undefined;

/** The inlined libraries' source, read once from their packages' dist builds. */
export function sankeyLibraries(): string {
  if (libraryCache !== undefined) return libraryCache;
  const sources = LIBRARIES.map(([name, file]) => {
    let source: string;
    try {
      source = fs.readFileSync(path.join(path.dirname(require.resolve(`${name}/package.json`)), file), "utf8");
    } catch (error) {
      throw new ReportHtmlLibraryError(`cannot read ${name}/${file} for the HTML report (${(error as NodeJS.ErrnoException).code ?? String(error)}): reinstall concord's dependencies`);
    }
    // A script element ends at the first "</script": a build holding one could not be inlined as it is.
    if (/<\/script|<!--/i.test(source)) throw new ReportHtmlLibraryError(`${name}/${file} holds "</script" or "<!--" and cannot be inlined`);
    return source;
  });
  return (libraryCache = sources.join("\n"));
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a `<script>` element: no `<`, `>` or `&`, and no line separators JavaScript once rejected. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`;

/** What the page's script reads (every amount both in base units, as a decimal string, and shown in token units). */
type PageData = {
  title: string;
  fromBlock: string;
  toBlock: string;
  chainId: number | null;
  ledger: string | null;
  generatedAt: string;
  /** How the page names each kind of flow. */
  kinds: Record<FlowKind, string>;
  tokens: {
    token: string;
    label: string;
    nodes: { id: FlowNodeId; kind: "payer" | "agreement" | "partner" | "reserves"; label: string; title: string; base: string; amount: string }[];
    links: { source: FlowNodeId; target: FlowNodeId; kind: FlowKind; base: string; amount: string; value: number }[];
  }[];
  partners: { partner: string; rows: { token: string; tokenLabel: string; item: string; agreement: string; base: string; amount: string }[] }[];
};

const KIND_TITLE: Record<FlowKind, string> = {
  paid: "paid",
  "referral-fee": "referral fee",
  earned: "credited",
  "to-claim": "still to claim",
  nested: "into a nested agreement",
  refund: "refund",
  "reserve-held": "reserve still held",
};

/** The page's data: statements and flows with amounts formatted in token units. */
export function reportPageData(report: AuditReport, options: ReportHtmlOptions): PageData {
  const labelOf = (token: string): TokenLabel => {
    for (const [key, label] of options.tokens) if (key.toLowerCase() === token.toLowerCase()) return label;
    return null;
  };
  const format = (token: string, amount: bigint) => {
    const label = labelOf(token);
    return label ? `${formatUnits(amount, label.decimals)} ${label.symbol}` : `${amount} base units`;
  };
  const width = (token: string, amount: bigint) => {
    const label = labelOf(token);
    return label ? Number(formatUnits(amount, label.decimals)) : Number(amount);
  };
  const byToken = new Map<string, Flow[]>();
  for (const flow of report.flows ?? []) byToken.set(flow.token, [...(byToken.get(flow.token) ?? []), flow]);

  const tokens = [...byToken].map(([token, flows]) => {
    const into = new Map<FlowNodeId, bigint>();
    const out = new Map<FlowNodeId, bigint>();
    for (const f of flows) {
      into.set(f.to, (into.get(f.to) ?? 0n) + f.amount);
      out.set(f.from, (out.get(f.from) ?? 0n) + f.amount);
    }
    const ids = [...new Set(flows.flatMap((f) => [f.from, f.to]))];
    const nodes = ids.map((id) => {
      const inflow = into.get(id) ?? 0n;
      const outflow = out.get(id) ?? 0n;
      const total = inflow > outflow ? inflow : outflow;
      const [kind, key] = id === "reserves" ? (["reserves", ""] as const) : (id.split(":") as ["payer" | "agreement" | "partner", string]);
      const label = kind === "reserves" ? "reserves held" : kind === "agreement" ? `agreement ${key}` : short(key);
      const title = kind === "reserves" ? "reserves still held at the end of the period" : kind === "agreement" ? `agreement ${key}` : `${kind} ${key}`;
      return { id, kind, label, title, base: total.toString(), amount: format(token, total) };
    });
    const links = flows.map((f) => ({ source: f.from, target: f.to, kind: f.kind, base: f.amount.toString(), amount: format(token, f.amount), value: width(token, f.amount) }));
    const label = labelOf(token)?.symbol ?? `token ${token}`;
    return { token, label, nodes, links };
  });

  const partners = new Map<string, PageData["partners"][number]>();
  for (const row of statementRows(report)) {
    let p = partners.get(row.partner);
    if (!p) partners.set(row.partner, (p = { partner: row.partner, rows: [] }));
    p.rows.push({ token: row.token, tokenLabel: labelOf(row.token)?.symbol ?? short(row.token), item: row.item, agreement: row.agreementId?.toString() ?? "", base: row.amount.toString(), amount: format(row.token, row.amount) });
  }
  return {
    title: options.title ?? `Concord statements, blocks ${report.fromBlock} to ${report.toBlock}`,
    fromBlock: report.fromBlock.toString(),
    toBlock: report.toBlock.toString(),
    chainId: options.chainId ?? null,
    ledger: options.ledger ?? null,
    generatedAt: (options.generatedAt ?? new Date()).toISOString(),
    kinds: KIND_TITLE,
    tokens,
    partners: [...partners.values()],
  };
}

const STYLE = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 2rem auto; max-width: 1040px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; } h3 { font-size: 1rem; margin: 1.25rem 0 .25rem; font-family: ui-monospace, monospace; }
.meta { color: var(--muted); margin: 0 0 1rem; }
svg.sankey { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fbfcfe; }
.link { fill: none; stroke-opacity: .45; } .link:hover { stroke-opacity: .75; }
.link.paid { stroke: #4c78a8; } .link.earned { stroke: #54a24b; } .link.to-claim { stroke: #9ecf8f; } .link.referral-fee { stroke: #f58518; }
.link.refund { stroke: #e45756; } .link.reserve-held { stroke: #b279a2; } .link.nested { stroke: #72b7b2; }
.node rect { fill: #3b4252; } .node.payer rect { fill: #4c78a8; } .node.partner rect { fill: #2f7d32; } .node.reserves rect { fill: #b279a2; }
.node text { font-size: 11px; fill: var(--ink); }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; color: var(--muted); margin: .25rem 0 0; padding: 0; list-style: none; }
.legend span { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; margin: .25rem 0 .5rem; } th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid var(--line); }
td.amount, th.amount { text-align: right; font-variant-numeric: tabular-nums; } td.token { white-space: nowrap; }
`;

/** The page's own script: reads the JSON, lays each token's flows out with d3.sankey and draws them as SVG. */
const RENDER = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("concord-data").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs, text, ns) {
    var node = ns ? document.createElementNS(SVG, name) : document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  var main = document.getElementById("concord-report");
  main.appendChild(el("h1", {}, data.title));
  var meta = "blocks " + data.fromBlock + " to " + data.toBlock + (data.chainId !== null ? ", chain " + data.chainId : "") + (data.ledger ? ", ledger " + data.ledger : "") + "; written " + data.generatedAt;
  main.appendChild(el("p", { class: "meta" }, meta));
  var KINDS = data.kinds;
  data.tokens.forEach(function (t) {
    var section = el("section", { class: "flows", "data-token": t.token });
    section.appendChild(el("h2", {}, "Flows in " + t.label));
    var width = 1000, height = Math.max(260, 34 * t.nodes.length);
    var layout = d3.sankey().nodeId(function (d) { return d.id; }).nodeWidth(14).nodePadding(16).extent([[1, 8], [width - 1, height - 8]]);
    var graph = layout({ nodes: t.nodes.map(function (d) { return Object.assign({}, d); }), links: t.links.map(function (d) { return Object.assign({}, d); }) });
    var svg = el("svg", { class: "sankey", viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "flows in " + t.label }, undefined, true);
    var path = d3.sankeyLinkHorizontal();
    var links = el("g", {}, undefined, true);
    graph.links.forEach(function (l) {
      var p = el("path", { class: "link " + l.kind, d: path(l), "stroke-width": Math.max(1, l.width), "data-source": l.source.id, "data-target": l.target.id, "data-kind": l.kind, "data-base": l.base }, undefined, true);
      p.appendChild(el("title", {}, l.source.title + " → " + l.target.title + ": " + KINDS[l.kind] + " " + l.amount, true));
      links.appendChild(p);
    });
    svg.appendChild(links);
    graph.nodes.forEach(function (n) {
      var g = el("g", { class: "node " + n.kind, "data-node-id": n.id, "data-kind": n.kind, "data-base": n.base }, undefined, true);
      g.appendChild(el("rect", { x: n.x0, y: n.y0, width: n.x1 - n.x0, height: Math.max(1, n.y1 - n.y0) }, undefined, true));
      var left = n.x0 < width / 2;
      var label = el("text", { x: left ? n.x1 + 6 : n.x0 - 6, y: (n.y0 + n.y1) / 2, dy: "0.35em", "text-anchor": left ? "start" : "end" }, n.label + "  " + n.amount, true);
      g.appendChild(label);
      g.appendChild(el("title", {}, n.title + ": " + n.amount, true));
      svg.appendChild(g);
    });
    section.appendChild(svg);
    var legend = el("ul", { class: "legend" });
    Object.keys(KINDS).forEach(function (k) {
      if (!t.links.some(function (l) { return l.kind === k; })) return;
      var item = el("li", {});
      item.appendChild(el("span", { class: "swatch " + k, style: "background: var(--" + k + ")" }));
      item.appendChild(document.createTextNode(KINDS[k]));
      legend.appendChild(item);
    });
    section.appendChild(legend);
    main.appendChild(section);
  });
  main.appendChild(el("h2", {}, "Statements"));
  if (data.partners.length === 0) main.appendChild(el("p", { class: "meta" }, "No partner was credited or owed anything in this period."));
  data.partners.forEach(function (p) {
    var section = el("section", { class: "statement", "data-partner": p.partner });
    section.appendChild(el("h3", {}, p.partner));
    var table = el("table", {});
    var head = el("tr", {});
    ["token", "item", "agreement", "amount"].forEach(function (c) { head.appendChild(el("th", c === "amount" ? { class: "amount" } : {}, c)); });
    table.appendChild(el("thead", {})).appendChild(head);
    var body = el("tbody", {});
    p.rows.forEach(function (r) {
      var tr = el("tr", { "data-token": r.token, "data-item": r.item, "data-agreement": r.agreement, "data-base": r.base });
      tr.appendChild(el("td", { class: "token", title: r.token }, r.tokenLabel));
      tr.appendChild(el("td", {}, r.item));
      tr.appendChild(el("td", {}, r.agreement));
      tr.appendChild(el("td", { class: "amount" }, r.amount));
      body.appendChild(tr);
    });
    table.appendChild(body);
    section.appendChild(table);
    main.appendChild(section);
  });
  document.body.setAttribute("data-rendered", "true");
})();
`;

/** Legend swatch colours, as CSS variables (the same as the links'). */
const SWATCHES = `:root { --paid: #4c78a8; --earned: #54a24b; --to-claim: #9ecf8f; --referral-fee: #f58518; --refund: #e45756; --reserve-held: #b279a2; --nested: #72b7b2; }`;

/**
 * The report as one self-contained HTML page. The report must carry its flows
 * (`auditReport({ ..., flows: true })`).
 *
 * @example
 * const report = await auditReport({ client, ledger, flows: true });
 * fs.writeFileSync("statements.html", reportToHtml(report, { tokens: new Map([[zeroAddress, { symbol: "ETH", decimals: 18 }]]) }));
 */
export function reportToHtml(report: AuditReport, options: ReportHtmlOptions): string {
  const data = reportPageData(report, options);
  const csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)}</title>`,
    `<style>${SWATCHES}${STYLE}</style>`,
    "</head>",
    "<body>",
    '<main id="concord-report"><noscript>This page draws its statements with JavaScript; the data is in the concord-data element.</noscript></main>',
    `<script type="application/json" id="concord-data">${jsonForScript(data)}</script>`,
    `<script>${sankeyLibraries()}</script>`,
    `<script>${RENDER}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
