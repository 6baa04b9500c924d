/**
 * `sync` replays a deployment's history into the store (resuming after its cursor, rolling back
 * a reorganisation first) and rebuilds the state; `verify` syncs, then reconciles the rebuilt
 * state with the chain at the target block.
 */
import { decodeAbiParameters, encodeFunctionData, getAddress, zeroAddress, type Address, type Hex } from "viem";
import { agreementRegistryAbi, settlementLedgerAbi } from "./abis";
import { ConcordLogDecoder, fetchConcordLogs, rawRequest, type FetchLogsParameters, type RangeEvent } from "./fetch";
import { hashOpenLots, loadLotEntries, takeLotWrites } from "./lot-entries";
import { loadOrderBitmaps, repeatedOrderRefs, reportRepeated, takeOrderRefs } from "./order-refs";
import { ChainReader } from "./reads";
import { reconcile, type Difference, type OrderReferenceReads, type ReconcileResult } from "./reconcile";
import { ReplayState, type Violation } from "./replay";
import { AuditStore, defaultDataDir, type Cursor } from "./store";
import type { ConcordAddresses, ConcordLog, RpcClient } from "./types";

export type AuditParameters = {
  /** A viem client: an `http` transport for a node, or `custom(provider)` for an EIP-1193 provider. */
  client: RpcClient;
  /** The settlement ledger to audit; the registry and negotiation hub are read from the chain. */
  ledger: Address;
  registry?: Address | undefined;
  /** The negotiation hub; null for none; read from the registry when undefined. */
  negotiationHub?: Address | null | undefined;
  /** First block to read on a first sync (the deployment block). Default 0. */
  fromBlock?: bigint | undefined;
  /** Last block to replay; default head minus `confirmations`. */
  toBlock?: bigint | undefined;
  /** Default 0 (a local chain); use more on a public network. */
  confirmations?: bigint | undefined;
  /**
   * Data folder; default `.concord/audit/<chainId>-<ledger>`. null keeps no store: the events are
   * replayed and checked as they come and nothing is kept (no next run to resume); pass `store`
   * (an in-memory `AuditStore.open()`, say) to keep them without a folder.
   */
  dataDir?: string | null | undefined;
  /**
   * A PostgreSQL server to keep the store in instead of a folder
   * (`postgres://user:password@host:port/database`); takes precedence over `dataDir`.
   */
  databaseUrl?: string | undefined;
  /** An open store to use instead of opening `dataDir` (left open). */
  store?: AuditStore | undefined;
  /** Range tuning for `eth_getLogs`. */
  fetch?: Pick<FetchLogsParameters, "initialRange" | "maxRange" | "targetLogs" | "growBelow" | "concurrency" | "maxAttempts" | "retryDelayMs"> | undefined;
  /** Progress after every batch (the CLI draws its progress bar from it). */
  onProgress?: ((progress: SyncProgress) => void) | undefined;
  onRange?: ((event: RangeEvent) => void) | undefined;
  /** Every batch of events replayed (from the store, then from the chain), with the block the sync runs to and where the batch came from. */
  onEvents?: ((logs: readonly ConcordLog[], targetBlock: bigint, source: "store" | "chain") => void) | undefined;
  /**
   * The result of this store's previous sync in this process (a watcher's): its state is carried
   * on when the store's cursor is still at that sync's `toBlock` and no reorganisation rolled it
   * back; otherwise the state is replayed from the store as usual.
   */
  continueFrom?: Pick<SyncResult, "state" | "toBlock"> | undefined;
  /**
   * Which settlements' stored state `verify` reads (see {ReconcileParameters.orderReferences}).
   * Default "reserves". With "all", a sync with a store reads the bitmaps back from it into the state.
   */
  orderReferences?: OrderReferenceReads | undefined;
};

export type SyncProgress = {
  fromBlock: bigint;
  toBlock: bigint;
  /** Last block done. */
  block: bigint;
  events: number;
  eventsPerSecond: number;
};

