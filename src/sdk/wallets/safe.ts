/**
 * The Safe (formerly Gnosis Safe, the most used multisig) as a Concord partner: its owners'
 * signatures in the Safe's own format, for consent through its ERC-1271 fallback handler
 * (CompatibilityFallbackHandler: a `SafeMessage` over the Concord digest) and for executing a
 * prepared call as a Safe transaction (`SafeTx`). Safe 1.3.0 and later (chain id in the domain).
 */
import {
  getAddress,
  parseAbi,
  parseEventLogs,
  zeroAddress,
  type Address,
  type Hex,
  type LocalAccount,
  type TransactionReceipt,
} from "viem";
import { accountAddress, signerOf, walletOf, type ConcordContext } from "../client";
import { ContractRevertError, InvalidInputError } from "../errors/base";
import { toConcordError, withConcordErrors } from "../errors/decode";
import type { PreparedCall } from "../prepare";
import { withGasMargin, type WriteResult } from "../write";
import { contractWallet, explainWalletCall, getWalletTransactionResult, type ContractWalletSigner } from "./contractWallet";
import { explainSafeError } from "./safeErrors";

/** The parts of the Safe's ABI the adapter uses. */
export const safeAbi = parseAbi([
  "function getOwners() view returns (address[])",
  "function getThreshold() view returns (uint256)",
  "function nonce() view returns (uint256)",
  "function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures) payable returns (bool success)",
  "event ExecutionFailure(bytes32 indexed txHash, uint256 payment)",
  "event ExecutionSuccess(bytes32 indexed txHash, uint256 payment)",
]);

/** One owner's part of a Safe signature. */
export type SafeOwnerSignature = { owner: Address; signature: Hex };

/** The EIP-712 domain of a Safe: chain id and the Safe's address. */
const safeDomain = (chainId: number, safe: Address) => ({ chainId, verifyingContract: getAddress(safe) });

/**
 * The typed data a Safe's owners sign so that the Safe's `isValidSignature(digest, ...)` accepts:
 * a `SafeMessage` whose message is the 32-byte digest (CompatibilityFallbackHandler).
 */
export function getSafeMessageTypedData(parameters: { chainId: number; safe: Address; digest: Hex }) {
  return {
    domain: safeDomain(parameters.chainId, parameters.safe),
    types: { SafeMessage: [{ name: "message", type: "bytes" }] },
    primaryType: "SafeMessage" as const,
    message: { message: parameters.digest },
  };
}

/** One owner signs its part of the Safe's signature over a Concord digest (offline: no chain needed). */
export async function signSafeMessage(parameters: { chainId: number; safe: Address; digest: Hex; owner: LocalAccount }): Promise<SafeOwnerSignature> {
  const signature = await parameters.owner.signTypedData(getSafeMessageTypedData(parameters));
  return { owner: getAddress(parameters.owner.address), signature };
}

/**
 * The Safe's signature from its owners' parts: each 65-byte ECDSA signature, sorted by owner
 * address as the Safe requires. An owner given twice is refused; too few owners is the Safe's to
 * refuse (GS020), which {@link checkWalletSignature} reports in words.
 */
export function combineSafeSignatures(parts: readonly SafeOwnerSignature[]): Hex {
  if (parts.length === 0) throw new InvalidInputError("no owner signatures to combine");
  const sorted = [...parts].sort((a, b) => (BigInt(a.owner) < BigInt(b.owner) ? -1 : 1));
  sorted.forEach((part, i) => {
    if (part.signature.length !== 132) throw new InvalidInputError(`the signature of owner ${part.owner} is not 65 bytes`);
    if (i > 0 && BigInt(sorted[i - 1]!.owner) === BigInt(part.owner)) throw new InvalidInputError(`owner ${part.owner} signed twice`);
  });
  return `0x${sorted.map((p) => p.signature.slice(2)).join("")}`;
}

/**
 * A Safe as a consenting signer: its owners' keys sign the `SafeMessage` of each Concord digest,
 * combined into the Safe's signature; the Safe's own refusals come back in words.
 *
 * @example
 * import { safeWallet, signConsent } from "./src/sdk"
 * const wallet = safeWallet({ address: safe, owners: [alice, bob] }) // 2 of its 3 owners
 * const consent = await signConsent(context, { agreementId: 1n, version: 1, terms, wallet })
 */
export function safeWallet(parameters: { address: Address; owners: readonly LocalAccount[] }): ContractWalletSigner {
  const safe = getAddress(parameters.address);
  return contractWallet({
    address: safe,
    sign: async ({ digest, chainId }) =>
      combineSafeSignatures(await Promise.all(parameters.owners.map((owner) => signSafeMessage({ chainId, safe, digest, owner })))),
    explainRefusal: explainSafeError,
  });
}

/** A Safe transaction of one call (operation CALL, no gas refund: the executor pays its own gas). */
export type SafeTransaction = {
  to: Address;
  value: bigint;
  data: Hex;
  operation: number;
  safeTxGas: bigint;
  baseGas: bigint;
  gasPrice: bigint;
  gasToken: Address;
  refundReceiver: Address;
  nonce: bigint;
};

