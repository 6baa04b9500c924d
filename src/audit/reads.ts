/**
 * The auditor's one chain reader: calls pinned to one block, the ledger's storage words in bulk
 * through its public `extsload(bytes32[])` view (as Uniswap v4 exposes it), and where each word
 * lives in the ledger's storage. Calls are encoded and decoded with viem on the generated ABIs;
 * at most `concurrency` requests are in flight (p-limit). What is compared with what is
 * src/audit/reconcile's job; this module imports nothing of it.
 */
import pLimit from "p-limit";
import {
  decodeFunctionResult,
  encodeAbiParameters,
  encodeFunctionData,
  erc20Abi,
  hexToBigInt,
  keccak256,
  numberToHex,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { settlementLedgerAbi } from "./abis";
import { rawRequest } from "./fetch";
import type { RpcClient } from "./types";

/**
 * Where SettlementLedger keeps its state: the base slot of each mapping, from the compiler's
 * storage layout (slots 0 and 1 are EIP712's name and version fallbacks). test/audit/layout.ts
 * pins these against the layout solc gives for the compiled ledger.
 */
export const LEDGER_STORAGE = { balances: 2n, pools: 3n, paidUpTo: 4n, claimedSince: 5n, orderBitmaps: 6n, lots: 7n, risk: 8n } as const;

type KeyType = "address" | "uint64" | "uint32" | "uint256" | "bytes32";
type Key = readonly [KeyType, Address | Hex | bigint | number];

/** The slot of a (nested) mapping entry as Solidity lays it out: keccak256(abi.encode(key, slot)) per key, outermost first. */
export function mappingSlot(base: bigint, keys: readonly Key[]): Hex {
  let slot: Hex = numberToHex(base, { size: 32 });
  for (const [type, value] of keys) slot = keccak256(encodeAbiParameters([{ type }, { type: "bytes32" }], [value as never, slot]));
  return slot;
}

/** The slot `offset` words after `slot` (a struct's later fields). */
export const nextSlot = (slot: Hex, offset = 1n): Hex => numberToHex(hexToBigInt(slot) + offset, { size: 32 });

/** `_balances[account][token]`: the balance plus one once credited. */
export const balanceSlot = (account: Address, token: Address): Hex =>
  mappingSlot(LEDGER_STORAGE.balances, [["address", account], ["address", token]]);

/** `_pools[agreementId][version][token]`: {total (low 128 bits), held (high)} then {distributed}. */
export const poolSlot = (agreementId: bigint, version: number, token: Address): Hex =>
  mappingSlot(LEDGER_STORAGE.pools, [["uint64", agreementId], ["uint32", version], ["address", token]]);

/** `_paidUpTo[keccak256(abi.encode(keccak256(abi.encode(agreementId, version, token)), partyIndex))]`. */
export function paidUpToSlot(agreementId: bigint, version: number, token: Address, partyIndex: number): Hex {
  const poolKey = keccak256(encodeAbiParameters([{ type: "uint64" }, { type: "uint32" }, { type: "address" }], [agreementId, version, token]));
  const key = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [poolKey, BigInt(partyIndex)]));
  return mappingSlot(LEDGER_STORAGE.paidUpTo, [["bytes32", key]]);
}

/** `_orderBitmaps[scope][word]`: bit `orderRef & 0xff` of word `orderRef >> 8`. */
export const orderBitmapSlot = (scope: Address, word: bigint): Hex =>
  mappingSlot(LEDGER_STORAGE.orderBitmaps, [["address", scope], ["uint256", word]]);

/** `_lots[lotId]`: the hash of the reserve lot (zero once released or refunded in full). */
export const lotSlot = (lotId: bigint): Hex => mappingSlot(LEDGER_STORAGE.lots, [["uint256", lotId]]);

/** `_risk[agreementId][token]`: {settledVolume, settledCount, refundCount} then {refundedVolume}. */
export const riskSlot = (agreementId: bigint, token: Address): Hex =>
  mappingSlot(LEDGER_STORAGE.risk, [["uint64", agreementId], ["address", token]]);

/** Reads the chain at one block. */
export class ChainReader {
  /** JSON-RPC requests made. */
  requests = 0;
  readonly block: Hex;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly request: ReturnType<typeof rawRequest>;
  private readonly chunkSize: number;

  constructor(
    client: RpcClient,
    readonly ledger: Address,
    readonly blockNumber: bigint,
    options: { concurrency?: number | undefined; chunkSize?: number | undefined } = {},
  ) {
    this.request = rawRequest(client);
    this.block = numberToHex(blockNumber);
    this.limit = pLimit(Math.max(1, options.concurrency ?? 4));
    this.chunkSize = Math.max(1, options.chunkSize ?? 2_000);
  }

  /** Sends one request once a slot is free. */
  send(method: string, params: unknown[]): Promise<unknown> {
    return this.limit(() => {
      this.requests += 1;
      return this.request({ method, params });
    });
  }

  /** Calls a view of `to` at the reader's block and decodes its result. */
  async call<const abi extends Abi>(to: Address, abi: abi, functionName: string, args: readonly unknown[]): Promise<unknown> {
    const data = encodeFunctionData({ abi: abi as Abi, functionName, args } as never);
    const result = (await this.send("eth_call", [{ to, data }, this.block])) as Hex;
    return decodeFunctionResult({ abi: abi as Abi, functionName, data: result } as never);
  }

  /** What `account` holds of `token` (the zero address: ETH). */
  async holdings(token: Address, account: Address): Promise<bigint> {
    if (hexToBigInt(token) === 0n) return hexToBigInt((await this.send("eth_getBalance", [account, this.block])) as Hex);
    return (await this.call(token, erc20Abi, "balanceOf", [account])) as bigint;
  }

  /**
   * The ledger's storage words at `slots`, in order: `extsload` in chunks of `chunkSize`, a few in
   * flight; a chunk the node refuses for gas is halved (never skipped).
   */
  async storage(slots: readonly Hex[]): Promise<Hex[]> {
    const chunks: Promise<Hex[]>[] = [];
    for (let i = 0; i < slots.length; i += this.chunkSize) chunks.push(this.extsload(slots.slice(i, i + this.chunkSize)));
    return (await Promise.all(chunks)).flat();
  }

  private async extsload(slots: readonly Hex[]): Promise<Hex[]> {
    try {
      const words = (await this.call(this.ledger, settlementLedgerAbi, "extsload", [slots])) as readonly Hex[];
      if (words.length !== slots.length) throw new Error(`extsload answered ${words.length} words for ${slots.length} slots`);
      return [...words];
    } catch (error) {
      if (slots.length > 1 && /gas/i.test(String((error as Error).message))) {
        const half = Math.ceil(slots.length / 2);
        return [...(await this.extsload(slots.slice(0, half))), ...(await this.extsload(slots.slice(half)))];
      }
      throw error;
    }
  }
}
