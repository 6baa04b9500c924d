import { negotiationHubAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { writeConcord, type WriteResult } from "../write";
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
  const { negotiationHub } = await contractAddresses(context);
  return writeConcord(context, {
    address: negotiationHub,
    abi: negotiationHubAbi,
    functionName: "withdrawAcceptance",
    args: [parameters.agreementId],
  });
}
