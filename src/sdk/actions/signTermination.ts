import type { ConcordContext } from "../client";
import type { ConcordReadErrorType } from "../errors/base";
import { getTerminationTypedData } from "../typedData";
import { signAs, signingAddress, type WalletSigningParameters } from "../wallets/contractWallet";
import { defaultDeadline, randomNonce, type ConsentSignature } from "./signConsent";

export type SignTerminationParameters = {
  agreementId: bigint;
  /** The version in force. */
  version: number;
  /** Unordered nonce (default: random); void it with {@link cancelNonce}. */
  nonce?: bigint;
  /** Unix time after which the signature is void (default: 7 days after the latest block). */
  deadline?: bigint;
} & WalletSigningParameters;
export type SignTerminationReturnType = ConsentSignature;
export type SignTerminationErrorType = ConcordReadErrorType;

/**
 * Signs consent to terminate the agreement at the version in force (EIP-712,
 * {@link getTerminationTypedData}), as the context's account or a contract wallet (`wallet`, checked
 * by the wallet first), named as the signer: any consenter
 * of the active version, members of nested parties included. Local or JSON-RPC accounts.
 *
 * @param context - A context whose account is a consenter of the version in force.
 * @param parameters - {@link SignTerminationParameters}
 * @returns The signature with its signer, nonce and deadline, for {@link terminateAgreement}.
 *
 * @example
 * import { signTermination } from "./src/sdk"
 * const signature = await signTermination(hotelContext, { agreementId: 1n, version: 2 })
 */
export async function signTermination(
  context: ConcordContext,
  parameters: SignTerminationParameters,
): Promise<SignTerminationReturnType> {
  const signer = signingAddress(context, parameters);
  const nonce = parameters.nonce ?? randomNonce();
  const deadline = await defaultDeadline(context, parameters.deadline);
  const typedData = getTerminationTypedData({
    chainId: context.chainId,
    registry: context.addresses.registry,
    agreementId: parameters.agreementId,
    version: parameters.version,
    signer,
    nonce,
    deadline,
  });
  const signature = await signAs(context, typedData, parameters);
  return { signer, nonce, deadline, signature };
}
