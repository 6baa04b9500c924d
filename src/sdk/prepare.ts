/**
 * Prepared calls: every write action's call, encoded for any wallet or relayer to execute instead
 * of sent from the context's account. A multisig's owners sign the wallet's own transaction of it
 * (a Safe: src/sdk/wallets/safe.ts); the CLI writes them as a transaction builder's batch file.
 *
 * One mechanism: each action's `xCall` step plans the call it sends ({@link PlannedCall}), and
 * `prepareX` is that step run through {@link prepareCall}. The twins are listed here, once.
 */
import { encodeFunctionData, type Address, type Hex } from "viem";
import { senderOf, type ConcordContext } from "./client";
import { withConcordErrors } from "./errors/decode";
import type { PlannedCall } from "./write";
import { acceptOfferCall } from "./actions/acceptOffer";
import { activateAgreementCall } from "./actions/activateAgreement";
import { activateAmendmentCall } from "./actions/activateAmendment";
import { approveTerminationCall } from "./actions/approveTermination";
import { approveVersionCall } from "./actions/approveVersion";
import { cancelNonceCall } from "./actions/cancelNonce";
import { claimCall } from "./actions/claim";
import { distributeCall } from "./actions/distribute";
import { endNegotiationCall } from "./actions/endNegotiation";
import { expireNegotiationCall } from "./actions/expireNegotiation";
import { offerTermsCall } from "./actions/offerTerms";
import { openNegotiationCall } from "./actions/openNegotiation";
import { proposeAgreementCall } from "./actions/proposeAgreement";
import { proposeAmendmentCall } from "./actions/proposeAmendment";
import { refundCall } from "./actions/refund";
import { releaseReserveCall } from "./actions/releaseReserve";
import { revokeApprovalCall } from "./actions/revokeApproval";
import { revokeTerminationApprovalCall } from "./actions/revokeTerminationApproval";
import { settleCall } from "./actions/settle";
import { settleBatchCall } from "./actions/settleBatch";
import { settleWithPermitCall } from "./actions/settleWithPermit";
import { sweepRemainderCall } from "./actions/sweepRemainder";
import { terminateAgreementCall } from "./actions/terminateAgreement";
import { withdrawCall, type WithdrawParameters } from "./actions/withdraw";
import { withdrawAcceptanceCall } from "./actions/withdrawAcceptance";

/** A call ready for any wallet or relayer: the target, the calldata, the ETH it sends, and what it does. */
export type PreparedCall = { to: Address; data: Hex; value: bigint; description: string };

export type PrepareOptions = {
  /**
   * Simulate the call from its sender first (default `true`): a revert becomes a decoded
   * ContractRevertError before anyone signs. Turn it off for a call that depends on an earlier
   * one of the same batch (a withdrawal after the claim that funds it).
   */
  simulate?: boolean;
};

/**
 * Encodes a planned call (viem's `encodeFunctionData` on the generated ABI) and, unless told not
 * to, simulates it from the sender (`eth_estimateGas` with `from` = the sender, as a send does).
 */
export async function prepareCall(context: ConcordContext, planned: PlannedCall, options: PrepareOptions = {}): Promise<PreparedCall> {
  const { call } = planned;
  const data = encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args });
  if (options.simulate ?? true) {
    const from = senderOf(context);
    await withConcordErrors(() =>
      context.publicClient.estimateContractGas({ ...call, account: from } as Parameters<typeof context.publicClient.estimateContractGas>[0]),
    );
  }
  return { to: call.address, data, value: call.value ?? 0n, description: planned.description };
}

/** The `prepareX` twin of an action's `xCall` step: the same parameters, then {@link PrepareOptions}. */
function preparer<P>(plan: (context: ConcordContext, parameters: P) => Promise<PlannedCall>) {
  return async (context: ConcordContext, parameters: P, options?: PrepareOptions): Promise<PreparedCall> =>
    prepareCall(context, await plan(context, parameters), options);
}

export const prepareAcceptOffer = preparer(acceptOfferCall);
export const prepareActivateAgreement = preparer(activateAgreementCall);
export const prepareActivateAmendment = preparer(activateAmendmentCall);
export const prepareApproveTermination = preparer(approveTerminationCall);
export const prepareApproveVersion = preparer(approveVersionCall);
export const prepareCancelNonce = preparer(cancelNonceCall);
export const prepareClaim = preparer(claimCall);
export const prepareDistribute = preparer(distributeCall);
export const prepareEndNegotiation = preparer(endNegotiationCall);
export const prepareExpireNegotiation = preparer(expireNegotiationCall);
export const prepareOfferTerms = preparer(offerTermsCall);
export const prepareOpenNegotiation = preparer(openNegotiationCall);
export const prepareProposeAgreement = preparer(proposeAgreementCall);
export const prepareProposeAmendment = preparer(proposeAmendmentCall);
export const prepareRefund = preparer(refundCall);
export const prepareReleaseReserve = preparer(releaseReserveCall);
export const prepareRevokeApproval = preparer(revokeApprovalCall);
export const prepareRevokeTerminationApproval = preparer(revokeTerminationApprovalCall);
export const prepareSettle = preparer(settleCall);
export const prepareSettleBatch = preparer(settleBatchCall);
export const prepareSettleWithPermit = preparer(settleWithPermitCall);
export const prepareSweepRemainder = preparer(sweepRemainderCall);
export const prepareTerminateAgreement = preparer(terminateAgreementCall);
export const prepareWithdrawAcceptance = preparer(withdrawAcceptanceCall);

/**
 * {@link withdraw}'s call, prepared: the sender's whole balance (read first) to itself unless an
 * amount and recipient are given.
 *
 * @example
 * import { prepareWithdraw } from "./src/sdk"
 * const call = await prepareWithdraw({ ...context, account: safe }, { to: treasury, amount: 10n ** 17n })
 * // call: { to: ledger, data: "0x...", value: 0n, description: "withdraw 100000000000000000 wei of ETH ..." }
 */
export async function prepareWithdraw(context: ConcordContext, parameters: WithdrawParameters = {}, options?: PrepareOptions): Promise<PreparedCall> {
  return prepareCall(context, await withdrawCall(context, parameters), options);
}
