/**
 * Reconciles a rebuilt state with the chain at one block: plan every word the events determine
 * (./plan.ts), read them through the ledger's `extsload` and the token balances (../reads.ts),
 * and compare (./compare.ts). Before trusting the words, a sample is read through the ledger's
 * own views as well: a ledger whose layout is not the one pinned here is refused, never misread.
 */
import { getAddress, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abis";
import { ChainReader, balanceSlot, nextSlot, poolSlot } from "../reads";
import type { ReplayState } from "../replay";
import type { RpcClient } from "../types";
import { compareHolding, compareWord, type Difference } from "./compare";
import { planReconciliation, type OrderReferenceReads, type Plan } from "./plan";

export type { AmountFormat, Difference, DifferenceKind, HoldingParts, ValueKind } from "./compare";
export { differenceMessage, differenceValue } from "./compare";
export type { OrderReferenceReads, Plan, PlannedHolding, PlannedWord } from "./plan";
export { planReconciliation } from "./plan";

export type ReconcileParameters = {
  ledger: Address;
  /** The block every read is pinned to (the replay's target block). */
  blockNumber: bigint;
  /** Storage words per `extsload` call. Default 2,000 (about 4.5M gas of cold reads). */
  chunkSize?: number | undefined;
  /** Requests in flight at once. Default 4. */
  concurrency?: number | undefined;
  /** Which order-reference state is read (see {OrderReferenceReads}). Default "reserves". */
  orderReferences?: OrderReferenceReads | undefined;
};

export type ReconcileResult = {
  blockNumber: bigint;
  checked: Plan["checked"];
  orderReferences: OrderReferenceReads;
  differences: Difference[];
  /** JSON-RPC requests made. */
  requests: number;
};

/** Thrown when the ledger's views disagree with its storage words as this auditor reads them. */
export class StorageLayoutError extends Error {
  override name = "StorageLayoutError";
}

/** Reads one credited balance and one pool both ways: through `extsload` and through the views. */
async function checkLayout(reader: ChainReader, state: ReplayState): Promise<void> {
  const balance = [...state.balances.values()].find((b) => b.credited);
  const pool = [...state.pools.values()][0];
  const checks: Promise<void>[] = [];
  if (balance) {
    checks.push(
      Promise.all([reader.storage([balanceSlot(balance.account, balance.token)]), reader.call(reader.ledger, settlementLedgerAbi, "balanceOf", [balance.account, balance.token])]).then(([[word], view]) => {
        const fromWord = BigInt(word!) === 0n ? 0n : BigInt(word!) - 1n;
        if (fromWord !== view) throw new StorageLayoutError(`balance of ${balance.account} in ${balance.token}: storage word ${word} but balanceOf ${String(view)}`);
      }),
    );
  }
  if (pool) {
    const slot = poolSlot(pool.agreementId, pool.version, pool.token);
    checks.push(
      Promise.all([reader.storage([slot, nextSlot(slot)]), reader.call(reader.ledger, settlementLedgerAbi, "pool", [pool.agreementId, pool.version, pool.token])]).then(([words, view]) => {
        const v = view as { total: bigint; held: bigint; distributed: bigint };
        const [first, second] = words.map((w: Hex) => BigInt(w)) as [bigint, bigint];
        if ((first & ((1n << 128n) - 1n)) !== v.total || first >> 128n !== v.held || second !== v.distributed) {
          throw new StorageLayoutError(`pool of agreement ${pool.agreementId} version ${pool.version}: storage words ${words.join(", ")} but pool() ${v.total}/${v.held}/${v.distributed}`);
        }
      }),
    );
  }
  await Promise.all(checks);
}

/**
 * Compares a rebuilt state with the chain at `blockNumber` and lists every difference, in the
 * plan's order (balances, pools, lots, risk counters, bitmaps, holdings).
 *
 * @example
 * const result = await reconcile(client, state, { ledger, blockNumber: 1_234n });
 * if (result.differences.length > 0) process.exitCode = 4;
 */
export async function reconcile(client: RpcClient, state: ReplayState, parameters: ReconcileParameters): Promise<ReconcileResult> {
  const ledger = getAddress(parameters.ledger);
  const orderReferences = parameters.orderReferences ?? "reserves";
  const reader = new ChainReader(client, ledger, parameters.blockNumber, { concurrency: parameters.concurrency, chunkSize: parameters.chunkSize });
  const plan = planReconciliation(state, ledger, orderReferences);
  const [, words, held] = await Promise.all([
    checkLayout(reader, state),
    reader.storage(plan.words.map((w) => w.slot)),
    Promise.all(plan.holdings.map((h) => reader.holdings(h.token, ledger))),
  ]);
  const differences: Difference[] = [];
  plan.words.forEach((planned, i) => differences.push(...compareWord(planned, words[i]!)));
  plan.holdings.forEach((planned, i) => {
    const difference = compareHolding(planned, held[i]!);
    if (difference) differences.push(difference);
  });
  return { blockNumber: parameters.blockNumber, checked: plan.checked, orderReferences, differences, requests: reader.requests };
}
