/**
 * Reconciles a rebuilt state with the chain at one block: every known account's balance per
 * token, every settlement's stored state (record hash while a reserve is held, CLOSED after),
 * every pool and released amount, and what the ledger holds of each token. All reads are
 * pinned to the block.
 *
 * Balances and settlement states (nearly all the reads) are read as storage words in bulk
 * (src/audit/slots.ts: one `eth_call` with a state override returns thousands of them) once a
 * sample read both ways agrees with the ledger's public views; otherwise, and for pools and
 * released amounts, the views are called, batched through the ledger's own `multicall` when it
 * has one. Reads are generated lazily, chunk by chunk, and run with bounded concurrency.
 */
import { decodeAbiParameters, toFunctionSelector, zeroAddress, type AbiFunction, type Address, type Hex } from "viem";
import { abiOf } from "./abis";
import { keccak256Hex } from "./keccak";
import { rawRequest, type ConcordLog, type EventRef, type RpcClient } from "./fetch";
import type { ReplayState, SettlementState } from "./replay";
import { LEDGER_STORAGE, SLOT_READER_RUNTIME, keyWord, slotReaderCalldata } from "./slots";

/** CLOSED: what the ledger stores for an order reference with nothing left held. */
export const CLOSED_STATE: Hex = `0x${"0".repeat(63)}1`;

export type DifferenceKind = "balance" | "reserve" | "pool-distributable" | "pool-dust" | "released" | "holdings";

/** One way the chain disagrees with the rebuilt state. */
export type Difference = {
  kind: DifferenceKind;
  /** The account whose amount differs (the ledger itself for holdings and pools). */
  account: Address;
  token: Address;
  /** Rebuilt from events: an amount, or for a reserve the expected stored state (record hash or CLOSED). */
  expected: bigint | Hex;
  /** Read from the chain at the block. */
  actual: bigint | Hex;
  agreementId?: bigint;
  version?: number;
  partyIndex?: number;
  orderRef?: Hex;
  /** The events that produced the expected amount (the latest ones for long histories). */
  events: EventRef[];
  /** How many events produced it in all. */
  eventCount: number;
  message: string;
};

export type ReconcileParameters = {
  ledger: Address;
  /** The block every read is pinned to (the replay's target block). */
  blockNumber: bigint;
  /** View calls per multicall request. Default 500. */
  batchSize?: number | undefined;
  /** Storage words per slot-reader request. Default 2,000 (about 4.6M gas). */
  slotBatchSize?: number | undefined;
  /** Requests in flight at once. Default 4. */
  concurrency?: number | undefined;
  /**
   * Read balances and settlement states as storage words (checked on a sample against the
   * views first). Default true; false calls the views for every read.
   */
  storageReads?: boolean | undefined;
  /**
   * Settlement states read while the replay ran ({prefetchSettlementStates}, pinned to the same
   * block); they are used only once the layout check passes, and any order reference it did not
   * read is read here.
   */
  prefetched?: SettlementPrefetch | undefined;
  /**
   * Which settlements' stored state is read: "reserves" (default), every settlement that held a
   * reserve (its record hash while held, CLOSED once released or refunded); "all" also reads the
   * CLOSED marker of every settlement that never held one (it only stops the order reference
   * being settled again, which the replay checks from the events; one more storage read each).
   */
  orderReferences?: OrderReferenceReads | undefined;
};

/** Which settlements' stored state {reconcile} reads (see {ReconcileParameters.orderReferences}). */
export type OrderReferenceReads = "reserves" | "all";

/** Whether a settlement held a reserve at any time (its stored state is then checked by default). */
export function heldAReserve(settlement: Pick<SettlementState, "reserve" | "released" | "refunded">): boolean {
  return settlement.reserve > 0n || settlement.released > 0n || settlement.refunded > 0n;
}

/** How balances or settlement states were read: storage words in bulk, or the ledger's views. */
export type StorageReadMode = "slots" | "views";

