/**
 * Reconciles a rebuilt state with the chain at one block: every known account's balance per
 * token, every settlement's stored state (record hash while a reserve is held, CLOSED after),
 * every pool and released amount, and what the ledger holds of each token. All reads are
 * pinned to the block; they are batched through the ledger's own `multicall` when it has one.
 */
import {
  decodeAbiParameters,
  keccak256,
  toFunctionSelector,
  zeroAddress,
  type AbiFunction,
  type Address,
  type Hex,
} from "viem";
import { abiOf } from "./abis";
import { rawRequest, type EventRef, type RpcClient } from "./fetch";
import type { ReplayState, SettlementState } from "./replay";

/** CLOSED: what the ledger stores for an order reference with nothing left held. */
export const CLOSED_STATE: Hex = `0x${"0".repeat(63)}1`;

export type DifferenceKind = "balance" | "reserve" | "pool-distributable" | "pool-dust" | "released" | "holdings";

/** One way the chain disagrees with the rebuilt state. */
export type Difference = {
  kind: DifferenceKind;
  /** The account whose amount differs (the ledger itself for holdings and pools). */
  account: Address;
  token: Address;
  /** Rebuilt from events: an amount, or for a reserve the expected stored state (record hash or CLOSED). */
  expected: bigint | Hex;
  /** Read from the chain at the block. */
  actual: bigint | Hex;
  agreementId?: bigint;
  version?: number;
  partyIndex?: number;
  orderRef?: Hex;
  /** The events that produced the expected amount (the latest ones for long histories). */
  events: EventRef[];
  /** How many events produced it in all. */
  eventCount: number;
  message: string;
};

export type ReconcileParameters = {
  ledger: Address;
  /** The block every read is pinned to (the replay's target block). */
  blockNumber: bigint;
  /** Calls per multicall request. Default 1,000. */
  batchSize?: number | undefined;
  /** Requests in flight at once. Default 4. */
  concurrency?: number | undefined;
};

export type ReconcileResult = {
  blockNumber: bigint;
  checked: { balances: number; reserves: number; pools: number; released: number; holdings: number };
  differences: Difference[];
  /** JSON-RPC requests made. */
  requests: number;
  /** How the reads were batched. */
  mode: "multicall" | "single-calls";
};

/** The hash under which the ledger stores a settlement record (SettlementLedger.hashRecord). */
export function hashSettlementRecord(settlement: SettlementState): Hex {
  // abi.encode of six static words, written directly (as SettlementLedger._hashRecord does).
  return keccak256(
    `0x${pad(settlement.agreementId)}${pad(BigInt(settlement.version))}${padAddress(settlement.token)}${padAddress(settlement.payer)}${pad(settlement.reserve)}${pad(BigInt(settlement.releaseAt))}`,
  );
}

const ZEROS = "0".repeat(64);
function pad(value: bigint): string {
  const digits = value.toString(16);
  return ZEROS.slice(digits.length) + digits;
}
function padAddress(address: Address): string {
  return `000000000000000000000000${address.slice(2).toLowerCase()}`;
}

/** ABI-encodes a call whose arguments are all static words (every read the reconciler makes). */
function staticCall(selector: Hex, words: readonly (bigint | Address | Hex)[]): Hex {
  let out: string = selector;
  for (const w of words) out += typeof w === "bigint" ? pad(w) : w.length === 42 ? padAddress(w as Address) : w.slice(2).padStart(64, "0");
  return out as Hex;
}

/** ABI-encodes multicall(bytes[]) for calls of any length. */
function encodeMulticall(selector: Hex, calls: readonly Hex[]): Hex {
  const parts: string[] = [selector, pad(32n), pad(BigInt(calls.length))];
  const bodies: string[] = [];
  let offset = BigInt(calls.length * 32);
  for (const call of calls) {
    const bytes = (call.length - 2) / 2;
    const padded = Math.ceil(bytes / 32) * 64;
    parts.push(pad(offset));
    bodies.push(pad(BigInt(bytes)) + call.slice(2).padEnd(padded, "0"));
    offset += BigInt(32 + padded / 2);
  }
  return (parts.join("") + bodies.join("")) as Hex;
}

