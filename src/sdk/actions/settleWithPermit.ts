import { parseAbi, parseSignature, zeroAddress, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import { accountAddress, signerOf, walletOf, type ConcordContext } from "../client";
import { InvalidInputError, RpcError, type ConcordWriteErrorType } from "../errors/base";
import { toConcordError, withConcordErrors } from "../errors/decode";
import { planCall, sendPlanned, type PlannedCall } from "../write";
import { describePayment, paymentsOf, reservesHeldOf, settlementsOf, type PaymentInput } from "./payment";
import type { Payment } from "../typedData";
import type { SettleReturnType } from "./settle";

const permitAbi = parseAbi([
  "function name() view returns (string)",
  "function nonces(address owner) view returns (uint256)",
  "function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)",
]);

export type SettleWithPermitParameters = {
  /** The payment, in an ERC-20 token with EIP-2612 `permit` (see {@link settle}). */
  payment: PaymentInput;
  /** The order signer's intent signature, when the terms name an order signer ({@link signIntent}). */
  signature?: Hex;
  /** Unix time the permit is valid until (default: 1 hour after the latest block). */
  permitDeadline?: bigint;
};
export type SettleWithPermitReturnType = SettleReturnType;
export type SettleWithPermitErrorType = ConcordWriteErrorType;

/**
 * Settles in an EIP-2612 token without a prior approval: the payer (the context's account, local
 * or JSON-RPC) signs a permit for exactly `gross` to the ledger, and one transaction uses the
 * permit and settles. The token's EIP-712 domain is read from `eip712Domain()` (EIP-5267) when
 * the token has it, else from `name()` with version "1".
 *
 * @param context - A context whose account is the payer and holds the tokens.
 * @param parameters - {@link SettleWithPermitParameters}
 * @returns The transaction, the payment sent, its Settled event and its lot's ReservesHeld event.
 *
 * @example
 * import { makeOrderRef, randomSalt, settleWithPermit } from "./src/sdk"
 * const orderRef = makeOrderRef({ orderId: "BKG-1002", salt: randomSalt() })
 * const { settled } = await settleWithPermit(context, {
 *   payment: { agreementId: 1n, version: 1, token: usdc, gross: 250_000000n, orderRef },
 * })
 */
export async function settleWithPermit(context: ConcordContext, parameters: SettleWithPermitParameters): Promise<SettleWithPermitReturnType> {
  const planned = await settleWithPermitCall(context, parameters);
  const result = await sendPlanned(context, planned);
  const [settled] = await settlementsOf(context, result);
  if (!settled) throw new InvalidInputError(`transaction ${result.hash} emitted no Settled event`);
  return { ...result, payment: planned.payment, settled, reservesHeld: reservesHeldOf(result)[0] };
}

/**
 * The call {@link settleWithPermit} sends, with the payer's EIP-2612 permit signed here by the
 * context's account (an EOA: a contract wallet settles with {@link prepareSettle} after its own
 * approval); {@link prepareSettleWithPermit} returns it encoded.
 */
export async function settleWithPermitCall(
  context: ConcordContext,
  parameters: SettleWithPermitParameters,
): Promise<PlannedCall & { payment: Payment }> {
  const [payment] = await paymentsOf(context, [parameters.payment]);
  if (!payment) throw new InvalidInputError("no payment given");
  if (payment.token === zeroAddress) throw new InvalidInputError("ETH has no permit: use settle");
  const account = signerOf(context);
  const owner = accountAddress(account);
  const deadline =
    parameters.permitDeadline ?? (await withConcordErrors(() => context.publicClient.getBlock({ blockTag: "latest" }))).timestamp + 3_600n;
  const { name, version, nonce } = await withConcordErrors(async () => {
    const read = { address: payment.token, abi: permitAbi } as const;
    const nonce = await context.publicClient.readContract({ ...read, functionName: "nonces", args: [owner] }).catch((error: unknown) => {
      const concord = toConcordError(error);
      if (concord instanceof RpcError) throw concord;
      throw new InvalidInputError(`token ${payment.token} does not support EIP-2612 permits (no nonces())`, { cause: error });
    });
    try {
      const domain = await context.publicClient.readContract({ ...read, functionName: "eip712Domain" });
      return { name: domain[1], version: domain[2], nonce };
    } catch {
      return { name: await context.publicClient.readContract({ ...read, functionName: "name" }), version: "1", nonce };
    }
  });
  const signature = await withConcordErrors(() =>
    walletOf(context).signTypedData({
      account,
      domain: { name, version, chainId: context.chainId, verifyingContract: payment.token },
      types: {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      },
      primaryType: "Permit",
      message: { owner, spender: context.addresses.ledger, value: payment.gross, nonce, deadline },
    }),
  );
  const { r, s, yParity } = parseSignature(signature);
  const planned = planCall(
    {
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "settleWithPermit",
      args: [payment, parameters.signature ?? "0x", deadline, 27 + yParity, r, s],
    },
    `settle ${describePayment(payment)} with a permit of ${owner}`,
  );
  return { ...planned, payment };
}