export type ReconcileResult = {
  blockNumber: bigint;
  /** Reads compared: `reserves` counts settlement states (see {ReconcileParameters.orderReferences}). */
  checked: { balances: number; reserves: number; pools: number; released: number; holdings: number };
  /** Which settlements' stored state was read. */
  orderReferences: OrderReferenceReads;
  differences: Difference[];
  /** JSON-RPC requests made. */
  requests: number;
  /** How view calls were batched. */
  mode: "multicall" | "single-calls";
  /** How balances and settlement states were read, and why the views were used when they were. */
  storage: { balances: StorageReadMode; reserves: StorageReadMode; sampled: number; fallbackReason?: string };
};

/** The hash under which the ledger stores a settlement record (SettlementLedger.hashRecord). */
export function hashSettlementRecord(settlement: SettlementState): Hex {
  // abi.encode of six static words, written directly (as SettlementLedger._hashRecord does).
  return keccak256Hex(
    `0x${pad(settlement.agreementId)}${pad(BigInt(settlement.version))}${padAddress(settlement.token)}${padAddress(settlement.payer)}${pad(settlement.reserve)}${pad(BigInt(settlement.releaseAt))}`,
  );
}

const ZEROS = "0".repeat(64);
function pad(value: bigint): string {
  const digits = value.toString(16);
  return ZEROS.slice(digits.length) + digits;
}
function padAddress(address: Address): string {
  return `000000000000000000000000${address.slice(2).toLowerCase()}`;
}

