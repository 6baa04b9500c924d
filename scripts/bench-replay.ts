/**
 * Replay benchmark: creates >= 20,000 settlements (200 per transaction through the ledger's
 * multicall), plus releases, distributions and withdrawals, then measures the auditor's replay +
 * reconcile throughput in events per second, in process and from a `hardhat node` over HTTP,
 * side by side with a plain ethers `queryFilter` replay of the same events. Peak RSS is sampled
 * during each replay. Writes reports/replay.json.
 *
 *   npm run bench:replay            (SETTLEMENTS=20000 by default)
 */
import fs from "node:fs";
import path from "node:path";
import hre, { ethers } from "hardhat";
import type { BaseContract, Signer } from "ethers";
import { createPublicClient, custom, http, type Address } from "viem";
import { fetchConcordLogs } from "../src/audit/fetch";
import { reconcile } from "../src/audit/reconcile";
import { ReplayState } from "../src/audit/replay";
import { DAY, ReferrerPolicy, makeTerms, signConsents } from "../test/helpers/concord";
import { startHardhatNode } from "../test/audit/node";
import type { AgreementRegistry, MockERC20, SettlementLedger } from "../typechain-types";

const SETTLEMENTS = Number(process.env.SETTLEMENTS ?? 20_000);
const PER_TX = 200;

type Deployment = { registry: AgreementRegistry; ledger: SettlementLedger; token: MockERC20; fromBlock: bigint; toBlock: bigint };
type Chain = { send: (method: string, params: unknown[]) => Promise<unknown> };

async function buildHistory(signers: Signer[], chain: Chain): Promise<Deployment> {
  const [deployer, hotel, restaurant, airline, chef, referrer, ...payers] = signers as [Signer, Signer, Signer, Signer, Signer, Signer, ...Signer[]];
  const at = (s: Signer) => s.getAddress();
  const registry = (await (await ethers.getContractFactory("AgreementRegistry", deployer)).deploy()) as unknown as AgreementRegistry;
  const fromBlock = BigInt((await registry.deploymentTransaction()!.wait())!.blockNumber);
  const ledger = (await (await ethers.getContractFactory("SettlementLedger", deployer)).deploy(await registry.getAddress())) as unknown as SettlementLedger;
  await ledger.waitForDeployment();
  const token = (await (await ethers.getContractFactory("MockERC20", deployer)).deploy("Euro Coin", "EURC", 6)) as unknown as MockERC20;
  await token.waitForDeployment();
  const tokenAddress = await token.getAddress();
  const ledgerAddress = await ledger.getAddress();

  const a = makeTerms([[await at(hotel), 5_000], [await at(restaurant), 3_000], [await at(airline), 2_000]], { reserveBps: 1_000, disputeWindow: DAY });
  await (await registry.propose(a)).wait();
  await (await registry.activate(1, 1, a, await signConsents(registry, [hotel, restaurant, airline], 1n, 1n, a))).wait();
  const b = makeTerms([[await at(restaurant), 6_000], [await at(chef), 4_000]], { referralFeeBps: 0, referrerPolicy: ReferrerPolicy.None, reserveBps: 0, disputeWindow: 0 });
  await (await registry.propose(b)).wait();
  await (await registry.activate(2, 1, b, await signConsents(registry, [restaurant, chef], 2n, 1n, b))).wait();

  for (const payer of payers) {
    await (await token.mint(await at(payer), 10n ** 30n)).wait();
    await (await token.connect(payer).approve(ledgerAddress, ethers.MaxUint256)).wait();
  }

  // Settlements: half under A (referrer, reserve), half under B; 200 per transaction.
  const records: { orderRef: string; record: { agreementId: bigint; version: bigint; token: string; payer: string; reserve: bigint; releaseAt: bigint } }[] = [];
  const referrerAddress = await at(referrer);
  for (let start = 0; start < SETTLEMENTS; start += PER_TX) {
    const payer = payers[(start / PER_TX) % payers.length]!;
    const calls: string[] = [];
    for (let i = start; i < Math.min(start + PER_TX, SETTLEMENTS); i += 1) {
      const onA = i % 2 === 0;
      calls.push(ledger.interface.encodeFunctionData("settle", [onA ? 1 : 2, tokenAddress, 1_000_003n + BigInt(i), onA ? referrerAddress : ethers.ZeroAddress, ethers.zeroPadValue(ethers.toBeHex(i + 1), 32)]));
    }
    const receipt = (await (await ledger.connect(payer).multicall(calls)).wait())!;
    for (const log of receipt.logs) {
      const parsed = ledger.interface.parseLog(log);
      if (parsed?.name === "Settled" && parsed.args.reserve > 0n) {
        records.push({
          orderRef: parsed.args.orderRef as string,
          record: { agreementId: parsed.args.agreementId, version: parsed.args.version, token: parsed.args.token, payer: parsed.args.payer, reserve: parsed.args.reserve, releaseAt: parsed.args.releaseAt },
        });
      }
    }
  }
  // Release half of the reserves after the window, distribute both pools, withdraw.
  await chain.send("evm_increaseTime", [2 * DAY]);
  await chain.send("evm_mine", []);
  const toRelease = records.slice(0, Math.floor(records.length / 2));
  for (let start = 0; start < toRelease.length; start += PER_TX) {
    const calls = toRelease.slice(start, start + PER_TX).map((r) => ledger.interface.encodeFunctionData("releaseReserve", [r.orderRef, r.record]));
    await (await ledger.multicall(calls)).wait();
  }
  await (await ledger.distribute(1, 1, tokenAddress, a)).wait();
  await (await ledger.distribute(2, 1, tokenAddress, b)).wait();
  for (const who of [hotel, restaurant, chef, referrer]) {
    const balance = await ledger.balanceOf(await at(who), tokenAddress);
    await (await ledger.connect(who).withdraw(tokenAddress, await at(who), balance / 2n)).wait();
  }
  const toBlock = BigInt((await chain.send("eth_blockNumber", [])) as string);
  return { registry, ledger, token, fromBlock, toBlock };
}

