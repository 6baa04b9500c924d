import { custom, type CustomTransport, type EIP1193Provider } from "viem";

type RequestFn = (args: { method: string; params?: readonly unknown[] | object }) => Promise<unknown>;

/**
 * A viem transport over Hardhat's in-process provider (`hre.network.provider`). Hardhat rejects a
 * reverted call with an error that carries the revert data but no JSON-RPC code; this re-throws
 * it in the standard shape (code 3, "execution reverted", data) so that viem, and so the SDK,
 * decode the contract's custom error exactly as they do over HTTP.
 *
 * @example
 * import hre from "hardhat"
 * const publicClient = createPublicClient({ transport: hardhatTransport(hre.network.provider) })
 */
export function hardhatTransport(provider: { request: RequestFn }): CustomTransport {
  const wrapped = {
    request: async (args: { method: string; params?: readonly unknown[] | object }) => {
      try {
        return await provider.request(args);
      } catch (error) {
        const data = (error as { data?: unknown }).data;
        const code = (error as { code?: unknown }).code;
        if (code === undefined && typeof data === "string" && data.startsWith("0x")) {
          throw Object.assign(new Error(`execution reverted: ${(error as Error).message}`), { code: 3, data });
        }
        throw error;
      }
    },
  };
  return custom(wrapped as unknown as EIP1193Provider);
}
