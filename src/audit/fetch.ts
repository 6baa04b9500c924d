/**
 * Reads every Concord log from a start block to a target block with raw `eth_getLogs`, in
 * adaptive block ranges, and decodes each with viem's `decodeEventLog`. Logs come out as a
 * stream of batches ordered by (block number, transaction index, log index); a log from a
 * Concord address that does not decode is an error, never dropped.
 */
import { decodeEventLog, getAddress, toEventSelector, type Abi, type AbiEvent, type Address, type Client, type Hex } from "viem";
import { abiOf, eventsOf, optionalAbiOf, type ContractRole } from "./abis";

/** What the auditor needs of a viem client: JSON-RPC requests. */
export type RpcClient = Pick<Client, "request">;

type RawRequest = (args: { method: string; params?: unknown }) => Promise<unknown>;
/** The client's request function, untyped: the auditor sends raw JSON-RPC and checks answers itself. */
export const rawRequest = (client: RpcClient): RawRequest => client.request as unknown as RawRequest;

/** The addresses of one Concord deployment. */
export type ConcordAddresses = {
  registry: Address;
  ledger: Address;
  /** The negotiation hub, when the deployment has one. */
  negotiationHub?: Address | undefined;
};

/** Where an event sits in the chain; what a violation or a difference points at. */
export type EventRef = {
  blockNumber: bigint;
  transactionIndex: number;
  logIndex: number;
  transactionHash: Hex;
  eventName: string;
};

/** A decoded Concord log. */
export type ConcordLog = EventRef & {
  blockHash: Hex;
  address: Address;
  contract: ContractRole;
  args: Readonly<Record<string, unknown>>;
  /** The raw log, kept so that a store can persist and re-decode it exactly. */
  topics: readonly Hex[];
  data: Hex;
};

/** One block range's logs. */
export type LogBatch = {
  fromBlock: bigint;
  toBlock: bigint;
  logs: ConcordLog[];
  /** Logs the provider returned for this range (always equal to `logs.length`; undecodable logs throw). */
  rawCount: number;
};

export type FetchLogsParameters = {
  addresses: ConcordAddresses;
  fromBlock: bigint;
  /** Last block to read; clamped to the head (read once). Default: head - confirmations. */
  toBlock?: bigint | undefined;
  /** Blocks below the head left unread when `toBlock` is not given. Default 0. */
  confirmations?: bigint | undefined;
  /** The head, when the caller already read it. */
  head?: bigint | undefined;
  /** First block range tried. Default 2,000 blocks. */
  initialRange?: bigint | undefined;
  /** Largest block range. Default 100,000 blocks. */
  maxRange?: bigint | undefined;
  /** A range whose answer has fewer logs than this doubles the next range. Default 5,000. */
  growBelow?: number | undefined;
  /** Attempts per range on errors that are not about the range's size. Default 5. */
  maxAttempts?: number | undefined;
  /** Milliseconds before the first retry (doubles each time). Default 50. */
  retryDelayMs?: number | undefined;
  /** Called for every request outcome (for progress bars and tests). */
  onRange?: ((event: RangeEvent) => void) | undefined;
};

export type RangeEvent =
  | { kind: "ok"; fromBlock: bigint; toBlock: bigint; logs: number }
  | { kind: "shrink"; fromBlock: bigint; toBlock: bigint; nextRange: bigint; reason: string }
  | { kind: "retry"; fromBlock: bigint; toBlock: bigint; attempt: number; reason: string };

