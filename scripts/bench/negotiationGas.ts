/**
 * Gas of negotiation moves on the in-process Hardhat network: open, an offer and an acceptance
 * that does not conclude, and the concluding acceptance (which activates the version in the
 * registry), at 3 and 5 parties. Receipt gasUsed, 21,000 base included. Used by
 * scripts/bench-negotiation.ts and by the main gas table (`npm run bench:gas`).
 */
import hre from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import type { NegotiationHub } from "../../typechain-types";

type Row = { operation: string; parties: number; gas: number };

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction has no receipt");
  return Number(receipt.gasUsed);
}

export async function benchNegotiationGas(): Promise<Array<{ operation: string; parties: number; gas: number }>> {
  const { ethers } = hre;
  const rows: Row[] = [];
  const all = await ethers.getSigners();
  const registry = await ethers.deployContract("AgreementRegistry");
  const hub = (await ethers.getContractAt("NegotiationHub", await registry.negotiationHub())) as unknown as NegotiationHub;
  for (const n of [3, 5]) {
    const parties = all.slice(1, 1 + n).sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const termsWith = (shares: number[], reserveBps: number) => ({
      parties: parties.map((p, i) => ({ account: p.address, agreementId: 0n, version: 0, shareBps: shares[i]! })),
      referralFeeBps: 500,
      referrers: [],
      reserveBps,
      disputeWindow: 7 * 86_400,
      refundAuthority: parties[0]!.address,
      // The merchant of record attests the referrer of each sale, so the terms list none.
      orderSigner: parties[0]!.address,
      dustPartyIndex: 0,
      documentHash: ethers.id("bench:negotiation"),
    });
    const even = (lead: number) => parties.map((_, i) => (i === lead ? 10_000 - 1_000 * (n - 1) : 1_000));
    const current = termsWith(even(0), 1_000);
    await (await registry.connect(parties[0]!).propose(current)).wait();
    const id = await registry.agreementCount();
    rows.push({
      operation: "negotiation open (opening offer)",
      parties: n,
      gas: await gasOf(hub.connect(parties[0]!).open(id, 10, 86_400, 3_600, termsWith(even(1), 1_000), current, [])),
    });
    // Steady-state offer: the previous offer's slots are already set.
    const counter = termsWith(even(1), 1_500);
    rows.push({ operation: "negotiation offer", parties: n, gas: await gasOf(hub.connect(parties[1]!).offer(id, counter)) });
    const accepts: number[] = [];
    for (let i = 2; i < n; i++) accepts.push(await gasOf(hub.connect(parties[i]!).accept(id, counter)));
    rows.push({ operation: "negotiation accept (not last)", parties: n, gas: accepts[0]! });
    rows.push({ operation: "negotiation accept (last: activates)", parties: n, gas: await gasOf(hub.connect(parties[0]!).accept(id, counter)) });
  }
  return rows;
}
