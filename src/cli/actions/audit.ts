import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { createPublicClient, formatUnits as formatDecimal, type Address } from "viem";
import { redactUrl } from "../../audit/db";
import { type Violation, differenceMessage, differenceValue, reportToHtml, reportToJson, statementRows, auditReport, sync, verify } from "../../audit";
import { addressesFor, connect, parseRpcUrl, tokenInfo, transportFor } from "../context";
import type { GlobalOptions } from "../options";
import { ExitCode, UsageError } from "../errors";
import { csv, emit, formatUnits, table } from "../output";
import { parseAddress, parseDataDir, parseId } from "../parse";
import { optionsOf } from "../options";

type TokenInfo = { decimals: number; symbol: string };
type AuditOptions = { dataDir?: string; databaseUrl?: string; fromBlock?: string; toBlock?: string; confirmations?: string };

/** The store's server from --database-url (or CONCORD_DATABASE_URL), checked before anything connects. */
function databaseUrlOf(o: AuditOptions): string | undefined {
  if (o.databaseUrl === undefined || o.databaseUrl === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(o.databaseUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "postgres:" && url.protocol !== "postgresql:")) {
    throw new UsageError(`--database-url "${redactUrl(o.databaseUrl)}" is not a postgres:// URL (postgres://user:password@host:port/database)`);
  }
  return o.databaseUrl;
}

/** The auditor's parameters from the options, its transport, and a formatter of amounts in token units. */
export async function auditParameters(o: GlobalOptions & AuditOptions) {
  const databaseUrl = databaseUrlOf(o);
  const { chainId, publicClient } = await connect(o);
  const addresses = addressesFor(o, chainId);
  const transport = transportFor(parseRpcUrl(o.rpcUrl), { retryCount: 2, timeout: 60_000 });
  const client = createPublicClient({ transport });
  const confirmations = o.confirmations ? parseId(o.confirmations, "--confirmations") : undefined;
  if (confirmations !== undefined) {
    const head = await publicClient.getBlockNumber();
    if (confirmations > head) throw new UsageError(`--confirmations ${confirmations} is beyond the chain's head: block ${head} is the latest`);
  }
  const parameters = {
    client,
    ledger: addresses.ledger,
    registry: addresses.registry,
    dataDir: o.dataDir === undefined ? undefined : parseDataDir(o.dataDir),
    databaseUrl,
    fromBlock: o.fromBlock ? parseId(o.fromBlock, "--from-block") : undefined,
    toBlock: o.toBlock ? parseId(o.toBlock, "--to-block") : undefined,
    confirmations,
  };
  /** The decimals and symbol of each token (null for a token that does not answer decimals()/symbol()). */
  const tokenInfos = async (tokens: Iterable<Address>) => {
    const infos = new Map<string, TokenInfo | null>();
    for (const token of new Set(tokens)) infos.set(token.toLowerCase(), await tokenInfo({ publicClient, chainId }, token).catch(() => null));
    return (token: Address) => infos.get(token.toLowerCase()) ?? null;
  };
  /** Formats base units of `token` in token units with its symbol ("0.075 ETH", "250 USDC"); base units with `wei`. */
  const amountFormatter = async (tokens: Iterable<Address>, wei = false) => {
    const infoOf = await tokenInfos(tokens);
    return (token: Address, amount: bigint) => {
      const info = infoOf(token);
      // A token that does not answer decimals()/symbol() is shown in base units rather than failing the report.
      if (!info) return `${amount} base units`;
      return wei ? `${amount} base units of ${info.symbol}` : `${formatUnits(amount, info.decimals)} ${info.symbol}`;
    };
  };
  return { parameters, amountFormatter, tokenInfos, chainId, ledger: addresses.ledger, transport, publicClient: client };
}