/** Thrown when a log from a Concord address cannot be decoded with that contract's ABI. */
export class UndecodableLogError extends Error {
  override name = "UndecodableLogError";
  constructor(
    message: string,
    readonly log: { blockNumber: bigint; transactionIndex: number; logIndex: number; address: string; topic0: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown when the provider keeps failing a range that cannot shrink further, or answers inconsistently. */
export class LogFetchError extends Error {
  override name = "LogFetchError";
}

type RawLog = {
  address: string;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: Hex;
  logIndex: Hex;
  removed?: boolean;
};

type DecoderEntry = { event: AbiEvent; abi: Abi; role: ContractRole; fast: StaticEventDecoder | undefined };

type StaticEventDecoder = (topics: readonly Hex[], data: Hex) => Record<string, unknown>;

/** Thrown by the static decoder for a word that is not a valid value of its type (strict decoding). */
class StaticDecodeError extends Error {
  override name = "StaticDecodeError";
}

const STATIC_TYPE = /^(uint|int)(\d*)$|^address$|^bool$|^bytes([1-9]|[12]\d|3[0-2])$/;

/**
 * A decoder for events whose parameters are all static value types (every ledger event): the
 * words are sliced straight from topics and data, with the same strict checks as viem
 * (exact data length, values within their type). Events with dynamic parameters (terms, lists)
 * go through `decodeEventLog`. test/audit/replay.ts checks both give identical results.
 */
function staticDecoderFor(event: AbiEvent): StaticEventDecoder | undefined {
  if (event.anonymous || !event.inputs.every((input) => STATIC_TYPE.test(input.type) && input.name)) return undefined;
  type Reader = (word: string) => unknown;
  const reader = (type: string): Reader => {
    if (type === "address") {
      return (word) => {
        if (!word.startsWith("000000000000000000000000")) throw new StaticDecodeError(`address word 0x${word} has high bits set`);
        return getAddressCached(`0x${word.slice(24)}`);
      };
    }
    if (type === "bool") {
      return (word) => {
        const value = BigInt(`0x${word}`);
        if (value > 1n) throw new StaticDecodeError(`bool word 0x${word} is not 0 or 1`);
        return value === 1n;
      };
    }
    const bytes = /^bytes(\d+)$/.exec(type);
    if (bytes) {
      const size = Number(bytes[1]) * 2;
      return (word) => {
        if (size < 64 && /[^0]/.test(word.slice(size))) throw new StaticDecodeError(`${type} word 0x${word} has bits past its size`);
        return `0x${word.slice(0, size)}`;
      };
    }
    const [, sign, bitsText] = /^(uint|int)(\d*)$/.exec(type)!;
    const bits = Number(bitsText || 256);
    const max = 1n << BigInt(bits);
    const asNumber = bits <= 48;
    if (sign === "uint") {
      return (word) => {
        const value = BigInt(`0x${word}`);
        if (value >= max) throw new StaticDecodeError(`${type} word 0x${word} is out of range`);
        return asNumber ? Number(value) : value;
      };
    }
    const half = max >> 1n;
    const full = 1n << 256n;
    return (word) => {
      let value = BigInt(`0x${word}`);
      if (value >= 1n << 255n) value -= full;
      if (value >= half || value < -half) throw new StaticDecodeError(`${type} word 0x${word} is out of range`);
      return asNumber ? Number(value) : value;
    };
  };
  const indexed = event.inputs.filter((input) => input.indexed).map((input) => ({ name: input.name!, read: reader(input.type) }));
  const plain = event.inputs.filter((input) => !input.indexed).map((input) => ({ name: input.name!, read: reader(input.type) }));
  const dataLength = 2 + plain.length * 64;
  return (topics, data) => {
    if (topics.length !== indexed.length + 1) throw new StaticDecodeError(`${topics.length} topics, ${event.name} has ${indexed.length + 1}`);
    if (data.length !== dataLength) throw new StaticDecodeError(`data of ${(data.length - 2) / 2} bytes, ${event.name} has ${plain.length * 32}`);
    const args: Record<string, unknown> = {};
    for (let i = 0; i < indexed.length; i += 1) args[indexed[i]!.name] = indexed[i]!.read(topics[i + 1]!.slice(2));
    for (let i = 0; i < plain.length; i += 1) args[plain[i]!.name] = plain[i]!.read(data.slice(2 + i * 64, 66 + i * 64));
    return args;
  };
}

/** Decodes Concord logs: a topic0 -> event map built once per deployment. */
export class ConcordLogDecoder {
  private readonly byTopic = new Map<string, DecoderEntry>();
  private readonly roleByAddress = new Map<string, ContractRole>();

  /** `viemOnly` decodes every event with `decodeEventLog` (the reference the fast path is tested against). */
  constructor(
    readonly addresses: ConcordAddresses,
    options: { viemOnly?: boolean } = {},
  ) {
    const roles: ContractRole[] = ["registry", "ledger"];
    if (addresses.negotiationHub) roles.push("negotiationHub");
    for (const role of roles) {
      const address = addresses[role];
      if (!address) continue;
      this.roleByAddress.set(address.toLowerCase(), role);
      const abi = role === "negotiationHub" ? optionalAbiOf(role) : abiOf(role);
      if (!abi) continue;
      for (const event of eventsOf(abi)) {
        const topic = toEventSelector(event);
        // The same event signature may be declared by two contracts; the address decides the role.
        if (!this.byTopic.has(`${role}:${topic}`)) {
          this.byTopic.set(`${role}:${topic}`, { event, abi: [event], role, fast: options.viemOnly ? undefined : staticDecoderFor(event) });
        }
      }
    }
  }

  /** The addresses `eth_getLogs` filters on. */
  get addressList(): Address[] {
    return [...this.roleByAddress.keys()].map((a) => getAddress(a));
  }

  decode(raw: RawLog): ConcordLog {
    const blockNumber = BigInt(raw.blockNumber);
    const transactionIndex = Number(raw.transactionIndex);
    const logIndex = Number(raw.logIndex);
    const topic0 = raw.topics[0] ?? "0x";
    const where = { blockNumber, transactionIndex, logIndex, address: raw.address, topic0 };
    const role = this.roleByAddress.get(raw.address.toLowerCase());
    if (!role) {
      throw new UndecodableLogError(`log ${blockNumber}:${logIndex} comes from ${raw.address}, not a Concord address`, where);
    }
    const entry = this.byTopic.get(`${role}:${topic0}`);
    if (!entry) {
      throw new UndecodableLogError(
        `log ${blockNumber}:${logIndex} from the ${role} at ${raw.address} has unknown topic0 ${topic0}`,
        where,
      );
    }
    let decoded: { eventName: string; args: unknown };
    try {
      decoded = entry.fast
        ? { eventName: entry.event.name, args: entry.fast(raw.topics, raw.data) }
        : decodeEventLog({ abi: entry.abi, topics: raw.topics as [Hex, ...Hex[]], data: raw.data, strict: true });
    } catch (cause) {
      throw new UndecodableLogError(
        `log ${blockNumber}:${logIndex} from the ${role} does not decode as ${entry.event.name}`,
        where,
        { cause },
      );
    }
    return {
      blockNumber,
      blockHash: raw.blockHash,
      transactionIndex,
      logIndex,
      transactionHash: raw.transactionHash,
      address: getAddressCached(raw.address),
      contract: role,
      eventName: decoded.eventName,
      args: decoded.args as Record<string, unknown>,
      topics: raw.topics,
      data: raw.data,
    };
  }
}

const checksummed = new Map<string, Address>();
function getAddressCached(address: string): Address {
  let out = checksummed.get(address);
  if (!out) {
    out = getAddress(address);
    checksummed.set(address, out);
  }
  return out;
}

/** Whether an error says the range or answer was too large (so halving the range helps). */
export function isRangeTooLargeError(error: unknown): boolean {
  const text = errorText(error);
  return /too many (results|logs)|range (is )?too (large|wide|big)|block range|limit exceeded|-32005|response size|size exceeded|exceeded the size|size limit|body too large|more than \d+ (results|logs)|query returned more|exceeds? (the )?(max|limit)|too large/i.test(
    text,
  );
}

function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 8; depth += 1) {
    if (typeof current === "object") {
      const e = current as { message?: unknown; details?: unknown; code?: unknown; cause?: unknown };
      if (typeof e.message === "string") parts.push(e.message);
      if (typeof e.details === "string") parts.push(e.details);
      if (e.code !== undefined) parts.push(String(e.code));
      current = e.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(" | ");
}

function shortReason(error: unknown): string {
  return errorText(error).slice(0, 200);
}

const hex = (n: bigint): Hex => `0x${n.toString(16)}`;

function byPosition(a: RawLog, b: RawLog): number {
  const blocks = BigInt(a.blockNumber) - BigInt(b.blockNumber);
  if (blocks !== 0n) return blocks < 0n ? -1 : 1;
  const txs = Number(a.transactionIndex) - Number(b.transactionIndex);
  if (txs !== 0) return txs;
  return Number(a.logIndex) - Number(b.logIndex);
}

function isOrdered(logs: RawLog[]): boolean {
  for (let i = 1; i < logs.length; i += 1) if (byPosition(logs[i - 1]!, logs[i]!) > 0) return false;
  return true;
}

type RangeOutcome = { ok: true; logs: RawLog[] } | { ok: false; error: unknown };

/**
 * Streams every Concord log in [fromBlock, toBlock] as ordered, decoded batches.
 *
 * The block range adapts: it halves when the provider says a range or answer is too large and
 * doubles while answers stay small; every `toBlock` is clamped to the head read once; no range
 * is skipped (a failing range is retried, then shrunk, never passed over). The next range is
 * requested while the current batch is consumed.
 *
 * @example
 * for await (const batch of fetchConcordLogs(client, { addresses, fromBlock: 0n })) {
 *   for (const log of batch.logs) replay.apply(log);
 * }
 */
export async function* fetchConcordLogs(
  client: RpcClient,
  parameters: FetchLogsParameters,
): AsyncGenerator<LogBatch, { head: bigint; toBlock: bigint; rawLogs: number; requests: number }> {
  const decoder = new ConcordLogDecoder(parameters.addresses);
  const request_ = rawRequest(client);
  const address = decoder.addressList;
  const head = parameters.head ?? BigInt((await request_({ method: "eth_blockNumber" })) as Hex);
  const confirmations = parameters.confirmations ?? 0n;
  let target = parameters.toBlock ?? head - confirmations;
  if (target > head) target = head;
  const maxRange = parameters.maxRange ?? 100_000n;
  let range = parameters.initialRange ?? 2_000n;
  if (range > maxRange) range = maxRange;
  if (range < 1n) range = 1n;
  const growBelow = parameters.growBelow ?? 5_000;
  const maxAttempts = parameters.maxAttempts ?? 5;
  const retryDelayMs = parameters.retryDelayMs ?? 50;
  let rawLogs = 0;
  let requests = 0;

  const request = (from: bigint, to: bigint): Promise<RangeOutcome> => {
    requests += 1;
    return request_({ method: "eth_getLogs", params: [{ address, fromBlock: hex(from), toBlock: hex(to) }] })
      .then(
        (logs) => ({ ok: true as const, logs: logs as RawLog[] }),
        (error: unknown) => ({ ok: false as const, error }),
      );
  };

  let from = parameters.fromBlock;
  if (from > target) return { head, toBlock: target, rawLogs, requests };
  let to = from + range - 1n > target ? target : from + range - 1n;
  let pending = request(from, to);
  let attempt = 1;

  while (from <= target) {
    const outcome = await pending;
    if (!outcome.ok) {
      if (isRangeTooLargeError(outcome.error) && to > from) {
        range = (to - from + 1n) / 2n;
        if (range < 1n) range = 1n;
        parameters.onRange?.({ kind: "shrink", fromBlock: from, toBlock: to, nextRange: range, reason: shortReason(outcome.error) });
        to = from + range - 1n;
        attempt = 1;
      } else {
        if (attempt >= maxAttempts) {
          throw new LogFetchError(
            `eth_getLogs for blocks ${from}..${to} failed ${attempt} times: ${shortReason(outcome.error)}`,
            { cause: outcome.error },
          );
        }
        parameters.onRange?.({ kind: "retry", fromBlock: from, toBlock: to, attempt, reason: shortReason(outcome.error) });
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** (attempt - 1)));
        attempt += 1;
      }
      pending = request(from, to);
      continue;
    }

    const raw = outcome.logs;
    parameters.onRange?.({ kind: "ok", fromBlock: from, toBlock: to, logs: raw.length });
    if (raw.length < growBelow && range < maxRange) {
      range *= 2n;
      if (range > maxRange) range = maxRange;
    }
    const batchFrom = from;
    const batchTo = to;
    from = to + 1n;
    attempt = 1;
    if (from <= target) {
      to = from + range - 1n > target ? target : from + range - 1n;
      pending = request(from, to); // prefetch while this batch is decoded and consumed
    }

    if (!isOrdered(raw)) raw.sort(byPosition);
    const logs = new Array<ConcordLog>(raw.length);
    for (let i = 0; i < raw.length; i += 1) {
      const log = raw[i]!;
      if (log.removed) throw new LogFetchError(`provider returned a removed log at block ${BigInt(log.blockNumber)}`);
      const decoded = decoder.decode(log);
      if (decoded.blockNumber < batchFrom || decoded.blockNumber > batchTo) {
        throw new LogFetchError(
          `provider returned a log of block ${decoded.blockNumber} for the range ${batchFrom}..${batchTo}`,
        );
      }
      logs[i] = decoded;
    }
    rawLogs += raw.length;
    yield { fromBlock: batchFrom, toBlock: batchTo, logs, rawCount: raw.length };
  }
  return { head, toBlock: target, rawLogs, requests };
}
