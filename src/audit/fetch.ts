/**
 * Streams every Concord log from a start block to a target block: `eth_getLogs` over adaptive
 * block ranges (src/audit/ranges.ts), a few in flight, decoded (src/audit/decode.ts) and yielded
 * as batches ordered by (block number, transaction index, log index). A log from a Concord
 * address that does not decode is an error, never dropped.
 */
import { numberToHex, type Hex } from "viem";
import { ConcordLogDecoder, type RawLog } from "./decode";
import { fetchRange, LogFetchError, RangeSizer, type RangeAnswer, type RangeOptions } from "./ranges";
import { TIMED_EVENTS, type ConcordAddresses, type ConcordLog, type LogBatch, type RpcClient } from "./types";

export { ConcordLogDecoder, UndecodableLogError, normalizeAddress, type RawLog } from "./decode";
export { isRangeTooLargeError, LogFetchError, type RangeEvent } from "./ranges";
export type { ConcordAddresses, ConcordLog, EventRef, LogBatch, RpcClient } from "./types";

type RawRequest = (args: { method: string; params?: unknown }) => Promise<unknown>;
/** The client's request function, untyped: the auditor sends plain JSON-RPC and checks the answers. */
export const rawRequest = (client: RpcClient): RawRequest => client.request as unknown as RawRequest;

export type FetchLogsParameters = RangeOptions & {
  addresses: ConcordAddresses;
  fromBlock: bigint;
  /** Last block to read; clamped to the head (read once). Default: head - confirmations. */
  toBlock?: bigint | undefined;
  /** Blocks below the head left unread when `toBlock` is not given. Default 0. */
  confirmations?: bigint | undefined;
  /** The head, when the caller already read it. */
  head?: bigint | undefined;
  /** Ranges requested at once (answers are still yielded in block order). Default 3. */
  concurrency?: number | undefined;
};

function byPosition(a: ConcordLog, b: ConcordLog): number {
  if (a.blockNumber !== b.blockNumber) return a.blockNumber < b.blockNumber ? -1 : 1;
  if (a.transactionIndex !== b.transactionIndex) return a.transactionIndex - b.transactionIndex;
  return a.logIndex - b.logIndex;
}

/**
 * Lets answers that came in meanwhile be handled: a consumer's `for await` alone never leaves
 * the microtask queue.
 */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The timestamp of a block, read once per block (few blocks need one: activations and terminations). */
export async function blockTimestamp(client: RpcClient, blockNumber: bigint): Promise<bigint> {
  const block = (await rawRequest(client)({ method: "eth_getBlockByNumber", params: [numberToHex(blockNumber), false] })) as { timestamp: Hex } | null;
  if (!block) throw new LogFetchError(`block ${blockNumber} is not on the chain`);
  return BigInt(block.timestamp);
}

/** Gives the events that need one ({TIMED_EVENTS}) their block's timestamp, when the node did not. */
export async function addTimestamps(client: RpcClient, logs: ConcordLog[]): Promise<void> {
  const times = new Map<bigint, bigint>();
  for (const log of logs) {
    if (!TIMED_EVENTS.has(log.eventName) || log.blockTimestamp !== undefined) continue;
    let time = times.get(log.blockNumber);
    if (time === undefined) times.set(log.blockNumber, (time = await blockTimestamp(client, log.blockNumber)));
    log.blockTimestamp = time;
  }
}

/** Decodes one answer, checking that the node kept to the range and sent no removed log. */
function decodeAnswer(decoder: ConcordLogDecoder, answer: RangeAnswer): ConcordLog[] {
  const logs = answer.logs.map((raw) => {
    if (raw.removed) throw new LogFetchError(`provider returned a removed log at block ${BigInt(raw.blockNumber)}`);
    const log = decoder.decode(raw);
    if (log.blockNumber < answer.fromBlock || log.blockNumber > answer.toBlock) {
      throw new LogFetchError(`provider returned a log of block ${log.blockNumber} for the range ${answer.fromBlock}..${answer.toBlock}`);
    }
    return log;
  });
  for (let i = 1; i < logs.length; i += 1) {
    if (byPosition(logs[i - 1]!, logs[i]!) >= 0) return logs.sort(byPosition); // rare: a node that does not sort
  }
  return logs;
}

/**
 * Streams every Concord log in [fromBlock, toBlock] as ordered, decoded batches. Up to
 * `concurrency` ranges are requested at once; batches come out strictly in block order, and after
 * every batch the generator yields to the event loop. A large answer goes out in batches of about
 * `targetLogs`, cut between blocks. Every `toBlock` is clamped to the head read once.
 *
 * @example
 * for await (const batch of fetchConcordLogs(client, { addresses, fromBlock: 0n })) {
 *   state.applyBatch(batch.logs);
 * }
 */
export async function* fetchConcordLogs(
  client: RpcClient,
  parameters: FetchLogsParameters,
): AsyncGenerator<LogBatch, { head: bigint; toBlock: bigint; rawLogs: number; requests: number }> {
  const decoder = new ConcordLogDecoder(parameters.addresses);
  const request = rawRequest(client);
  const address = decoder.addressList;
  const head = parameters.head ?? BigInt((await request({ method: "eth_blockNumber" })) as Hex);
  let target = parameters.toBlock ?? head - (parameters.confirmations ?? 0n);
  if (target > head) target = head;
  const sizer = new RangeSizer(parameters);
  const targetLogs = Math.max(1, parameters.targetLogs ?? 2_000);
  const concurrency = Math.max(1, parameters.concurrency ?? 3);
  let rawLogs = 0;
  let requests = 0;
  const getLogs = (from: bigint, to: bigint) => {
    requests += 1;
    return request({ method: "eth_getLogs", params: [{ address, fromBlock: numberToHex(from), toBlock: numberToHex(to) }] }) as Promise<RawLog[]>;
  };

  // Ranges in flight, in block order; each settles to its answers or its error (kept, not thrown early).
  type Settled = { ok: true; value: RangeAnswer[] } | { ok: false; error: unknown };
  const inFlight: Promise<Settled>[] = [];
  let next = parameters.fromBlock;
  let answered = false; // one range first: its answer sizes the ones requested alongside each other
  const fill = () => {
    while (inFlight.length < (answered ? concurrency : 1) && next <= target) {
      const from = next;
      const to = from + sizer.range - 1n > target ? target : from + sizer.range - 1n;
      next = to + 1n;
      inFlight.push(fetchRange(getLogs, sizer, from, to, parameters).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })));
    }
  };

  fill();
  while (inFlight.length > 0) {
    const settled = await inFlight.shift()!;
    if (!settled.ok) throw settled.error;
    answered = true;
    fill(); // keep the pipeline full while this answer is decoded and consumed
    for (const answer of settled.value) {
      const logs = decodeAnswer(decoder, answer);
      rawLogs += logs.length;
      await addTimestamps(client, logs);
      let start = 0;
      let from = answer.fromBlock;
      do {
        let end = Math.min(logs.length, start + targetLogs);
        while (end < logs.length && logs[end]!.blockNumber === logs[end - 1]!.blockNumber) end += 1;
        const batch = logs.slice(start, end);
        const to = end === logs.length ? answer.toBlock : batch[batch.length - 1]!.blockNumber;
        yield { fromBlock: from, toBlock: to, logs: batch, rawCount: batch.length };
        await nextTurn();
        start = end;
        from = to + 1n;
      } while (start < logs.length);
    }
  }
  return { head, toBlock: target, rawLogs, requests };
}
