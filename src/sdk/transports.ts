import { RpcRequestError, custom, type EIP1193Provider, type EIP1193RequestFn, type Transport } from "viem";

type RequestArguments = { method: string; params?: readonly unknown[] | object };
type RequestFn = (args: RequestArguments) => Promise<unknown>;

/**
 * Hardhat 2's in-process chain engine (EDR) as its provider wrapper (`EdrProviderWrapper`) holds
 * it: `handleRequest` takes a JSON-RPC request as JSON text and answers with a response object
 * whose `data` is the JSON text of the answer. `_provider` is read at every request: `hardhat_reset`
 * replaces the engine inside the same wrapper.
 */
export type HardhatEngineHolder = { _provider: { handleRequest(request: string): Promise<{ data: unknown }> } };

/**
 * Methods whose answers can be megabytes, that change nothing on the chain and that no provider
 * wrapper of Hardhat's alters: these are answered by the engine directly (see {hardhatTransport}).
 */
const DIRECT_METHODS: ReadonlySet<string> = new Set(["eth_getLogs"]);

/**
 * Finds the in-process engine behind `hre.network.provider`, walking Hardhat's provider wrappers
 * (the lazy adapter's `provider`, a wrapper's `_wrappedProvider`, the backwards-compatibility
 * adapter's `_provider`). Undefined for any other provider (a `hardhat node` over HTTP, a provider
 * not yet initialised, another Hardhat version's layout): callers then use `request` as usual.
 */
export function findHardhatEngine(provider: unknown): HardhatEngineHolder | undefined {
  let current = provider as Record<string, unknown> | undefined;
  for (let depth = 0; depth < 16 && current !== null && typeof current === "object"; depth += 1) {
    const inner = current._provider as { handleRequest?: unknown } | undefined;
    if (inner !== null && typeof inner === "object" && typeof inner.handleRequest === "function") return current as unknown as HardhatEngineHolder;
    current = (current.provider ?? current._wrappedProvider ?? inner) as Record<string, unknown> | undefined;
  }
  return undefined;
}

/** The engine's answer to one request (its `data`: the JSON text), or undefined when the call itself throws. */
async function engineData(holder: HardhatEngineHolder, request: { method: string; params: readonly unknown[] }): Promise<unknown> {
  try {
    return (await holder._provider.handleRequest(JSON.stringify({ jsonrpc: "2.0", id: 0, method: request.method, params: request.params }))).data;
  } catch {
    return undefined;
  }
}

/**
 * Answers a request with the engine's own JSON text, read and parsed once; undefined when the
 * engine answers with an error or something unexpected (the caller then asks the provider, which
 * builds Hardhat's own error; the methods are read-only, so asking again changes nothing).
 */
async function askEngine(holder: HardhatEngineHolder, args: { method: string; params: readonly unknown[] }): Promise<{ result: unknown } | undefined> {
  const data = await engineData(holder, args);
  let response: unknown;
  try {
    response = typeof data === "string" ? JSON.parse(data) : data;
  } catch {
    return undefined;
  }
  if (response === null || typeof response !== "object" || "error" in response || !("result" in response)) return undefined;
  return { result: (response as { result: unknown }).result };
}

/**
 * Read-only methods {HardhatTransportValue.engineBatch} sends: they change nothing on the chain.
 * None of Hardhat's provider wrappers alters their answers; for `eth_call`, Hardhat's provider
 * would also print a called contract's `console.log` lines, which a batch does not.
 */
const BATCH_METHODS: ReadonlySet<string> = new Set(["eth_getStorageAt", "eth_getBalance", "eth_getCode", "eth_call", "eth_getLogs", "eth_blockNumber", "eth_chainId"]);

/** One request of a batch: a method and its positional parameters. */
export type EngineRequest = { method: string; params: readonly unknown[] };

