/**
 * `watch` follows the chain live: a sync, then another each time the node has a new block
 * (`eth_subscribe("newHeads")` when the client's transport is a WebSocket, polling otherwise,
 * both through viem's `watchBlockNumber`). Each step is an ordinary sync of the store (the sync
 * lock, reorganisations rolled back, every law checked after every event), carrying the rebuilt
 * state on so that a step replays only the new blocks. Stopping waits for the step in flight:
 * every batch commits with its cursor, so the store is left consistent for the next `sync`.
 */
import { createPublicClient, zeroAddress, type Address, type Hex, type Transport } from "viem";
import { quoteSplit } from "../sdk/split";
import { rawRequest } from "./fetch";
import type { ReplayState, Violation } from "./replay";
import { AuditStore } from "./store";
import { openStoreFor, sync, type AuditParameters, type ReorgReport, type SyncResult } from "./sync";
import type { ConcordLog } from "./types";

/** One settlement as it landed (the `Settled` event's figures). */
export type SettlementLanded = {
  blockNumber: bigint;
  transactionHash: Hex;
  logIndex: number;
  agreementId: bigint;
  version: number;
  token: Address;
  payer: Address;
  gross: bigint;
  referrer: Address;
  referralFee: bigint;
  reserve: bigint;
  orderRef: Hex;
};

export type WatchParameters = Omit<AuditParameters, "toBlock" | "onEvents" | "continueFrom"> & {
  /** The transport the client was made with: a `webSocket` one is subscribed to, any other is polled. */
  transport: Transport;
  /** Polling interval in milliseconds (and the longest wait between two checks over a WebSocket). Default 1,000. */
  intervalMs?: number | undefined;
  /** Stops the watch; the step in flight completes first. */
  signal: AbortSignal;
  /** After the first sync (the history so far), with its result. */
  onCaughtUp?: ((result: SyncResult) => void) | undefined;
  /** Every settlement replayed after the first sync, in chain order. */
  onSettlement?: ((settlement: SettlementLanded) => void) | undefined;
  onReorg?: ((reorg: ReorgReport) => void) | undefined;
  /** Every law violation, once. */
  onViolation?: ((violation: Violation) => void) | undefined;
  /** After every step, with its result. */
  onStep?: ((result: SyncResult) => void) | undefined;
  /** A step that failed (the node unreachable, say); the watch goes on with the next block. */
  onError?: ((error: unknown) => void) | undefined;
};

export type WatchResult = { last: SyncResult; steps: number; settlements: number; violations: Violation[] };

/**
 * One settlement as it landed: the Settled event (the payment as paid) with the referral fee and
 * reserve its version's terms give it (the split rule, src/sdk/split.ts; docs/contracts.md).
 */
export function settlementOf(log: ConcordLog, state: ReplayState): SettlementLanded {
  const a = log.args;
  const gross = a.gross as bigint;
  const referrer = a.referrer as Address;
  const terms = state.termsOf(a.agreementId as bigint, Number(a.version))?.terms;
  const split = terms && gross > 0n ? quoteSplit(gross, terms.referralFeeBps, terms.reserveBps, referrer !== zeroAddress) : { referralFee: 0n, reserve: 0n };
  return {
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    logIndex: log.logIndex,
    agreementId: a.agreementId as bigint,
    version: Number(a.version),
    token: a.token as Address,
    payer: a.payer as Address,
    gross,
    referrer,
    referralFee: split.referralFee,
    reserve: split.reserve,
    orderRef: a.orderRef as Hex,
  };
}

/**
 * Syncs, then follows the chain until `signal` aborts; returns the last step's result.
 *
 * @example
 * const controller = new AbortController();
 * process.once("SIGINT", () => controller.abort());
 * const transport = http("http://127.0.0.1:8545");
 * await watch({ client: createPublicClient({ transport }), transport, ledger, signal: controller.signal, onSettlement: console.log });
 */
export async function watch(parameters: WatchParameters): Promise<WatchResult> {
  const { signal } = parameters;
  const intervalMs = parameters.intervalMs ?? 1_000;
  const chainId = BigInt((await rawRequest(parameters.client)({ method: "eth_chainId" })) as Hex);
  // A watch always keeps a store: an in-memory one for dataDir null.
  const store = parameters.store ?? (await openStoreFor(parameters, chainId, parameters.ledger)) ?? (await AuditStore.open());
  const watcher = createPublicClient({ transport: parameters.transport, pollingInterval: intervalMs });
  const subscribes = watcher.transport.type === "webSocket";
  let caughtUp = false;
  let settlements = 0;
  let reported = 0;
  let steps = 0;
  const landed: ConcordLog[] = [];
  const step = async (previous: SyncResult | undefined): Promise<SyncResult> => {
    landed.length = 0;
    const result = await sync({
      ...parameters,
      store,
      continueFrom: previous,
      onEvents: (logs, _target, source) => {
        if (!caughtUp || source !== "chain") return;
        for (const log of logs) if (log.eventName === "Settled") landed.push(log);
      },
    });
    steps += 1;
    // Reported once the step has replayed them: their terms are in its state.
    for (const log of landed.splice(0)) {
      settlements += 1;
      parameters.onSettlement?.(settlementOf(log, result.state));
    }
    if (result.reorg) parameters.onReorg?.(result.reorg);
    // A replay from the store after a rollback finds the old violations again: report only new ones.
    if (result.reorg) reported = Math.min(reported, result.violations.length);
    for (const violation of result.violations.slice(reported)) parameters.onViolation?.(violation);
    reported = result.violations.length;
    parameters.onStep?.(result);
    return result;
  };

  try {
    let last = await step(undefined);
    caughtUp = true;
    parameters.onCaughtUp?.(last);
    let wake: (() => void) | undefined;
    let pending = false;
    const nudge = () => {
      pending = true;
      wake?.();
    };
    const unwatch = watcher.watchBlockNumber({
      onBlockNumber: nudge,
      onError: (error) => parameters.onError?.(error),
      // viem types `poll: false` only for a client whose transport type is known to be a WebSocket.
      ...((subscribes ? { poll: false } : { poll: true, pollingInterval: intervalMs }) as unknown as { poll: true }),
    });
    signal.addEventListener("abort", () => wake?.(), { once: true });
    try {
      while (!signal.aborted) {
        // A block, the interval (a subscription that missed one), or the stop.
        if (!pending) await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, intervalMs * (subscribes ? 5 : 1) + 50).unref();
        });
        wake = undefined;
        if (signal.aborted) break;
        pending = false;
        try {
          last = await step(last);
        } catch (error) {
          parameters.onError?.(error);
          // The store's cursor is where the last committed batch left it: replay from it next time.
          last = { ...last, toBlock: -2n };
        }
      }
    } finally {
      unwatch();
    }
    return { last, steps, settlements, violations: last.violations };
  } finally {
    if (!parameters.store) await store.close();
  }
}