/** The --html page's path: a file name (an existing folder is refused). */
function parseHtmlFile(value: string): string {
  if (value.trim() === "") throw new UsageError(`--html "${value}" is not a file name`);
  if (fs.existsSync(value) && fs.statSync(value).isDirectory()) throw new UsageError(`--html ${value} is a folder, not a file`);
  return value;
}

function progressPrinter(json: boolean | undefined) {
  if (json || !process.stderr.isTTY) return undefined;
  return (p: { fromBlock: bigint; toBlock: bigint; block: bigint; events: number; eventsPerSecond: number }) => {
    const span = Number(p.toBlock - p.fromBlock) || 1;
    const done = Math.min(1, Number(p.block - p.fromBlock) / span);
    const width = 30;
    const bar = "#".repeat(Math.round(done * width)).padEnd(width, ".");
    process.stderr.write(`\r[${bar}] block ${p.block}/${p.toBlock}  ${p.events} events  ${Math.round(p.eventsPerSecond)} events/s`);
  };
}


export async function syncStore(command: Command): Promise<void> {
  const o = optionsOf<AuditOptions>(command);
  const { parameters } = await auditParameters(o);
  const result = await sync({ ...parameters, onProgress: progressPrinter(o.json) });
  if (!o.json && process.stderr.isTTY) process.stderr.write("\n");
  const summary = {
    toBlock: result.toBlock,
    storedEvents: result.storedEvents,
    newEvents: result.newEvents,
    getLogsRequests: result.getLogsRequests,
    reorg: result.reorg ?? null,
    violations: result.violations,
    dataDir: result.dataDir,
    elapsedMs: result.elapsedMs,
  };
  emit(o, summary, () =>
    [
      `synced to block ${result.toBlock}: ${result.newEvents} new events (${result.storedEvents} already stored), ${result.getLogsRequests} eth_getLogs requests`,
      ...(result.reorg ? [`reorganisation: rolled back to block ${result.reorg.rolledBackTo}, removed ${result.reorg.removedEvents} events`] : []),
      result.violations.length ? `${result.violations.length} law violations: run concord audit verify` : "every law held after every event",
    ].join("\n"),
  );
  if (result.violations.length) process.exitCode = ExitCode.Mismatch;
}

export async function verifyStore(command: Command): Promise<void> {
  const o = optionsOf<AuditOptions & { allOrderRefs?: boolean; wei?: boolean }>(command);
  const { parameters, amountFormatter, tokenInfos } = await auditParameters(o);
  const result = await verify({ ...parameters, orderReferences: o.allOrderRefs ? "all" : "reserves", onProgress: progressPrinter(o.json) });
  if (!o.json && process.stderr.isTTY) process.stderr.write("\n");
  const tokens = result.differences.filter((d) => d.value === "amount").map((d) => d.token);
  const checked = { ...result.reconcile.checked, orderReferences: result.reconcile.orderReferences };
  // --json keeps base units, and names the unit of each difference of amounts as the other commands do.
  const infoOf = o.json ? await tokenInfos(tokens) : undefined;
  const differences = result.differences.map((d) => {
    const unit = infoOf && d.value === "amount" ? infoOf(d.token) : null;
    return unit ? { ...d, unit: { symbol: unit.symbol, decimals: unit.decimals } } : d;
  });
  const format = o.json ? undefined : await amountFormatter(tokens, o.wei);
  emit(o, { ok: result.ok, toBlock: result.sync.toBlock, checked, violations: result.violations, differences }, () =>
    result.ok
      ? `verified at block ${result.sync.toBlock}: every balance, reserve and holding matches the replayed history`
      : [
          `MISMATCH at block ${result.sync.toBlock}: ${result.differences.length} differences, ${result.violations.length} law violations`,
          ...(result.differences.length ? [table(result.differences.map((d) => ({ kind: d.kind, account: String(d.account ?? ""), token: String(d.token ?? ""), expected: differenceValue(d, d.expected, format), actual: differenceValue(d, d.actual, format) })))] : []),
          ...result.differences.flatMap((d) => [
            `- ${differenceMessage(d, format)}`,
            ...d.events.map((e) => `    from ${e.eventName} in block ${e.blockNumber}, tx ${e.transactionHash} (log ${e.logIndex})`),
            ...(d.eventCount > d.events.length ? [`    … and ${d.eventCount - d.events.length} earlier events`] : []),
          ]),
          ...result.violations.map(violationLine),
        ].join("\n"),
  );
  if (!result.ok) process.exitCode = ExitCode.Mismatch;
}