/** ABI-encodes a call whose arguments are all static words (every read the reconciler makes). */
function staticCall(selector: Hex, words: readonly (bigint | Address | Hex)[]): Hex {
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

/** What the ledger should store for a settlement's order reference. */
export function expectedSettlementState(settlement: SettlementState): Hex {
  return settlement.closed || settlement.reserve === 0n ? CLOSED_STATE : hashSettlementRecord(settlement);
}

/** A view call and the check of its raw answer. */
type ViewRead = { call: Hex; check: (result: Hex) => void };

/** A read that can be done either as a storage word or through a one-word view. */
type WordRead = {
  /** The mapping keys, as joined 64-digit words (for the slot reader). */
  keys: string;
  /** The view call that returns the same word. */
  call: Hex;
  /** Checks the word (64 lowercase hex digits). */
  check: (word: string) => void;
};

const word = (result: Hex, index: number): bigint => BigInt(`0x${result.slice(2 + index * 64, 2 + (index + 1) * 64) || "0"}`);

/** Splits a lazy sequence into arrays of at most `size`. */
function* chunked<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = [];
  for (const item of items) {
    chunk.push(item);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Runs `run` on every chunk with at most `concurrency` in flight; the first error stops the rest. */
async function inPool<T>(chunks: Iterator<T>, concurrency: number, run: (chunk: T) => Promise<void>): Promise<void> {
  let failed = false;
  const worker = async () => {
    while (!failed) {
      const next = chunks.next();
      if (next.done) return;
      try {
        await run(next.value);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** At most `count` elements spread evenly over a sequence of `size` (its first and every step-th). */
function spread<T>(items: Iterable<T>, size: number, count: number): T[] {
  const step = Math.max(1, Math.floor(size / count));
  const out: T[] = [];
  let i = 0;
  for (const item of items) {
    if (i % step === 0) out.push(item);
    i += 1;
    if (out.length >= count) break;
  }
  return out;
}

const SAMPLE = 16;

/** The chain side of a reconciliation: calls pinned to one block, views batched, the slot reader. */
class ChainReader {
  requests = 0;
  /** How view calls are batched; falls to single calls when the ledger has no multicall. */
  mode: ReconcileResult["mode"] = "multicall";
  readonly block: Hex;
  private readonly request: ReturnType<typeof rawRequest>;
  private readonly multicallSelector: Hex;
  private readonly override: Record<string, { code: Hex }>;
  readonly encode: Record<"balanceOf" | "settlementState" | "pool" | "released", (args: readonly (bigint | Address | Hex)[]) => Hex>;

  constructor(
    client: RpcClient,
    readonly ledger: Address,
    blockNumber: bigint,
  ) {
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
  }

  async send(method: string, params: unknown[]): Promise<unknown> {
    this.requests += 1;
    return this.request({ method, params });
  }

  private async ethCall(data: Hex, override?: Record<string, { code: Hex }>): Promise<Hex> {
    const params: unknown[] = [{ to: this.ledger, data }, this.block];
    if (override) params.push(override);
    return (await this.send("eth_call", params)) as Hex;
  }

  /** Calls views of the ledger: through its multicall in one request, or one eth_call each if it has none. */
  async callViews(calls: readonly Hex[]): Promise<Hex[]> {
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

  /** Storage words of mapping entries (the slot reader in place of the ledger's code, for this call only). */
  async readSlots(base: bigint, depth: number, keys: readonly string[]): Promise<string[]> {
    const answer = await this.ethCall(slotReaderCalldata(base, depth, keys), this.override);
    if (typeof answer !== "string" || answer.length !== 2 + keys.length * 64) {
      throw new Error(`the slot reader answered ${String(answer).length} characters for ${keys.length} words`);
    }
    const words = new Array<string>(keys.length);
    const lower = answer.toLowerCase();
    for (let i = 0; i < keys.length; i += 1) words[i] = lower.slice(2 + i * 64, 66 + i * 64);
    return words;
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
  async calibrate(base: bigint, depth: number, sample: readonly { keys: string; call: Hex }[]): Promise<{ mode: StorageReadMode; reason?: string; sampled: number }> {
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
  private pending: string[] = [];
  private readonly words = new Map<string, string>();
  /** Chunks waiting for a request slot, and the requests in flight. */
  private readonly waiting: string[][] = [];
  private inFlight = 0;
  private readonly settled: Promise<void>[] = [];
  private error: unknown;
  private drained = false;

  /** Made by {prefetchSettlementStates}. */
  constructor(
    private readonly reader: ChainReader,
    readonly orderReferences: OrderReferenceReads,
    private readonly chunkSize: number,
    private readonly concurrency: number,
  ) {}

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
        this.pending.push(keyWord(log.args.orderRef as Hex));
      }
    }
    while (this.pending.length >= this.chunkSize) this.enqueue(this.pending.splice(0, this.chunkSize));
  }

  private enqueue(keys: string[]): void {
    this.waiting.push(keys);
    this.pump();
  }

  /** Sends waiting chunks while fewer than `concurrency` requests are in flight. */
  private pump(): void {
    while (this.inFlight < this.concurrency && this.waiting.length > 0 && this.error === undefined) {
      const keys = this.waiting.shift()!;
      this.inFlight += 1;
      this.settled.push(
        this.reader.readSlotsSplitting(LEDGER_STORAGE.settlements, 1, keys).then(
          (words) => {
            for (let i = 0; i < keys.length; i += 1) this.words.set(keys[i]!, words[i]!);
            this.inFlight -= 1;
            this.pump();
          },
          (error: unknown) => {
            this.error ??= error;
            this.inFlight -= 1;
          },
        ),
      );
    }
  }

  /** Reads what is still queued; the words by order reference key, or undefined after a failed read. */
  async drain(): Promise<ReadonlyMap<string, string> | undefined> {
    if (!this.drained) {
      this.drained = true;
      if (this.pending.length > 0) this.enqueue(this.pending.splice(0));
    }
    // Requests settle in any order and may start others: wait until none is left.
    while (this.settled.length > 0) await this.settled.shift();
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

type Calibration = { mode: StorageReadMode; reason?: string; sampled: number };

const refused = (error: unknown): Calibration => ({
  mode: "views",
  reason: `slot reader refused: ${String((error as Error).message).split("\n")[0]!.slice(0, 160)}`,
  sampled: 0,
});

/**
 * Compares a rebuilt state with the chain at `blockNumber` and lists every difference.
 *
 * @example
 * const result = await reconcile(client, state, { ledger, blockNumber: 1_234n });
 * if (result.differences.length > 0) process.exitCode = 4;
 */
export async function reconcile(client: RpcClient, state: ReplayState, parameters: ReconcileParameters): Promise<ReconcileResult> {
  const reader = new ChainReader(client, parameters.ledger, parameters.blockNumber);
  const ledger = parameters.ledger;
  const orderReferences = parameters.orderReferences ?? "reserves";
  const prefetch = parameters.prefetched;
  if (prefetch && (prefetch.ledger.toLowerCase() !== ledger.toLowerCase() || prefetch.blockNumber !== parameters.blockNumber || prefetch.orderReferences !== orderReferences)) {
    throw new Error(
      `settlement states were prefetched for ${prefetch.ledger} at block ${prefetch.blockNumber} (order references: ${prefetch.orderReferences}), not ${ledger} at block ${parameters.blockNumber} (${orderReferences})`,
    );
  }
  const readsState = (s: SettlementState) => orderReferences === "all" || heldAReserve(s);
  const batchSize = parameters.batchSize ?? 500;
  const slotBatchSize = parameters.slotBatchSize ?? 2_000;
  const concurrency = Math.max(1, parameters.concurrency ?? 4);
  const checked = { balances: 0, reserves: 0, pools: 0, released: 0, holdings: 0 };

  // Differences are collected with the position of their read, and listed in that order.
  const found: { order: number; difference: Difference }[] = [];
  const differ = (order: number, d: Omit<Difference, "events" | "eventCount">, provenance: { count: number; recent: EventRef[] }) =>
    found.push({ order, difference: { ...d, events: [...provenance.recent], eventCount: provenance.count } });

  // ---------------------------------------------------------------- what is read

  // Balances: every account the events name, in every token the ledger handled.
  const accounts = new Map<string, Address>();
  const addAccount = (a: Address) => {
    if (a !== zeroAddress) accounts.set(a.toLowerCase(), a);
  };
  for (const entry of state.balances.values()) addAccount(entry.account);
  for (const s of state.settlements.values()) {
    addAccount(s.payer);
    addAccount(s.referrer);
  }
  for (const agreement of state.agreements.values()) {
    for (const v of agreement.versions.values()) for (const p of v.terms.parties) addAccount(p.account);
  }
  const tokens = state.tokens();
  const balanceCount = accounts.size * tokens.length;
  const settlementCount = state.settlements.size;
  const settlementOrder = balanceCount;
  const viewOrder = balanceCount + settlementCount;

  const balanceRead = (account: Address, token: Address, order: number): WordRead => {
    const entry = state.balanceEntry(account, token);
    const expected = entry?.amount ?? 0n;
    const expectedWord = expected >= 0n ? pad(expected) : undefined; // a negative rebuilt balance never matches
    return {
      keys: keyWord(account) + keyWord(token),
      call: reader.encode.balanceOf([account, token]),
      check: (w) => {
        if (w === expectedWord) return;
        const actual = BigInt(`0x${w}`);
        differ(
          order,
          { kind: "balance", account, token, expected, actual, message: `balance of ${account} in ${token}: rebuilt ${expected}, chain ${actual}` },
          entry?.provenance ?? { count: 0, recent: [] },
        );
      },
    };
  };
  function* balanceReads(): Generator<WordRead> {
    let order = 0;
    for (const token of tokens) {
      for (const account of accounts.values()) {
        checked.balances += 1;
        yield balanceRead(account, token, order);
        order += 1;
      }
    }
  }

  const closedWord = CLOSED_STATE.slice(2);
  const settlementRead = (s: SettlementState, order: number): WordRead => ({
    keys: keyWord(s.orderRef),
    call: reader.encode.settlementState([s.orderRef]),
    // The record hash is computed when the answer is in, while the node works on the next request.
    check: (w) => {
      const held = !(s.closed || s.reserve === 0n);
      if (!held && w === closedWord) return;
      const expected = held ? hashSettlementRecord(s) : CLOSED_STATE;
      if (w === expected.slice(2)) return;
      const actual = `0x${w}` as Hex;
      differ(
        order,
        {
          kind: "reserve",
          account: s.payer,
          token: s.token,
          expected,
          actual,
          agreementId: s.agreementId,
          version: s.version,
          orderRef: s.orderRef,
          message: `order ${s.orderRef}: rebuilt ${s.closed ? "closed" : `reserve ${s.reserve} held until ${s.releaseAt}`}, the ledger stores ${actual === CLOSED_STATE ? "closed" : actual}`,
        },
        { count: s.events.length, recent: s.events },
      );
    },
  });
  function* settlementReads(): Generator<WordRead> {
    let order = settlementOrder;
    for (const s of state.settlements.values()) {
      if (readsState(s)) {
        checked.reserves += 1;
        yield settlementRead(s, order);
      }
      order += 1;
    }
  }

  function* poolReads(): Generator<ViewRead> {
    let order = viewOrder;
    for (const pool of state.pools.values()) {
      checked.pools += 1;
      const poolOrder = order++;
      yield {
        call: reader.encode.pool([pool.agreementId, BigInt(pool.version), pool.token]),
        check: (result) => {
          const distributable = word(result, 0);
          const dust = word(result, 1);
          const base = { account: ledger, token: pool.token, agreementId: pool.agreementId, version: pool.version };
          const where = `pool of agreement ${pool.agreementId} version ${pool.version} in ${pool.token}`;
          if (distributable !== pool.distributable) {
            differ(poolOrder, { ...base, kind: "pool-distributable", expected: pool.distributable, actual: distributable, message: `${where}: distributable rebuilt ${pool.distributable}, chain ${distributable}` }, pool.provenance);
          }
          if (dust !== pool.dust) {
            differ(poolOrder, { ...base, kind: "pool-dust", expected: pool.dust, actual: dust, message: `${where}: dust rebuilt ${pool.dust}, chain ${dust}` }, pool.provenance);
          }
        },
      };
      const parties = state.termsOf(pool.agreementId, pool.version)?.terms.parties ?? [];
      for (let partyIndex = 0; partyIndex < pool.released.length; partyIndex += 1) {
        const expected = pool.released[partyIndex]!;
        const releasedOrder = order++;
        checked.released += 1;
        yield {
          call: reader.encode.released([pool.agreementId, BigInt(pool.version), pool.token, BigInt(partyIndex)]),
          check: (result) => {
            const actual = word(result, 0);
            if (actual !== expected) {
              const party = parties[partyIndex];
              differ(
                releasedOrder,
                {
                  kind: "released",
                  account: party && party.agreementId === 0n ? party.account : ledger,
                  token: pool.token,
                  expected,
                  actual,
                  agreementId: pool.agreementId,
                  version: pool.version,
                  partyIndex,
                  message: `released to party ${partyIndex} of agreement ${pool.agreementId} version ${pool.version} in ${pool.token}: rebuilt ${expected}, chain ${actual}`,
                },
                pool.provenance,
              );
            }
          },
        };
      }
    }
  }

  // ---------------------------------------------------------------- how it is read

  const runViews = (reads: readonly ViewRead[]) =>
    reader.callViews(reads.map((r) => r.call)).then((results) => results.forEach((result, i) => reads[i]!.check(result)));
  const runWordViews = (reads: readonly WordRead[]) =>
    reader.callViews(reads.map((r) => r.call)).then((results) =>
      results.forEach((result, i) => {
        if (result.length !== 66) throw new Error(`a one-word view answered ${result}`);
        reads[i]!.check(result.slice(2).toLowerCase());
      }),
    );
  const runSlots = async (base: bigint, depth: number, reads: readonly WordRead[]): Promise<void> => {
    const words = await reader.readSlotsSplitting(base, depth, reads.map((r) => r.keys));
    for (let i = 0; i < reads.length; i += 1) reads[i]!.check(words[i]!);
  };

  // The layout check: a spread sample read both ways must agree, with at least one non-zero word.
  const storage: ReconcileResult["storage"] = { balances: "views", reserves: "views", sampled: 0 };
  const reasons: string[] = [];
  /** Settlement states read during the replay (by order reference key), when the reads succeeded. */
  let prefetched: ReadonlyMap<string, string> | undefined;
  if (parameters.storageReads !== false && balanceCount + settlementCount > 0) {
    const nonZero = [...state.balances.values()].filter((b) => b.amount > 0n);
    const balanceSample = spread(nonZero, nonZero.length, SAMPLE).map((b) => balanceRead(b.account, b.token, -1));
    const settlementSample = spread(state.settlements.values(), settlementCount, SAMPLE).map((s) => settlementRead(s, -1));
    const [b, r, words] = await Promise.all([
      reader.calibrate(LEDGER_STORAGE.balances, 2, balanceSample).catch(refused),
      reader.calibrate(LEDGER_STORAGE.settlements, 1, settlementSample).catch(refused),
      prefetch?.drain(),
    ]);
    prefetched = words;
    storage.balances = b.mode;
    storage.reserves = r.mode;
    storage.sampled = b.sampled + r.sampled;
    if (b.reason && balanceSample.length > 0) reasons.push(`balances: ${b.reason}`);
    if (r.reason && settlementSample.length > 0) reasons.push(`settlement states: ${r.reason}`);
  }
  if (reasons.length > 0) storage.fallbackReason = reasons.join("; ");

  // ---------------------------------------------------------------- the reads

  type Job = () => Promise<void>;
  function* jobs(): Generator<Job> {
    for (const chunk of chunked(balanceReads(), storage.balances === "slots" ? slotBatchSize : batchSize)) {
      yield storage.balances === "slots" ? () => runSlots(LEDGER_STORAGE.balances, 2, chunk) : () => runWordViews(chunk);
    }
    // Settlement states the prefetch read are checked as they come; the others are read here.
    function* unreadSettlements(): Generator<WordRead> {
      for (const read of settlementReads()) {
        const w = storage.reserves === "slots" ? prefetched?.get(read.keys) : undefined;
        if (w === undefined) yield read;
        else read.check(w);
      }
    }
    for (const chunk of chunked(unreadSettlements(), storage.reserves === "slots" ? slotBatchSize : batchSize)) {
      yield storage.reserves === "slots" ? () => runSlots(LEDGER_STORAGE.settlements, 1, chunk) : () => runWordViews(chunk);
    }
    for (const chunk of chunked(poolReads(), batchSize)) yield () => runViews(chunk);
    // Holdings: what the ledger really holds of each token, against the rebuilt total.
    let order = Number.MAX_SAFE_INTEGER - tokens.length; // after every other read
    for (const token of tokens) {
      const holdingsOrder = order++;
      yield async () => {
        checked.holdings += 1;
        const totals = state.totalsOf(token);
        const actual =
          token === zeroAddress
            ? BigInt((await reader.send("eth_getBalance", [ledger, reader.block])) as Hex)
            : word((await reader.send("eth_call", [{ to: token, data: staticCall("0x70a08231", [ledger]) }, reader.block])) as Hex, 0); // balanceOf(address)
        if (actual !== totals.holdings) {
          differ(
            holdingsOrder,
            {
              kind: "holdings",
              account: ledger,
              token,
              expected: totals.holdings,
              actual,
              message: `the ledger holds ${actual} of ${token}; events give ${totals.holdings} (balances ${totals.balances} + reserves ${totals.heldReserves} + undistributed ${totals.undistributed})`,
            },
            totals.provenance,
          );
        }
      };
    }
  }
  await inPool(jobs(), concurrency, (job) => job());

  found.sort((x, y) => x.order - y.order);
  if (prefetch) await prefetch.drain(); // (already drained unless the storage reads were off)
  return {
    blockNumber: parameters.blockNumber,
    checked,
    orderReferences,
    differences: found.map((f) => f.difference),
    requests: reader.requests + (prefetch?.requests ?? 0),
    mode: reader.mode,
    storage,
  };
}
