/**
 * How the reconciler reads the chain: calls pinned to one block, the ledger's views batched
 * through its `multicall`, storage words through the slot reader (src/audit/slots.ts), or, on
 * Hardhat's in-process engine, batches of `eth_call` and of `eth_getStorageAt`; with a layout
 * check, and the settlement states read while a replay runs. What is compared with what is
 * src/audit/reconcile.ts's job.
 */
import { decodeAbiParameters, toFunctionSelector, type AbiFunction, type Address, type Hex } from "viem";
import { abiOf } from "./abis";
import { rawRequest, type ConcordLog, type RpcClient } from "./fetch";
import type { OrderReferenceReads, ReconcileParameters, ReconcileResult, StorageReadMode } from "./reconcile";
import { engineBatchOf, type EngineRequest, type HardhatTransportValue } from "../sdk/transports";
import { keepShape } from "./shapes";
import { LEDGER_STORAGE, SLOT_READER_RUNTIME, keyWord, mappingSlot, slotReaderCalldata } from "./slots";

export const ZEROS = "0".repeat(64);
/** A bigint as one 64-hex-digit ABI word. */
export function pad(value: bigint): string {
  const digits = value.toString(16);
  return ZEROS.slice(digits.length) + digits;
}
/** An address as one 64-hex-digit ABI word. */
export function padAddress(address: Address): string {
  return `000000000000000000000000${address.slice(2).toLowerCase()}`;
}

/** ABI-encodes a call whose arguments are all static words (every read the reconciler makes). */
export function staticCall(selector: Hex, words: readonly (bigint | Address | Hex)[]): Hex {
  let out: string = selector;
  for (const w of words) out += typeof w === "bigint" ? pad(w) : w.length === 42 ? padAddress(w as Address) : w.slice(2).padStart(64, "0");
  return out as Hex;
}

/** ABI-encodes multicall(bytes[]) for calls of any length. */
function encodeMulticall(selector: Hex, calls: readonly Hex[]): Hex {
  const parts: string[] = [selector, pad(32n), pad(BigInt(calls.length))];
  const bodies: string[] = [];
  let offset = calls.length * 32;
  for (const call of calls) {
    const bytes = (call.length - 2) / 2;
    const padded = Math.ceil(bytes / 32) * 64;
    parts.push(pad(BigInt(offset)));
    bodies.push(pad(BigInt(bytes)) + call.slice(2).padEnd(padded, "0"));
    offset += 32 + padded / 2;
  }
  return (parts.join("") + bodies.join("")) as Hex;
}

