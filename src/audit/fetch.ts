/**
 * Reads every Concord log from a start block to a target block with raw `eth_getLogs`, in
 * adaptive block ranges fetched a few at a time, and decodes each (static events sliced
 * directly, the others with viem's `decodeEventLog`). Logs come out as a stream of batches
 * ordered by (block number, transaction index, log index); a log from a Concord address that
 * does not decode is an error, never dropped.
 */
import { decodeEventLog, getAddress, toEventSelector, type Abi, type AbiEvent, type Address, type Client, type Hex } from "viem";
import { engineResponseTextOf } from "../sdk/transports";
import { abiOf, eventsOf, optionalAbiOf, type ContractRole } from "./abis";
import { keepShape, shapesGeneration } from "./shapes";

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
  /** First block range tried (alone; the answers size the next ones). Default 8 blocks. */
  initialRange?: bigint | undefined;
  /** Largest block range. Default 100,000 blocks. */
  maxRange?: bigint | undefined;
  /**
   * Logs wanted per answer: the next range is sized from the latest answer's density so that it
   * holds about this many (see {fetchConcordLogs}). Default 2,000 (about 2 MB of JSON for ledger
   * events, well below the 10 MB answers viem's HTTP transport refuses).
   */
  targetLogs?: number | undefined;
  /** A range grows only while its answer has fewer logs than this. Default: `targetLogs`. */
  growBelow?: number | undefined;
  /** Ranges requested at once (answers are still yielded in block order). Default 3. */
  concurrency?: number | undefined;
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

const ZERO_WORD = "0".repeat(64);
const ADDRESS_PAD = ZERO_WORD.slice(40);
/** Zeros above the 12 low hex digits: a word that starts with them holds a value below 2^48. */
const ABOVE_48_BITS = ZERO_WORD.slice(12);
/** Zeros above the 13 low hex digits: a word that starts with them holds a value below 2^52. */
const ABOVE_52_BITS = ZERO_WORD.slice(13);

/** The value of each hex digit's character code below 128; -1 for any other character. */
const DIGIT_VALUE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < 16; i += 1) {
    table[i.toString(16).charCodeAt(0)] = i;
    table[i.toString(16).toUpperCase().charCodeAt(0)] = i;
  }
  return table;
})();

/** The number the hex digits text[from, to) spell (at most 13 of them: below 2^52), or -1 if any is not a hex digit. */
function hexNumber(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? DIGIT_VALUE[code]! : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** Whether text[from, to) is hex digits only. */
function isHexRun(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 128 || DIGIT_VALUE[code]! < 0) return false;
  }
  return true;
}

/**
 * Reads the 64-hex-digit word at `start` of `text` (a topic, or an event's data): words are read
 * where they are, without slicing each out, and small values are parsed as numbers. Each reader
 * checks every digit of its word, so a log is hex exactly when every reader accepts its word.
 */
type WordReader = (text: string, start: number) => unknown;

/**
 * Static decoders by event (its ABI item as JSON), shared by every {ConcordLogDecoder} in the
 * process: optimized code that inlined a decoder stays valid from one replay to the next (a
 * decoder made per replay dies with it, and code inlining it is deoptimized; src/audit/shapes.ts).
 */
const staticDecoders = new Map<string, StaticEventDecoder | undefined>();

function staticDecoderFor(event: AbiEvent): StaticEventDecoder | undefined {
  const key = JSON.stringify(event);
  if (!staticDecoders.has(key)) staticDecoders.set(key, makeStaticDecoder(event));
  return staticDecoders.get(key);
}

/**
 * A decoder for events whose parameters are all static value types (every ledger event): the
 * words are read straight from topics and data, and a log is refused unless every word is the
 * canonical encoding of its type (hex only, exact data length, values within their type, no high
 * bits in an address: stricter than viem, which reads an indexed address from its low 20 bytes
 * whatever the rest holds). Small integers (up to 48 bits) are read as numbers; larger ones below
 * 2^52 go through a number on their way to a bigint. Events with dynamic parameters (terms,
 * lists) go through `decodeEventLog`. test/audit/decode.ts checks on random logs that canonical
 * ones decode exactly as viem decodes them and every other one is refused.
 */
