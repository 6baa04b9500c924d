/**
 * How `eth_getLogs` ranges are sized and retried: the next range is sized from the answers so
 * far, a range the provider calls too large is halved, other errors are retried with backoff,
 * and no range is ever skipped. The streaming and decoding are src/audit/fetch.ts's.
 */
import type { RawLog } from "./decode";

export type RangeEvent =
  | { kind: "ok"; fromBlock: bigint; toBlock: bigint; logs: number }
  | { kind: "shrink"; fromBlock: bigint; toBlock: bigint; nextRange: bigint; reason: string }
  | { kind: "retry"; fromBlock: bigint; toBlock: bigint; attempt: number; reason: string };

/** Thrown when the provider keeps failing a range that cannot shrink further, or answers inconsistently. */
export class LogFetchError extends Error {
  override name = "LogFetchError";
}

/**
 * Providers' messages for "the range or the answer is too large" (Alchemy, Infura, QuickNode,
 * Ankr, geth, Erigon, Nethermind, Besu, Hardhat, anvil): halving the range helps with these.
 */
const RANGE_TOO_LARGE =
  /too many (results|logs)|range (is )?too (large|wide|big)|block range|limit exceeded|-32005|response size|size exceeded|exceeded the size|size limit|body too large|more than \d+ (results|logs)|query returned more|exceeds? (the )?(max|limit)|too large/i;

/** Whether an error says the range or answer was too large (so halving the range helps). */
export function isRangeTooLargeError(error: unknown): boolean {
  return RANGE_TOO_LARGE.test(errorText(error));
}

/** An error's messages, details and codes down its cause chain. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 8; depth += 1) {
    if (typeof current !== "object") {
      parts.push(String(current));
      break;
    }
    const e = current as { message?: unknown; details?: unknown; code?: unknown; cause?: unknown };
    if (typeof e.message === "string") parts.push(e.message);
    if (typeof e.details === "string") parts.push(e.details);
    if (e.code !== undefined) parts.push(String(e.code));
    current = e.cause;
  }
  return parts.join(" | ");
}

const shortReason = (error: unknown): string => errorText(error).slice(0, 200);

export type RangeOptions = {
  /** First block range tried (alone; the answers size the next ones). Default 8 blocks. */
  initialRange?: bigint | undefined;
  /** Largest block range. Default 100,000 blocks. */
  maxRange?: bigint | undefined;
  /** Logs wanted per answer. Default 2,000 (about 2 MB of JSON for ledger events). */
  targetLogs?: number | undefined;
  /** A range grows only while its answer has fewer logs than this. Default: `targetLogs`. */
  growBelow?: number | undefined;
  /** Attempts per range on errors that are not about the range's size. Default 5. */
  maxAttempts?: number | undefined;
  /** Milliseconds before the first retry (doubles each time). Default 50. */
  retryDelayMs?: number | undefined;
  /** Called for every request outcome (for progress bars and tests). */
  onRange?: ((event: RangeEvent) => void) | undefined;
};

/** The most logs any one block has in an answer (answers come in block order). */
function busiestBlock(logs: readonly RawLog[]): number {
  let peak = 0;
  let run = 0;
  let block = "";
  for (const log of logs) {
    run = log.blockNumber === block ? run + 1 : 1;
    block = log.blockNumber;
    if (run > peak) peak = run;
  }
  return peak;
}

/**
 * Sizes ranges from the answers: about `targetLogs` logs at the average density, never more
 * blocks than would hold twice that at the busiest block seen, and at most twice the range just
 * answered (a slow start: the logs may get dense anywhere past an answer). An answer for blocks
 * before one already learned from (answers arrive in any order) may shrink the range but not
 * grow it back.
 */
export class RangeSizer {
  range: bigint;
  private readonly maxRange: bigint;
  private readonly targetLogs: number;
  private readonly growBelow: number;
  private learnedTo = -1n;

  constructor(options: RangeOptions) {
    this.maxRange = options.maxRange ?? 100_000n;
    this.targetLogs = Math.max(1, options.targetLogs ?? 2_000);
    this.growBelow = options.growBelow ?? this.targetLogs;
    this.range = this.clamp(options.initialRange ?? 8n);
  }

  private clamp(range: bigint): bigint {
    if (range > this.maxRange) return this.maxRange;
    return range < 1n ? 1n : range;
  }

  /** Learns from an answer of `logs` for blocks fromBlock..toBlock. */
  learn(fromBlock: bigint, toBlock: bigint, logs: readonly RawLog[]): void {
    const blocks = toBlock - fromBlock + 1n;
    let next: bigint;
    if (logs.length === 0) next = this.range * 4n;
    else {
      next = (blocks * BigInt(this.targetLogs)) / BigInt(logs.length);
      const cap = BigInt(Math.floor((2 * this.targetLogs) / busiestBlock(logs)));
      if (next > cap) next = cap;
    }
    if (next > this.range) {
      if (logs.length >= this.growBelow || toBlock < this.learnedTo) next = this.range;
      else if (next > blocks * 2n) next = blocks * 2n;
    }
    if (toBlock > this.learnedTo) this.learnedTo = toBlock;
    this.range = this.clamp(next);
  }

  /** Halves the range after a "too large" answer for a range of `blocks`. */
  shrinkTo(half: bigint): void {
    if (this.range > half) this.range = this.clamp(half);
  }
}

/** One answered part of a range. */
export type RangeAnswer = { fromBlock: bigint; toBlock: bigint; logs: RawLog[] };

/**
 * Fetches [from, to] completely, in order, with `getLogs(from, to)`: a part the provider calls too
 * large is halved (and the rest continues at the learned size); other errors are retried with
 * backoff up to `maxAttempts`, then thrown as a {LogFetchError}.
 */
export async function fetchRange(
  getLogs: (from: bigint, to: bigint) => Promise<RawLog[]>,
  sizer: RangeSizer,
  from: bigint,
  to: bigint,
  options: RangeOptions,
): Promise<RangeAnswer[]> {
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 50;
  const answers: RangeAnswer[] = [];
  let start = from;
  let end = to;
  let attempt = 1;
  while (start <= to) {
    try {
      const logs = await getLogs(start, end);
      if (!Array.isArray(logs)) throw new LogFetchError(`eth_getLogs for blocks ${start}..${end} answered ${typeof logs}`);
      options.onRange?.({ kind: "ok", fromBlock: start, toBlock: end, logs: logs.length });
      sizer.learn(start, end, logs);
      answers.push({ fromBlock: start, toBlock: end, logs });
      start = end + 1n;
      end = start + sizer.range - 1n > to ? to : start + sizer.range - 1n;
      attempt = 1;
    } catch (error) {
      if (error instanceof LogFetchError) throw error;
      if (isRangeTooLargeError(error) && end > start) {
        const half = (end - start + 1n) / 2n;
        sizer.shrinkTo(half);
        options.onRange?.({ kind: "shrink", fromBlock: start, toBlock: end, nextRange: half, reason: shortReason(error) });
        end = start + half - 1n;
        attempt = 1;
        continue;
      }
      if (attempt >= maxAttempts) {
        throw new LogFetchError(`eth_getLogs for blocks ${start}..${end} failed ${attempt} times: ${shortReason(error)}`, { cause: error });
      }
      options.onRange?.({ kind: "retry", fromBlock: start, toBlock: end, attempt, reason: shortReason(error) });
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** (attempt - 1)));
      attempt += 1;
    }
  }
  return answers;
}
