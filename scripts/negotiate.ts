/**
 * Negotiation driver: `npx hardhat run scripts/negotiate.ts` (in-process network) or
 * `npx hardhat run --network localhost scripts/negotiate.ts` (a running `hardhat node`).
 *
 * Deploys Concord, proposes an agreement among three to five partners, and lets their agents
 * negotiate its terms on chain through the NegotiationHub, printing every move. Settings come
 * from the environment (hardhat run takes no arguments):
 *   NEGOTIATE_SEED=7  NEGOTIATE_PARTIES=3..5  NEGOTIATE_ROUNDS=12  NEGOTIATE_OVERLAP=overlap|none
 */
import hre, { ethers } from "hardhat";
import { getAddress, type Address, type EIP1193Provider, type Hex } from "viem";
import { hardhat } from "viem/chains";
import { clientsFromProvider, negotiationHubOf, proposeAgreement, runOnchainNegotiation } from "../src/negotiation/onchain";
import { describeOutcome, formatRound, roundHeader } from "../src/negotiation/report";
import { agentsFor, randomScenario } from "../src/negotiation/scenario";
import { offerToTerms } from "../src/negotiation/terms";

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return v;
}

async function main(): Promise<void> {
  const seed = envInt("NEGOTIATE_SEED", 7, 0, 2 ** 31 - 1);
  const partyCount = envInt("NEGOTIATE_PARTIES", 3, 2, 5);
  const roundLimit = envInt("NEGOTIATE_ROUNDS", 12, 1, 1_000);
  const overlap = process.env.NEGOTIATE_OVERLAP === "none" ? "none" : "overlap";

  const signers = (await ethers.getSigners()).slice(1, 1 + partyCount);
  const order = signers.map((s) => getAddress(s.address)).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) as Address[];
  const registry = await ethers.deployContract("AgreementRegistry");
  await registry.waitForDeployment();
  const ledger = await ethers.deployContract("SettlementLedger", [await registry.getAddress()]);
  await ledger.waitForDeployment();
  const registryAddress = getAddress(await registry.getAddress());
  const { publicClient, wallets } = clientsFromProvider(hre.network.provider as unknown as EIP1193Provider, hardhat, order);
  const hub = await negotiationHubOf(publicClient, registryAddress);
  console.log(`network ${hre.network.name}: registry ${registryAddress}, hub ${hub}, ledger ${await ledger.getAddress()}`);

  const scenario = randomScenario(seed, { parties: partyCount, overlap, roundLimit });
  const agents = agentsFor(scenario);
  const names = scenario.parties.map((p) => p.name);
  scenario.parties.forEach((p, i) =>
    console.log(
      `  ${p.name.padEnd(11)} ${order[i]} tactic ${p.tactic.name.padEnd(11)} reservation ${p.preferences.reservation.toFixed(3)} ` +
        `refund exposure ${p.preferences.refundExposure.toFixed(2)} (refund rate ${(p.risk.refundRate * 100).toFixed(2)}%)`,
    ),
  );

  const fixed = { refundAuthority: order[0]!, documentHash: ethers.id(`concord:negotiation:${seed}`) as Hex };
  const even = Array.from({ length: partyCount }, (_, i) => (i === 0 ? 10_000 - Math.floor(10_000 / partyCount) * (partyCount - 1) : Math.floor(10_000 / partyCount)));
  const proposal = offerToTerms({ shares: even, referralFeeBps: 500, reserveBps: 1_000, disputeWindow: 7 * 86_400 }, order, fixed);
  const agreementId = await proposeAgreement(publicClient, wallets[0]!, registryAddress, proposal);
  const now = (await publicClient.getBlock()).timestamp;
  const deadline = now + BigInt(scenario.timeLimitSeconds);
  console.log(`\nagreement ${agreementId} proposed; negotiating: ${roundLimit} rounds, deadline ${new Date(Number(deadline) * 1000).toISOString()}\n`);
  console.log(roundHeader(names));

  const result = await runOnchainNegotiation({
    publicClient,
    wallets,
    hub,
    agreementId,
    agents,
    currentTerms: proposal,
    fixed,
    roundLimit,
    deadline,
    onRound: (r) => console.log(formatRound(r, names, r.gasUsed)),
  });

  console.log(`\n${describeOutcome(result.transcript.outcome, names)}`);
  const [status, , active] = await registry.agreement(agreementId);
  if (result.version !== undefined) {
    console.log(`agreement ${agreementId} is active at version ${active} (terms hash ${await registry.termsHash(agreementId, active)})`);
  } else {
    console.log(`agreement ${agreementId} stays ${["none", "proposed", "active", "terminated"][Number(status)]}; no terms changed`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
