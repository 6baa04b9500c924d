import { RpcRequestError, custom, type EIP1193Provider, type EIP1193RequestFn, type Transport } from "viem";

type RequestArguments = { method: string; params?: readonly unknown[] | object };
type RequestFn = (args: RequestArguments) => Promise<unknown>;

/** {hardhatTransport}'s transport: viem's custom transport over an EIP-1193 provider. */
export type HardhatTransport = Transport<"custom", Record<string, never>, EIP1193RequestFn>;

/**
 * A viem transport over Hardhat's provider (`hre.network.provider`: the in-process network, or a
 * `hardhat node` a script is connected to), through the provider's public `request` only.
 *
 * Hardhat rejects a reverted call with an error that carries the revert data but no JSON-RPC
 * code; this re-throws it as viem's HTTP transport would a node's answer (an `RpcRequestError`
 * with code 3, "execution reverted" and the data), so that viem, and so the SDK, decode the
 * contract's custom error exactly as they do over HTTP. As an error with no code, viem would take
 * it for a transient failure and send the call three more times, with back-off. Every other
 * answer and error passes through unchanged.
 *
 * @example
 * import hre from "hardhat"
 * const publicClient = createPublicClient({ transport: hardhatTransport(hre.network.provider) })
 */
export function hardhatTransport(provider: { request: RequestFn }): HardhatTransport {
  const wrapped = {
    request: async (args: RequestArguments) => {
      try {
        return await provider.request(args);
      } catch (error) {
        throw normalizeRevert(error, args);
      }
    },
  };
  return custom(wrapped as unknown as EIP1193Provider, { key: "hardhat", name: "Hardhat provider" }) as HardhatTransport;
}

/** A revert without a JSON-RPC code as a node's `execution reverted` answer; anything else unchanged. */
export function normalizeRevert(error: unknown, args: RequestArguments): unknown {
  const data = (error as { data?: unknown } | null)?.data;
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== undefined || typeof data !== "string" || !data.startsWith("0x")) return error;
  return new RpcRequestError({
    body: { method: args.method, params: args.params },
    error: { code: 3, message: `execution reverted: ${(error as Error).message}`, data },
    url: "hardhat provider",
  });
}
