/**
 * The replay benchmark's history (scripts/bench-replay.ts), on the rebuilt contracts through
 * viem: `settlements` token settlements, 200 per `settleBatch` (or `perTx`, at most 256), alternating batches under an
 * agreement with a listed referrer and a 10% reserve (one lot per batch) and one with neither;
 * then half of the lots released after the window, both pools distributed and four partners
 * withdrawing half their balance. Order references are numbered (256 share a bitmap word, as
 * `makeOrderRefs` makes them) or salted one by one (`makeOrderRef`: a word per settlement).
 */
import { erc20Abi, keccak256, maxUint256, numberToHex, parseAbi, toHex, zeroAddress, type Address, type Hex } from "viem";
import { makeOrderRef } from "../src/sdk/actions/makeOrderRef";
import { agreementRegistryAbi, settlementLedgerAbi } from "../src/sdk/abi";
import { packParties } from "../src/sdk/partyTree";
import { buildTerms, type Terms } from "../src/sdk/terms";
import { getConsentTypedData } from "../src/sdk/typedData";
import type { AuditChain, Written } from "../test/audit/env";

/** Settlements per transaction. */
export const PER_TX = 200;
const DAY = 86_400;
const DEADLINE = 2n ** 40n;

export type History = { fromBlock: bigint; toBlock: bigint; settlements: number };

export async function buildHistory(
  chain: AuditChain,
  settlements: number,
  options: { perTx?: number; orderRefs?: "numbered" | "salted"; onBatch?: (settled: number) => void } = {},
): Promise<History> {
  const perTx = options.perTx ?? PER_TX;
  const salt = keccak256(toHex("concord bench order book"));
  const refOf = (i: number): Hex => (options.orderRefs === "salted" ? makeOrderRef({ orderId: `order-${i}`, salt }) : numberToHex(i + 1, { size: 32 }));
  const [keeper, hotel, restaurant, airline, chef, referrer] = [0, 1, 2, 3, 4, 5];
  const payers = [6, 7, 8, 9];
  const at = (i: number) => chain.accounts[i]!.address;
  const { registry, ledger, token } = chain.addresses;
  const reg = { address: registry, abi: agreementRegistryAbi } as const;
  const led = { address: ledger, abi: settlementLedgerAbi } as const;
  let nonce = 0n;
  const activate = async (terms: Terms, signers: number[]): Promise<bigint> => {
    const proposed = await chain.write(signers[0]!, { ...reg, functionName: "propose", args: [terms] });
    const agreementId = proposed.logs.find((l) => l.eventName === "AgreementProposed")!.args.agreementId as bigint;
    const signatures = await Promise.all(
      signers.map(async (i) => {
        const message = { agreementId, version: 1, terms, signer: at(i), nonce: (nonce += 1n), deadline: DEADLINE };
        return { signer: at(i), nonce: message.nonce, deadline: DEADLINE, signature: await chain.signTypedData(i, getConsentTypedData({ chainId: chain.chainId, registry, ...message })) };
      }),
    );
    signatures.sort((x, y) => (BigInt(x.signer) < BigInt(y.signer) ? -1 : 1));
    await chain.write(keeper, { ...reg, functionName: "activate", args: [agreementId, 1, terms, [], signatures] });
    return agreementId;
  };
  const a = buildTerms({
    parties: [{ account: at(hotel), shareBps: 5_000 }, { account: at(restaurant), shareBps: 3_000 }, { account: at(airline), shareBps: 2_000 }],
    referralFeeBps: 500, referrers: [at(referrer)], reserveBps: 1_000, disputeWindow: DAY,
  });
  const b = buildTerms({ parties: [{ account: at(restaurant), shareBps: 6_000 }, { account: at(chef), shareBps: 4_000 }] });
  const idA = await activate(a, [hotel, restaurant, airline]);
  const idB = await activate(b, [restaurant, chef]);
  const fromBlock = chain.deployBlock;
  for (const payer of payers) {
    await chain.write(keeper, { address: token, abi: parseAbi(["function mint(address to, uint256 amount)"]), functionName: "mint", args: [at(payer), 10n ** 30n] });
    await chain.write(payer, { address: token, abi: erc20Abi, functionName: "approve", args: [ledger, maxUint256] });
  }

  const lots: { lotId: bigint; lot: { agreementId: bigint; version: number; token: Address; releaseAt: number; held: bigint; entriesHash: Hex } }[] = [];
  for (let start = 0, batch = 0; start < settlements; start += perTx, batch += 1) {
    const onA = batch % 2 === 0;
    const payments = [];
    for (let i = start; i < Math.min(start + perTx, settlements); i += 1) {
      payments.push({
        agreementId: onA ? idA : idB,
        version: 1,
        token,
        gross: 1_000_003n + BigInt(i),
        referrer: onA ? at(referrer) : zeroAddress,
        orderRef: refOf(i),
        refundBeneficiary: zeroAddress,
        deadline: DEADLINE,
      });
    }
    const result: Written = await chain.write(payers[batch % payers.length]!, { ...led, functionName: "settleBatch", args: [payments, []] });
    for (const held of result.logs.filter((l) => l.eventName === "ReservesHeld")) {
      const h = held.args as { lotId: bigint; agreementId: bigint; version: number; token: Address; releaseAt: number; held: bigint; entriesHash: Hex };
      lots.push({ lotId: h.lotId, lot: { agreementId: h.agreementId, version: h.version, token: h.token, releaseAt: h.releaseAt, held: h.held, entriesHash: h.entriesHash } });
    }
    options.onBatch?.(Math.min(start + perTx, settlements));
  }
  await chain.increaseTime(2 * DAY);
  for (const { lotId, lot } of lots.slice(0, Math.ceil(lots.length / 2))) await chain.write(keeper, { ...led, functionName: "releaseReserve", args: [lotId, lot] });
  await chain.write(keeper, { ...led, functionName: "distribute", args: [idA, 1, token, packParties(a.parties)] });
  await chain.write(keeper, { ...led, functionName: "distribute", args: [idB, 1, token, packParties(b.parties)] });
  for (const who of [hotel, restaurant, chef, referrer]) {
    const balance = await chain.publicClient.readContract({ ...led, functionName: "balanceOf", args: [at(who), token] });
    await chain.write(who, { ...led, functionName: "withdraw", args: [token, at(who), balance / 2n] });
  }
  return { fromBlock, toBlock: await chain.publicClient.getBlockNumber(), settlements };
}
