/**
 * SDK overhead benchmark: settles N payments through the SDK's `settle` action and N through bare
 * viem (`writeContract` + `waitForTransactionReceipt`, the least an integrator needs to know a
 * payment settled), in one run on the in-process Hardhat network, and prints both times and the
 * ratio. The two paths alternate in rounds so that chain growth and other load on the machine
 * weigh on both alike; the per-round ratios show the spread.
 *
 *   npm run bench:sdk              (N=200 by default; N=1000 npm run bench:sdk for more)
 *
 * The SDK path does more than bare viem by design: it simulates first (a revert is decoded
 * before gas is spent; the simulation is the gas estimate, so no request is added) and decodes
 * the Settled event of the receipt. Both paths send the same JSON-RPC requests per settlement.
 */
import hre from "hardhat";
import { createPublicClient, createWalletClient, toHex, pad, zeroAddress, type Account, type Chain, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import ConcordModule from "../deploy/modules/Concord";
import {
  activateAgreement,
  buildTerms,
  createConcordContext,
  hardhatTransport,
  proposeAgreement,
  settle,
  settlementLedgerAbi,
  signConsent,
  type ConcordContext,
} from "../src/sdk";

const N = Number(process.env.N ?? 200);
const ROUNDS = 10;
const MNEMONIC = "test test test test test test test test test test test junk";

async function main(): Promise<void> {
  if (!Number.isInteger(N) || N < ROUNDS) throw new Error(`N is ${process.env.N}; it must be a whole number of at least ${ROUNDS}`);
  const { registry, ledger } = await hre.ignition.deploy(ConcordModule);
  const addresses = { registry: (await registry.getAddress()) as `0x${string}`, ledger: (await ledger.getAddress()) as `0x${string}` };
  const transport = hardhatTransport(hre.network.provider);
  const publicClient = createPublicClient({ transport, pollingInterval: 50 }) as PublicClient;
  const chainId = await publicClient.getChainId();
  const chain = { id: chainId, name: "hardhat", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [] } } } as Chain;
  const accounts: Account[] = Array.from({ length: 6 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }));
  const contextOf = (i: number): Promise<ConcordContext> =>
    createConcordContext({ publicClient, walletClient: createWalletClient({ account: accounts[i]!, chain, transport }), addresses, chainId });
  const [hotel, restaurant, payer] = await Promise.all([contextOf(1), contextOf(2), contextOf(3)]);

  const terms = buildTerms({
    parties: [
      { account: accounts[1]!.address, shareBps: 6_000 },
      { account: accounts[2]!.address, shareBps: 4_000 },
    ],
    referralFeeBps: 500,
    referrers: [accounts[4]!.address],
    reserveBps: 1_000,
    disputeWindow: 86_400,
    refundAuthority: accounts[1]!.address,
  });
  const { agreementId } = await proposeAgreement(hotel, { terms });
  const signatures = await Promise.all([hotel, restaurant].map((c) => signConsent(c, { agreementId, version: 1, terms })));
  await activateAgreement(hotel, { agreementId, terms, signatures });

  const referrer = accounts[4]!.address;
  const gross = 1_000_003n;
  let nextRef = 1n;
  const orderRef = () => pad(toHex(nextRef++));
  const wallet = createWalletClient({ account: accounts[3]!, chain, transport });

  const viaSdk = async () => {
    await settle(payer, { payment: { agreementId, version: 1, gross, referrer, orderRef: orderRef() } });
  };
  const viaViem = async () => {
    const hash = await wallet.writeContract({
      address: addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "settle",
      args: [
        { agreementId, version: 1, token: zeroAddress, gross, referrer, orderRef: orderRef(), refundBeneficiary: zeroAddress, deadline: 2n ** 40n },
        "0x",
      ],
      value: gross,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`bare settle ${hash} reverted`);
  };

  // Warm-up: JIT, caches, first-call costs on both paths.
  for (let i = 0; i < 10; i += 1) {
    await viaViem();
    await viaSdk();
  }
  const timed = { sdk: 0, viem: 0 };
  const roundRatios: number[] = [];
  const perRound = Math.floor(N / ROUNDS);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? (["viem", "sdk"] as const) : (["sdk", "viem"] as const);
    const thisRound = { sdk: 0, viem: 0 };
    for (const path of order) {
      const run = path === "sdk" ? viaSdk : viaViem;
      const started = process.hrtime.bigint();
      for (let i = 0; i < perRound; i += 1) await run();
      thisRound[path] = Number(process.hrtime.bigint() - started) / 1e6;
      timed[path] += thisRound[path];
    }
    roundRatios.push(thisRound.sdk / thisRound.viem);
  }
  const count = perRound * ROUNDS;
  const ratio = timed.sdk / timed.viem;
  const sorted = [...roundRatios].sort((a, b) => a - b);
  const median = (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2;
  console.log(`settle x${count} per path (ETH, with referrer and reserve), in-process Hardhat network, ${ROUNDS} alternating rounds of ${perRound}`);
  console.log(`  bare viem writeContract + receipt                      : ${timed.viem.toFixed(0)} ms  (${(timed.viem / count).toFixed(2)} ms/settle)`);
  console.log(`  SDK settle (simulate, write, receipt, decoded event)   : ${timed.sdk.toFixed(0)} ms  (${(timed.sdk / count).toFixed(2)} ms/settle)`);
  console.log(`  ratio SDK / bare viem, whole run                       : ${ratio.toFixed(3)}  (goal <= 1.100: ${ratio <= 1.1 ? "met" : "NOT met"})`);
  console.log(`  ratio per round: median ${median.toFixed(3)}, min ${sorted[0]!.toFixed(3)}, max ${sorted[sorted.length - 1]!.toFixed(3)}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
