import type { Address, Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { findSettlement } from "./getSettlement";
import { getReserveLot, hashLotEntries, type LotEntry, type ReserveLot } from "./getReserveLot";

/** Which settlement to refund: an entry of a lot, or the settlement of a reference in its scope. */
export type RefundTarget =
  | {
      lotId: bigint;
      entryIndex: number;
      /** The lot and all its entries as they stand; rebuilt from events when absent ({@link getReserveLot}). */
      lot?: ReserveLot;
      entries?: readonly LotEntry[];
    }
  | {
      /** The order signer (intents) or the payer (direct payments). */
      scope: Address;
      orderRef: Hex;
    };
export type RefundParameters = RefundTarget & {
  /** How much of the settlement's remaining reserve to credit to its refund beneficiary. */
  amount: bigint;
};
export type RefundReturnType = WriteResult & {
  lotId: bigint;
  entryIndex: number;
  /** Who was credited (the settlement's refund beneficiary, the payer by default). */
  beneficiary: Address;
  /** The settlement's reserve still held after this refund. */
  remainingReserve: bigint;
  /** The lot and entries after the refund, to pass to the next refund or release. */
  lot: ReserveLot;
  entries: LotEntry[];
};
export type RefundErrorType = ConcordWriteErrorType;

async function locate(
  context: ConcordContext,
  target: RefundTarget,
): Promise<{ lotId: bigint; entryIndex: number; lot: ReserveLot; entries: readonly LotEntry[] }> {
  if ("lotId" in target) {
    if (target.lot && target.entries) return { lotId: target.lotId, entryIndex: target.entryIndex, lot: target.lot, entries: target.entries };
    const found = await getReserveLot(context, { lotId: target.lotId });
    if (found.state !== "held") throw new InvalidInputError(`reserve lot ${target.lotId} holds nothing to refund: it was ${found.state}`);
    return { lotId: target.lotId, entryIndex: target.entryIndex, lot: found.lot, entries: found.entries };
  }
  const settled = await findSettlement(context, target);
  const lotId = settled.settlement.lotId;
  if (lotId === 0n) throw new InvalidInputError(`the settlement of order reference ${target.orderRef} held no reserve: there is nothing to refund`);
  const found = await getReserveLot(context, { lotId, fromBlock: settled.blockNumber });
  if (found.state !== "held") throw new InvalidInputError(`the reserve of order reference ${target.orderRef} was ${found.state}: there is nothing to refund`);
  const entryIndex = found.entries.findIndex((e) => e.orderRef === target.orderRef && e.scope === settled.settlement.scope);
  if (entryIndex < 0) throw new InvalidInputError(`reserve lot ${lotId} has no entry for order reference ${target.orderRef}`);
  return { lotId, entryIndex, lot: found.lot, entries: found.entries };
}

/**
 * Refunds part or all of one settlement's remaining reserve to its refund beneficiary's balance,
 * inside the lot's dispute window; only the refund authority of the version may (the ledger's
 * LedgerNotRefundAuthority names both). The settlement is named by its lot and entry, or by its
 * order reference in its scope (the lot is then found from events and checked against the ledger).
 *
 * @param context - A context whose account is the refund authority.
 * @param parameters - {@link RefundParameters}
 * @returns The transaction, who was credited, what remains, and the updated lot and entries.
 *
 * @example
 * import { refund } from "./src/sdk"
 * const { remainingReserve } = await refund(refundDeskContext, { scope: merchant, orderRef, amount: 40_000n })
 * // or, knowing the lot: await refund(refundDeskContext, { lotId, entryIndex: 3, amount: 40_000n })
 */
export async function refund(context: ConcordContext, parameters: RefundParameters): Promise<RefundReturnType> {
  const planned = await refundCall(context, parameters);
  const { lotId, entryIndex, lot, entries } = planned;
  const result = await sendPlanned(context, planned);
  const refunded = eventArgs(result, settlementLedgerAbi, "ReserveRefunded");
  const updated = entries.map((e, i) => (i === entryIndex ? { ...e, reserve: refunded.remainingReserve, refunded: true } : { ...e }));
  return {
    ...result,
    lotId,
    entryIndex,
    beneficiary: refunded.beneficiary,
    remainingReserve: refunded.remainingReserve,
    lot: { ...lot, held: lot.held - refunded.amount, entriesHash: hashLotEntries(updated) },
    entries: updated,
  };
}

/** The call {@link refund} sends (the lot located and checked); {@link prepareRefund} returns it encoded. */
export async function refundCall(
  context: ConcordContext,
  parameters: RefundParameters,
): Promise<PlannedCall & { lotId: bigint; entryIndex: number; lot: ReserveLot; entries: readonly LotEntry[] }> {
  if (parameters.amount <= 0n) throw new InvalidInputError(`refund amount is ${parameters.amount}; it must be positive`);
  const { lotId, entryIndex, lot, entries } = await locate(context, parameters);
  const entry = entries[entryIndex];
  if (!Number.isInteger(entryIndex) || !entry) {
    throw new InvalidInputError(`entry index ${entryIndex} is out of range for reserve lot ${lotId} of ${entries.length} entries`);
  }
  if (parameters.amount > entry.reserve) {
    throw new InvalidInputError(`refund of ${parameters.amount} exceeds the remaining reserve of ${entry.reserve} of order reference ${entry.orderRef}`);
  }
  const planned = planCall(
    {
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "refund",
      args: [lotId, lot, entries, BigInt(entryIndex), parameters.amount],
    },
    `refund ${parameters.amount} of the reserve of order reference ${entry.orderRef} (reserve lot ${lotId}, entry ${entryIndex})`,
  );
  return { ...planned, lotId, entryIndex, lot, entries };
}