export type ReorgReport = { storedCursor: Cursor; rolledBackTo: bigint; removedEvents: number };

export type SyncResult = {
  chainId: bigint;
  addresses: ConcordAddresses;
  /** The store's data folder; undefined for a server, an in-memory store or none (`dataDir: null`). */
  dataDir: string | undefined;
  /** Where the store lives, fit to print (a folder, "(memory)", a server's URL without its password); undefined for none. */
  storeLocation: string | undefined;
  head: bigint;
  /** The block the state is rebuilt at (the new cursor). */
  toBlock: bigint;
  /** Events read from the store (already synced before). */
  storedEvents: number;
  /** Events read from the chain in this run, raw and decoded (always equal: undecodable logs throw). */
  newRawLogs: number;
  newEvents: number;
  getLogsRequests: number;
  reorg: ReorgReport | undefined;
  violations: Violation[];
  /** The rebuilt state at `toBlock`. */
  state: ReplayState;
  elapsedMs: number;
};

const hex = (n: bigint): Hex => `0x${n.toString(16)}`;

/** Reads the registry (and negotiation hub) of a ledger from the chain, unless given. */
export async function resolveAddresses(parameters: AuditParameters): Promise<ConcordAddresses> {
  const reader = new ChainReader(parameters.client, getAddress(parameters.ledger), 0n);
  const latest = async (to: Address, abi: typeof agreementRegistryAbi | typeof settlementLedgerAbi, name: string) =>
    (await reader.send("eth_call", [{ to, data: encodeCall(abi, name) }, "latest"])) as Hex;
  const registry = parameters.registry ? getAddress(parameters.registry) : decodeAddress(await latest(reader.ledger, settlementLedgerAbi, "registry"));
  let negotiationHub: Address | undefined;
  if (parameters.negotiationHub !== null) {
    negotiationHub = parameters.negotiationHub ? getAddress(parameters.negotiationHub) : decodeAddress(await latest(registry, agreementRegistryAbi, "negotiationHub"));
    if (negotiationHub === zeroAddress) negotiationHub = undefined;
  }
  return { registry, ledger: reader.ledger, negotiationHub };
}

const encodeCall = (abi: typeof agreementRegistryAbi | typeof settlementLedgerAbi, functionName: string): Hex =>
  encodeFunctionData({ abi, functionName } as never);
const decodeAddress = (data: Hex): Address => decodeAbiParameters([{ type: "address" }], data)[0];

async function blockHash(client: RpcClient, blockNumber: bigint): Promise<Hex | undefined> {
  const block = (await rawRequest(client)({ method: "eth_getBlockByNumber", params: [hex(blockNumber), false] })) as { hash: Hex } | null;
  return block?.hash ?? undefined;
}

/** Finds the last stored block that the chain still has; rolls the store back to it. */
async function rollBackReorg(client: RpcClient, store: AuditStore, cursor: Cursor): Promise<ReorgReport | undefined> {
  if ((await blockHash(client, cursor.blockNumber)) === cursor.blockHash) return undefined;
  let below = cursor.blockNumber;
  for (;;) {
    const stored = await store.blocksDescending(below - 1n, 200);
    if (stored.length === 0) {
      const removedEvents = await store.rollbackTo(undefined);
      return { storedCursor: cursor, rolledBackTo: -1n, removedEvents };
    }
    for (const block of stored) {
      if ((await blockHash(client, block.blockNumber)) === block.blockHash) {
        const removedEvents = await store.rollbackTo(block);
        return { storedCursor: cursor, rolledBackTo: block.blockNumber, removedEvents };
      }
    }
    below = stored.at(-1)!.blockNumber;
  }
}

/**
 * Replays every Concord event into the store and rebuilds the state at the target block. A
 * second run resumes after the stored cursor and reads nothing it already has from the chain;
 * a reorganisation below the cursor is rolled back first. With `dataDir: null` (and no `store`)
 * the events are replayed and checked without being stored.
 *
 * @example
 * const client = createPublicClient({ transport: http("http://127.0.0.1:8545") });
 * const result = await sync({ client, ledger: "0x…" });
 * console.log(result.toBlock, result.violations);
 */