/** A law violation as `audit watch` prints it, with the event that broke the law (amounts in it as the events state them, in base units). */
function violationLine(v: Violation): string {
  return `VIOLATION (${v.law}): ${v.message}\n    in ${v.event.eventName} in block ${v.event.blockNumber}, tx ${v.event.transactionHash} (log ${v.event.logIndex})`;
}

/** The CSV header of `audit report --csv`: amounts in token units, or in base units with --wei. */
export const REPORT_CSV_HEADER = ["partner", "token", "symbol", "decimals", "item", "agreement", "amount"] as const;

export async function report(command: Command): Promise<void> {
  const o = optionsOf<AuditOptions & { partner?: string[]; csv?: boolean; wei?: boolean; html?: string }>(command);
  const partners: Address[] | undefined = o.partner?.map((p) => parseAddress(p, "--partner"));
  const html = o.html === undefined ? undefined : parseHtmlFile(o.html);
  const { parameters, amountFormatter, tokenInfos, chainId, ledger } = await auditParameters(o);
  const report = await auditReport({ ...parameters, partners, flows: html !== undefined });
  if (html !== undefined) {
    const reportTokens = [...new Set([...report.partners.flatMap((p) => [...p.tokens.keys()]), ...(report.flows ?? []).map((f) => f.token)])] as Address[];
    const infoOf = await tokenInfos(reportTokens);
    const page = reportToHtml(report, { tokens: new Map(reportTokens.map((t) => [t.toLowerCase(), infoOf(t)])), chainId, ledger });
    try {
      fs.writeFileSync(html, page);
    } catch (error) {
      throw new UsageError(`--html ${html}: cannot write the page (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    const summary = { html: path.resolve(html), bytes: Buffer.byteLength(page), partners: report.partners.length, fromBlock: report.fromBlock, toBlock: report.toBlock };
    emit(o, summary, () => `wrote statements of ${summary.partners} partners, blocks ${report.fromBlock} to ${report.toBlock}, to ${summary.html} (${Math.ceil(summary.bytes / 1024)} kB)`);
    return;
  }
  if (o.json) {
    process.stdout.write(reportToJson(report) + "\n");
    return;
  }
  const rows = statementRows(report);
  const tokens = rows.map((r) => r.token as Address);
  if (o.csv) {
    // For accountants: token units with the token's symbol and decimals on every row; a token that
    // does not say its decimals leaves them empty and its amount in base units.
    const infoOf = await tokenInfos(tokens);
    const header = o.wei ? [...REPORT_CSV_HEADER.slice(0, -1), "amount_wei"] : REPORT_CSV_HEADER;
    process.stdout.write(
      csv(header, rows.map((r) => {
        const info = infoOf(r.token as Address);
        const amount = info && !o.wei ? formatDecimal(r.amount, info.decimals) : r.amount.toString();
        return [r.partner, r.token, info?.symbol ?? "", info?.decimals ?? "", r.item, r.agreementId ?? "", amount];
      })),
    );
    return;
  }
  const format = await amountFormatter(tokens, o.wei);
  const lines = rows.map((r) => ({ partner: r.partner, item: r.item, agreement: r.agreementId ?? "", amount: format(r.token as Address, r.amount) }));
  process.stdout.write(`statements from block ${report.fromBlock} to ${report.toBlock}\n${table(lines)}\n`);
}
