import type { ConcordContext, CreateConcordContextParameters } from "./client";
import { createConcordContext } from "./client";
import { acceptOffer } from "./actions/acceptOffer";
import { endNegotiation } from "./actions/endNegotiation";
import { expireNegotiation } from "./actions/expireNegotiation";
import { getConsenters } from "./actions/getConsenters";
import { getNegotiation } from "./actions/getNegotiation";
import { getNestedTerms } from "./actions/getNestedTerms";
import { offerTerms } from "./actions/offerTerms";
import { openNegotiation } from "./actions/openNegotiation";
import { revokeApproval } from "./actions/revokeApproval";
import { revokeTerminationApproval } from "./actions/revokeTerminationApproval";
import { withdrawAcceptance } from "./actions/withdrawAcceptance";
import { activateAgreement } from "./actions/activateAgreement";
import { activateAmendment } from "./actions/activateAmendment";
import { approveTermination } from "./actions/approveTermination";
import { approveVersion } from "./actions/approveVersion";
import { cancelNonce } from "./actions/cancelNonce";
import { claim } from "./actions/claim";
import { distribute } from "./actions/distribute";
import { getAgreement } from "./actions/getAgreement";
import { getAgreementHistory } from "./actions/getAgreementHistory";
import { getAgreementsOfParty } from "./actions/getAgreementsOfParty";
import { getBalance } from "./actions/getBalance";
import {
  getConcordEvents,
  type ConcordEvent,
  type ConcordEventName,
  type GetConcordEventsParameters,
  type GetConcordEventsReturnType,
} from "./actions/getConcordEvents";
import { getRiskCounters } from "./actions/getRiskCounters";
import { getReserveLot } from "./actions/getReserveLot";
import { getSettlement } from "./actions/getSettlement";
import { getVersion } from "./actions/getVersion";
import { proposeAgreement } from "./actions/proposeAgreement";
import { proposeAmendment } from "./actions/proposeAmendment";
import { quoteSettlement } from "./actions/quoteSettlement";
import { refund } from "./actions/refund";
import { releaseReserve } from "./actions/releaseReserve";
import { settle } from "./actions/settle";
import { settleBatch } from "./actions/settleBatch";
import { settleWithPermit } from "./actions/settleWithPermit";
import { signConsent } from "./actions/signConsent";
import { signIntent } from "./actions/signIntent";
import { signTermination } from "./actions/signTermination";
import { sweepRemainder } from "./actions/sweepRemainder";
import { terminateAgreement } from "./actions/terminateAgreement";
import { watchSettlements } from "./actions/watchSettlements";
import { withdraw } from "./actions/withdraw";
import {
  prepareAcceptOffer,
  prepareActivateAgreement,
  prepareActivateAmendment,
  prepareApproveTermination,
  prepareApproveVersion,
  prepareCancelNonce,
  prepareClaim,
  prepareDistribute,
  prepareEndNegotiation,
  prepareExpireNegotiation,
  prepareOfferTerms,
  prepareOpenNegotiation,
  prepareProposeAgreement,
  prepareProposeAmendment,
  prepareRefund,
  prepareReleaseReserve,
  prepareRevokeApproval,
  prepareRevokeTerminationApproval,
  prepareSettle,
  prepareSettleBatch,
  prepareSettleWithPermit,
  prepareSweepRemainder,
  prepareTerminateAgreement,
  prepareWithdrawAcceptance,
  prepareWithdraw,
  type PrepareOptions,
} from "./prepare";

/**
 * A Concord client: every action bound to one context (clients, account, addresses), called
 * as `concord.settle(parameters)` instead of `settle(context, parameters)`.
 *
 * @param parameters - A viem public client, an optional wallet client (for writes and
 *   signatures), and the addresses, or nothing: the chain id is read from the node and the
 *   addresses from `deploy/deployments/chain-<id>/deployed_addresses.json`.
 * @returns The bound actions and the `context` they share.
 *
 * @example
 * import { createPublicClient, createWalletClient, http, parseEther } from "viem"
 * import { privateKeyToAccount } from "viem/accounts"
 * import { createConcordClient, makeOrderRef, randomSalt } from "./src/sdk"
 *
 * const transport = http("http://127.0.0.1:8545")
 * const concord = await createConcordClient({
 *   publicClient: createPublicClient({ transport }),
 *   walletClient: createWalletClient({ account: privateKeyToAccount(process.env.CONCORD_PRIVATE_KEY as `0x${string}`), transport }),
 * })
 * const quote = await concord.quoteSettlement({ agreementId: 1n, gross: parseEther("1") })
 * await concord.settle({
 *   payment: { agreementId: 1n, version: quote.version, gross: quote.gross, orderRef: makeOrderRef({ orderId: "BKG-1", salt: randomSalt() }) },
 * })
 */
