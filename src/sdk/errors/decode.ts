import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  RpcRequestError,
  TimeoutError,
  WebSocketRequestError,
} from "viem";
import { ConcordError, ContractRevertError, RpcError } from "./base";
import { ERROR_MESSAGES } from "./messages";

/**
 * Turns whatever a viem call threw into a Concord error: a decoded custom error becomes a
 * {@link ContractRevertError} with a readable message, a transport failure an {@link RpcError}.
 */
export function toConcordError(error: unknown): ConcordError {
  if (error instanceof ConcordError) return error;
  if (error instanceof ViemBaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const errorName = reverted.data?.errorName;
      const args = reverted.data?.args ?? [];
      const message = errorName && ERROR_MESSAGES[errorName]
        ? ERROR_MESSAGES[errorName]!(...args)
        : reverted.reason ?? reverted.shortMessage;
      const details = errorName ? `${errorName}(${args.map((a) => String(a)).join(", ")})` : undefined;
      return new ContractRevertError(message, { errorName, args, details, cause: error });
    }
    const transport = error.walk(
      (e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof WebSocketRequestError,
    );
    if (transport) return new RpcError(`RPC request failed: ${(transport as ViemBaseError).shortMessage}`, { cause: error });
    const rpc = error.walk((e) => e instanceof RpcRequestError);
    if (rpc) return new RpcError(`RPC error: ${nodeWords(error)}`, { cause: error });
    if (/revert/i.test(error.shortMessage)) return new ContractRevertError(error.shortMessage, { cause: error });
    return new RpcError(nodeWords(error), { cause: error });
  }
  if (error instanceof Error && /ECONNREFUSED|fetch failed|ENOTFOUND|socket hang up/i.test(error.message)) {
    return new RpcError(`RPC request failed: ${error.message}`, { cause: error });
  }
  return new ConcordError(error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * viem's summary of a node's refusal with the node's own words ("Unknown account 0x…"), which
 * viem keeps in `details` under a generic "Missing or invalid parameters."
 */
function nodeWords(error: ViemBaseError): string {
  const summary = error.shortMessage.split("\n")[0]!.replace(/\.$/, "");
  return error.details && !summary.includes(error.details) ? `${summary}: ${error.details}` : summary;
}

/** Runs `fn`, rethrowing any failure as a Concord error. */
export async function withConcordErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toConcordError(error);
  }
}
