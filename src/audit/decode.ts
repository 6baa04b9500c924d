/**
 * Decodes Concord logs: by address to a contract, by topic0 to an event of its generated ABI.
 * Events with dynamic parameters (terms, participant lists) go through viem's `decodeEventLog`.
 * Events whose parameters are all static words (every ledger event: nearly all of a history) are
 * read word by word with viem's `hexToBigInt` and a checksummed-address cache: `decodeEventLog`
 * took 57 µs per `Settled` log (viem 2.57, measured on this machine over 50,000 logs; it hashes
 * the event signature on every call and checksums every address), more than the whole budget of
 * an event at 18,000 events/s over HTTP. The word reader is strict (canonical encodings only) and
 * test/audit/decode.ts checks it against `decodeEventLog` on random logs.
 */
import { decodeEventLog, getAddress, hexToBigInt, toEventSelector, type Abi, type AbiEvent, type Address, type Hex } from "viem";
import { abiOf, eventsOf } from "./abis";
import type { ConcordAddresses, ConcordLog, ContractRole } from "./types";

/** A log as `eth_getLogs` returns it. */
export type RawLog = {
  address: string;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: Hex;
  logIndex: Hex;
  blockTimestamp?: Hex | undefined;
  removed?: boolean;
};

/** Thrown when a log from a Concord address cannot be decoded with that contract's ABI. */
export class UndecodableLogError extends Error {
  override name = "UndecodableLogError";
  constructor(
    message: string,
    readonly log: { blockNumber: bigint; logIndex: number; address: string; topic0: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type WordReader = (word: Hex) => unknown;
type Decoder = { event: AbiEvent; role: ContractRole; decode: (topics: readonly Hex[], data: Hex) => Record<string, unknown> };

const STATIC = /^(uint\d*|address|bool|bytes32)$/;
const WORD = /^0x[0-9a-fA-F]{64}$/;

const checksummed = new Map<string, Address>();
/** One checksum per address spelling (viem's `getAddress` hashes the address every time). */
export function normalizeAddress(address: string): Address {
  let out = checksummed.get(address);
  if (!out) {
    out = getAddress(address);
    checksummed.set(address, out);
  }
  return out;
}

function wordReader(type: string): WordReader {
  if (type === "address") {
    return (word) => {
      if (!word.startsWith("0x000000000000000000000000")) throw new Error(`address word ${word} has high bits set`);
      return normalizeAddress(`0x${word.slice(26)}`);
    };
  }
  if (type === "bool") {
    return (word) => {
      const value = hexToBigInt(word);
      if (value > 1n) throw new Error(`bool word ${word} is not 0 or 1`);
      return value === 1n;
    };
  }
  if (type === "bytes32") return (word) => word.toLowerCase(); // as viem spells it
  const bits = BigInt(type.slice(4) || 256);
  const max = 1n << bits;
  const small = bits <= 48n; // viem decodes these as numbers
  return (word) => {
    const value = hexToBigInt(word);
    if (value >= max) throw new Error(`${type} word ${word} is out of range`);
    return small ? Number(value) : value;
  };
}

/** The strict word-by-word decoder of an event whose inputs are all static words; undefined for the others. */
function staticDecoder(event: AbiEvent): Decoder["decode"] | undefined {
  if (event.anonymous || event.inputs.length === 0 || !event.inputs.every((input) => STATIC.test(input.type) && input.name)) return undefined;
  const indexed = event.inputs.filter((input) => input.indexed).map((input) => ({ name: input.name!, read: wordReader(input.type) }));
  const plain = event.inputs.filter((input) => !input.indexed).map((input) => ({ name: input.name!, read: wordReader(input.type) }));
  return (topics, data) => {
    if (topics.length !== indexed.length + 1) throw new Error(`${topics.length} topics; ${event.name} has ${indexed.length + 1}`);
    if (data.length !== 2 + plain.length * 64 || !/^0x[0-9a-fA-F]*$/.test(data)) throw new Error(`data is not ${plain.length} words of hex`);
    const args: Record<string, unknown> = {};
    indexed.forEach((input, i) => {
      const topic = topics[i + 1]!;
      if (!WORD.test(topic)) throw new Error(`topic ${i + 1} is not one word of hex`);
      args[input.name] = input.read(topic);
    });
    plain.forEach((input, i) => (args[input.name] = input.read(`0x${data.slice(2 + i * 64, 66 + i * 64)}`)));
    return args;
  };
}

function viemDecoder(event: AbiEvent): Decoder["decode"] {
  const abi: Abi = [event];
  return (topics, data) => decodeEventLog({ abi, topics: topics as [Hex, ...Hex[]], data, strict: true }).args as unknown as Record<string, unknown>;
}

/** Decodes Concord logs of one deployment: a topic0 -> event map per contract, built once. */
export class ConcordLogDecoder {
  private readonly byAddress = new Map<string, { role: ContractRole; address: Address; topics: Map<string, Decoder> }>();

  /** `viemOnly` decodes every event with `decodeEventLog` (the reference the word reader is tested against). */
  constructor(
    readonly addresses: ConcordAddresses,
    options: { viemOnly?: boolean } = {},
  ) {
    for (const role of ["registry", "ledger", "negotiationHub"] as const) {
      const address = addresses[role];
      if (!address) continue;
      const topics = new Map<string, Decoder>();
      for (const event of eventsOf(abiOf(role))) {
        const decode = (options.viemOnly ? undefined : staticDecoder(event)) ?? viemDecoder(event);
        topics.set(toEventSelector(event), { event, role, decode });
      }
      this.byAddress.set(address.toLowerCase(), { role, address: getAddress(address), topics });
    }
  }

  /** The addresses `eth_getLogs` filters on. */
  get addressList(): Address[] {
    return [...this.byAddress.values()].map((entry) => entry.address);
  }

  decode(raw: RawLog): ConcordLog {
    const blockNumber = BigInt(raw.blockNumber);
    const logIndex = Number(raw.logIndex);
    const topic0 = (raw.topics[0] ?? "0x").toLowerCase();
    const where = { blockNumber, logIndex, address: raw.address, topic0 };
    const contract = this.byAddress.get(raw.address.toLowerCase());
    if (!contract) throw new UndecodableLogError(`log ${blockNumber}:${logIndex} comes from ${raw.address}, not a Concord address`, where);
    const decoder = contract.topics.get(topic0);
    if (!decoder) throw new UndecodableLogError(`log ${blockNumber}:${logIndex} from the ${contract.role} at ${raw.address} has unknown topic0 ${topic0}`, where);
    let args: Record<string, unknown>;
    try {
      args = decoder.decode(raw.topics, raw.data) ?? {}; // viem gives an event without parameters no arguments
    } catch (cause) {
      throw new UndecodableLogError(`log ${blockNumber}:${logIndex} from the ${contract.role} does not decode as ${decoder.event.name}`, where, { cause });
    }
    return {
      blockNumber,
      blockHash: raw.blockHash,
      transactionIndex: Number(raw.transactionIndex),
      logIndex,
      transactionHash: raw.transactionHash,
      address: contract.address,
      contract: contract.role,
      eventName: decoder.event.name,
      args,
      blockTimestamp: raw.blockTimestamp === undefined ? undefined : BigInt(raw.blockTimestamp),
      topics: raw.topics,
      data: raw.data,
    };
  }
}