/** What {hardhatTransport} adds to a client's `transport`. */
export type HardhatTransportValue = {
  /**
   * Sends read-only requests to Hardhat's in-process engine as one JSON-RPC batch, and resolves
   * to their answers in order. Undefined when the provider is not the in-process engine (a
   * `hardhat node` over HTTP, say): callers then send their requests one by one, or as fewer
   * larger ones. The engine answers a batch whole or not at all, so one bad request rejects the
   * whole batch with the engine's error (an `RpcRequestError` naming its code and message).
   * Methods: eth_getStorageAt, eth_getBalance, eth_getCode, eth_call, eth_getLogs,
   * eth_blockNumber and eth_chainId; any other throws a TypeError before anything is sent.
   *
   * Why: a request's cost in the engine is mostly its own handling, not its work. Ten thousand
   * `eth_getStorageAt` in batches of 2,000 took the engine about 12 µs a word on this project's
   * machines, against 18-28 µs a word for a state-override `eth_call` that reads them all (the
   * engine traces every EVM step of a call), and about 80 µs each one by one.
   */
  engineBatch(requests: readonly EngineRequest[]): Promise<unknown[]> | undefined;
  /**
   * Sends one read-only request (the methods {engineBatch} takes) to the in-process engine and
   * resolves to the engine's response as JSON text, unparsed, when it holds a result
   * (`{"result":...}`: parse it and take `result`); to undefined when the engine answers with an
   * error (ask again through `request` for the error Hardhat's provider builds). Undefined when
   * the provider is not the in-process engine.
   *
   * Why: a caller that keeps several large answers waiting (an auditor's `eth_getLogs` in
   * flight) keeps text, which the garbage collector never copies, instead of thousands of small
   * objects that each young-generation collection copies until they are used.
   */
  engineResponseText(request: EngineRequest): Promise<string | undefined> | undefined;
};

/** {hardhatTransport}'s transport: viem's custom transport, with {HardhatTransportValue}. */
export type HardhatTransport = Transport<"custom", HardhatTransportValue, EIP1193RequestFn>;

/** One of {HardhatTransportValue}'s functions on `client.transport`, if it has it (a client made with {hardhatTransport}). */
function transportValueOf<K extends keyof HardhatTransportValue>(client: unknown, key: K): HardhatTransportValue[K] | undefined {
  const found = (client as { transport?: Partial<HardhatTransportValue> } | null)?.transport?.[key];
  return typeof found === "function" ? found : undefined;
}

/** `client.transport`'s {HardhatTransportValue.engineBatch}, if it has one. */
export const engineBatchOf = (client: unknown) => transportValueOf(client, "engineBatch");

/** `client.transport`'s {HardhatTransportValue.engineResponseText}, if it has one. */
export const engineResponseTextOf = (client: unknown) => transportValueOf(client, "engineResponseText");

/**
 * A viem transport over Hardhat's in-process provider (`hre.network.provider`), or any provider
 * Hardhat gives a script (a `hardhat node` over HTTP included).
 *
 * - Hardhat rejects a reverted call with an error that carries the revert data but no JSON-RPC
 *   code; this re-throws it as viem's HTTP transport would a node's answer (an `RpcRequestError`
 *   with code 3, "execution reverted" and the data), so that viem, and so the SDK, decode the
 *   contract's custom error exactly as they do over HTTP. As an error with no code, viem would
 *   take it for a transient failure and send the call three more times, with back-off.
 * - On the in-process chain, `eth_getLogs` is answered by the engine directly. Hardhat 2.29's
 *   provider reads the engine's answer text twice (once to test its type, once to parse it), and
 *   every read turns the engine's text into a new JavaScript string: for an auditor's answers of
 *   a megabyte or more that doubles the work on the caller's thread (about 4 µs a log). Errors, and
 *   every other method, go through the provider as before.
 * - Not the transport's to set, but it matters more: the engine's allocator (mimalloc) gives
 *   freed memory back 10 ms after it is freed, and then faults it in again for the next large
 *   answer. This project's hardhat.config.ts sets `MIMALLOC_PURGE_DELAY=1000` before the engine
 *   loads; in the replay benchmark that cut the engine's CPU by two thirds.
 *
 * @example
 * import hre from "hardhat"
 * const publicClient = createPublicClient({ transport: hardhatTransport(hre.network.provider) })
 */
