/** The base of every error the Concord SDK throws: a short message, optional details and a cause. */
export class ConcordError extends Error {
  override name = "ConcordError";
  /** One line that names the problem and the offending value. */
  readonly shortMessage: string;
  readonly details?: string;

  constructor(shortMessage: string, options: { details?: string; cause?: unknown } = {}) {
    super(options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage, { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = options.details;
  }
}

/** Bad input given to the SDK, found before anything is sent. */
export class InvalidInputError extends ConcordError {
  override name = "InvalidInputError";
}

/** The JSON-RPC endpoint failed (unreachable, timed out, refused the request): not a contract revert. */
export class RpcError extends ConcordError {
  override name = "RpcError";
}

/** No deployment is known for a chain, or the given addresses hold no Concord contract. */
export class DeploymentNotFoundError extends ConcordError {
  override name = "DeploymentNotFoundError";
}

/** A Concord contract reverted with one of its custom errors (or a plain revert). */
export class ContractRevertError extends ConcordError {
  override name = "ContractRevertError";
  /** The custom error's name, e.g. "RegistrySharesSumInvalid"; undefined for a revert without data. */
  readonly errorName?: string;
  readonly args: readonly unknown[];

  constructor(shortMessage: string, options: { errorName?: string; args?: readonly unknown[]; details?: string; cause?: unknown }) {
    super(shortMessage, options);
    this.errorName = options.errorName;
    this.args = options.args ?? [];
  }
}

/**
 * A contract wallet refused a signature made in its name: its ERC-1271 `isValidSignature`
 * reverted or did not return the magic value. The message names the wallet and, in words, why.
 */
export class WalletSignatureRefusedError extends ConcordError {
  override name = "WalletSignatureRefusedError";
  /** The wallet that refused. */
  readonly wallet: `0x${string}`;
  /** The wallet's own reason, in words (its revert reason, translated where the wallet is known). */
  readonly reason: string;

  constructor(wallet: `0x${string}`, reason: string, options: { details?: string; cause?: unknown } = {}) {
    super(`the wallet ${wallet} refused the signature: ${reason}`, options);
    this.wallet = wallet;
    this.reason = reason;
  }
}

/** What a read action can throw: bad input, a revert of the read, a failed RPC request, or (signing for a contract wallet) the wallet's refusal. */
export type ConcordReadErrorType = InvalidInputError | ContractRevertError | RpcError | WalletSignatureRefusedError;

/**
 * What a write action can throw: bad input (before anything is sent), a decoded revert (from the
 * simulation, before any gas is spent, or from the mined transaction), a failed RPC request, or a
 * contract wallet's refusal of its consent signature, in its words.
 */
export type ConcordWriteErrorType = InvalidInputError | ContractRevertError | RpcError | WalletSignatureRefusedError;