const safeTxTypes = {
  SafeTx: [
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "data", type: "bytes" },
    { name: "operation", type: "uint8" },
    { name: "safeTxGas", type: "uint256" },
    { name: "baseGas", type: "uint256" },
    { name: "gasPrice", type: "uint256" },
    { name: "gasToken", type: "address" },
    { name: "refundReceiver", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

/** The Safe transaction executing `call` at the Safe's `nonce` (`safeTxGas` 0: the inner call's failure reverts the whole). */
export function safeTransactionOf(call: Pick<PreparedCall, "to" | "value" | "data">, nonce: bigint, safeTxGas = 0n): SafeTransaction {
  return { to: call.to, value: call.value, data: call.data, operation: 0, safeTxGas, baseGas: 0n, gasPrice: 0n, gasToken: zeroAddress, refundReceiver: zeroAddress, nonce };
}

/** The typed data owners sign to approve a Safe transaction (`SafeTx`). */
export function getSafeTransactionTypedData(parameters: { chainId: number; safe: Address; transaction: SafeTransaction }) {
  return { domain: safeDomain(parameters.chainId, parameters.safe), types: safeTxTypes, primaryType: "SafeTx" as const, message: parameters.transaction };
}

export type ExecuteSafeTransactionParameters = {
  safe: Address;
  /** A prepared call ({@link prepareWithdraw} and the other `prepareX`). */
  call: PreparedCall;
  /** The owners who sign now, or their signatures already combined ({@link combineSafeSignatures}) for `nonce`. */
  owners: readonly LocalAccount[] | Hex;
  /** The Safe's nonce the transaction is signed for (default: read from the Safe). */
  nonce?: bigint;
  /**
   * Gas for the inner call (default 0: all the gas, and its failure reverts the Safe's transaction).
   * Set, a failed inner call is mined as the Safe's ExecutionFailure; either way its Concord error is thrown.
   */
  safeTxGas?: bigint;
};

/**
 * Executes a prepared call as the Safe's own transaction (`execTransaction`), sent and paid for by
 * the context's account (an owner, or anyone), and returns it like any other write: receipt and
 * Concord events. The transaction is simulated first; when it fails, the prepared call is simulated
 * from the Safe's address and its Concord error, naming the values, is thrown.
 *
 * @example
 * import { executeSafeTransaction, prepareWithdraw } from "./src/sdk"
 * const call = await prepareWithdraw({ ...context, account: safe }, { to: treasury })
 * const { events } = await executeSafeTransaction(ownerContext, { safe, call, owners: [alice, bob] })
 */
export async function executeSafeTransaction(context: ConcordContext, parameters: ExecuteSafeTransactionParameters): Promise<WriteResult> {
  const safe = getAddress(parameters.safe);
  const nonce =
    parameters.nonce ?? (await withConcordErrors(() => context.publicClient.readContract({ address: safe, abi: safeAbi, functionName: "nonce" })));
  const transaction = safeTransactionOf(parameters.call, nonce, parameters.safeTxGas);
  const signatures =
    typeof parameters.owners === "string"
      ? parameters.owners
      : combineSafeSignatures(
          await Promise.all(
            parameters.owners.map(async (owner) => ({
              owner: getAddress(owner.address),
              signature: await owner.signTypedData(getSafeTransactionTypedData({ chainId: context.chainId, safe, transaction })),
            })),
          ),
        );
  const exec = {
    address: safe,
    abi: safeAbi,
    functionName: "execTransaction",
    args: [transaction.to, transaction.value, transaction.data, transaction.operation, transaction.safeTxGas, 0n, 0n, zeroAddress, zeroAddress, signatures],
  } as const;
  const account = signerOf(context);
  let gas: bigint;
  try {
    gas = withGasMargin(await context.publicClient.estimateContractGas({ ...exec, account: accountAddress(account) }));
  } catch (error) {
    // The Safe's own refusal (signatures, gas) is a "GSxxx" reason; anything else came from the inner call.
    const refusal = safeRefusal(safe, error);
    if (refusal instanceof ContractRevertError && /GS\d{3}/.test(refusal.shortMessage)) throw refusal;
    throw (await explainWalletCall(context, { wallet: safe, call: parameters.call })) ?? refusal;
  }
  const wallet = walletOf(context);
  const hash = await withConcordErrors(() => wallet.writeContract({ ...exec, account, gas, chain: wallet.chain }));
  return getWalletTransactionResult(context, { hash, wallet: safe, call: parameters.call, failed: safeExecutionFailed });
}

/** A Safe transaction whose inner call failed without reverting the Safe's (safeTxGas or gasPrice set). */
function safeExecutionFailed(receipt: TransactionReceipt): boolean {
  return parseEventLogs({ abi: safeAbi, eventName: "ExecutionFailure", logs: receipt.logs }).length > 0;
}

function safeRefusal(safe: Address, error: unknown): Error {
  const concord = toConcordError(error);
  if (!(concord instanceof ContractRevertError)) return concord;
  return new ContractRevertError(`the Safe ${safe} refused the transaction: ${explainSafeError(concord.shortMessage)}`, { cause: error });
}
