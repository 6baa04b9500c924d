import type { ConcordContext } from "../client";
import { getConcordEvents, type ConcordEvent } from "./getConcordEvents";

export type WatchSettlementsParameters = {
  /** Called with each new Settled event, in chain order. */
  onSettlement: (event: ConcordEvent) => void;
  /** Called when a poll fails (the watcher keeps polling). */
  onError?: (error: unknown) => void;
  /** Start after this block (default: the head when the watcher starts). */
  fromBlock?: bigint;
  /** Milliseconds between polls (default 1,000). */
  pollingInterval?: number;
};

export type WatchSettlementsReturnType = () => void;

/**
 * Watches for new settlements by polling eth_getLogs over the blocks added since the last poll.
 * Returns a function that stops the watcher.
 *
 * @example
 * const unwatch = watchSettlements(context, { onSettlement: (e) => console.log("settled", e.args.orderRef) })
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
        const events = await getConcordEvents(context, {
          fromBlock: next,
          toBlock: head,
          contracts: ["ledger"],
          eventNames: ["Settled"],
        });
        next = head + 1n;
        for (const event of events) if (!stopped) parameters.onSettlement(event);
      }
    } catch (error) {
      parameters.onError?.(error);
    }
    if (!stopped) timer = setTimeout(poll, parameters.pollingInterval ?? 1_000);
  };
  void poll();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
