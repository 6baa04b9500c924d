/**
 * Gas benchmark: `npm run bench:gas`.
 *
 * Deploys Concord on the in-process Hardhat network and measures gasUsed (receipts, 21,000 base
 * included) of consent, settlement (single, batched, direct and intent, ETH and ERC-20), payouts
 * and withdrawals, and of whole payment cycles (K payments, one distribution, every party
 * withdraws; the second, recurring cycle is measured). Prints the figures beside 0xSplits v1's
 * (SplitMain compiled from its repository with solc 0.8.4 and measured in one Hardhat run; the
 * figures are quoted from ../shared/DESIGN.md, no 0xSplits code is in this project) and writes
 * reports/gas.json. A benchmark, not a test: it asserts nothing and prints each goal met or missed.
 */
import fs from "node:fs";
import path from "node:path";
import { ethers } from "hardhat";
import type { ContractTransactionResponse, HDNodeWallet, Signer } from "ethers";
import type { Address, Hex } from "viem";
import { packParties, partyProof } from "../src/sdk/partyTree";
import { CONSENT_TYPES, PAYMENT_INTENT_TYPES, type NestedTermsInput } from "../test/helpers/concord";
import type { AgreementRegistry, MockERC20, SettlementLedger } from "../typechain-types";

const ETH = ethers.ZeroAddress as Address;
const DAY = 86_400;
const FAR = 2n ** 40n;

type Row = { operation: string; parties: number; gas: number };
type Party = { account: Address; agreementId: bigint; version: number; shareBps: number };
type Terms = {
  parties: Party[];
  referralFeeBps: number;
  referrers: Address[];
  reserveBps: number;
  disputeWindow: number;
  refundAuthority: Address;
  orderSigner: Address;
  dustPartyIndex: number;
  documentHash: Hex;
};
type Payment = {
  agreementId: bigint;
  version: number;
  token: Address;
  gross: bigint;
  referrer: Address;
  orderRef: Hex;
  refundBeneficiary: Address;
  deadline: bigint;
};

/** 0xSplits v1 (SplitMain, solc 0.8.4), one Hardhat run: ../shared/DESIGN.md "What to beat". */
const SPLITS_V1 = {
  payment: 22_420,
  distributePerExtraRecipient: 6_583,
  withdraw: 37_597,
  cycleGasPerPaymentPerParty: { 2: 11_872, 10: 2_728, 100: 670 } as Record<number, number>,
};

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction has no receipt");
  return Number(receipt.gasUsed);
}

class Bench {
  private nextRef = BigInt(ethers.id("concord gas bench")) & ~0xffn;
  private chainId = 31_337;

  constructor(
    readonly registry: AgreementRegistry,
    readonly ledger: SettlementLedger,
    readonly funder: Signer,
  ) {}

  /** A reference in a fresh bitmap word, or the next one in the current word. */
  orderRef(freshWord = false): Hex {
    if (freshWord) this.nextRef = (this.nextRef | 0xffn) + 1n;
    if ((this.nextRef & 0xffn) === 0xffn) this.nextRef += 1n;
    return ethers.toBeHex(this.nextRef++, 32) as Hex;
  }

  async wallets(count: number, fund: boolean): Promise<HDNodeWallet[]> {
    const list = Array.from({ length: count }, () => ethers.Wallet.createRandom().connect(ethers.provider));
    if (fund) for (const w of list) await (await this.funder.sendTransaction({ to: w.address, value: 10n ** 18n })).wait();
    return list.sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  }

  terms(accounts: Address[], overrides: Partial<Terms> = {}, nested: Party[] = []): Terms {
    const count = accounts.length + nested.length;
    const base = Math.floor(10_000 / count);
    const shareAt = (i: number) => (i === 0 ? 10_000 - base * (count - 1) : base);
    const parties: Party[] = [
      ...accounts.map((account, i) => ({ account, agreementId: 0n, version: 0, shareBps: shareAt(i) })),
      ...nested.map((p, i) => ({ ...p, shareBps: shareAt(accounts.length + i) })),
    ];
    return {
      parties,
      referralFeeBps: 0,
      referrers: [],
      reserveBps: 0,
      disputeWindow: 0,
      refundAuthority: ETH,
      orderSigner: ETH,
      dustPartyIndex: 0,
      documentHash: ethers.ZeroHash as Hex,
      ...overrides,
    };
  }

