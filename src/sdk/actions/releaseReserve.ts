import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { getReserveLot, type ReserveLot } from "./getReserveLot";

export type ReleaseReserveParameters = {
  /** The lot (a Settled event's `lotId`). */
  lotId: bigint;
  /** The lot as it stands; rebuilt from events and checked against the ledger when absent ({@link getReserveLot}). */
  lot?: ReserveLot;
};
export type ReleaseReserveReturnType = WriteResult & {
  /** The amount released into the pool of the version the lot was settled under. */
  amount: bigint;
};
export type ReleaseReserveErrorType = ConcordWriteErrorType;

/**
 * Releases what a reserve lot still holds into the pool of the version its settlements were made
 * under, once its dispute window has ended (the parties then {@link claim} or {@link distribute}).
 * Anyone may call it. Before `releaseAt` the ledger refuses (LedgerDisputeWindowOpen names the time).
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link ReleaseReserveParameters}
 * @returns The transaction and the released amount.
 *
 * @example
 * import { releaseReserve } from "./src/sdk"
 * const { amount } = await releaseReserve(context, { lotId: settled.lotId })
 */
export async function releaseReserve(context: ConcordContext, parameters: ReleaseReserveParameters): Promise<ReleaseReserveReturnType> {
  const result = await sendPlanned(context, await releaseReserveCall(context, parameters));
  return { ...result, amount: eventArgs(result, settlementLedgerAbi, "ReserveReleased").amount };
}

/** The call {@link releaseReserve} sends (the lot read when not given); {@link prepareReleaseReserve} returns it encoded. */
export async function releaseReserveCall(context: ConcordContext, parameters: ReleaseReserveParameters): Promise<PlannedCall> {
  let lot = parameters.lot;
  if (!lot) {
    const found = await getReserveLot(context, { lotId: parameters.lotId });
    if (found.state !== "held") throw new InvalidInputError(`reserve lot ${parameters.lotId} holds nothing: it was ${found.state}`);
    lot = found.lot;
  }
  return planCall(
    { address: context.addresses.ledger, abi: settlementLedgerAbi, functionName: "releaseReserve", args: [parameters.lotId, lot] },
    `release reserve lot ${parameters.lotId} (${lot.held} held) into its pool`,
  );
}
