import { negotiationHubAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { contractAddresses } from "./getConcordEvents";

export type WithdrawAcceptanceParameters = { agreementId: bigint };
export type WithdrawAcceptanceReturnType = WriteResult;
export type WithdrawAcceptanceErrorType = ConcordWriteErrorType;

/**
 * Withdraws the context account's acceptance of the latest offer, at any time while the
 * negotiation is live (not only on its turn).
 *
 * @param context - A context whose account is a participant.
 * @param parameters - {@link WithdrawAcceptanceParameters}
 * @returns The transaction (its AcceptanceWithdrawn event among `events`).
 *
 * @example
 * import { withdrawAcceptance } from "./src/sdk"
 * await withdrawAcceptance(hotelContext, { agreementId: 1n })
 */
export async function withdrawAcceptance(
  context: ConcordContext,
  parameters: WithdrawAcceptanceParameters,
): Promise<WithdrawAcceptanceReturnType> {
  return sendPlanned(context, await withdrawAcceptanceCall(context, parameters));
}

/** The call {@link withdrawAcceptance} sends; {@link prepareWithdrawAcceptance} returns it encoded. */
export async function withdrawAcceptanceCall(context: ConcordContext, parameters: WithdrawAcceptanceParameters): Promise<PlannedCall> {
  const { negotiationHub } = await contractAddresses(context);
  return planCall(
    { address: negotiationHub, abi: negotiationHubAbi, functionName: "withdrawAcceptance", args: [parameters.agreementId] },
    `withdraw the acceptance of the latest offer in the negotiation of agreement ${parameters.agreementId}`,
  );
}