function makeStaticDecoder(event: AbiEvent): StaticEventDecoder | undefined {
  if (event.anonymous || event.inputs.length === 0 || !event.inputs.every((input) => STATIC_TYPE.test(input.type) && input.name)) return undefined;
  const wordAt = (text: string, start: number) => `0x${text.slice(start, start + 64)}`;
  const reader = (type: string): WordReader => {
    if (type === "address") {
      // Consecutive logs mostly name the same few accounts and tokens (a referrer, then none):
      // the last two are kept. Their digits were checked when they were first read.
      let digitsA = "";
      let addressA = "0x" as Address;
      let digitsB = "";
      let addressB = "0x" as Address;
      return (text, start) => {
        if (!text.startsWith(ADDRESS_PAD, start)) throw new StaticDecodeError(`address word ${wordAt(text, start)} has high bits set`);
        if (digitsA !== "" && text.startsWith(digitsA, start + 24)) return addressA;
        if (digitsB !== "" && text.startsWith(digitsB, start + 24)) {
          const digits = digitsB;
          const address = addressB;
          digitsB = digitsA;
          addressB = addressA;
          digitsA = digits;
          addressA = address;
          return address;
        }
        const digits = text.slice(start + 24, start + 64);
        const address = getAddressCached(`0x${digits}`); // refuses digits that are not hex (before they are kept)
        digitsB = digitsA;
        addressB = addressA;
        digitsA = digits;
        addressA = address;
        return address;
      };
    }
    if (type === "bool") {
      const high = ZERO_WORD.slice(1);
      return (text, start) => {
        if (text.startsWith(high, start)) {
          const last = text.charCodeAt(start + 63);
          if (last === 0x31) return true;
          if (last === 0x30) return false;
        }
        throw new StaticDecodeError(`bool word ${wordAt(text, start)} is not 0 or 1`);
      };
    }
    const bytes = /^bytes(\d+)$/.exec(type);
    if (bytes) {
      const size = Number(bytes[1]) * 2;
      const tail = ZERO_WORD.slice(size);
      return (text, start) => {
        if (!text.startsWith(tail, start + size)) throw new StaticDecodeError(`${type} word ${wordAt(text, start)} has bits past its size`);
        if (!isHexRun(text, start, start + size)) throw new StaticDecodeError(`${type} word ${wordAt(text, start)} is not hex`);
        return `0x${text.slice(start, start + size)}`;
      };
    }
    const [, sign, bitsText] = /^(uint|int)(\d*)$/.exec(type)!;
    const bits = Number(bitsText || 256);
    const max = 1n << BigInt(bits);
    const asNumber = bits <= 48;
    /** The whole word as a bigint; its digits are checked first (BigInt alone would accept trailing blanks). */
    const wordValue = (text: string, start: number): bigint => {
      if (!isHexRun(text, start, start + 64)) throw new StaticDecodeError(`${type} word ${wordAt(text, start)} is not hex`);
      return BigInt(wordAt(text, start));
    };
    if (sign === "uint") {
      if (asNumber) {
        const limit = 2 ** bits;
        return (text, start) => {
          // 12 low hex digits hold 48 bits; every higher digit must be zero.
          const value = text.startsWith(ABOVE_48_BITS, start) ? hexNumber(text, start + 52, start + 64) : -1;
          if (!(value >= 0 && value < limit)) throw new StaticDecodeError(`${type} word ${wordAt(text, start)} is out of range or not hex`);
          return value;
        };
      }
      // Whole hex digits above the type's width must be zero (bits is a multiple of 8).
      const high = ZERO_WORD.slice(bits / 4);
      return (text, start) => {
        if (bits < 256 && !text.startsWith(high, start)) throw new StaticDecodeError(`${type} word ${wordAt(text, start)} is out of range`);
        if (text.startsWith(ABOVE_52_BITS, start)) {
          const value = hexNumber(text, start + 51, start + 64);
          if (value < 0) throw new StaticDecodeError(`${type} word ${wordAt(text, start)} is not hex`);
          return value === 0 ? 0n : BigInt(value); // no new bigint for the many zero fees and reserves
        }
        const value = wordValue(text, start);
        if (value >= max) throw new StaticDecodeError(`${type} word ${wordAt(text, start)} is out of range`);
        return value;
      };
    }
    const half = max >> 1n;
    const full = 1n << 256n;
    return (text, start) => {
      let value = wordValue(text, start);
      if (value >= 1n << 255n) value -= full;
      if (value >= half || value < -half) throw new StaticDecodeError(`${type} word ${wordAt(text, start)} is out of range`);
      return asNumber ? Number(value) : value;
    };
  };
  const indexed = event.inputs.filter((input) => input.indexed).map((input) => ({ name: input.name!, read: reader(input.type) }));
  const plain = event.inputs.filter((input) => !input.indexed).map((input) => ({ name: input.name!, read: reader(input.type) }));
  const dataLength = 2 + plain.length * 64;
  const topicCount = indexed.length + 1;
  const shape = `arguments of ${event.name}(${event.inputs.map((input) => `${input.type}${input.indexed ? " indexed" : ""} ${input.name}`).join(", ")})`;
  /** The {shapesGeneration} the first arguments decoded were offered under (src/audit/shapes.ts). */
  let offeredAt = -1;
  return (topics, data) => {
    if (topics.length !== topicCount) throw new StaticDecodeError(`${topics.length} topics, ${event.name} has ${topicCount}`);
    if (data.length !== dataLength) throw new StaticDecodeError(`data of ${(data.length - 2) / 2} bytes, ${event.name} has ${plain.length * 32}`);
    if (!data.startsWith("0x")) throw new StaticDecodeError(`data of ${event.name} does not start with 0x`);
    const args: Record<string, unknown> = {};
    for (let i = 0; i < indexed.length; i += 1) {
      const topic = topics[i + 1]!;
      if (topic.length !== 66 || !topic.startsWith("0x")) throw new StaticDecodeError(`topic ${i + 1} of ${event.name} is not one 0x-prefixed word`);
      args[indexed[i]!.name] = indexed[i]!.read(topic, 2);
    }
    // Every reader checks the digits of its word: together they cover all of the data.
    for (let i = 0; i < plain.length; i += 1) args[plain[i]!.name] = plain[i]!.read(data, 2 + i * 64);
    if (offeredAt !== shapesGeneration()) {
      offeredAt = shapesGeneration();
      keepShape(shape, () => args);
    }
    return args;
  };
}

