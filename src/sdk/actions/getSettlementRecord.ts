import type { Address, Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { getConcordEvents } from "./getConcordEvents";

/** The reserve record the ledger keeps the hash of; passed back to release or refund. */
export type SettlementRecord = {
  agreementId: bigint;
  version: number;
  token: Address;
  payer: Address;
  reserve: bigint;
  releaseAt: number;
};

export type GetSettlementRecordParameters = { orderRef: Hex; fromBlock?: bigint };
export type GetSettlementRecordReturnType = {
  /** "held": a reserve remains; "closed": nothing is held (no reserve, released or fully refunded). */
  state: "held" | "closed";
  record: SettlementRecord;
};

/**
 * Rebuilds a settlement's reserve record from its Settled event and any later refunds, and checks
 * it against the hash the ledger stores.
 *
 * @example
 * const { state, record } = await getSettlementRecord(context, { orderRef })
 */
export async function getSettlementRecord(
  context: ConcordContext,
  parameters: GetSettlementRecordParameters,
): Promise<GetSettlementRecordReturnType> {
  return withConcordErrors(async () => {
    const events = await getConcordEvents(context, {
      fromBlock: parameters.fromBlock,
      contracts: ["ledger"],
      eventNames: ["Settled", "ReserveRefunded", "ReserveReleased"],
      topics: [parameters.orderRef],
    });
    const settled = events.find((e) => e.eventName === "Settled");
    if (!settled) throw new InvalidInputError(`order reference ${parameters.orderRef} was never settled`);
    const a = settled.args;
    const record: SettlementRecord = {
      agreementId: a.agreementId as bigint,
      version: Number(a.version),
      token: a.token as Address,
      payer: a.payer as Address,
      reserve: a.reserve as bigint,
      releaseAt: Number(a.releaseAt),
    };
    for (const e of events) if (e.eventName === "ReserveRefunded") record.reserve = e.args.remainingReserve as bigint;
    const read = { address: context.addresses.ledger, abi: settlementLedgerAbi } as const;
    const [stored, expected] = await Promise.all([
      context.publicClient.readContract({ ...read, functionName: "settlementState", args: [parameters.orderRef] }),
      context.publicClient.readContract({ ...read, functionName: "hashRecord", args: [record] }),
    ]);
    return { state: stored === expected ? "held" : "closed", record };
  });
}
