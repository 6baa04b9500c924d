import { getAddress, zeroAddress, type Address, type Hex } from "viem";
import { agreementRegistryAbi } from "../abi";
import { accountAddress, signerOf, walletOf, type ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { getPaymentIntentTypedData, paymentIntentDigest, type Payment } from "../typedData";
import { signAs, type WalletSigningParameters } from "../wallets/contractWallet";
import { paymentsOf, type PaymentInput } from "./payment";

export type SignIntentParameters = {
  /** The payment the merchant attests: agreement, pinned version, token, gross, referrer, order reference, refund beneficiary, deadline. */
  payment: PaymentInput;
  /**
   * The order signer (default: the one named by the agreement's active terms, which is checked to
   * be the version the payment names).
   */
  orderSigner?: Address;
} & WalletSigningParameters;
type IntentTypedData = ReturnType<typeof getPaymentIntentTypedData>;
export type SignIntentReturnType = {
  /** The payment as signed (defaults filled): pass it unchanged to {@link settle}. */
  payment: Payment;
  orderSigner: Address;
  /** The EIP-712 digest the ledger checks (`intentDigest(payment)`). */
  digest: Hex;
  /** The typed data to sign (EIP-712 `PaymentIntent` in the ledger's domain). */
  typedData: IntentTypedData;
  /**
   * The signature, when the order signer is an account the context signs for (an EOA) or the
   * contract wallet given as `wallet` (checked by its `isValidSignature`). Undefined for a
   * contract wallet not given: have `typedData` signed the way the wallet verifies, then settle
   * with that signature.
   */
  signature?: Hex;
};
export type SignIntentErrorType = ConcordReadErrorType;

/**
 * The order signer (the merchant of record) signs a payment as an EIP-712 `PaymentIntent`, so
 * that anyone may pay and settle it: attribution (referrer, refund beneficiary) comes from the
 * merchant, never from the payer. An EOA order signer signs here (a local account in process, a
 * JSON-RPC account through `eth_signTypedData_v4`); for a contract wallet (code at the address)
 * the typed data and digest are returned to be signed by the wallet's own scheme.
 *
 * @param context - A context whose account is the order signer (EOA), or any context (contract wallet).
 * @param parameters - {@link SignIntentParameters}
 * @returns The payment, its typed data and digest, and the signature when it could be made.
 *
 * @example
 * import { signIntent, settle } from "./src/sdk"
 * const intent = await signIntent(merchantContext, { payment: { agreementId: 1n, version: 1, gross: 250_000_000n, token: usdc, orderRef } })
 * await settle(customerContext, { payment: intent.payment, signature: intent.signature, approve: true })
 *
 * // a Safe merchant, two of its owners signing:
 * // const intent = await signIntent(context, { payment, wallet: safeWallet({ address: safe, owners: [alice, bob] }) })
 */
export async function signIntent(context: ConcordContext, parameters: SignIntentParameters): Promise<SignIntentReturnType> {
  const [payment] = await paymentsOf(context, [parameters.payment]);
  if (!payment) throw new InvalidInputError("no payment given");
  const orderSigner = parameters.orderSigner ? getAddress(parameters.orderSigner) : await activeOrderSigner(context, payment);
  const typedData = getPaymentIntentTypedData({ chainId: context.chainId, ledger: context.addresses.ledger, payment });
  const digest = paymentIntentDigest({ chainId: context.chainId, ledger: context.addresses.ledger, payment });
  if (parameters.wallet) {
    if (getAddress(parameters.wallet.address) !== orderSigner) {
      throw new InvalidInputError(`the order signer is ${orderSigner}, not the wallet ${parameters.wallet.address} given to sign for it`);
    }
    return { payment, orderSigner, digest, typedData, signature: await signAs(context, typedData, parameters) };
  }
  const code = await withConcordErrors(() => context.publicClient.getCode({ address: orderSigner }));
  if (code !== undefined && code !== "0x") return { payment, orderSigner, digest, typedData };
  const account = signerOf(context);
  if (getAddress(accountAddress(account)) !== orderSigner) {
    throw new InvalidInputError(
      `the order signer is ${orderSigner}, but this context signs as ${accountAddress(account)}: sign the intent with the order signer's account`,
    );
  }
  const signature = await withConcordErrors(() => walletOf(context).signTypedData({ account, ...typedData }));
  return { payment, orderSigner, digest, typedData, signature };
}

/** The order signer of the agreement's active terms, which must be the version the payment names. */
async function activeOrderSigner(context: ConcordContext, payment: Payment): Promise<Address> {
  const terms = await withConcordErrors(() =>
    context.publicClient.readContract({
      address: context.addresses.registry,
      abi: agreementRegistryAbi,
      functionName: "settlementTerms",
      args: [payment.agreementId],
    }),
  );
  if (terms.version === 0) throw new InvalidInputError(`agreement ${payment.agreementId} is not active: no intent for it can settle`);
  if (terms.version !== payment.version) {
    throw new InvalidInputError(
      `the payment names version ${payment.version} of agreement ${payment.agreementId}, but version ${terms.version} is active`,
    );
  }
  if (terms.orderSigner === zeroAddress) {
    throw new InvalidInputError(`agreement ${payment.agreementId} version ${terms.version} names no order signer: settle it as a direct payment`);
  }
  return getAddress(terms.orderSigner);
}
