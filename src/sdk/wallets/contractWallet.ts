/**
 * Contract wallets (ERC-1271) as Concord partners: consent signed in the wallet's name, the
 * wallet's own check of it before anything is submitted, and the Concord error of a call that
 * failed inside the wallet's transaction. The Safe adapter (./safe.ts) builds on this.
 */
import {
  decodeFunctionData,
  getAddress,
  hashTypedData,
  parseAbi,
  type Address,
  type Hex,
  type TransactionReceipt,
  type TypedDataDefinition,
} from "viem";
import { agreementRegistryAbi, negotiationHubAbi, settlementLedgerAbi } from "../abi";
import { accountAddress, signerOf, walletOf, type ConcordContext } from "../client";
import { ContractRevertError, InvalidInputError, WalletSignatureRefusedError } from "../errors/base";
import { toConcordError, withConcordErrors } from "../errors/decode";
import type { PreparedCall } from "../prepare";
import { explainSafeError } from "./safeErrors";
import { decodeEvents, type WriteResult } from "../write";

/** ERC-1271's magic value: `bytes4(keccak256("isValidSignature(bytes32,bytes)"))`. */
export const ERC1271_MAGIC_VALUE = "0x1626ba7e";

export const erc1271Abi = parseAbi(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);

/** What a contract wallet is asked to sign: a Concord EIP-712 digest, its typed data, and the chain. */
export type WalletSignRequest = { digest: Hex; typedData: TypedDataDefinition; chainId: number };

/**
 * A contract wallet that signs in its own name: the address named as the signer, and the function
 * producing the signature its `isValidSignature(digest, signature)` accepts.
 */
export type ContractWalletSigner = {
  address: Address;
  sign: (request: WalletSignRequest) => Promise<Hex>;
  /** Words for the wallet's own revert reason (the Safe's "GS020" codes, say); the reason as it is when absent. */
  explainRefusal?: (reason: string) => string;
};

/**
 * The generic ERC-1271 path: a wallet at `address` whose signature `sign` makes (a multisig's
 * owners' signatures in its format, a smart account's signer, a remote service).
 *
 * @example
 * import { contractWallet, signConsent } from "./src/sdk"
 * const wallet = contractWallet({ address: vault, sign: ({ digest }) => myVault.sign(digest) })
 * const consent = await signConsent(context, { agreementId: 1n, version: 1, terms, wallet })
 */
export function contractWallet(parameters: ContractWalletSigner): ContractWalletSigner {
  return { ...parameters, address: getAddress(parameters.address) };
}

/** What a consent-signing action takes to sign in a contract wallet's name. */
export type WalletSigningParameters = {
  /** Sign in the name of this contract wallet (ERC-1271) rather than the context's account. */
  wallet?: ContractWalletSigner;
  /**
   * Ask the wallet's `isValidSignature` first (default `true`): a refusal is a
   * {@link WalletSignatureRefusedError} naming the wallet and its reason. Turn off for a partial
   * signature that other owners complete.
   */
  check?: boolean;
};

/** The signer an action names: the wallet's address, or the context's account. */
export function signingAddress(context: ConcordContext, parameters: WalletSigningParameters): Address {
  return parameters.wallet ? getAddress(parameters.wallet.address) : accountAddress(signerOf(context));
}

/**
 * Signs Concord typed data as {@link signingAddress} names: through the wallet (then checked by
 * it, unless told not to), or with the context's account (a local account in process, a
 * JSON-RPC account through `eth_signTypedData_v4`).
 */
export async function signAs(context: ConcordContext, typedData: TypedDataDefinition, parameters: WalletSigningParameters): Promise<Hex> {
  const { wallet } = parameters;
  if (wallet) {
    const digest = hashTypedData(typedData);
    const signature = await wallet.sign({ digest, typedData, chainId: context.chainId });
    if (parameters.check ?? true) await checkWalletSignature(context, { wallet, digest, signature });
    return signature;
  }
  const account = signerOf(context);
  try {
    return await withConcordErrors(() => walletOf(context).signTypedData({ account, ...typedData }));
  } catch (error) {
    // A contract's address as the account: the node knows no key for it ("Unknown account").
    const address = accountAddress(account);
    if ((typeof account === "string" || account.type === "json-rpc") && (await hasCode(context, address))) {
      throw new InvalidInputError(
        `${address} is a contract (a contract wallet?): it cannot sign typed data itself; pass wallet: safeWallet(...) or contractWallet(...) to sign in its name`,
        { cause: error },
      );
    }
    throw error;
  }
}

async function hasCode(context: ConcordContext, address: Address): Promise<boolean> {
  const code = await withConcordErrors(() => context.publicClient.getCode({ address }));
  return code !== undefined && code !== "0x";
}

/**
 * Asks the wallet whether `signature` is its signature over `digest` (ERC-1271
 * `isValidSignature`, as the registry and the ledger do); a refusal is a
 * {@link WalletSignatureRefusedError} with the wallet's reason in words.
 */
