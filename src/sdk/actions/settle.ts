import { zeroAddress, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import type { Payment } from "../typedData";
import { planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import {
  describePayment,
  ensureAllowance,
  paymentsOf,
  reservesHeldOf,
  settlementsOf,
  type PaymentInput,
  type ReservesHeldEvent,
  type Settlement,
} from "./payment";

export type SettleParameters = {
  /** The payment (a direct payment, or the body of the order signer's intent, unchanged). */
  payment: PaymentInput;
  /**
   * The order signer's EIP-712 intent signature ({@link signIntent}): needed when the terms name
   * an order signer, unless the context's account is the order signer; omit for direct payments.
   */
  signature?: Hex;
  /**
   * ERC-20 only. The ledger pulls `gross` with transferFrom. With `approve: true` the SDK sends
   * `approve(ledger, gross)` first when the allowance is short; with `false` (default) a short
   * allowance is an InvalidInputError before anything is sent. EIP-2612 tokens: {@link settleWithPermit}.
   */
  approve?: boolean;
};
export type SettleReturnType = WriteResult & {
  /** The payment as sent (defaults filled). */
  payment: Payment;
  settled: Settlement;
  /** The reserve lot opened, when the terms hold a reserve. */
  reservesHeld?: ReservesHeldEvent;
};
export type SettleErrorType = ConcordWriteErrorType;

/**
 * Settles one payment, paid by the context's account, in ETH or an ERC-20 token: the referral
 * fee to the referrer's balance, the reserve held for the dispute window, the net into the pool of
 * the version named in the payment (the one quoted: if another version became active since, the
 * ledger refuses it rather than settle under terms nobody quoted). The order reference's scope is
 * the order signer for intents and the payer for direct payments.
 *
 * @param context - A context whose account is the payer.
 * @param parameters - {@link SettleParameters}; pass a {@link signIntent} result as it is.
 * @returns The transaction, the payment sent, its Settled event and its lot's ReservesHeld event.
 *
 * @example
 * import { parseEther } from "viem"
 * import { makeOrderRef, quoteSettlement, randomSalt, settle } from "./src/sdk"
 * const quote = await quoteSettlement(context, { agreementId: 1n, gross: parseEther("1.5"), referrer: travelSite })
 * const orderRef = makeOrderRef({ orderId: "BKG-1001", salt: randomSalt() }) // keep the salt with the order
 * const { settled } = await settle(context, {
 *   payment: { agreementId: 1n, version: quote.version, gross: quote.gross, referrer: travelSite, orderRef },
 * })
 * // settled.referralFee === quote.referralFee, settled.reserve === quote.reserve
 *
 * // an intent signed by the merchant of record, paid by the customer:
 * const intent = await signIntent(merchantContext, { payment: { agreementId: 2n, version: 1, gross, orderRef } })
 * if (intent.signature) await settle(customerContext, intent)
 */
export async function settle(context: ConcordContext, parameters: SettleParameters): Promise<SettleReturnType> {
  const planned = await settleCall(context, parameters);
  const { payment } = planned;
  if (payment.token !== zeroAddress) await ensureAllowance(context, payment.token, payment.gross, parameters.approve ?? false);
  const result = await sendPlanned(context, planned);
  const [settled] = await settlementsOf(context, result);
  if (!settled) throw new InvalidInputError(`transaction ${result.hash} emitted no Settled event`);
  return { ...result, payment, settled, reservesHeld: reservesHeldOf(result)[0] };
}

/**
 * The call {@link settle} sends (the payment's defaults filled); {@link prepareSettle} returns it
 * encoded. An ERC-20 payment needs the ledger's allowance from the sender first (no approval is
 * planned here: `approve` is the action's own step).
 */
export async function settleCall(context: ConcordContext, parameters: SettleParameters): Promise<PlannedCall & { payment: Payment }> {
  const [payment] = await paymentsOf(context, [parameters.payment]);
  if (!payment) throw new InvalidInputError("no payment given");
  const planned = planCall(
    {
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "settle",
      args: [payment, parameters.signature ?? "0x"],
      value: payment.token === zeroAddress ? payment.gross : 0n,
    },
    `settle ${describePayment(payment)}`,
  );
  return { ...planned, payment };
}
