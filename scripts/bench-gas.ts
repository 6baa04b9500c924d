/**
 * Gas benchmark: `npm run bench:gas`.
 *
 * Deploys Concord on the in-process Hardhat network and measures the gas (receipt gasUsed,
 * which includes the 21,000 base) of proposing and activating agreements and of every
 * settlement operation at several party counts. Prints a table and writes reports/gas.json.
 * A benchmark, not a test: nothing here asserts; the goals are printed beside the figures.
 */
import fs from "node:fs";
import path from "node:path";
import { ethers } from "hardhat";
import type { ContractTransactionResponse, Signer } from "ethers";
import { DAY, ETH, deployConcord, evenShares, makeTerms, signConsents, type TermsInput } from "../test/helpers/concord";

type Row = { operation: string; parties: number; gas: number };

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction has no receipt");
  return Number(receipt.gasUsed);
}

/** Random wallets sign consent off chain; they need no funds. */
function wallets(count: number): Signer[] {
  return Array.from({ length: count }, () => ethers.Wallet.createRandom() as unknown as Signer);
}

async function termsFor(parties: Signer[], overrides: Partial<TermsInput> = {}): Promise<TermsInput> {
  const shares = evenShares(parties.length);
  const addresses = await Promise.all(parties.map((p) => p.getAddress()));
  return makeTerms(addresses.map((a, i) => [a, shares[i]!] as [string, number]), overrides);
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const [, payer, referrer, refundDesk] = await ethers.getSigners();
  const { registry, ledger } = await deployConcord();
  const usd = await ethers.deployContract("MockERC20", ["Stable USD", "sUSD", 6]);
  await usd.mint(payer!.address, 10n ** 30n);
  await usd.connect(payer!).approve(ledger, ethers.MaxUint256);

  // Propose and activate (all N consents as signatures in one transaction).
  for (const n of [2, 5, 20, 50]) {
    const parties = wallets(n);
    const terms = await termsFor(parties);
    const id = (await registry.agreementCount()) + 1n;
    rows.push({ operation: "propose", parties: n, gas: await gasOf(registry.propose(terms)) });
    const sigs = await signConsents(registry, parties, id, 1n, terms);
    rows.push({ operation: "activate (N signatures)", parties: n, gas: await gasOf(registry.activate(id, 1, terms, sigs)) });
  }

  let order = 0;
  const ref = () => ethers.id(`bench-order-${order++}`);
  for (const n of [2, 5, 20, 100, 200]) {
    const parties = wallets(n);
    const terms = await termsFor(parties, { refundAuthority: refundDesk!.address, disputeWindow: 7 * DAY });
    const id = (await registry.agreementCount()) + 1n;
    await registry.propose(terms);
    await registry.activate(id, 1, terms, await signConsents(registry, parties, id, 1n, terms));
    const settleEth = (withReferrer: boolean, orderRef = ref()) =>
      ledger.connect(payer!).settle(id, ETH, 10n ** 18n, withReferrer ? referrer!.address : ETH, orderRef, { value: 10n ** 18n });
    const settleUsd = (withReferrer: boolean) =>
      ledger.connect(payer!).settle(id, usd, 100_000_000n, withReferrer ? referrer!.address : ETH, ref());

    // Warm-up: the first settlement of an agreement creates its pool (a cold slot); steady state is measured after.
    await settleEth(true);
    await settleUsd(true);
    rows.push({ operation: "settle ETH, referral fee + reserve", parties: n, gas: await gasOf(settleEth(true)) });
    rows.push({ operation: "settle ETH, reserve, no referrer", parties: n, gas: await gasOf(settleEth(false)) });
    rows.push({ operation: "settle ERC-20, referral fee + reserve", parties: n, gas: await gasOf(settleUsd(true)) });
    rows.push({ operation: "settle ERC-20, reserve, no referrer", parties: n, gas: await gasOf(settleUsd(false)) });

    const refundRef = ref();
    await (await settleEth(true, refundRef)).wait();
    const [settled] = await ledger.queryFilter(ledger.filters.Settled(refundRef));
    const record = {
      agreementId: id,
      version: 1n,
      token: ETH,
      payer: payer!.address,
      reserve: settled!.args.reserve,
      releaseAt: settled!.args.releaseAt,
    };
    rows.push({ operation: "refund (partial)", parties: n, gas: await gasOf(ledger.connect(refundDesk!).refund(refundRef, record, 1_000n)) });
    const remaining = { ...record, reserve: record.reserve - 1_000n };
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(record.releaseAt)]);
    rows.push({ operation: "release reserve", parties: n, gas: await gasOf(ledger.releaseReserve(refundRef, remaining)) });
    rows.push({ operation: "claim (one party)", parties: n, gas: await gasOf(ledger.claim(id, 1, ETH, terms, 0)) });
    rows.push({ operation: "distribute (all parties)", parties: n, gas: await gasOf(ledger.distribute(id, 1, ETH, terms)) });

    // Withdraw: the referrer takes part of its ETH balance (the balance slot stays non-zero).
    const balance = await ledger.balanceOf(referrer!.address, ETH);
    rows.push({
      operation: "withdraw ETH",
      parties: n,
      gas: await gasOf(ledger.connect(referrer!).withdraw(ETH, referrer!.address, balance / 2n)),
    });
    const usdBalance = await ledger.balanceOf(referrer!.address, usd);
    rows.push({
      operation: "withdraw ERC-20",
      parties: n,
      gas: await gasOf(ledger.connect(referrer!).withdraw(usd, referrer!.address, usdBalance / 2n)),
    });
  }

  // Negotiation rows, when the negotiation benchmark module is present.
  const negotiationModule = path.join(__dirname, "bench", "negotiationGas.ts");
  if (fs.existsSync(negotiationModule)) {
    const { benchNegotiationGas } = (await import(negotiationModule)) as {
      benchNegotiationGas: () => Promise<Row[]>;
    };
    rows.push(...(await benchNegotiationGas()));
  }

  const at = (operation: string, parties: number) => rows.find((r) => r.operation === operation && r.parties === parties)?.gas;
  const settle2 = at("settle ETH, referral fee + reserve", 2)!;
  const settle100 = at("settle ETH, referral fee + reserve", 100)!;
  const withdraw = at("withdraw ETH", 2)!;
  const goals = [
    { goal: "ETH settle with referral fee + reserve at 2 parties <= 75,000", value: settle2, met: settle2 <= 75_000 },
    {
      goal: "ETH settle at 100 parties <= 1.10 x at 2 parties",
      value: Number((settle100 / settle2).toFixed(4)),
      met: settle100 <= settle2 * 1.1,
    },
    { goal: "withdraw <= 55,000", value: withdraw, met: withdraw <= 55_000 },
  ];

  console.table(rows);
  console.table(goals);
  const report = {
    generatedBy: "npm run bench:gas",
    network: "hardhat (in-process), solc 0.8.28, optimizer 10,000 runs, cancun",
    note: "gasUsed from receipts, 21,000 base included; settlements measured in steady state (pool and referrer balance already non-zero)",
    anchors: { "0xSplits v1 distributeETH": { 2: 57_366, 10: 110_057, 100: 702_433 }, "0xSplits v1 withdraw": 65_100 },
    rows,
    goals,
  };
  const out = path.join(__dirname, "..", "reports", "gas.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