export function hardhatTransport(provider: { request: RequestFn }): HardhatTransport {
  let engine: HardhatEngineHolder | undefined;
  const viaProvider = async (args: RequestArguments) => {
    try {
      return await provider.request(args);
    } catch (error) {
      const data = (error as { data?: unknown }).data;
      const code = (error as { code?: unknown }).code;
      if (code === undefined && typeof data === "string" && data.startsWith("0x")) {
        throw new RpcRequestError({
          body: { method: args.method, params: args.params },
          error: { code: 3, message: `execution reverted: ${(error as Error).message}`, data },
          url: "hardhat in-process provider",
        });
      }
      throw error;
    }
  };
  const wrapped = {
    request: async (args: RequestArguments) => {
      if (DIRECT_METHODS.has(args.method) && Array.isArray(args.params)) {
        // Looked up until found: the lazy provider has no engine before its first request.
        engine ??= findHardhatEngine(provider);
        const answer = engine && (await askEngine(engine, { method: args.method, params: args.params }));
        if (answer) return answer.result;
      }
      return viaProvider(args);
    },
  };
  const readOnly = (name: string, requests: readonly EngineRequest[]) => {
    for (const r of requests) {
      if (!BATCH_METHODS.has(r.method)) throw new TypeError(`${name} sends read-only methods only (${[...BATCH_METHODS].join(", ")}), not ${r.method}`);
    }
    engine ??= findHardhatEngine(provider);
    return engine;
  };
  const value: HardhatTransportValue = {
    engineBatch: (requests) => {
      const holder = readOnly("engineBatch", requests);
      return holder && sendBatch(holder, requests);
    },
    engineResponseText: (request) => {
      const holder = readOnly("engineResponseText", [request]);
      return holder && responseText(holder, request);
    },
  };
  const base = custom(wrapped as unknown as EIP1193Provider, { key: "hardhat", name: "Hardhat in-process provider" });
  return (config) => ({ ...base(config), value });
}

/** How the engine's response text starts when it holds a result. */
const RESULT_PREFIX = '{"result":';

/** The engine's response text to one request when it holds a result, or undefined. */
async function responseText(holder: HardhatEngineHolder, request: EngineRequest): Promise<string | undefined> {
  const data = await engineData(holder, request);
  return typeof data === "string" && data.startsWith(RESULT_PREFIX) ? data : undefined;
}

/**
 * One JSON-RPC batch to the engine; its answers in order, or the engine's error. The engine
 * answers a batch as one response whose result is the array of answers, or with one error.
 */
async function sendBatch(holder: HardhatEngineHolder, requests: readonly EngineRequest[]): Promise<unknown[]> {
  if (requests.length === 0) return [];
  const body = requests.map((r, id) => ({ jsonrpc: "2.0", id, method: r.method, params: r.params }));
  const { data } = await holder._provider.handleRequest(JSON.stringify(body));
  const response = (typeof data === "string" ? JSON.parse(data) : data) as { result?: unknown; error?: { code?: number; message?: string } } | null;
  if (Array.isArray(response?.result) && response.result.length === requests.length) return response.result;
  throw batchError(requests, response?.error ?? { message: `an answer that is not ${requests.length} results: ${JSON.stringify(response).slice(0, 200)}` });
}

function batchError(requests: readonly EngineRequest[], error: { code?: number; message?: string }): RpcRequestError {
  return new RpcRequestError({
    body: { method: requests[0]!.method, params: requests[0]!.params },
    error: { code: error.code ?? -32603, message: `a batch of ${requests.length} requests: ${error.message ?? "no message"}` },
    url: "hardhat in-process engine (batch)",
  });
}
