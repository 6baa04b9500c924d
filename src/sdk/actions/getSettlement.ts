import { getAddress, isAddress, isHex, pad, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { bookSettlement, bookTransaction, type Settlement, type SettlingLog } from "../settlements";
import { getConcordEvents } from "./getConcordEvents";
import { getSettlementRates } from "./getSettlementRates";
import type { SettlementEvent } from "./watchSettlements";

/** What the caller knows of the order, checked against the settlement found. */
export type ExpectedSettlement = { agreementId: bigint; payer: Address; token: Address; gross: bigint };

export type GetSettlementParameters = {
  /** The scope of the reference: the order signer (intents) or the payer (direct payments). */
  scope: Address;
  orderRef: Hex;
  /** The order as the caller booked it; any difference is a {@link SettlementMismatchError}. */
  expected: ExpectedSettlement;
  /** Where to start looking (default 0). */
  fromBlock?: bigint;
};
/** The Settled event with its position in the chain, and the settlement as the ledger booked it. */
export type FoundSettlement = SettlementEvent & { settlement: Settlement };
export type GetSettlementReturnType = FoundSettlement;
export type GetSettlementErrorType = ConcordReadErrorType | SettlementMismatchError;

/** Thrown when the settlement of a reference is not the order the caller expects: `field` names what differs. */
export class SettlementMismatchError extends InvalidInputError {
  override name = "SettlementMismatchError";
  readonly field: keyof ExpectedSettlement;
  readonly expected: unknown;
  readonly actual: unknown;

  constructor(orderRef: Hex, field: keyof ExpectedSettlement, expected: unknown, actual: unknown) {
    super(`the settlement of order reference ${orderRef} has ${field} ${String(actual)}, not the expected ${String(expected)}`);
    this.field = field;
    this.expected = expected;
    this.actual = actual;
  }
}

function checkKey(scope: Address, orderRef: Hex): Address {
  if (!isAddress(scope, { strict: false })) throw new InvalidInputError(`scope "${scope}" is not an address`);
  if (!isHex(orderRef) || orderRef.length !== 66) throw new InvalidInputError(`order reference "${orderRef}" is not 32 bytes of hex`);
  return getAddress(scope);
}

/**
 * The Settled event of `orderRef` in `scope`, with the settlement as booked, or an error: never
 * settled in that scope, or settled before `fromBlock` (the ledger's bitmap says it is settled,
 * the events from there do not). The event does not carry its scope: each event of the reference
 * is in the scope its version's terms give it (the order signer, or else the payer).
 */
export async function findSettlement(
  context: ConcordContext,
  parameters: { scope: Address; orderRef: Hex; fromBlock?: bigint },
): Promise<FoundSettlement> {
  const scope = checkKey(parameters.scope, parameters.orderRef);
  const events = await getConcordEvents(context, { fromBlock: parameters.fromBlock, events: ["Settled"], topics: [parameters.orderRef] });
  for (const event of events) {
    const versions = [{ agreementId: event.args.agreementId, version: event.args.version }];
    const rates = await getSettlementRates(context, { versions, blockNumber: event.blockNumber });
    if (bookSettlement(event.args, [...rates.values()][0]!).scope !== scope) continue;
    const logs = (await getConcordEvents(context, { fromBlock: event.blockNumber, toBlock: event.blockNumber, events: ["Settled", "ReservesHeld"] })).filter(
      (e) => e.transactionHash === event.transactionHash,
    );
    const all = await getSettlementRates(context, {
      versions: logs.flatMap((e) => (e.eventName === "Settled" ? [{ agreementId: e.args.agreementId, version: e.args.version }] : [])),
      blockNumber: event.blockNumber,
    });
    const booked = bookTransaction(logs as SettlingLog[], all, event.transactionHash);
    const index = logs.filter((e) => e.eventName === "Settled").findIndex((e) => e.logIndex === event.logIndex);
    return { ...event, settlement: booked[index]! };
  }
  const settled = await withConcordErrors(() =>
    context.publicClient.readContract({
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "isOrderSettled",
      args: [scope, parameters.orderRef],
    }),
  );
  throw new InvalidInputError(
    settled
      ? `order reference ${parameters.orderRef} was settled in the scope of ${scope} before block ${parameters.fromBlock ?? 0n}`
      : `order reference ${parameters.orderRef} was never settled in the scope of ${scope}`,
  );
}

/**
 * Looks up the settlement of an order by its reference in its scope (from the Settled events)
 * and checks it is the order the caller booked: the same agreement, payer, token and gross. A
 * reference settles once in its scope, so there is at most one; a settlement that differs in any
 * of these is refused with a {@link SettlementMismatchError} naming the field, rather than
 * returned for an order it does not pay.
 *
 * @param context - Any context.
 * @param parameters - {@link GetSettlementParameters}
 * @returns The Settled event with its position in the chain, and the settlement as booked.
 *
 * @example
 * import { getSettlement } from "./src/sdk"
 * const found = await getSettlement(context, {
 *   scope: merchant, orderRef,
 *   expected: { agreementId: 1n, payer: customer, token: zeroAddress, gross: parseEther("1.5") },
 * })
 * // found.settlement.referralFee, found.settlement.lotId, found.transactionHash
 */
export async function getSettlement(context: ConcordContext, parameters: GetSettlementParameters): Promise<GetSettlementReturnType> {
  const { expected, orderRef } = parameters;
  for (const [what, value] of [["payer", expected.payer], ["token", expected.token]] as const) {
    if (!isAddress(value, { strict: false })) throw new InvalidInputError(`expected ${what} "${value}" is not an address`);
  }
  const event = await findSettlement(context, parameters);
  const a = event.args;
  if (a.agreementId !== expected.agreementId) throw new SettlementMismatchError(orderRef, "agreementId", expected.agreementId, a.agreementId);
  if (getAddress(a.payer) !== getAddress(expected.payer)) throw new SettlementMismatchError(orderRef, "payer", getAddress(expected.payer), a.payer);
  if (getAddress(a.token) !== getAddress(expected.token)) throw new SettlementMismatchError(orderRef, "token", getAddress(expected.token), a.token);
  if (a.gross !== expected.gross) throw new SettlementMismatchError(orderRef, "gross", expected.gross, a.gross);
  return event;
}
