/**
 * The auditor's state machine: rebuilds agreements, negotiations, pools, reserve lots, order
 * references, risk counters and balances from decoded Concord events alone (DESIGN.md law 8),
 * checking the ledger's laws after every event. The state and its bookkeeping are
 * ./state.ts; each contract's events are applied by ./registry.ts, ./hub.ts and ./ledger.ts.
 */
import type { ConcordLog } from "../types";
import { applyHub } from "./hub";
import { applyLedger, checkLotsAnnounced } from "./ledger";
export { settledTwice } from "./ledger";
import { applyRegistry } from "./registry";
import { ReplayBook } from "./state";

export * from "./state";
export { entriesHashOf, lotIdOf, storedLotHash, wasmKeccak, type Keccak } from "./lots";

/** Thrown by {ReplayState.apply} only for events out of order; law violations are collected, not thrown. */
export class ReplayOrderError extends Error {
  override name = "ReplayOrderError";
}

/**
 * The rebuilt state of one Concord deployment. Feed it every decoded log in chain order with
 * {apply} (or {applyBatch}), call {finish} at the end; read the state and {violations} at any point.
 *
 * @example
 * const state = new ReplayState();
 * for await (const batch of fetchConcordLogs(client, { addresses, fromBlock: 0n })) state.applyBatch(batch.logs);
 * state.finish();
 * if (state.violations.length > 0) console.log(state.violations);
 */
export class ReplayState extends ReplayBook {
  /** Applies every log of a batch, in order. */
  applyBatch(logs: readonly ConcordLog[]): void {
    for (const log of logs) this.apply(log);
  }

  /** Applies one decoded log, then checks the laws it could affect. */
  apply(log: ConcordLog): void {
    const last = this.lastEvent;
    if (
      last &&
      (log.blockNumber < last.blockNumber ||
        (log.blockNumber === last.blockNumber &&
          (log.transactionIndex < last.transactionIndex || (log.transactionIndex === last.transactionIndex && log.logIndex <= last.logIndex))))
    ) {
      throw new ReplayOrderError(`event ${log.blockNumber}:${log.transactionIndex}:${log.logIndex} arrived after ${last.blockNumber}:${last.transactionIndex}:${last.logIndex}`);
    }
    if (last && this.pendingLots.length > 0 && last.transactionHash !== log.transactionHash) checkLotsAnnounced(this, last);
    this.lastEvent = { blockNumber: log.blockNumber, transactionIndex: log.transactionIndex, logIndex: log.logIndex, transactionHash: log.transactionHash, eventName: log.eventName };
    this.eventsApplied += 1;
    this.eventCounts.set(log.eventName, (this.eventCounts.get(log.eventName) ?? 0) + 1);
    this.lastCredits = [];
    if (log.contract === "registry") applyRegistry(this, log);
    else if (log.contract === "negotiationHub") applyHub(this, log);
    else applyLedger(this, log);
  }

  /** Ends the replay: reserves of the last transaction that no {ReservesHeld} announced are a violation. */
  finish(): void {
    if (this.lastEvent && this.pendingLots.length > 0) checkLotsAnnounced(this, this.lastEvent);
  }
}
