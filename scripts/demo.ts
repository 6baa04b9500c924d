/**
 * The main job: `npm run demo`. Deploys Concord to the in-process Hardhat network and walks an
 * agreement through proposal, signatures and activation, then a settlement, a release and the
 * partners' withdrawals, printing what happened at each step.
 */
import { ethers } from "hardhat";
import { computeSplit } from "../src/sdk/split";
import { DAY, ETH, deployConcord, makeTerms, signConsents } from "../test/helpers/concord";

const eth = (wei: bigint) => `${ethers.formatEther(wei)} ETH`;

async function main(): Promise<void> {
  const [deployer, hotel, restaurant, airline, travelSite, guest] = await ethers.getSigners();
  const names = new Map([
    [hotel!.address, "hotel"],
    [restaurant!.address, "restaurant"],
    [airline!.address, "airline"],
    [travelSite!.address, "travel site"],
  ]);

  console.log("== 1. Deploy");
  const { registry, ledger } = await deployConcord();
  console.log(`AgreementRegistry ${await registry.getAddress()}\nSettlementLedger  ${await ledger.getAddress()} (deployer ${deployer!.address})`);

  console.log("\n== 2. Propose: hotel 50%, restaurant 30%, airline 20%; 5% referral fee; 10% reserve for 7 days");
  const terms = makeTerms(
    [
      [hotel!.address, 5_000],
      [restaurant!.address, 3_000],
      [airline!.address, 2_000],
    ],
    { referralFeeBps: 500, reserveBps: 1_000, disputeWindow: 7 * DAY, refundAuthority: hotel!.address },
  );
  await (await registry.connect(hotel!).propose(terms)).wait();
  const id = await registry.agreementCount();
  console.log(`agreement ${id} proposed, terms hash ${await registry.termsHash(id, 1)}`);

  console.log("\n== 3. Every party signs (EIP-712), one transaction activates");
  const signatures = await signConsents(registry, [hotel!, restaurant!, airline!], id, 1n, terms);
  for (const s of signatures) console.log(`  ${names.get(s.signer)!.padEnd(11)} signed with nonce ${s.nonce}`);
  const activation = await (await registry.activate(id, 1, terms, signatures)).wait();
  const [status, , active] = await registry.agreement(id);
  console.log(`agreement ${id}: status ${["none", "proposed", "active", "terminated"][Number(status)]}, version ${active} (gas ${activation!.gasUsed})`);

  console.log("\n== 4. A guest who came through the travel site pays 1.5 ETH once");
  const gross = ethers.parseEther("1.5");
  const orderRef = ethers.id("demo:order-1001:salt-7f3a");
  await (await ledger.connect(guest!).settle(id, ETH, gross, travelSite!.address, orderRef, { value: gross })).wait();
  const split = computeSplit(
    { shares: terms.parties.map((p) => p.shareBps), referralFeeBps: 500, reserveBps: 1_000, dustPartyIndex: 0 },
    gross,
    true,
  );
  console.log(`referral fee to the travel site ${eth(split.referralFee)}, reserve held ${eth(split.reserve)}`);

  console.log("\n== 5. Seven days pass; anyone releases the reserve to the parties");
  const [settled] = await ledger.queryFilter(ledger.filters.Settled(orderRef));
  await ethers.provider.send("evm_setNextBlockTimestamp", [Number(settled!.args.releaseAt)]);
  await (
    await ledger.releaseReserve(orderRef, {
      agreementId: id,
      version: 1n,
      token: ETH,
      payer: guest!.address,
      reserve: settled!.args.reserve,
      releaseAt: settled!.args.releaseAt,
    })
  ).wait();
  await (await ledger.distribute(id, 1, ETH, terms)).wait();

  console.log("\n== 6. Everyone withdraws");
  const rows: Array<{ who: string; credited: string; withdrawn: string }> = [];
  for (const signer of [hotel!, restaurant!, airline!, travelSite!]) {
    const balance = await ledger.balanceOf(signer.address, ETH);
    await (await ledger.connect(signer).withdraw(ETH, signer.address, balance)).wait();
    rows.push({ who: names.get(signer.address)!, credited: eth(balance), withdrawn: eth(balance) });
  }
  console.table(rows);
  const left = await ethers.provider.getBalance(ledger);
  const total = rows.reduce((s, r) => s + ethers.parseEther(r.withdrawn.split(" ")[0]!), 0n);
  if (left !== 0n || total !== gross) throw new Error(`ledger holds ${left} wei after all withdrawals; paid out ${total} of ${gross}`);
  console.log(`paid out ${eth(total)} of ${eth(gross)}; the ledger holds 0 wei: every wei is accounted for.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