  /** Proposes, then activates with one signature per consenter; returns the id and both gas figures. */
  async activate(terms: Terms, consenters: HDNodeWallet[]): Promise<{ id: bigint; propose: number; activate: number; children: NestedTermsInput[] }> {
    const id = (await this.registry.agreementCount()) + 1n;
    const propose = await gasOf(this.registry.propose(terms));
    const domain = { name: "Concord", version: "2", chainId: this.chainId, verifyingContract: await this.registry.getAddress() };
    const sorted = [...consenters].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const signatures = [];
    for (const w of sorted) {
      const nonce = BigInt(ethers.hexlify(ethers.randomBytes(16)));
      const message = { agreementId: id, version: 1, terms, signer: w.address, nonce, deadline: FAR };
      signatures.push({ signer: w.address, nonce, deadline: FAR, signature: await w.signTypedData(domain, CONSENT_TYPES, message) });
    }
    const children = await this.childrenOf(terms);
    const activate = await gasOf(this.registry.activate(id, 1, terms, children, signatures));
    return { id, propose, activate, children };
  }

  /** The pinned terms of the nested parties (this bench nests one level of recorded terms). */
  private readonly known = new Map<string, Terms>();
  remember(id: bigint, terms: Terms): void {
    this.known.set(`${id}:1`, terms);
  }
  async childrenOf(terms: Terms): Promise<NestedTermsInput[]> {
    return terms.parties
      .filter((p) => p.agreementId !== 0n)
      .map((p) => ({ agreementId: p.agreementId, version: p.version, terms: this.known.get(`${p.agreementId}:${p.version}`)! }));
  }

  payment(agreementId: bigint, gross: bigint, overrides: Partial<Payment> = {}): Payment {
    return { agreementId, version: 1, token: ETH, gross, referrer: ETH, orderRef: this.orderRef(), refundBeneficiary: ETH, deadline: FAR, ...overrides };
  }