/** Decodes Concord logs: a topic0 -> event map per contract, built once per deployment. */
export class ConcordLogDecoder {
  private readonly byRole = new Map<ContractRole, Map<string, DecoderEntry>>();
  /** Contract role by address, under the address as given and as the node spells it. */
  private readonly roleByAddress = new Map<string, ContractRole>();
  private readonly addresses_: Address[] = [];
  private lastBlockText = "";
  /** The last log's address and topic0 as the node spelled them, and what they resolved to. */
  private lastAddressText = "";
  private lastRole: ContractRole = "ledger";
  private lastAddress = "0x" as Address;
  private lastTopic0 = "";
  private lastEntry: DecoderEntry | undefined;
  private lastBlock = 0n;
  /**
   * The last block and transaction hash, as the first log of each spelled them: the logs of one
   * transaction share one string instead of each keeping its own copy (every settlement's
   * events keep the hash; 20,000 settlements 200 to a transaction share 100 strings).
   */
  private lastBlockHash = "";
  private lastTransactionHash = "";

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
      this.addresses_.push(getAddress(address));
      const abi = role === "negotiationHub" ? optionalAbiOf(role) : abiOf(role);
      if (!abi) continue;
      const topics = new Map<string, DecoderEntry>();
      for (const event of eventsOf(abi)) {
        const topic = toEventSelector(event);
        // The same event signature may be declared by two contracts; the address decides the role.
        if (!topics.has(topic)) topics.set(topic, { event, abi: [event], role, fast: options.viemOnly ? undefined : staticDecoderFor(event) });
      }
      this.byRole.set(role, topics);
    }
    keepShape("ConcordLogDecoder", () => new ConcordLogDecoder(addresses, options)); // see src/audit/shapes.ts
  }

  /** The addresses `eth_getLogs` filters on. */
  get addressList(): Address[] {
    return [...this.addresses_];
  }

  decode(raw: RawLog): ConcordLog {
    // Logs of one block share their block number: parse it once.
    let blockNumber: bigint;
    if (raw.blockNumber === this.lastBlockText) {
      blockNumber = this.lastBlock;
    } else {
      blockNumber = BigInt(raw.blockNumber);
      this.lastBlockText = raw.blockNumber;
      this.lastBlock = blockNumber;
    }
    const transactionIndex = Number(raw.transactionIndex);
    const logIndex = Number(raw.logIndex);
    const topic0 = raw.topics[0] ?? "0x";
    // Runs of logs come from one contract and are mostly one event: a string comparison with the
    // last log's spelling stands in for the map lookups.
    if (raw.address !== this.lastAddressText) {
      let role = this.roleByAddress.get(raw.address);
      if (!role) {
        role = this.roleByAddress.get(raw.address.toLowerCase());
        if (!role) {
          throw new UndecodableLogError(`log ${blockNumber}:${logIndex} comes from ${raw.address}, not a Concord address`, { blockNumber, transactionIndex, logIndex, address: raw.address, topic0 });
        }
        this.roleByAddress.set(raw.address, role);
      }
      this.lastAddressText = raw.address;
      this.lastRole = role;
      this.lastAddress = getAddressCached(raw.address);
      this.lastTopic0 = "";
    }
    const role = this.lastRole;
    let entry = topic0 === this.lastTopic0 ? this.lastEntry : undefined;
    if (!entry) {
      const topics = this.byRole.get(role);
      entry = topics?.get(topic0) ?? topics?.get(topic0.toLowerCase());
      if (!entry) {
        throw new UndecodableLogError(
          `log ${blockNumber}:${logIndex} from the ${role} at ${raw.address} has unknown topic0 ${topic0}`,
          { blockNumber, transactionIndex, logIndex, address: raw.address, topic0 },
        );
      }
      this.lastTopic0 = topic0;
      this.lastEntry = entry;
    }
    let args: unknown;
    try {
      args = entry.fast
        ? entry.fast(raw.topics, raw.data)
        : decodeEventLog({ abi: entry.abi, topics: raw.topics as [Hex, ...Hex[]], data: raw.data, strict: true }).args;
    } catch (cause) {
      throw new UndecodableLogError(
        `log ${blockNumber}:${logIndex} from the ${role} does not decode as ${entry.event.name}`,
        { blockNumber, transactionIndex, logIndex, address: raw.address, topic0 },
        { cause },
      );
    }
    if (raw.blockHash !== this.lastBlockHash) this.lastBlockHash = raw.blockHash;
    if (raw.transactionHash !== this.lastTransactionHash) this.lastTransactionHash = raw.transactionHash;
    return {
      blockNumber,
      blockHash: this.lastBlockHash as Hex,
      transactionIndex,
      logIndex,
      transactionHash: this.lastTransactionHash as Hex,
      address: this.lastAddress,
      contract: role,
      eventName: entry.event.name,
      args: args as Record<string, unknown>,
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

function byPosition(a: ConcordLog, b: ConcordLog): number {
  if (a.blockNumber !== b.blockNumber) return a.blockNumber < b.blockNumber ? -1 : 1;
  if (a.transactionIndex !== b.transactionIndex) return a.transactionIndex - b.transactionIndex;
  return a.logIndex - b.logIndex;
}

/**
 * Lets answers that came in meanwhile be handled (the next ranges, a caller's own reads): a
 * consumer's `for await` alone never leaves the microtask queue.
 */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The most logs any one block has in an answer (counted in runs: answers come in block order). */
function busiestBlock(logs: readonly RawLog[]): number {
  let peak = 0;
  let run = 0;
  let block = "";
  for (const log of logs) {
    if (log.blockNumber === block) run += 1;
    else {
      block = log.blockNumber;
      run = 1;
    }
    if (run > peak) peak = run;
  }
  return peak;
}

/** Whether raw logs come in (block, transaction, log) order, as nodes send them. */
function isRawOrdered(logs: readonly RawLog[]): boolean {
  let block = -1;
  let tx = -1;
  let index = -1;
  for (const log of logs) {
    const b = Number(log.blockNumber);
    const t = Number(log.transactionIndex);
    const i = Number(log.logIndex);
    if (!(b > block || (b === block && (t > tx || (t === tx && i > index))))) return false;
    block = b;
    tx = t;
    index = i;
  }
  return true;
}

/**
 * One range's answer: its raw logs, or (from Hardhat's in-process engine) the response text they
 * are parsed from when their turn comes, with the number of logs counted in it on arrival.
 */
type RangeAnswer = { fromBlock: bigint; toBlock: bigint; logs: RawLog[] } | { fromBlock: bigint; toBlock: bigint; text: string; count: number };

const BLOCK_KEY = '"blockNumber":"';
const EMPTY_RESULT = /^\{"result":\[\]\}$/;

/**
 * Counts the logs of an `eth_getLogs` response text and the most logs one block has, without
 * parsing it: every log has one `"blockNumber":"0x..."` member (hex values and member names
 * never contain that text otherwise), and logs come in block order. Undefined when the text
 * names no block number but is not an empty result (a format this does not know: parse it).
 */
export function scanLogsText(text: string): { count: number; peak: number } | undefined {
  let count = 0;
  let peak = 0;
  let run = 0;
  let previousStart = 0;
  let previousLength = -1;
  for (let at = text.indexOf(BLOCK_KEY); at >= 0; at = text.indexOf(BLOCK_KEY, at)) {
    const start = at + BLOCK_KEY.length;
    const end = text.indexOf('"', start);
    if (end < 0) return undefined;
    const length = end - start;
    let same = length === previousLength;
    for (let i = 0; same && i < length; i += 1) same = text.charCodeAt(start + i) === text.charCodeAt(previousStart + i);
    run = same ? run + 1 : 1;
    if (run > peak) peak = run;
    count += 1;
    previousStart = start;
    previousLength = length;
    at = end;
  }
  return count === 0 && !EMPTY_RESULT.test(text) ? undefined : { count, peak };
}

/** The raw logs of an answer kept as text, checked against the count taken when it came. */
function logsOf(answer: RangeAnswer): RawLog[] {
  if ("logs" in answer) return answer.logs;
  let logs: unknown;
  try {
    logs = (JSON.parse(answer.text) as { result?: unknown }).result;
  } catch (error) {
    throw new LogFetchError(`the engine's answer for blocks ${answer.fromBlock}..${answer.toBlock} is not JSON`, { cause: error });
  }
  if (!Array.isArray(logs) || logs.length !== answer.count) {
    throw new LogFetchError(
      `the engine's answer for blocks ${answer.fromBlock}..${answer.toBlock} holds ${Array.isArray(logs) ? logs.length : typeof logs} logs; ${answer.count} were counted when it came`,
    );
  }
  return logs as RawLog[];
}
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Streams every Concord log in [fromBlock, toBlock] as ordered, decoded batches.
 *
 * Ranges are sized from the answers so far: about `targetLogs` logs at the average density,
 * never more blocks than would hold twice that at the busiest block seen, and at most twice the
 * range just answered (so only a range that runs from quiet blocks into busy ones can hold more,
 * and it is at most twice as long as a quiet one; a provider's "too many results" splits it).
 * Up to `concurrency` ranges are requested at once; batches still come out strictly in block
 * order, at most `concurrency` answers wait in memory, and a larger answer is decoded and
 * yielded in batches of about `targetLogs`, cut between blocks. After every batch the generator
 * yields to the event loop, so that answers that came in meanwhile are taken in. A range the
 * provider calls too large is split in halves (the estimate shrinks with it); other errors are
 * retried with backoff; no range is ever skipped. Every `toBlock` is clamped to the head read
 * once.
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
  const responseText = engineResponseTextOf(client);
  const address = decoder.addressList;
  const head = parameters.head ?? BigInt((await request_({ method: "eth_blockNumber" })) as Hex);
  const confirmations = parameters.confirmations ?? 0n;
  let target = parameters.toBlock ?? head - confirmations;
  if (target > head) target = head;
  const maxRange = parameters.maxRange ?? 100_000n;
  let range = parameters.initialRange ?? 8n;
  if (range > maxRange) range = maxRange;
  if (range < 1n) range = 1n;
  const targetLogs = Math.max(1, parameters.targetLogs ?? 2_000);
  const growBelow = parameters.growBelow ?? targetLogs;
  const concurrency = Math.max(1, parameters.concurrency ?? 3);
  const maxAttempts = parameters.maxAttempts ?? 5;
  const retryDelayMs = parameters.retryDelayMs ?? 50;
  let rawLogs = 0;
  let requests = 0;
  /** The last block of the latest range learned from. */
  let learnedTo = -1n;

  /**
   * Sizes the next ranges from an answer: `logs` logs in blocks fromBlock..toBlock, at most `peak`
   * in one block. The average density sizes the range; the peak caps it, so that a range stays within
   * twice `targetLogs` even if every block were as busy as the busiest one seen (density can
   * jump, from a quiet deployment to batched settlements, between one answer and the next).
   */
  const learn = (fromBlock: bigint, toBlock: bigint, logs: number, peak: number) => {
    const blocks = toBlock - fromBlock + 1n;
    let next: bigint;
    if (logs === 0) next = range * 4n;
    else {
      next = (blocks * BigInt(targetLogs)) / BigInt(logs);
      const cap = BigInt(Math.floor((2 * targetLogs) / peak));
      if (next > cap) next = cap;
    }
    if (next > range) {
      // Grow like a slow start: at most twice the range just answered. The ranges in flight lie
      // between that answer and the next range, unseen; the logs may get dense anywhere there,
      // and the first range that reaches them is answered whole, however large. An answer for
      // blocks before one already learned from (answers arrive in any order) is older news: it
      // may shrink the range but not grow it back (a quiet range answered late would otherwise
      // undo what a busy one after it taught).
      if (logs >= growBelow || toBlock < learnedTo) next = range;
      else if (next > blocks * 2n) next = blocks * 2n;
    }
    if (toBlock > learnedTo) learnedTo = toBlock;
    if (next > maxRange) next = maxRange;
    if (next < 1n) next = 1n;
    range = next;
  };

  /**
   * Fetches [from, to] completely, in order: a part the provider calls too large is halved (and
   * the rest of the range continues at the learned size); other errors are retried with backoff.
   */
  const fetchRange = async (from: bigint, to: bigint): Promise<RangeAnswer[]> => {
    const answers: RangeAnswer[] = [];
    let start = from;
    let end = to;
    let attempt = 1;
    while (start <= to) {
      requests += 1;
      try {
        const params = [{ address, fromBlock: hex(start), toBlock: hex(end) }];
        // From Hardhat's in-process engine the answer waits as text (see engineResponseText).
        const text = responseText && (await responseText({ method: "eth_getLogs", params }));
        const scan = text === undefined ? undefined : scanLogsText(text);
        let answer: RangeAnswer;
        let peak: number;
        if (text !== undefined && scan !== undefined) {
          answer = { fromBlock: start, toBlock: end, text, count: scan.count };
          peak = scan.peak;
        } else {
          // Anything else (an error included) goes through the client, as everywhere.
          const logs = (await request_({ method: "eth_getLogs", params })) as RawLog[];
          if (!Array.isArray(logs)) throw new LogFetchError(`eth_getLogs for blocks ${start}..${end} answered ${typeof logs}`);
          answer = { fromBlock: start, toBlock: end, logs };
          peak = busiestBlock(logs);
        }
        const count = "logs" in answer ? answer.logs.length : answer.count;
        parameters.onRange?.({ kind: "ok", fromBlock: start, toBlock: end, logs: count });
        learn(start, end, count, peak);
        answers.push(answer);
        start = end + 1n;
        end = start + range - 1n > to ? to : start + range - 1n;
        attempt = 1;
      } catch (error) {
        if (error instanceof LogFetchError) throw error;
        if (isRangeTooLargeError(error) && end > start) {
          const half = (end - start + 1n) / 2n;
          if (range > half) range = half;
          parameters.onRange?.({ kind: "shrink", fromBlock: start, toBlock: end, nextRange: half, reason: shortReason(error) });
          end = start + half - 1n;
          attempt = 1;
          continue;
        }
        if (attempt >= maxAttempts) {
          throw new LogFetchError(`eth_getLogs for blocks ${start}..${end} failed ${attempt} times: ${shortReason(error)}`, { cause: error });
        }
        parameters.onRange?.({ kind: "retry", fromBlock: start, toBlock: end, attempt, reason: shortReason(error) });
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** (attempt - 1)));
        attempt += 1;
      }
    }
    return answers;
  };

  // Ranges in flight, in block order; each settles to its answers (never rejects: errors are kept).
  const inFlight: Promise<Settled<RangeAnswer[]>>[] = [];
  let next = parameters.fromBlock;
  let answered = false; // one range first: its answer sizes the ones requested alongside each other
  const fill = () => {
    while (inFlight.length < (answered ? concurrency : 1) && next <= target) {
      const from = next;
      const to = from + range - 1n > target ? target : from + range - 1n;
      next = to + 1n;
      inFlight.push(fetchRange(from, to).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })));
    }
  };

  fill();
  while (inFlight.length > 0) {
    const settled = await inFlight.shift()!;
    if (!settled.ok) throw settled.error;
    answered = true;
    fill(); // keep the pipeline full while this answer is decoded and consumed
    for (const answer of settled.value) {
      const raw: (RawLog | undefined)[] = logsOf(answer);
      if (raw.length > 0) keepShape("raw log", () => raw[0]!); // the node's log objects (src/audit/shapes.ts)
      if ("logs" in answer) answer.logs = [];
      else answer.text = "";
      const decode = (i: number): ConcordLog => {
        const log = raw[i]!;
        raw[i] = undefined; // the raw log is garbage once decoded
        if (log.removed) throw new LogFetchError(`provider returned a removed log at block ${BigInt(log.blockNumber)}`);
        const decoded = decoder.decode(log);
        if (decoded.blockNumber < answer.fromBlock || decoded.blockNumber > answer.toBlock) {
          throw new LogFetchError(`provider returned a log of block ${decoded.blockNumber} for the range ${answer.fromBlock}..${answer.toBlock}`);
        }
        return decoded;
      };
      rawLogs += raw.length;
      if (!isRawOrdered(raw as RawLog[])) {
        // Rare: decode it all, sort, and yield it whole.
        const logs = raw.map((_, i) => decode(i)).sort(byPosition);
        yield { fromBlock: answer.fromBlock, toBlock: answer.toBlock, logs, rawCount: logs.length };
        await nextTurn();
        continue;
      }
      // A large answer (a range that ran into busy blocks) goes out in batches of about
      // `targetLogs`, cut between blocks, so that only one batch is decoded at a time.
      let start = 0;
      let from = answer.fromBlock;
      for (;;) {
        let end = Math.min(raw.length, start + targetLogs);
        if (end < raw.length) {
          const block = raw[end - 1]!.blockNumber;
          while (end < raw.length && raw[end]!.blockNumber === block) end += 1;
        }
        const logs = new Array<ConcordLog>(end - start);
        for (let i = start; i < end; i += 1) logs[i - start] = decode(i);
        const to = end === raw.length ? answer.toBlock : logs[logs.length - 1]!.blockNumber;
        yield { fromBlock: from, toBlock: to, logs, rawCount: logs.length };
        await nextTurn();
        if (end === raw.length) break;
        start = end;
        from = to + 1n;
      }
    }
  }
  return { head, toBlock: target, rawLogs, requests };
}
