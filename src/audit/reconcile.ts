/**
 * Reconciles a rebuilt state with the chain at one block: every known account's balance per
 * token, every settlement's stored state (record hash while a reserve is held, CLOSED after),
 * every pool and released amount, and what the ledger holds of each token. All reads are
 * pinned to the block.
 *
 * Balances and settlement states (nearly all the reads) are read as storage words in bulk
 * (src/audit/slots.ts: one `eth_call` with a state override returns thousands of them; on
 * Hardhat's in-process engine, one batch of `eth_getStorageAt` does) once a sample read both
 * ways agrees with the ledger's public views; otherwise, and for pools and released amounts,
 * the views are called, batched through the ledger's own `multicall` when it has one. Reads are
 * generated lazily, chunk by chunk, and run with bounded concurrency; how the chain is read is
 * src/audit/reads.ts.
 */
import { zeroAddress, type Address, type Hex } from "viem";
import { keccak256Hex } from "./keccak";
import { nextTurn, type EventRef, type RpcClient } from "./fetch";
import { ChainReader, pad, padAddress, refused, staticCall, type SettlementPrefetch } from "./reads";
import type { ReplayState, SettlementState } from "./replay";
import { LEDGER_STORAGE, keyWord } from "./slots";


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
  /**
   * How balances and settlement states were read, and why the views were used when they were;
   * `via`, when storage words were read: the slot reader, or batches of `eth_getStorageAt` to
   * Hardhat's in-process engine (a client over `hardhatTransport`).
   */
  storage: { balances: StorageReadMode; reserves: StorageReadMode; sampled: number; fallbackReason?: string; via?: ChainReader["wordsVia"] };
};