  async signIntent(signer: HDNodeWallet, payment: Payment): Promise<string> {
    const domain = { name: "Concord Ledger", version: "1", chainId: this.chainId, verifyingContract: await this.ledger.getAddress() };
    return signer.signTypedData(domain, PAYMENT_INTENT_TYPES, payment);
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const [funder, payer, referrer, refundDesk] = await ethers.getSigners();
  const registry = (await ethers.deployContract("AgreementRegistry")) as unknown as AgreementRegistry;
  const ledger = (await ethers.deployContract("SettlementLedger", [await registry.getAddress()])) as unknown as SettlementLedger;
  const bench = new Bench(registry, ledger, funder!);
  const usd = (await ethers.deployContract("MockERC20", ["Stable USD", "sUSD", 6])) as unknown as MockERC20;
  await usd.mint(payer!.address, 10n ** 30n);
  await usd.connect(payer!).approve(await ledger.getAddress(), ethers.MaxUint256);
  const asPayer = ledger.connect(payer!);
  const settleOne = (p: Payment, signature = "0x") => asPayer.settle(p, signature, { value: p.token === ETH ? p.gross : 0n });

  // Activation, every consent a signature in the one transaction.
  for (const n of [2, 5, 20, 50]) {
    const parties = await bench.wallets(n, false);
    const { propose, activate } = await bench.activate(bench.terms(parties.map((w) => w.address as Address)), parties);
    rows.push({ operation: "propose", parties: n, gas: propose });
    rows.push({ operation: "activate (N signatures)", parties: n, gas: activate });
  }
  {
    // Two levels: a parent of one account and a child agreement of two accounts (3 consenters).
    const members = await bench.wallets(2, false);
    const childTerms = bench.terms(members.map((w) => w.address as Address));
    const child = await bench.activate(childTerms, members);
    bench.remember(child.id, childTerms);
    const [owner] = await bench.wallets(1, false);
    const parentTerms = bench.terms([owner!.address as Address], {}, [{ account: ETH, agreementId: child.id, version: 1, shareBps: 0 }]);
    const parent = await bench.activate(parentTerms, [owner!, ...members]);
    rows.push({ operation: "activate two-level nested (3 signatures)", parties: 2, gas: parent.activate });
  }

  // Single settlements in steady state (pool, risk, bitmap word and referrer balance non-zero), flat in parties.
  const settle: Record<string, number> = {};
  for (const n of [2, 200]) {
    const accounts = (await bench.wallets(n, false)).map((w) => w.address as Address);
    const [merchant] = await bench.wallets(1, false);
    const variants: [string, Partial<Terms>, boolean][] = [
      ["direct, plain", {}, false],
      ["direct, referral fee + reserve", { referralFeeBps: 500, referrers: [referrer!.address as Address], reserveBps: 1_000, disputeWindow: 7 * DAY, refundAuthority: refundDesk!.address as Address }, true],
      ["intent, plain", { orderSigner: merchant!.address as Address }, false],
      ["intent, referral fee + reserve", { orderSigner: merchant!.address as Address, referralFeeBps: 500, reserveBps: 1_000, disputeWindow: 7 * DAY, refundAuthority: refundDesk!.address as Address }, true],
    ];
    for (const [label, overrides, withReferrer] of variants) {
      const terms = bench.terms(accounts, overrides);
      const id = (await registry.agreementCount()) + 1n;
      await registry.propose(terms);
      await activateByApprovals(registry, id, terms, accounts, funder!);
      const intent = overrides.orderSigner !== undefined;
      for (const token of [ETH, (await usd.getAddress()) as Address]) {
        const make = () => bench.payment(id, token === ETH ? 10n ** 18n : 100_000_000n, { token, referrer: withReferrer ? (referrer!.address as Address) : ETH });
        const run = async () => {
          const p = make();
          return gasOf(settleOne(p, intent ? await bench.signIntent(merchant!, p) : "0x"));
        };
        await run();
        await run();
        const gas = await run();
        rows.push({ operation: `settle ${token === ETH ? "ETH" : "ERC-20"} ${label}`, parties: n, gas });
        if (token === ETH && n === 2) settle[label] = gas;
      }
    }
  }

  // Batches of 100 (one bitmap word, one payer), per order.
  const settleBatchPerOrder: Record<string, number> = {};
  for (const [label, overrides, withReferrer] of [
    ["plain", {}, false],
    ["feeAndReserve", { referralFeeBps: 500, referrers: [referrer!.address as Address], reserveBps: 1_000, disputeWindow: 7 * DAY, refundAuthority: refundDesk!.address as Address }, true],
  ] as [string, Partial<Terms>, boolean][]) {
    const accounts = (await bench.wallets(2, false)).map((w) => w.address as Address);
    const terms = bench.terms(accounts, overrides);
    const id = (await registry.agreementCount()) + 1n;
    await registry.propose(terms);
    await activateByApprovals(registry, id, terms, accounts, funder!);
    await gasOf(settleOne(bench.payment(id, 10n ** 16n, { referrer: withReferrer ? (referrer!.address as Address) : ETH })));
    bench.orderRef(true);
    const batch = Array.from({ length: 100 }, () => bench.payment(id, 10n ** 16n, { referrer: withReferrer ? (referrer!.address as Address) : ETH }));
    const gas = await gasOf(asPayer.settleBatch(batch, [], { value: 10n ** 18n }));
    settleBatchPerOrder[label] = Math.round(gas / 100);
    rows.push({ operation: `settleBatch of 100, ${label}, per order`, parties: 2, gas: settleBatchPerOrder[label]! });
  }

  // Payouts and withdrawals.
  const distributeAt: Record<number, number> = {};
  const claimAt: Record<string, number> = {};
  let withdraw = 0;
  for (const n of [2, 10, 100, 255]) {
    const wallets = await bench.wallets(n, n <= 2);
    const accounts = wallets.map((w) => w.address as Address);
    const terms = bench.terms(accounts);
    const id = (await registry.agreementCount()) + 1n;
    await registry.propose(terms);
    await activateByApprovals(registry, id, terms, accounts, funder!);
    for (let round = 0; round < 2; round += 1) {
      await gasOf(settleOne(bench.payment(id, 10n ** 18n)));
      const gas = await gasOf(ledger.distribute(id, 1, ETH, packParties(terms.parties)));
      if (round === 1) distributeAt[n] = gas;
    }
    await gasOf(settleOne(bench.payment(id, 10n ** 18n)));
    const last = n - 1;
    claimAt[String(n)] = await gasOf(ledger.claim(id, 1, ETH, last, terms.parties[last]!, partyProof(terms.parties, last)));
    rows.push({ operation: "distribute (non-zero balances)", parties: n, gas: distributeAt[n]! });
    rows.push({ operation: "claim (last party, after a distribution)", parties: n, gas: claimAt[String(n)]! });
    if (n === 2) {
      const w = wallets[0]!;
      const balance = await ledger.balanceOf(w.address, ETH);
      withdraw = await gasOf(ledger.connect(w).withdraw(ETH, w.address, balance));
      rows.push({ operation: "withdraw ETH (whole balance)", parties: n, gas: withdraw });
    }
  }
  const distributePerExtraParty = Math.round((distributeAt[100]! - distributeAt[2]!) / 98);

  // Whole cycles: K payments, one distribution, every party withdraws; the second cycle is measured.
  const cycle: { parties: number; payments: number; batched: boolean; gasPerPaymentPerParty: number }[] = [];
  const cycleWallets = await bench.wallets(100, true);
  for (const n of [2, 10, 100]) {
    const wallets = cycleWallets.slice(0, n);
    const accounts = wallets.map((w) => w.address as Address);
    const terms = bench.terms(accounts);
    const id = (await registry.agreementCount()) + 1n;
    await registry.propose(terms);
    await activateByApprovals(registry, id, terms, accounts, funder!);
    for (const k of [1, 10, 100]) {
      for (const batched of [true, false]) {
        let total = 0;
        for (let round = 0; round < 2; round += 1) {
          total = 0;
          const payments = Array.from({ length: k }, () => bench.payment(id, 10n ** 15n));
          if (batched) total += await gasOf(asPayer.settleBatch(payments, [], { value: 10n ** 15n * BigInt(k) }));
          else for (const p of payments) total += await gasOf(settleOne(p));
          total += await gasOf(ledger.distribute(id, 1, ETH, packParties(terms.parties)));
          for (const w of wallets) {
            const balance = await ledger.balanceOf(w.address, ETH);
            if (balance > 0n) total += await gasOf(ledger.connect(w).withdraw(ETH, w.address, balance));
          }
        }
        cycle.push({ parties: n, payments: k, batched, gasPerPaymentPerParty: Math.round(total / (k * n)) });
      }
    }
  }

  const cycleAt = (n: number) => cycle.find((c) => c.parties === n && c.payments === 100 && c.batched)!.gasPerPaymentPerParty;
  const goals = [
    { goal: "settleBatch of 100 plain <= 8,000 per order", value: settleBatchPerOrder.plain!, met: settleBatchPerOrder.plain! <= 8_000 },
    { goal: "settleBatch of 100 with fee + reserve <= 15,000 per order", value: settleBatchPerOrder.feeAndReserve!, met: settleBatchPerOrder.feeAndReserve! <= 15_000 },
    { goal: "cycle, 2 parties, K=100 batched <= 5,900 (v1 11,872)", value: cycleAt(2), met: cycleAt(2) <= 5_900 },
    { goal: "cycle, 10 parties, K=100 batched <= 1,900 (v1 2,728)", value: cycleAt(10), met: cycleAt(10) <= 1_900 },
    { goal: "cycle, 100 parties, K=100 batched <= 540 (v1 670)", value: cycleAt(100), met: cycleAt(100) <= 540 },
    { goal: "distribute per extra party <= 6,000 (v1 6,583)", value: distributePerExtraParty, met: distributePerExtraParty <= 6_000 },
    { goal: "claim at 255 parties within 10% of 2", value: Number((claimAt["255"]! / claimAt["2"]!).toFixed(3)), met: claimAt["255"]! <= claimAt["2"]! * 1.1 },
    { goal: "settle ETH direct plain <= 55,000", value: settle["direct, plain"]!, met: settle["direct, plain"]! <= 55_000 },
    { goal: "settle ETH direct fee + reserve <= 80,000", value: settle["direct, referral fee + reserve"]!, met: settle["direct, referral fee + reserve"]! <= 80_000 },
    { goal: "withdraw <= 37,000 (v1 37,597)", value: withdraw, met: withdraw <= 37_000 },
  ];

  console.table(rows);
  console.table(cycle.map((c) => ({ ...c, "0xSplits v1 (K=100)": c.payments === 100 ? SPLITS_V1.cycleGasPerPaymentPerParty[c.parties] : "" })));
  console.table(goals);
  const report = {
    generatedBy: "npm run bench:gas",
    network: "hardhat (in-process), solc 0.8.28, optimizer 10,000 runs, cancun",
    note: "gasUsed from receipts, 21,000 base included; steady state (pools, risk counters, bitmap words and balances already non-zero); cycles are the second, recurring cycle",
    anchors: { source: "0xSplits v1 SplitMain compiled from its repository with solc 0.8.4, measured in one Hardhat run (../shared/DESIGN.md)", ...SPLITS_V1 },
    rows,
    cycle,
    distributePerExtraParty,
    settleBatchPerOrder,
    claimAt,
    settle: {
      plain: settle["direct, plain"],
      feeAndReserve: settle["direct, referral fee + reserve"],
      intent: settle["intent, plain"],
      intentFeeAndReserve: settle["intent, referral fee + reserve"],
    },
    withdraw,
    goals,
  };
  console.log(headlineTable(report));
  const out = path.join(__dirname, "..", "reports", "gas.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

/** The headline figures as a Markdown table beside 0xSplits v1's, for README.md and docs/performance.md. */
function headlineTable(report: {
  cycle: { parties: number; payments: number; batched: boolean; gasPerPaymentPerParty: number }[];
  distributePerExtraParty: number;
  settleBatchPerOrder: Record<string, number>;
  settle: Record<string, number | undefined>;
  withdraw: number;
}): string {
  const cycle = (n: number) => report.cycle.find((c) => c.parties === n && c.payments === 100 && c.batched)!.gasPerPaymentPerParty;
  const fmt = (n: number | undefined) => (n === undefined ? "–" : n.toLocaleString("en-US"));
  const rows: [string, string, string][] = [
    ["one payment in (ETH, direct, no fee or reserve)", fmt(report.settle.plain), `${fmt(SPLITS_V1.payment)} (a plain transfer)`],
    ["one payment with referral fee and reserve", fmt(report.settle.feeAndReserve), "–"],
    ["one merchant-signed intent (no fee or reserve)", fmt(report.settle.intent), "–"],
    ["per order in a batch of 100 (plain / fee and reserve)", `${fmt(report.settleBatchPerOrder.plain)} / ${fmt(report.settleBatchPerOrder.feeAndReserve)}`, "–"],
    ["crediting every party, per extra party", fmt(report.distributePerExtraParty), fmt(SPLITS_V1.distributePerExtraRecipient)],
    ["withdraw", fmt(report.withdraw), `${fmt(SPLITS_V1.withdraw)} (leaves 1 wei)`],
    ...[2, 10, 100].map((n): [string, string, string] => [
      `cycle of 100 batched payments, gas per payment per party, ${n} parties`,
      fmt(cycle(n)),
      fmt(SPLITS_V1.cycleGasPerPaymentPerParty[n]),
    ]),
  ];
  return ["| | Concord | 0xSplits v1 |", "|---|---:|---:|", ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** Activates with on-chain approvals from impersonated accounts (funded by `funder`): no keys needed. */
async function activateByApprovals(registry: AgreementRegistry, id: bigint, terms: Terms, accounts: Address[], funder: Signer): Promise<void> {
  for (const account of accounts) {
    await ethers.provider.send("hardhat_impersonateAccount", [account]);
    await (await funder.sendTransaction({ to: account, value: 10n ** 17n })).wait();
    const signer = await ethers.getSigner(account);
    await (await registry.connect(signer).approve(id, 1, FAR)).wait();
    await ethers.provider.send("hardhat_stopImpersonatingAccount", [account]);
  }
  await (await registry.activate(id, 1, terms, [], [])).wait();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