type Measure = { label: string; events: number; seconds: number; eventsPerSecond: number; peakRssMb: number; rssSamplesMb: number[]; differences?: number; violations?: number; replaySeconds?: number; reconcileSeconds?: number; requests?: number };

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function measureAuditor(label: string, client: ReturnType<typeof createPublicClient>, d: Deployment): Promise<Measure> {
  global.gc?.();
  const started = performance.now();
  let peak = process.memoryUsage().rss;
  const samples: number[] = [mb(peak)];
  const state = new ReplayState();
  let requests = 0;
  const addresses = { registry: (await d.registry.getAddress()) as Address, ledger: (await d.ledger.getAddress()) as Address };
  let batches = 0;
  for await (const batch of fetchConcordLogs(client, { addresses, fromBlock: d.fromBlock, toBlock: d.toBlock, head: d.toBlock, initialRange: 8n, growBelow: 8_000, onRange: () => (requests += 1) })) {
    state.applyBatch(batch.logs);
    batches += 1;
    const rss = process.memoryUsage().rss;
    if (rss > peak) peak = rss;
    if (batches % 4 === 0) samples.push(mb(rss));
  }
  state.finish();
  const replayed = performance.now();
  const result = await reconcile(client, state, { ledger: addresses.ledger, blockNumber: d.toBlock, batchSize: 2_000 });
  const done = performance.now();
  const rss = process.memoryUsage().rss;
  if (rss > peak) peak = rss;
  samples.push(mb(rss));
  const seconds = (done - started) / 1_000;
  return {
    label,
    events: state.eventsApplied,
    seconds,
    eventsPerSecond: Math.round(state.eventsApplied / seconds),
    peakRssMb: mb(peak),
    rssSamplesMb: samples,
    differences: result.differences.length,
    violations: state.violations.length,
    replaySeconds: (replayed - started) / 1_000,
    reconcileSeconds: (done - replayed) / 1_000,
    requests: requests + result.requests,
  };
}

async function measureQueryFilter(label: string, d: Deployment): Promise<Measure> {
  global.gc?.();
  const started = performance.now();
  let peak = process.memoryUsage().rss;
  const registryEvents = await (d.registry as unknown as BaseContract).queryFilter("*", Number(d.fromBlock), Number(d.toBlock));
  const ledgerEvents = await (d.ledger as unknown as BaseContract).queryFilter("*", Number(d.fromBlock), Number(d.toBlock));
  let decoded = 0;
  for (const e of [...registryEvents, ...ledgerEvents]) if ("args" in e && e.args) decoded += 1;
  const rss = process.memoryUsage().rss;
  if (rss > peak) peak = rss;
  const seconds = (performance.now() - started) / 1_000;
  return { label, events: decoded, seconds, eventsPerSecond: Math.round(decoded / seconds), peakRssMb: mb(peak), rssSamplesMb: [mb(rss)] };
}

async function main() {
  const results: Measure[] = [];
  console.log(`building ${SETTLEMENTS} settlements in process ...`);
  const signers = await ethers.getSigners();
  const inProcess = await buildHistory(signers, { send: (m, p) => hre.network.provider.request({ method: m, params: p }) });
  const inProcessClient = createPublicClient({ transport: custom(hre.network.provider) });
  results.push(await measureAuditor("auditor (viem raw eth_getLogs + replay + reconcile), in process", inProcessClient, inProcess));
  results.push(await measureQueryFilter("ethers queryFilter (decode only), in process", inProcess));

  console.log("starting hardhat node ...");
  const node = await startHardhatNode();
  try {
    const provider = new ethers.JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const nodeSigners = await Promise.all(Array.from({ length: 12 }, (_, i) => provider.getSigner(i)));
    console.log(`building ${SETTLEMENTS} settlements on the node ...`);
    const onNode = await buildHistory(nodeSigners, { send: (m, p) => provider.send(m, p) });
    const httpClient = createPublicClient({ transport: http(node.url, { timeout: 120_000 }) });
    results.push(await measureAuditor("auditor (viem raw eth_getLogs + replay + reconcile), hardhat node over HTTP", httpClient, onNode));
    results.push(await measureQueryFilter("ethers queryFilter (decode only), hardhat node over HTTP", onNode));
    provider.destroy();
  } finally {
    await node.stop();
  }

  console.log(`\nsettlements: ${SETTLEMENTS} (${PER_TX} per transaction)\n`);
  console.log("| run | events | seconds | events/s | peak RSS MB | differences | violations |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    console.log(`| ${r.label} | ${r.events} | ${r.seconds.toFixed(3)} | ${r.eventsPerSecond} | ${r.peakRssMb} | ${r.differences ?? "-"} | ${r.violations ?? "-"} |`);
  }
  for (const r of results.filter((x) => x.replaySeconds !== undefined)) {
    console.log(`${r.label}: replay ${r.replaySeconds!.toFixed(3)} s, reconcile ${r.reconcileSeconds!.toFixed(3)} s, ${r.requests} requests, RSS samples ${r.rssSamplesMb.join(" ")} MB`);
  }
  const out = path.join(__dirname, "..", "reports", "replay.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ settlements: SETTLEMENTS, perTransaction: PER_TX, node: process.version, measuredAt: new Date().toISOString(), results }, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
  const bad = results.some((r) => (r.differences ?? 0) > 0 || (r.violations ?? 0) > 0);
  if (bad) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