/** What the ledger should store for a settlement's order reference. */
export function expectedSettlementState(settlement: SettlementState): Hex {
  return settlement.closed || settlement.reserve === 0n ? CLOSED_STATE : hashSettlementRecord(settlement);
}

type Read = { call: Hex; check: (result: Hex) => void };

const word = (result: Hex, index: number): bigint => BigInt(`0x${result.slice(2 + index * 64, 2 + (index + 1) * 64) || "0"}`);

/**
 * Compares a rebuilt state with the chain at `blockNumber` and lists every difference.
 *
 * @example
 * const result = await reconcile(client, state, { ledger, blockNumber: 1_234n });
 * if (result.differences.length > 0) process.exitCode = 4;
 */
export async function reconcile(client: RpcClient, state: ReplayState, parameters: ReconcileParameters): Promise<ReconcileResult> {
  const request = rawRequest(client);
  const ledger = parameters.ledger;
  const block: Hex = `0x${parameters.blockNumber.toString(16)}`;
  const batchSize = parameters.batchSize ?? 1_000;
  const concurrency = parameters.concurrency ?? 4;
  const ledgerAbi = abiOf("ledger");
  const fn = (name: string): AbiFunction => {
    const item = ledgerAbi.find((x): x is AbiFunction => x.type === "function" && x.name === name);
    if (!item) throw new Error(`the ledger ABI has no function ${name}`);
    return item;
  };
  const encoder = (name: string) => {
    const selector = toFunctionSelector(fn(name));
    return (args: readonly (bigint | Address | Hex)[]): Hex => staticCall(selector, args);
  };
  const balanceOf = encoder("balanceOf");
  const settlementState = encoder("settlementState");
  const poolOf = encoder("pool");
  const releasedOf = encoder("released");
  const multicallSelector = toFunctionSelector(fn("multicall"));
  const differences: Difference[] = [];
  const checked = { balances: 0, reserves: 0, pools: 0, released: 0, holdings: 0 };
  const reads: Read[] = [];
  let requests = 0;

  const differ = (d: Omit<Difference, "events" | "eventCount">, provenance: { count: number; recent: EventRef[] }) =>
    differences.push({ ...d, events: [...provenance.recent], eventCount: provenance.count });

  // Balances: every account the events name, in every token the ledger handled.
  const accounts = new Map<string, Address>();
  const addAccount = (a: Address) => {
    if (a !== zeroAddress) accounts.set(a.toLowerCase(), a);
  };
  for (const entry of state.balances.values()) addAccount(entry.account);
  for (const s of state.settlements.values()) {
    addAccount(s.payer);
    addAccount(s.referrer);
  }
  for (const agreement of state.agreements.values()) {
    for (const v of agreement.versions.values()) for (const p of v.terms.parties) addAccount(p.account);
  }
  const tokens = state.tokens();
  for (const token of tokens) {
    for (const account of accounts.values()) {
      const entry = state.balanceEntry(account, token);
      const expected = entry?.amount ?? 0n;
      checked.balances += 1;
      reads.push({
        call: balanceOf([account, token]),
        check: (result) => {
          const actual = word(result, 0);
          if (actual !== expected) {
            differ(
              { kind: "balance", account, token, expected, actual, message: `balance of ${account} in ${token}: rebuilt ${expected}, chain ${actual}` },
              entry?.provenance ?? { count: 0, recent: [] },
            );
          }
        },
      });
    }
  }

  for (const s of state.settlements.values()) {
    const expected = expectedSettlementState(s);
    checked.reserves += 1;
    reads.push({
      call: settlementState([s.orderRef]),
      check: (actual) => {
        if (actual.toLowerCase() !== expected.toLowerCase()) {
          differ(
            {
              kind: "reserve",
              account: s.payer,
              token: s.token,
              expected,
              actual,
              agreementId: s.agreementId,
              version: s.version,
              orderRef: s.orderRef,
              message: `order ${s.orderRef}: rebuilt ${s.closed ? "closed" : `reserve ${s.reserve} held until ${s.releaseAt}`}, the ledger stores ${actual === CLOSED_STATE ? "closed" : actual}`,
            },
            { count: s.events.length, recent: s.events },
          );
        }
      },
    });
  }

  for (const pool of state.pools.values()) {
    checked.pools += 1;
    reads.push({
      call: poolOf([pool.agreementId, BigInt(pool.version), pool.token]),
      check: (result) => {
        const distributable = word(result, 0);
        const dust = word(result, 1);
        const base = { account: ledger, token: pool.token, agreementId: pool.agreementId, version: pool.version };
        const where = `pool of agreement ${pool.agreementId} version ${pool.version} in ${pool.token}`;
        if (distributable !== pool.distributable) {
          differ({ ...base, kind: "pool-distributable", expected: pool.distributable, actual: distributable, message: `${where}: distributable rebuilt ${pool.distributable}, chain ${distributable}` }, pool.provenance);
        }
        if (dust !== pool.dust) {
          differ({ ...base, kind: "pool-dust", expected: pool.dust, actual: dust, message: `${where}: dust rebuilt ${pool.dust}, chain ${dust}` }, pool.provenance);
        }
      },
    });
    const parties = state.termsOf(pool.agreementId, pool.version)?.terms.parties ?? [];
    pool.released.forEach((expected, partyIndex) => {
      checked.released += 1;
      reads.push({
        call: releasedOf([pool.agreementId, BigInt(pool.version), pool.token, BigInt(partyIndex)]),
        check: (result) => {
          const actual = word(result, 0);
          if (actual !== expected) {
            const party = parties[partyIndex];
            differ(
              {
                kind: "released",
                account: party && party.agreementId === 0n ? party.account : ledger,
                token: pool.token,
                expected,
                actual,
                agreementId: pool.agreementId,
                version: pool.version,
                partyIndex,
                message: `released to party ${partyIndex} of agreement ${pool.agreementId} version ${pool.version} in ${pool.token}: rebuilt ${expected}, chain ${actual}`,
              },
              pool.provenance,
            );
          }
        },
      });
    });
  }

  // Reads: through the ledger's multicall in chunks, or one eth_call each if it has none.
  const ethCall = async (data: Hex): Promise<Hex> => {
    requests += 1;
    return (await request({ method: "eth_call", params: [{ to: ledger, data }, block] })) as Hex;
  };
  let mode: ReconcileResult["mode"] = "multicall";
  const chunks: Read[][] = [];
  for (let i = 0; i < reads.length; i += batchSize) chunks.push(reads.slice(i, i + batchSize));
  const runChunk = async (chunk: Read[]): Promise<void> => {
    if (mode === "multicall") {
      try {
        const data = encodeMulticall(multicallSelector, chunk.map((r) => r.call));
        const [results] = decodeAbiParameters([{ type: "bytes[]" }], await ethCall(data));
        results.forEach((result, i) => chunk[i]!.check(result));
        return;
      } catch (error) {
        if (!/revert|execution|not found|invalid opcode|function selector/i.test(String((error as Error).message))) throw error;
        mode = "single-calls";
      }
    }
    for (const read of chunk) read.check(await ethCall(read.call));
  };
  for (let i = 0; i < chunks.length; i += concurrency) {
    await Promise.all(chunks.slice(i, i + concurrency).map(runChunk));
  }

  // Holdings: what the ledger really holds of each token, against the rebuilt total.
  for (const token of tokens) {
    checked.holdings += 1;
    const totals = state.totalsOf(token);
    let actual: bigint;
    requests += 1;
    if (token === zeroAddress) {
      actual = BigInt((await request({ method: "eth_getBalance", params: [ledger, block] })) as Hex);
    } else {
      const data = staticCall("0x70a08231", [ledger]); // balanceOf(address)
      actual = word((await request({ method: "eth_call", params: [{ to: token, data }, block] })) as Hex, 0);
    }
    if (actual !== totals.holdings) {
      differ(
        {
          kind: "holdings",
          account: ledger,
          token,
          expected: totals.holdings,
          actual,
          message: `the ledger holds ${actual} of ${token}; events give ${totals.holdings} (balances ${totals.balances} + reserves ${totals.heldReserves} + undistributed ${totals.undistributed})`,
        },
        totals.provenance,
      );
    }
  }
  return { blockNumber: parameters.blockNumber, checked, differences, requests, mode };
}
