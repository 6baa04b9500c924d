import { RpcRequestError, custom, type CustomTransport, type EIP1193Provider } from "viem";

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

/**
 * Answers a request with the engine's own JSON text, read and parsed once; undefined when the
 * engine answers with an error or something unexpected (the caller then asks the provider, which
 * builds Hardhat's own error; the methods are read-only, so asking again changes nothing).
 */
async function askEngine(holder: HardhatEngineHolder, args: { method: string; params: readonly unknown[] }): Promise<{ result: unknown } | undefined> {
  let response: unknown;
  try {
    const { data } = await holder._provider.handleRequest(JSON.stringify({ method: args.method, params: args.params }));
    response = typeof data === "string" ? JSON.parse(data) : data;
  } catch {
    return undefined;
  }
  if (response === null || typeof response !== "object" || "error" in response || !("result" in response)) return undefined;
  return { result: (response as { result: unknown }).result };
}

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
 *
 * @example
 * import hre from "hardhat"
 * const publicClient = createPublicClient({ transport: hardhatTransport(hre.network.provider) })
 */
export function hardhatTransport(provider: { request: RequestFn }): CustomTransport {
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
  return custom(wrapped as unknown as EIP1193Provider);
}
