import type { Address, Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { getConcordEvents } from "./getConcordEvents";

/** The reserve record the ledger keeps the hash of; passed back to release or refund. */
export type SettlementRecord = {
  agreementId: bigint;
  version: number;
  token: Address;
  payer: Address;
  /** The reserve still held. */
  reserve: bigint;
  /** Unix time from which the reserve can be released (and until which it can be refunded). */
  releaseAt: number;
};

export type GetSettlementRecordParameters = {
  orderRef: Hex;
  /** Where to start looking for the Settled event (default 0). */
  fromBlock?: bigint;
};
export type GetSettlementRecordReturnType = {
  /** "held": a reserve remains; "closed": nothing is held (no reserve, released or fully refunded). */
  state: "held" | "closed";
  record: SettlementRecord;
};
export type GetSettlementRecordErrorType = ConcordReadErrorType;

/**
 * Rebuilds a settlement's reserve record from its Settled event and any later ReserveRefunded
 * events, and checks it against the hash the ledger stores, to tell a held reserve from a closed one.
 *
 * @param context - Any context.
 * @param parameters - {@link GetSettlementRecordParameters}
 * @returns The record and whether a reserve is still held.
 *
 * @example
 * import { getSettlementRecord, releaseReserve } from "./src/sdk"
 * const { state, record } = await getSettlementRecord(context, { orderRef })
 * if (state === "held" && Date.now() / 1000 >= record.releaseAt) await releaseReserve(context, { orderRef, record })
 */
export async function getSettlementRecord(
  context: ConcordContext,
  parameters: GetSettlementRecordParameters,
): Promise<GetSettlementRecordReturnType> {
  const events = await getConcordEvents(context, {
    fromBlock: parameters.fromBlock,
    events: ["Settled", "ReserveRefunded"],
    topics: [parameters.orderRef],
  });
  const settled = events.find((e) => e.eventName === "Settled");
  if (!settled || settled.eventName !== "Settled") throw new InvalidInputError(`order reference ${parameters.orderRef} was never settled`);
  const a = settled.args;
  const record: SettlementRecord = {
    agreementId: a.agreementId,
    version: a.version,
    token: a.token,
    payer: a.payer,
    reserve: a.reserve,
    releaseAt: Number(a.releaseAt),
  };
  for (const e of events) if (e.eventName === "ReserveRefunded") record.reserve = e.args.remainingReserve;
  return withConcordErrors(async () => {
    const read = { address: context.addresses.ledger, abi: settlementLedgerAbi } as const;
    const [stored, expected] = await Promise.all([
      context.publicClient.readContract({ ...read, functionName: "settlementState", args: [parameters.orderRef] }),
      context.publicClient.readContract({ ...read, functionName: "hashRecord", args: [record] }),
    ]);
    return { state: stored === expected ? "held" : "closed", record };
  });
}
