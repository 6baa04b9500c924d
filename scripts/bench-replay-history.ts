/**
 * The replay benchmarks' history (scripts/bench-replay.ts, scripts/bench-replay-knobs.ts):
 * `settlements` settlements, 200 per transaction through the ledger's multicall, half under an
 * agreement with a referrer and a 10% reserve, half under one with neither; then half of the
 * reserves released after the window, both pools distributed and four partners withdrawing half
 * their balance.
 */
import { ethers } from "hardhat";
import type { Signer } from "ethers";
import { DAY, ReferrerPolicy, makeTerms, signConsents } from "../test/helpers/concord";
import type { AgreementRegistry, MockERC20, SettlementLedger } from "../typechain-types";

/** Settlements per transaction. */
export const PER_TX = 200;

export type Deployment = { registry: AgreementRegistry; ledger: SettlementLedger; token: MockERC20; fromBlock: bigint; toBlock: bigint };
export type Chain = { send: (method: string, params: unknown[]) => Promise<unknown> };

export async function buildHistory(signers: Signer[], chain: Chain, settlements: number): Promise<Deployment> {
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
  for (let start = 0; start < settlements; start += PER_TX) {
    const payer = payers[(start / PER_TX) % payers.length]!;
    const calls: string[] = [];
    for (let i = start; i < Math.min(start + PER_TX, settlements); i += 1) {
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