export async function sync(parameters: AuditParameters): Promise<SyncResult> {
  const started = performance.now();
  const { client } = parameters;
  const request = rawRequest(client);
  const chainId = BigInt((await request({ method: "eth_chainId" })) as Hex);
  const head = BigInt((await request({ method: "eth_blockNumber" })) as Hex);
  const addresses = await resolveAddresses(parameters);
  const store = parameters.store ?? (await openStoreFor(parameters, chainId, addresses.ledger));
  // Two auditors on one database: the second waits here, then starts after the first one's cursor.
  const unlock = await store?.lockForSync();
  try {
    const startBlock = parameters.fromBlock ?? 0n;
    const meta = store ? await store.bind({ chainId, addresses, startBlock }) : { chainId, addresses, startBlock };
    const storedAddresses: ConcordAddresses = { ...addresses, registry: meta.addresses.registry };
    const decoder = new ConcordLogDecoder(storedAddresses);

    let cursor = await store?.cursor();
    let reorg: ReorgReport | undefined;
    if (store && cursor) {
      reorg = await rollBackReorg(client, store, cursor);
      if (reorg) cursor = await store.cursor();
    }

    let target = parameters.toBlock ?? head - (parameters.confirmations ?? 0n);
    if (target > head) target = head;

    const carried = store && parameters.continueFrom && !reorg && cursor?.blockNumber === parameters.continueFrom.toBlock ? parameters.continueFrom.state : undefined;
    const state = carried ?? new ReplayState();
    let storedEvents = carried?.eventsApplied ?? 0;
    if (carried) carried.balanceChanges = [];
    else if (store) {
      // A store made before balance changes (or lot entries) were kept gets them from this replay.
      const backfill = await store.needsBalanceChanges();
      if (backfill) await store.startBalanceChanges();
      const lotBackfill = await store.needsLotEntries();
      if (lotBackfill) await store.startLotEntries();
      const refsBackfill = await store.needsOrderRefs();
      if (refsBackfill) await store.startOrderRefs();
      state.balanceChanges = backfill ? [] : undefined;
      state.lotWrites = { entries: [], refunds: [] };
      state.orderRefWrites = [];
      for await (const page of store.events(decoder)) {
        await loadLotEntries(store.db, state, page);
        const since = state.violations.length;
        state.applyBatch(page);
        if (backfill) await store.backfillBalanceChanges(state.balanceChanges!.splice(0), false);
        const lotWrites = takeLotWrites(state); // the store has them, but in a backfill
        if (lotBackfill) await store.backfillLotEntries(lotWrites, false);
        const refs = takeOrderRefs(state);
        reportRepeated(state, refs, refsBackfill ? await store.backfillOrderRefs(refs, false) : await repeatedOrderRefs(store.db, refs), since);
        state.dropLotEntries();
        parameters.onEvents?.(page, target, "store");
        storedEvents += page.length;
      }
      if (backfill) await store.backfillBalanceChanges([], true);
      if (lotBackfill) await store.backfillLotEntries({ entries: [], refunds: [] }, true);
      if (refsBackfill) await store.backfillOrderRefs([], true);
      state.balanceChanges = [];
    }

    const fromBlock = cursor ? cursor.blockNumber + 1n : meta.startBlock;
    let newEvents = 0;
    let newRawLogs = 0;
    let getLogsRequests = 0;
    let toBlock = cursor?.blockNumber ?? fromBlock - 1n;
    if (fromBlock <= target) {
      const logs = fetchConcordLogs(client, {
        ...parameters.fetch,
        addresses: storedAddresses,
        fromBlock,
        toBlock: target,
        head,
        onRange: (event) => {
          if (event.kind === "ok" || event.kind === "shrink" || event.kind === "retry") getLogsRequests += 1;
          parameters.onRange?.(event);
        },
      });
      for await (const batch of logs) {
        if (store) await loadLotEntries(store.db, state, batch.logs);
        const since = state.violations.length;
        state.applyBatch(batch.logs);
        parameters.onEvents?.(batch.logs, target, "chain");
        newEvents += batch.logs.length;
        newRawLogs += batch.rawCount;
        if (store) {
          const last = batch.logs.at(-1);
          const hash = last && last.blockNumber === batch.toBlock ? last.blockHash : await blockHash(client, batch.toBlock);
          if (!hash) throw new Error(`block ${batch.toBlock} has no hash: the chain is shorter than its head said`);
          const refs = takeOrderRefs(state);
          const repeated = await store.append(batch.logs, { blockNumber: batch.toBlock, blockHash: hash }, state.balanceChanges!.splice(0), takeLotWrites(state), refs);
          reportRepeated(state, refs, repeated, since);
          state.dropLotEntries(); // the store has them now: memory stays flat however many lots hold reserves
        }
        toBlock = batch.toBlock;
        const seconds = (performance.now() - started) / 1_000;
        parameters.onProgress?.({ fromBlock, toBlock: target, block: batch.toBlock, events: newEvents, eventsPerSecond: seconds > 0 ? newEvents / seconds : 0 });
      }
    }
    state.finish();
    if (store) {
      await hashOpenLots(store.db, state); // what a reconciliation compares, while the store is open
      if (parameters.orderReferences === "all") await loadOrderBitmaps(store.db, state);
      await store.writeSnapshot(state, toBlock, state.violations);
    }
    return {
      chainId,
      addresses: storedAddresses,
      dataDir: store?.dataDir,
      storeLocation: store?.location,
      head,
      toBlock,
      storedEvents,
      newRawLogs,
      newEvents,
      getLogsRequests,
      reorg,
      violations: state.violations,
      state,
      elapsedMs: performance.now() - started,
    };
  } finally {
    await unlock?.().catch(() => undefined); // a dead connection has released it already
    if (store && !parameters.store) await store.close();
  }
}