export async function checkWalletSignature(
  context: ConcordContext,
  parameters: { wallet: Address | ContractWalletSigner; digest: Hex; signature: Hex },
): Promise<void> {
  const wallet = typeof parameters.wallet === "string" ? contractWallet({ address: parameters.wallet, sign: unsupported }) : parameters.wallet;
  const address = getAddress(wallet.address);
  if (!(await hasCode(context, address))) throw new WalletSignatureRefusedError(address, "it has no code: it is not a contract wallet on this chain");
  let result: Hex;
  try {
    result = await context.publicClient.readContract({
      address,
      abi: erc1271Abi,
      functionName: "isValidSignature",
      args: [parameters.digest, parameters.signature],
    });
  } catch (error) {
    const concord = toConcordError(error);
    if (!(concord instanceof ContractRevertError)) throw concord;
    const reason = concord.shortMessage.replace(/^.*reverted with reason:\s*/i, "").replace(/^.*reverted with the following reason:\s*/i, "").trim();
    // A wallet named by address only: a Safe's codes are still put in words (other reasons stay as they are).
    throw new WalletSignatureRefusedError(address, (wallet.explainRefusal ?? explainSafeError)(reason), { cause: error });
  }
  if (result.toLowerCase() !== ERC1271_MAGIC_VALUE) {
    throw new WalletSignatureRefusedError(address, `isValidSignature returned ${result}, not the ERC-1271 magic value ${ERC1271_MAGIC_VALUE}`);
  }
}

/**
 * Runs a submission of consent signatures (`submit`); when the registry refuses one as invalid
 * (RegistryInvalidSignature, which cannot say why) and its signer is a contract wallet, asks the
 * wallet and throws its refusal in words instead ({@link WalletSignatureRefusedError}).
 */
export async function withWalletDiagnosis<T>(
  context: ConcordContext,
  signatures: readonly { signer: Address; nonce: bigint; deadline: bigint; signature: Hex }[],
  digestOf: (signature: { signer: Address; nonce: bigint; deadline: bigint }) => Hex | Promise<Hex>,
  submit: () => Promise<T>,
): Promise<T> {
  try {
    return await submit();
  } catch (error) {
    if (!(error instanceof ContractRevertError) || error.errorName !== "RegistryInvalidSignature") throw error;
    const refused = signatures.find((s) => s.signer.toLowerCase() === String(error.args[0]).toLowerCase());
    if (!refused || !(await hasCode(context, refused.signer))) throw error;
    await checkWalletSignature(context, { wallet: refused.signer, digest: await digestOf(refused), signature: refused.signature }).catch((refusal: unknown) => {
      throw refusal instanceof WalletSignatureRefusedError ? refusal : error;
    });
    throw error;
  }
}

const unsupported = (): Promise<Hex> => Promise.reject(new InvalidInputError("this wallet was given by address only: it cannot sign"));

/** Every Concord ABI in one: a prepared call's calldata and its revert decode against it. */
const CONCORD_ABI = [...agreementRegistryAbi, ...settlementLedgerAbi, ...negotiationHubAbi];

/**
 * Simulates a prepared call from the wallet's address (`eth_call` with `from` = the wallet, at
 * `blockNumber` or the latest block) and returns the Concord error it reverts with, its message
 * prefixed with the wallet, or `undefined` when it does not revert there.
 */
export async function explainWalletCall(
  context: ConcordContext,
  parameters: { wallet: Address; call: Pick<PreparedCall, "to" | "data" | "value">; blockNumber?: bigint },
): Promise<ContractRevertError | undefined> {
  const wallet = getAddress(parameters.wallet);
  let decoded: ReturnType<typeof decodeFunctionData<typeof CONCORD_ABI>>;
  try {
    decoded = decodeFunctionData({ abi: CONCORD_ABI, data: parameters.call.data });
  } catch {
    return undefined; // not a Concord call (a token approval, say): nothing of ours to explain
  }
  try {
    await context.publicClient.simulateContract({
      address: parameters.call.to,
      abi: CONCORD_ABI,
      functionName: decoded.functionName,
      args: decoded.args,
      account: wallet,
      value: parameters.call.value,
      ...(parameters.blockNumber === undefined ? {} : { blockNumber: parameters.blockNumber }),
    } as unknown as Parameters<typeof context.publicClient.simulateContract>[0]);
    return undefined;
  } catch (error) {
    const concord = toConcordError(error);
    if (!(concord instanceof ContractRevertError)) throw concord;
    return new ContractRevertError(`inside the wallet ${wallet}: ${concord.shortMessage}`, {
      errorName: concord.errorName,
      args: concord.args,
      details: concord.details,
      cause: error,
    });
  }
}

/**
 * The result of a wallet's transaction that executed a prepared call, read like any other write:
 * its receipt and the Concord events of the call's target. When the inner call failed (the
 * transaction reverted, or `failed` says so from the receipt, as a Safe's ExecutionFailure does),
 * the call is simulated from the wallet just before that block and its Concord error thrown.
 */
export async function getWalletTransactionResult(
  context: ConcordContext,
  parameters: { hash: Hex; wallet: Address; call: PreparedCall; failed?: (receipt: TransactionReceipt) => boolean },
): Promise<WriteResult> {
  const receipt = await withConcordErrors(() => context.publicClient.waitForTransactionReceipt({ hash: parameters.hash }));
  if (receipt.status !== "success" || parameters.failed?.(receipt)) {
    const inner = await explainWalletCall(context, { wallet: parameters.wallet, call: parameters.call, blockNumber: receipt.blockNumber - 1n });
    throw (
      inner ??
      new ContractRevertError(`the transaction ${parameters.hash} of the wallet ${parameters.wallet} failed: ${parameters.call.description}`, {
        details: "the call does not revert when simulated from the wallet before that block: the wallet itself refused it",
      })
    );
  }
  return { hash: parameters.hash, receipt, events: decodeEvents(CONCORD_ABI, receipt.logs, parameters.call.to) };
}
