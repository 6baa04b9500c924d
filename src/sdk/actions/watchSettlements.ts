import type { ConcordContext } from "../client";
import { getConcordEvents, type TypedConcordEvent } from "./getConcordEvents";

/** A Settled event, typed, with its position in the chain. */
export type SettlementEvent = TypedConcordEvent<"Settled">;

export type WatchSettlementsParameters = {
  /** Called with each new Settled event, in chain order. */
  onSettlement: (event: SettlementEvent) => void;
  /** Called when a poll fails (an RpcError, say); the watcher keeps polling. */
  onError?: (error: unknown) => void;
  /** First block to report (default: the block after the head when the watcher starts). */
  fromBlock?: bigint;
  /** Milliseconds between polls (default 1,000). */
  pollingInterval?: number;
  /** Blocks per eth_getLogs request when catching up (default 5,000). */
  chunkSize?: bigint;
};
/** Stops the watcher: no callback runs after it returns. */
export type WatchSettlementsReturnType = () => void;
export type WatchSettlementsErrorType = never;

/**
 * Watches for new settlements by polling: each poll reads the head and the Settled events of the
 * blocks added since the last poll (chunked, as {@link getConcordEvents}), so none is missed or
 * reported twice, even across polls that fail. Works over any transport (no filters or
 * subscriptions needed). Returns a function that stops the watcher.
 *
 * @param context - Any context.
 * @param parameters - {@link WatchSettlementsParameters}
 * @returns `unwatch`.
 *
 * @example
 * import { watchSettlements } from "./src/sdk"
 * const unwatch = watchSettlements(context, { onSettlement: (e) => console.log("settled", e.args.orderRef, e.args.gross) })
 * // later: unwatch()
 */
export function watchSettlements(context: ConcordContext, parameters: WatchSettlementsParameters): WatchSettlementsReturnType {
  let stopped = false;
  let next: bigint | undefined = parameters.fromBlock;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    try {
      const head = await context.publicClient.getBlockNumber({ cacheTime: 0 });
      if (next === undefined) next = head + 1n;
      if (head >= next) {
        const events = await getConcordEvents(context, { fromBlock: next, toBlock: head, chunkSize: parameters.chunkSize, events: ["Settled"] });
        next = head + 1n;
        for (const event of events) if (!stopped) parameters.onSettlement(event);
      }
    } catch (error) {
      if (!stopped) parameters.onError?.(error);
    }
    if (!stopped) timer = setTimeout(poll, parameters.pollingInterval ?? 1_000);
  };
  void poll();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