export async function createConcordClient(parameters: CreateConcordContextParameters) {
  const context = await createConcordContext(parameters);
  return {
    context,
    // agreements, consent and negotiation
    acceptOffer: (p: Parameters<typeof acceptOffer>[1]) => acceptOffer(context, p),
    endNegotiation: (p: Parameters<typeof endNegotiation>[1]) => endNegotiation(context, p),
    expireNegotiation: (p: Parameters<typeof expireNegotiation>[1]) => expireNegotiation(context, p),
    getConsenters: (p: Parameters<typeof getConsenters>[1]) => getConsenters(context, p),
    getNegotiation: (p: Parameters<typeof getNegotiation>[1]) => getNegotiation(context, p),
    getNestedTerms: (p: Parameters<typeof getNestedTerms>[1]) => getNestedTerms(context, p),
    offerTerms: (p: Parameters<typeof offerTerms>[1]) => offerTerms(context, p),
    openNegotiation: (p: Parameters<typeof openNegotiation>[1]) => openNegotiation(context, p),
    revokeApproval: (p: Parameters<typeof revokeApproval>[1]) => revokeApproval(context, p),
    revokeTerminationApproval: (p: Parameters<typeof revokeTerminationApproval>[1]) => revokeTerminationApproval(context, p),
    withdrawAcceptance: (p: Parameters<typeof withdrawAcceptance>[1]) => withdrawAcceptance(context, p),
    activateAgreement: (p: Parameters<typeof activateAgreement>[1]) => activateAgreement(context, p),
    activateAmendment: (p: Parameters<typeof activateAmendment>[1]) => activateAmendment(context, p),
    approveTermination: (p: Parameters<typeof approveTermination>[1]) => approveTermination(context, p),
    approveVersion: (p: Parameters<typeof approveVersion>[1]) => approveVersion(context, p),
    cancelNonce: (p: Parameters<typeof cancelNonce>[1]) => cancelNonce(context, p),
    claim: (p: Parameters<typeof claim>[1]) => claim(context, p),
    distribute: (p: Parameters<typeof distribute>[1]) => distribute(context, p),
    getAgreement: (p: Parameters<typeof getAgreement>[1]) => getAgreement(context, p),
    getAgreementHistory: (p: Parameters<typeof getAgreementHistory>[1]) => getAgreementHistory(context, p),
    getAgreementsOfParty: (p: Parameters<typeof getAgreementsOfParty>[1]) => getAgreementsOfParty(context, p),
    getBalance: (p: Parameters<typeof getBalance>[1]) => getBalance(context, p),
    getConcordEvents: ((p?: Parameters<typeof getConcordEvents>[1]) => getConcordEvents(context, p)) as BoundGetConcordEvents,
    getRiskCounters: (p: Parameters<typeof getRiskCounters>[1]) => getRiskCounters(context, p),
    getReserveLot: (p: Parameters<typeof getReserveLot>[1]) => getReserveLot(context, p),
    getSettlement: (p: Parameters<typeof getSettlement>[1]) => getSettlement(context, p),
    getVersion: (p: Parameters<typeof getVersion>[1]) => getVersion(context, p),
    proposeAgreement: (p: Parameters<typeof proposeAgreement>[1]) => proposeAgreement(context, p),
    proposeAmendment: (p: Parameters<typeof proposeAmendment>[1]) => proposeAmendment(context, p),
    quoteSettlement: (p: Parameters<typeof quoteSettlement>[1]) => quoteSettlement(context, p),
    refund: (p: Parameters<typeof refund>[1]) => refund(context, p),
    releaseReserve: (p: Parameters<typeof releaseReserve>[1]) => releaseReserve(context, p),
    settle: (p: Parameters<typeof settle>[1]) => settle(context, p),
    settleBatch: (p: Parameters<typeof settleBatch>[1]) => settleBatch(context, p),
    settleWithPermit: (p: Parameters<typeof settleWithPermit>[1]) => settleWithPermit(context, p),
    signConsent: (p: Parameters<typeof signConsent>[1]) => signConsent(context, p),
    signIntent: (p: Parameters<typeof signIntent>[1]) => signIntent(context, p),
    sweepRemainder: (p: Parameters<typeof sweepRemainder>[1]) => sweepRemainder(context, p),
    signTermination: (p: Parameters<typeof signTermination>[1]) => signTermination(context, p),
    terminateAgreement: (p: Parameters<typeof terminateAgreement>[1]) => terminateAgreement(context, p),
    watchSettlements: (p: Parameters<typeof watchSettlements>[1]) => watchSettlements(context, p),
    withdraw: (p?: Parameters<typeof withdraw>[1]) => withdraw(context, p),
    // the same calls prepared for a wallet or relayer to execute (src/sdk/prepare.ts)
    prepareAcceptOffer: (p: Parameters<typeof prepareAcceptOffer>[1], o?: PrepareOptions) => prepareAcceptOffer(context, p, o),
    prepareActivateAgreement: (p: Parameters<typeof prepareActivateAgreement>[1], o?: PrepareOptions) => prepareActivateAgreement(context, p, o),
    prepareActivateAmendment: (p: Parameters<typeof prepareActivateAmendment>[1], o?: PrepareOptions) => prepareActivateAmendment(context, p, o),
    prepareApproveTermination: (p: Parameters<typeof prepareApproveTermination>[1], o?: PrepareOptions) => prepareApproveTermination(context, p, o),
    prepareApproveVersion: (p: Parameters<typeof prepareApproveVersion>[1], o?: PrepareOptions) => prepareApproveVersion(context, p, o),
    prepareCancelNonce: (p: Parameters<typeof prepareCancelNonce>[1], o?: PrepareOptions) => prepareCancelNonce(context, p, o),
    prepareClaim: (p: Parameters<typeof prepareClaim>[1], o?: PrepareOptions) => prepareClaim(context, p, o),
    prepareDistribute: (p: Parameters<typeof prepareDistribute>[1], o?: PrepareOptions) => prepareDistribute(context, p, o),
    prepareEndNegotiation: (p: Parameters<typeof prepareEndNegotiation>[1], o?: PrepareOptions) => prepareEndNegotiation(context, p, o),
    prepareExpireNegotiation: (p: Parameters<typeof prepareExpireNegotiation>[1], o?: PrepareOptions) => prepareExpireNegotiation(context, p, o),
    prepareOfferTerms: (p: Parameters<typeof prepareOfferTerms>[1], o?: PrepareOptions) => prepareOfferTerms(context, p, o),
    prepareOpenNegotiation: (p: Parameters<typeof prepareOpenNegotiation>[1], o?: PrepareOptions) => prepareOpenNegotiation(context, p, o),
    prepareProposeAgreement: (p: Parameters<typeof prepareProposeAgreement>[1], o?: PrepareOptions) => prepareProposeAgreement(context, p, o),
    prepareProposeAmendment: (p: Parameters<typeof prepareProposeAmendment>[1], o?: PrepareOptions) => prepareProposeAmendment(context, p, o),
    prepareRefund: (p: Parameters<typeof prepareRefund>[1], o?: PrepareOptions) => prepareRefund(context, p, o),
    prepareReleaseReserve: (p: Parameters<typeof prepareReleaseReserve>[1], o?: PrepareOptions) => prepareReleaseReserve(context, p, o),
    prepareRevokeApproval: (p: Parameters<typeof prepareRevokeApproval>[1], o?: PrepareOptions) => prepareRevokeApproval(context, p, o),
    prepareRevokeTerminationApproval: (p: Parameters<typeof prepareRevokeTerminationApproval>[1], o?: PrepareOptions) => prepareRevokeTerminationApproval(context, p, o),
    prepareSettle: (p: Parameters<typeof prepareSettle>[1], o?: PrepareOptions) => prepareSettle(context, p, o),
    prepareSettleBatch: (p: Parameters<typeof prepareSettleBatch>[1], o?: PrepareOptions) => prepareSettleBatch(context, p, o),
    prepareSettleWithPermit: (p: Parameters<typeof prepareSettleWithPermit>[1], o?: PrepareOptions) => prepareSettleWithPermit(context, p, o),
    prepareSweepRemainder: (p: Parameters<typeof prepareSweepRemainder>[1], o?: PrepareOptions) => prepareSweepRemainder(context, p, o),
    prepareTerminateAgreement: (p: Parameters<typeof prepareTerminateAgreement>[1], o?: PrepareOptions) => prepareTerminateAgreement(context, p, o),
    prepareWithdrawAcceptance: (p: Parameters<typeof prepareWithdrawAcceptance>[1], o?: PrepareOptions) => prepareWithdrawAcceptance(context, p, o),
    prepareWithdraw: (p?: Parameters<typeof prepareWithdraw>[1], o?: PrepareOptions) => prepareWithdraw(context, p, o),
  };
}

/** {@link getConcordEvents} bound to a context, keeping its typed overload. */
type BoundGetConcordEvents = {
  <const N extends ConcordEventName>(parameters: GetConcordEventsParameters & { events: readonly N[] }): Promise<GetConcordEventsReturnType<N>>;
  (parameters?: GetConcordEventsParameters): Promise<ConcordEvent[]>;
};

export type ConcordClient = Awaited<ReturnType<typeof createConcordClient>>;
