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
import { createPublicClient, createWalletClient, custom, getAddress, type Address, type EIP1193Provider, type Hex, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { createConcordContext, getAgreement, getVersion, proposeAgreement } from "../src/sdk";
import { runOnchainNegotiation } from "../src/negotiation/onchain";
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
  const ledger = await ethers.deployContract("SettlementLedger", [await registry.getAddress()]);
  const addresses = { registry: getAddress(await registry.getAddress()), ledger: getAddress(await ledger.getAddress()) };
  const transport = custom(hre.network.provider as unknown as EIP1193Provider);
  const chain = { ...hardhat, id: Number((await ethers.provider.getNetwork()).chainId) };
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient;
  const contexts = await Promise.all(
    order.map((account) => createConcordContext({ publicClient, walletClient: createWalletClient({ account, chain, transport }), addresses, chainId: chain.id })),
  );
  console.log(`network ${hre.network.name}: registry ${addresses.registry}, ledger ${addresses.ledger}`);

  const scenario = randomScenario(seed, { parties: partyCount, overlap, roundLimit });
  const agents = agentsFor(scenario);
  const names = scenario.parties.map((p) => p.name);
  scenario.parties.forEach((p, i) =>
    console.log(
      `  ${p.name.padEnd(11)} ${order[i]} tactic ${p.tactic.name.padEnd(11)} reservation ${p.preferences.reservation.toFixed(3)} ` +
        `refund exposure ${p.preferences.refundExposure.toFixed(2)} (refund rate ${(p.risk.refundRate * 100).toFixed(2)}%)`,
    ),
  );

  // The first partner is the merchant of record: its payment intents attest each sale's referrer.
  const fixed = { refundAuthority: order[0]!, orderSigner: order[0]!, documentHash: ethers.id(`concord:negotiation:${seed}`) as Hex };
  const even = Array.from({ length: partyCount }, (_, i) => (i === 0 ? 10_000 - Math.floor(10_000 / partyCount) * (partyCount - 1) : Math.floor(10_000 / partyCount)));
  const proposal = offerToTerms({ shares: even, referralFeeBps: 500, reserveBps: 1_000, disputeWindow: 7 * 86_400 }, order, fixed);
  const { agreementId } = await proposeAgreement(contexts[0]!, { terms: proposal });
  console.log(`\nagreement ${agreementId} proposed; negotiating: ${roundLimit} rounds, ${scenario.timeLimitSeconds} s, a day per move at most\n`);
  console.log(roundHeader(names));

  const result = await runOnchainNegotiation({
    contexts,
    agreementId,
    agents,
    currentTerms: proposal,
    fixed,
    roundLimit,
    duration: scenario.timeLimitSeconds,
    moveTimeout: Math.min(86_400, scenario.timeLimitSeconds),
    onRound: (r) => console.log(formatRound(r, names, r.gasUsed)),
  });

  console.log(`\n${describeOutcome(result.transcript.outcome, names)}`);
  const agreement = await getAgreement(contexts[0]!, { agreementId });
  if (result.version !== undefined) {
    const { termsHash } = await getVersion(contexts[0]!, { agreementId, version: agreement.activeVersion });
    console.log(`agreement ${agreementId} is active at version ${agreement.activeVersion} (terms hash ${termsHash})`);
  } else {
    console.log(`agreement ${agreementId} stays ${agreement.status}; no terms changed`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