/**
 * The store `parameters` name: a server for `databaseUrl`, else the PGlite folder `dataDir`
 * (default `.concord/audit/<chainId>-<ledger>`), or none for `dataDir: null` (an in-memory one
 * would cost PostgreSQL's initdb, seconds, and a write per event, all thrown away at the end).
 */
export async function openStoreFor(parameters: Pick<AuditParameters, "databaseUrl" | "dataDir">, chainId: bigint, ledger: Address): Promise<AuditStore | undefined> {
  if (parameters.databaseUrl) return AuditStore.connect(parameters.databaseUrl);
  if (parameters.dataDir === null) return undefined;
  return AuditStore.open(parameters.dataDir ?? defaultDataDir(chainId, ledger));
}

export type VerifyResult = {
  /** True when no law was broken and the chain matches the rebuilt state everywhere. */
  ok: boolean;
  sync: SyncResult;
  reconcile: ReconcileResult;
  violations: Violation[];
  differences: Difference[];
};

/**
 * Syncs, then reconciles the rebuilt state with the chain at the synced block. The CLI exits
 * with code 4 when `ok` is false.
 *
 * @example
 * const result = await verify({ client, ledger });
 * for (const d of result.differences) console.log(d.kind, d.account, d.token, d.expected, d.actual);
 */
export async function verify(parameters: AuditParameters & { chunkSize?: number }): Promise<VerifyResult> {
  const synced = await sync(parameters);
  const reconciled = await reconcile(parameters.client, synced.state, {
    ledger: synced.addresses.ledger,
    blockNumber: synced.toBlock,
    chunkSize: parameters.chunkSize,
    orderReferences: parameters.orderReferences,
  });
  return {
    ok: synced.violations.length === 0 && reconciled.differences.length === 0,
    sync: synced,
    reconcile: reconciled,
    violations: synced.violations,
    differences: reconciled.differences,
  };
}

