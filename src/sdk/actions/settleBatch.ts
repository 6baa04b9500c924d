import { zeroAddress, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import type { Payment } from "../typedData";
import { planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import {
  ensureAllowance,
  paymentsOf,
  reservesHeldOf,
  settlementsOf,
  type PaymentInput,
  type ReservesHeldEvent,
  type Settlement,
} from "./payment";

export type SettleBatchParameters = {
  /** The payments, all in one token; each keeps every guarantee of a single {@link settle}. */
  payments: readonly PaymentInput[];
  /**
   * One entry per payment: the order signer's intent signature, or undefined / "0x" where none is
   * needed (direct payments, or the context's account is the order signer). Omit when none has one.
   */
  signatures?: readonly (Hex | undefined)[];
  /** ERC-20 only: approve the ledger for the batch's total when the allowance is short (see {@link settle}). */
  approve?: boolean;
};
export type SettleBatchReturnType = WriteResult & {
  /** The payments as sent (defaults filled), in order. */
  payments: Payment[];
  /** One Settled event per payment, in order. */
  settled: Settlement[];
  /** One ReservesHeld event per lot: consecutive payments into one pool share a lot. */
  lots: ReservesHeldEvent[];
};
export type SettleBatchErrorType = ConcordWriteErrorType;

/**
 * Settles many payments in one transaction, paid by the context's account: ETH with the sum of
 * the gross as value, or one ERC-20 token pulled once. Consecutive payments into the same pool
 * are booked together (one pool write, one reserve lot), and references that share a bitmap word
 * ({@link makeOrderRefs}) cost one storage word per 256 orders. The batch is all or nothing.
 *
 * @param context - A context whose account is the payer.
 * @param parameters - {@link SettleBatchParameters}
 * @returns The transaction, the payments sent, their Settled events and the lots opened.
 *
 * @example
 * import { makeOrderRefs, randomSalt, settleBatch } from "./src/sdk"
 * const refs = makeOrderRefs({ salt: randomSalt(), start: 0, count: 100 }) // keep the salt
 * const { settled } = await settleBatch(context, {
 *   payments: refs.map((orderRef) => ({ agreementId: 1n, version: 1, gross: 10_000n, orderRef })),
 * })
 */
export async function settleBatch(context: ConcordContext, parameters: SettleBatchParameters): Promise<SettleBatchReturnType> {
  const planned = await settleBatchCall(context, parameters);
  const { payments, token, total } = planned;
  if (token !== zeroAddress) await ensureAllowance(context, token, total, parameters.approve ?? false);
  const result = await sendPlanned(context, planned);
  const settled = await settlementsOf(context, result);
  if (settled.length !== payments.length) {
    throw new InvalidInputError(`transaction ${result.hash} emitted ${settled.length} Settled events for ${payments.length} payments`);
  }
  return { ...result, payments, settled, lots: reservesHeldOf(result) };
}

/** The call {@link settleBatch} sends (payments checked, defaults filled; no approval planned); {@link prepareSettleBatch} returns it encoded. */
export async function settleBatchCall(
  context: ConcordContext,
  parameters: SettleBatchParameters,
): Promise<PlannedCall & { payments: Payment[]; token: Address; total: bigint }> {
  if (parameters.payments.length === 0) throw new InvalidInputError("the batch has no payments");
  const signatures = parameters.signatures;
  if (signatures && signatures.length !== parameters.payments.length) {
    throw new InvalidInputError(`the batch has ${parameters.payments.length} payments but ${signatures.length} signatures; give one per payment, or none`);
  }
  const payments = await paymentsOf(context, parameters.payments);
  const token = payments[0]!.token;
  payments.forEach((p, i) => {
    if (p.token !== token) throw new InvalidInputError(`payment ${i} is in token ${p.token}, but payment 0 is in ${token}: a batch takes one token`);
  });
  const total = payments.reduce((sum, p) => sum + p.gross, 0n);
  const planned = planCall(
    {
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "settleBatch",
      args: [payments, signatures ? signatures.map((s) => s ?? "0x") : []],
      value: token === zeroAddress ? total : 0n,
    },
    `settle a batch of ${payments.length} payments of ${total} ${token === zeroAddress ? "wei of ETH" : `units of token ${token}`} in all`,
  );
  return { ...planned, payments, token, total };
}
