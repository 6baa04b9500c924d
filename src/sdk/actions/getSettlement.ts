import { getAddress, isAddress, isHex, pad, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { getConcordEvents } from "./getConcordEvents";
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
export type GetSettlementReturnType = SettlementEvent;
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
 * The Settled event of `orderRef` in `scope`, or an error: never settled in that scope, or settled
 * before `fromBlock` (the ledger's bitmap says it is settled, the events from there do not).
 */
export async function findSettlement(
  context: ConcordContext,
  parameters: { scope: Address; orderRef: Hex; fromBlock?: bigint },
): Promise<SettlementEvent> {
  const scope = checkKey(parameters.scope, parameters.orderRef);
  const events = await getConcordEvents(context, {
    fromBlock: parameters.fromBlock,
    events: ["Settled"],
    topics: [parameters.orderRef, null, pad(scope)],
  });
  const event = events[0];
  if (event) return event;
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
 * @returns The Settled event with its position in the chain.
 *
 * @example
 * import { getSettlement } from "./src/sdk"
 * const settlement = await getSettlement(context, {
 *   scope: merchant, orderRef,
 *   expected: { agreementId: 1n, payer: customer, token: zeroAddress, gross: parseEther("1.5") },
 * })
 * // settlement.args.referralFee, settlement.args.lotId, settlement.transactionHash
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