/** Runs tasks with at most a given number running at once; the others start in turn, as slots free. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** A {Limiter} for `max` tasks at once (`Infinity`: no limit). */
export function limiter(max: number): Limiter {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

/** The client of the exemplars kept for their shapes (src/audit/shapes.ts): they never send anything. */
const EXEMPLAR_CLIENT: RpcClient = { request: () => Promise.reject(new Error("an exemplar kept for its shape sends nothing")) } as unknown as RpcClient;

/** The chain side of a reconciliation: calls pinned to one block, views batched, the slot reader. */
export class ChainReader {
  requests = 0;
  /** How view calls are batched; falls to single calls when the ledger has no multicall. */
  mode: ReconcileResult["mode"] = "multicall";
  readonly block: Hex;
  private readonly limit: Limiter;
  private readonly request: ReturnType<typeof rawRequest>;
  private readonly multicallSelector: Hex;
  private readonly override: Record<string, { code: Hex }>;
  readonly encode: Record<"balanceOf" | "settlementState" | "pool" | "released", (args: readonly (bigint | Address | Hex)[]) => Hex>;
  /** The in-process engine's batches (a client over {hardhatTransport}). */
  private readonly engineBatch: HardhatTransportValue["engineBatch"] | undefined;
  /** Which reads still go to the engine in batches: storage words, view calls (until a batch of that kind fails). */
  private readonly batching = { storage: true, views: true };

  constructor(
    client: RpcClient,
    readonly ledger: Address,
    blockNumber: bigint,
    /** Requests in flight at once, whoever sends them. Default: no limit. */
    maxInFlight = Number.POSITIVE_INFINITY,
  ) {
    this.limit = limiter(maxInFlight);
    this.request = rawRequest(client);
    this.block = `0x${blockNumber.toString(16)}`;
    const ledgerAbi = abiOf("ledger");
    const selector = (name: string): Hex => {
      const item = ledgerAbi.find((x): x is AbiFunction => x.type === "function" && x.name === name);
      if (!item) throw new Error(`the ledger ABI has no function ${name}`);
      return toFunctionSelector(item);
    };
    const encoder = (name: string) => {
      const s = selector(name);
      return (args: readonly (bigint | Address | Hex)[]): Hex => staticCall(s, args);
    };
    this.encode = { balanceOf: encoder("balanceOf"), settlementState: encoder("settlementState"), pool: encoder("pool"), released: encoder("released") };
    this.multicallSelector = selector("multicall");
    this.override = { [ledger]: { code: SLOT_READER_RUNTIME } };
    this.engineBatch = engineBatchOf(client);
    keepShape("ChainReader", () => new ChainReader(EXEMPLAR_CLIENT, ledger, blockNumber)); // see src/audit/shapes.ts
  }

  /**
   * How storage words are read: batches of `eth_getStorageAt` to Hardhat's in-process engine
   * (where a request costs little but every EVM step of a call is traced), or the slot reader in
   * one `eth_call` (everywhere else, and after a failed batch: one request, where a node or
   * provider counts requests).
   */
  get wordsVia(): "slot reader" | "engine batches" {
    return this.engineBatch && this.batching.storage ? "engine batches" : "slot reader";
  }

  /** Sends a request once fewer than `maxInFlight` of this reader's are in flight. */
  send(method: string, params: unknown[]): Promise<unknown> {
    this.requests += 1;
    return this.limit(() => this.request({ method, params }));
  }

  private async ethCall(data: Hex, override?: Record<string, { code: Hex }>): Promise<Hex> {
    const params: unknown[] = [{ to: this.ledger, data }, this.block];
    if (override) params.push(override);
    return (await this.send("eth_call", params)) as Hex;
  }

  /**
   * Calls views of the ledger: on the in-process engine as one batch of `eth_call`; elsewhere (or
   * once such a batch failed) through the ledger's multicall in one request, or one eth_call each
   * if it has none.
   */
  async callViews(calls: readonly Hex[]): Promise<Hex[]> {
    const inBatch = await this.callViewsInBatch(calls);
    if (inBatch) return inBatch;
    if (this.mode === "multicall") {
      try {
        const [results] = decodeAbiParameters([{ type: "bytes[]" }], await this.ethCall(encodeMulticall(this.multicallSelector, calls)));
        if (results.length !== calls.length) throw new Error(`multicall answered ${results.length} results for ${calls.length} calls`);
        return [...results];
      } catch (error) {
        if (!/revert|execution|not found|invalid opcode|function selector/i.test(String((error as Error).message))) throw error;
        this.mode = "single-calls";
      }
    }
    const out: Hex[] = [];
    for (const call of calls) out.push(await this.ethCall(call));
    return out;
  }

  /**
   * Storage words of mapping entries: one `eth_getStorageAt` each, in one batch, on the in-process
   * engine; elsewhere (or once a batch failed) the slot reader in place of the ledger's code, for
   * one call only.
   */
  async readSlots(base: bigint, depth: number, keys: readonly string[]): Promise<string[]> {
    const inBatch = await this.readStorageBatch(base, depth, keys);
    if (inBatch) return inBatch;
    const answer = await this.ethCall(slotReaderCalldata(base, depth, keys), this.override);
    if (typeof answer !== "string" || answer.length !== 2 + keys.length * 64) {
      throw new Error(`the slot reader answered ${String(answer).length} characters for ${keys.length} words`);
    }
    const words = new Array<string>(keys.length);
    const lower = answer.toLowerCase();
    for (let i = 0; i < keys.length; i += 1) words[i] = lower.slice(2 + i * 64, 66 + i * 64);
    return words;
  }

  /**
   * One batch of `kind` to the engine, sent when the reader has a free slot, unless a batch of that
   * kind has failed meanwhile. The requests are built only when batches of that kind are still
   * sent (a storage batch's are a keccak per word, which the slot reader does not need). Its
   * answers when each is `valid`; otherwise undefined, and no more
   * batches of that kind (the caller reads these another way, and reports that way's error if it
   * has one). The failure is noted before the slot is handed on, so requests waiting for the slot
   * see it.
   */
  private async inEngineBatch(kind: keyof ChainReader["batching"], build: () => EngineRequest[], valid: (answer: unknown) => boolean): Promise<unknown[] | undefined> {
    if (!this.engineBatch || !this.batching[kind]) return undefined;
    const requests = build();
    return this.limit(async () => {
      if (!this.batching[kind]) return undefined;
      try {
        const sent = this.engineBatch!(requests); // undefined when the provider turns out not to be the engine
        if (sent) this.requests += 1;
        const answers = await sent;
        if (answers && answers.length === requests.length && answers.every(valid)) return answers;
      } catch {
        // the other way reads these
      }
      this.batching[kind] = false;
      return undefined;
    });
  }

  /** The words through the engine's batch of `eth_getStorageAt`; undefined when there is none or it failed. */
  private async readStorageBatch(base: bigint, depth: number, keys: readonly string[]): Promise<string[] | undefined> {
    const requests = () => keys.map((k) => ({ method: "eth_getStorageAt", params: [this.ledger, mappingSlot(base, depth, k), this.block] }));
    const answers = await this.inEngineBatch("storage", requests, (a) => typeof a === "string" && a.length === 66 && a.startsWith("0x"));
    return answers?.map((a) => (a as string).slice(2).toLowerCase());
  }

  /**
   * View calls as one engine batch of `eth_call`, each pinned to the reader's block; undefined
   * when there is none or it failed. The engine rejects a whole batch when any call in it reverts;
   * the multicall then reports that call's error as the node's.
   *
   * Why not the multicall: on Hardhat's engine one multicall of 16 views took a median of 10 ms
   * of its time, and up to 22, against 1.2-2.4 ms for the same 16 views as a batch (throwaway
   * script, 30 of each alternating, four rounds); the views of a reconciliation wait for it.
   */
  private async callViewsInBatch(calls: readonly Hex[]): Promise<Hex[] | undefined> {
    const requests = () => calls.map((data) => ({ method: "eth_call", params: [{ to: this.ledger, data }, this.block] }));
    return (await this.inEngineBatch("views", requests, (a) => typeof a === "string" && a.startsWith("0x"))) as Hex[] | undefined;
  }

  /** Reads storage words, halving the request when the node refuses it for gas (never skipping any). */
  async readSlotsSplitting(base: bigint, depth: number, keys: readonly string[]): Promise<string[]> {
    try {
      return await this.readSlots(base, depth, keys);
    } catch (error) {
      if (keys.length > 1 && /gas/i.test(String((error as Error).message))) {
        const half = Math.ceil(keys.length / 2);
        return [...(await this.readSlotsSplitting(base, depth, keys.slice(0, half))), ...(await this.readSlotsSplitting(base, depth, keys.slice(half)))];
      }
      throw error;
    }
  }

  /**
   * The layout check: a sample read both ways (storage words and the one-word views) must agree,
   * with at least one non-zero word. Answers "slots", or why not.
   */
  async calibrate(base: bigint, depth: number, sample: readonly { keys: string; call: Hex }[]): Promise<Calibration> {
    if (sample.length === 0) return { mode: "views", reason: "no non-zero sample", sampled: 0 };
    const [slotWords, viewResults] = await Promise.all([this.readSlots(base, depth, sample.map((r) => r.keys)), this.callViews(sample.map((r) => r.call))]);
    let nonZero = false;
    for (let i = 0; i < sample.length; i += 1) {
      const view = viewResults[i]!.slice(2).toLowerCase();
      if (slotWords[i] !== view) return { mode: "views", reason: `storage word ${slotWords[i]} differs from the view's ${view}`, sampled: sample.length };
      if (view !== ZEROS) nonZero = true;
    }
    return nonZero ? { mode: "slots", sampled: sample.length } : { mode: "views", reason: "every sampled word is zero", sampled: sample.length };
  }
}

/**
 * Reads the ledger's stored state of every settlement the replay meets while the replay goes on:
 * storage words pinned to the target block, in chunks of `slotBatchSize` order references with a
 * few requests in flight, so that the node works on them while this process decodes and
 * replays (the replay's batches yield to the event loop, so answers are taken in). Nothing is
 * checked here; {reconcile} compares the words with the finished state once its layout check
 * passes (and ignores them otherwise). A failed read is kept, not thrown: the reconciler then
 * reads everything itself and reports any error from there.
 *
 * @example
 * const prefetched = prefetchSettlementStates(client, { ledger, blockNumber: toBlock });
 * for await (const batch of fetchConcordLogs(client, { addresses, fromBlock, toBlock })) {
 *   state.applyBatch(batch.logs);
 *   prefetched.observe(batch.logs);
 * }
 * const result = await reconcile(client, state, { ledger, blockNumber: toBlock, prefetched });
 */
export class SettlementPrefetch {
  /** Order references queued for the next chunk, as the events spell them. */
  private pending: Hex[] = [];
  /** The words read, by order reference as the events spell it. */
  private readonly words = new Map<Hex, string>();
  /** Every chunk's read, in flight or waiting for a slot (each settles, never rejects). */
  private readonly reads: Promise<void>[] = [];
  private readonly limit: Limiter;
  private error: unknown;
  private drained = false;

  /** Made by {prefetchSettlementStates}. */
  constructor(
    private readonly reader: ChainReader,
    readonly orderReferences: OrderReferenceReads,
    private readonly chunkSize: number,
    concurrency: number,
  ) {
    this.limit = limiter(concurrency);
    keepShape("SettlementPrefetch", () => new SettlementPrefetch(new ChainReader(EXEMPLAR_CLIENT, reader.ledger, 0n), orderReferences, chunkSize, concurrency));
  }

  get ledger(): Address {
    return this.reader.ledger;
  }
  get blockNumber(): bigint {
    return BigInt(this.reader.block);
  }
  /** JSON-RPC requests made so far. */
  get requests(): number {
    return this.reader.requests;
  }

  /** Queues a read of the state of the settlements in `logs` (the ledger's `Settled` events; with a reserve unless "all"). */
  observe(logs: readonly ConcordLog[]): void {
    if (this.drained) throw new Error("settlement states observed after the reconciliation took them");
    const all = this.orderReferences === "all";
    for (const log of logs) {
      if (log.eventName === "Settled" && log.contract === "ledger" && (all || (log.args.reserve as bigint) > 0n)) {
        this.pending.push(log.args.orderRef as Hex);
      }
    }
    while (this.pending.length >= this.chunkSize) this.read(this.pending.splice(0, this.chunkSize));
  }

  /** Reads one chunk when a slot is free; once any read has failed, the chunks still waiting are dropped. */
  private read(orderRefs: Hex[]): void {
    this.reads.push(
      this.limit(async () => {
        if (this.error !== undefined) return; // the reconciler reads everything itself
        try {
          const words = await this.reader.readSlotsSplitting(LEDGER_STORAGE.settlements, 1, orderRefs.map(keyWord));
          for (let i = 0; i < orderRefs.length; i += 1) this.words.set(orderRefs[i]!, words[i]!);
        } catch (error) {
          this.error ??= error;
        }
      }),
    );
  }

  /** Reads what is still queued; the words by order reference (as the events spell it), or undefined after a failed read. */
  async drain(): Promise<ReadonlyMap<Hex, string> | undefined> {
    if (!this.drained) {
      this.drained = true;
      if (this.pending.length > 0) this.read(this.pending.splice(0));
    }
    await Promise.all(this.reads);
    return this.error === undefined ? this.words : undefined;
  }
}

/**
 * Starts a {SettlementPrefetch} for one ledger at one block: feed it the replay's batches, then
 * pass it to {reconcile} with the same ledger and block.
 */
export function prefetchSettlementStates(
  client: RpcClient,
  parameters: Pick<ReconcileParameters, "ledger" | "blockNumber" | "slotBatchSize" | "orderReferences"> & { concurrency?: number | undefined },
): SettlementPrefetch {
  return new SettlementPrefetch(
    new ChainReader(client, parameters.ledger, parameters.blockNumber),
    parameters.orderReferences ?? "reserves",
    parameters.slotBatchSize ?? 2_000,
    Math.max(1, parameters.concurrency ?? 4),
  );
}

/** {ChainReader.calibrate}'s answer. */
export type Calibration = { mode: StorageReadMode; reason?: string; sampled: number };

/** The calibration of a node that refused the slot reader: the views, and why. */
export const refused = (error: unknown): Calibration => ({
  mode: "views",
  reason: `slot reader refused: ${String((error as Error).message).split("\n")[0]!.slice(0, 160)}`,
  sampled: 0,
});