/** The hash under which the ledger stores a settlement record (SettlementLedger.hashRecord). */
export function hashSettlementRecord(settlement: SettlementState): Hex {
  // abi.encode of six static words, written directly (as SettlementLedger._hashRecord does).
  return keccak256Hex(
    `0x${pad(settlement.agreementId)}${pad(BigInt(settlement.version))}${padAddress(settlement.token)}${padAddress(settlement.payer)}${pad(settlement.reserve)}${pad(BigInt(settlement.releaseAt))}`,
  );
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
  /** The view call that returns the same word (encoded only when the views are used). */
  call: () => Hex;
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

/**
 * Compares a rebuilt state with the chain at `blockNumber` and lists every difference.
 *
 * @example
 * const result = await reconcile(client, state, { ledger, blockNumber: 1_234n });
 * if (result.differences.length > 0) process.exitCode = 4;
 */
export async function reconcile(client: RpcClient, state: ReplayState, parameters: ReconcileParameters): Promise<ReconcileResult> {
  const concurrency = Math.max(1, parameters.concurrency ?? 4);
  const reader = new ChainReader(client, parameters.ledger, parameters.blockNumber, concurrency);
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
  const checked = { balances: 0, reserves: 0, pools: 0, released: 0, holdings: 0 };

  // Differences are collected with the position of their read, and listed in that order.
  const found: { order: number; difference: Difference }[] = [];
  const differ = (order: number, d: Omit<Difference, "events" | "eventCount">, provenance: { count: number; recent: EventRef[] }) =>
    found.push({ order, difference: { ...d, events: [...provenance.recent], eventCount: provenance.count } });

  // ---------------------------------------------------------------- what is read

  // Balances: every account the events name, in every token the ledger handled.
  const accounts = new Map<string, Address>();
  // Settlements name the same few payers and referrers again and again, mostly as the same
  // strings: a spelling seen once is not lowered again.
  const spellings = new Set<string>();
  const addAccount = (a: Address) => {
    if (spellings.has(a)) return;
    spellings.add(a);
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
      call: () => reader.encode.balanceOf([account, token]),
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

  // The expected stored states: a record hash (keccak in JavaScript, a few microseconds) for each
  // reserve still held. hashAhead computes them while the node answers the layout check and the
  // last prefetched states, rather than after those answers are in (the reconciliation's tail:
  // 59 against 74 ms a run in the replay bench, median of 12, alternating in one process).
  const expectedStates = new Map<SettlementState, Hex>();
  const expectedOf = (s: SettlementState): Hex => {
    let expected = expectedStates.get(s);
    if (expected === undefined) {
      expected = expectedSettlementState(s);
      expectedStates.set(s, expected);
    }
    return expected;
  };
  /** Computes the expected states of the settlements to read, yielding to answers every few hundred. */
  const hashAhead = async (): Promise<void> => {
    let sinceTurn = 0;
    for (const s of state.settlements.values()) {
      if (!readsState(s)) continue;
      expectedOf(s);
      if (++sinceTurn === 256) {
        sinceTurn = 0;
        await nextTurn();
      }
    }
  };

  /** A settlement's stored state (64 hex digits) against the rebuilt one: its record hash while a reserve is held, else CLOSED. */
  const checkSettlement = (s: SettlementState, order: number, w: string): void => {
    const expected = expectedOf(s);
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
  };
  const settlementRead = (s: SettlementState, order: number): WordRead => ({
    keys: keyWord(s.orderRef),
    call: () => reader.encode.settlementState([s.orderRef]),
    // The record hash is computed when the answer is in, while the node works on the next request.
    check: (w) => checkSettlement(s, order, w),
  });
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
    reader.callViews(reads.map((r) => r.call())).then((results) =>
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
  /** Settlement states read during the replay (by order reference), when the reads succeeded. */
  let prefetched: ReadonlyMap<Hex, string> | undefined;
  const layoutCheck = async (): Promise<void> => {
    if (parameters.storageReads === false || balanceCount + settlementCount === 0) return;
    const nonZero = [...state.balances.values()].filter((b) => b.amount > 0n);
    const balanceSample = spread(nonZero, nonZero.length, SAMPLE).map((b) => balanceRead(b.account, b.token, -1));
    const settlementSample = spread(state.settlements.values(), settlementCount, SAMPLE).map((s) => settlementRead(s, -1));
    const asSample = (reads: WordRead[]) => reads.map((r) => ({ keys: r.keys, call: r.call() }));
    const [b, r, words] = await Promise.all([
      reader.calibrate(LEDGER_STORAGE.balances, 2, asSample(balanceSample)).catch(refused),
      reader.calibrate(LEDGER_STORAGE.settlements, 1, asSample(settlementSample)).catch(refused),
      prefetch?.drain(),
    ]);
    prefetched = words;
    storage.balances = b.mode;
    storage.reserves = r.mode;
    storage.sampled = b.sampled + r.sampled;
    const reasons: string[] = [];
    if (b.reason && balanceSample.length > 0) reasons.push(`balances: ${b.reason}`);
    if (r.reason && settlementSample.length > 0) reasons.push(`settlement states: ${r.reason}`);
    if (reasons.length > 0) storage.fallbackReason = reasons.join("; ");
  };

  // ---------------------------------------------------------------- the reads

  type Job = () => Promise<void>;
  /** The reads the layout check does not decide: pools (views) and holdings. */
  function* viewJobs(): Generator<Job> {
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
  /** Balances and settlement states, read as the layout check decided. */
  function* wordJobs(): Generator<Job> {
    for (const chunk of chunked(balanceReads(), storage.balances === "slots" ? slotBatchSize : batchSize)) {
      yield storage.balances === "slots" ? () => runSlots(LEDGER_STORAGE.balances, 2, chunk) : () => runWordViews(chunk);
    }
    // Settlement states the prefetch read are checked as they come (their record hashes computed
    // while the balances are read); the others are read here.
    function* unreadSettlements(): Generator<WordRead> {
      const words = storage.reserves === "slots" ? prefetched : undefined;
      let order = settlementOrder;
      for (const s of state.settlements.values()) {
        const position = order++;
        if (!readsState(s)) continue;
        checked.reserves += 1;
        const w = words?.get(s.orderRef);
        if (w === undefined) yield settlementRead(s, position);
        else checkSettlement(s, position, w);
      }
    }
    for (const chunk of chunked(unreadSettlements(), storage.reserves === "slots" ? slotBatchSize : batchSize)) {
      yield storage.reserves === "slots" ? () => runSlots(LEDGER_STORAGE.settlements, 1, chunk) : () => runWordViews(chunk);
    }
  }
  // The views go out with the layout check; balances and settlement states follow its answer. The
  // reader keeps at most `concurrency` requests in flight across both.
  await Promise.all([inPool(viewJobs(), concurrency, (job) => job()), layoutCheck().then(() => inPool(wordJobs(), concurrency, (job) => job())), hashAhead()]);

  found.sort((x, y) => x.order - y.order);
  if (prefetch) await prefetch.drain(); // (already drained unless the storage reads were off)
  if (storage.balances === "slots" || storage.reserves === "slots") storage.via = reader.wordsVia;
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
