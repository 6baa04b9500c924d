import type { ConcordContext, CreateConcordContextParameters } from "./client";
import { createConcordContext } from "./client";
import { activateAgreement } from "./actions/activateAgreement";
import { activateAmendment } from "./actions/activateAmendment";
import { approveVersion } from "./actions/approveVersion";
import { distribute } from "./actions/distribute";
import { getAgreement } from "./actions/getAgreement";
import { getAgreementHistory } from "./actions/getAgreementHistory";
import { getAgreementsOfParty } from "./actions/getAgreementsOfParty";
import { getBalance } from "./actions/getBalance";
import { getConcordEvents } from "./actions/getConcordEvents";
import { getRiskCounters } from "./actions/getRiskCounters";
import { getSettlementRecord } from "./actions/getSettlementRecord";
import { getVersion } from "./actions/getVersion";
import { proposeAgreement } from "./actions/proposeAgreement";
import { proposeAmendment } from "./actions/proposeAmendment";
import { quoteSettlement } from "./actions/quoteSettlement";
import { refund } from "./actions/refund";
import { releaseReserve } from "./actions/releaseReserve";
import { settle } from "./actions/settle";
import { settleWithPermit } from "./actions/settleWithPermit";
import { signConsent, signTermination } from "./actions/signConsent";
import { approveTermination, cancelNonce, terminateAgreement } from "./actions/terminateAgreement";
import { watchSettlements } from "./actions/watchSettlements";
import { withdraw } from "./actions/withdraw";

type Bound<F> = F extends (context: ConcordContext, ...rest: infer P) => infer R ? (...rest: P) => R : never;

function bind<F extends (context: ConcordContext, ...rest: never[]) => unknown>(context: ConcordContext, fn: F): Bound<F> {
  return ((...rest: never[]) => fn(context, ...rest)) as Bound<F>;
}

/**
 * A Concord client: every action bound to one context (clients, account, addresses).
 *
 * @example
 * import { createPublicClient, createWalletClient, http } from "viem"
 * import { privateKeyToAccount } from "viem/accounts"
 * import { createConcordClient, buildTerms } from "concord/src/sdk"
 *
 * const account = privateKeyToAccount(process.env.CONCORD_PRIVATE_KEY as `0x${string}`)
 * const concord = await createConcordClient({
 *   publicClient: createPublicClient({ transport: http("http://127.0.0.1:8545") }),
 *   walletClient: createWalletClient({ account, transport: http("http://127.0.0.1:8545") }),
 * })
 * const { agreementId } = await concord.proposeAgreement({ terms })
 */
export async function createConcordClient(parameters: CreateConcordContextParameters) {
  const context = await createConcordContext(parameters);
  return {
    context,
    activateAgreement: bind(context, activateAgreement),
    activateAmendment: bind(context, activateAmendment),
    approveTermination: bind(context, approveTermination),
    approveVersion: bind(context, approveVersion),
    cancelNonce: bind(context, cancelNonce),
    distribute: bind(context, distribute),
    getAgreement: bind(context, getAgreement),
    getAgreementHistory: bind(context, getAgreementHistory),
    getAgreementsOfParty: bind(context, getAgreementsOfParty),
    getBalance: bind(context, getBalance),
    getConcordEvents: bind(context, getConcordEvents),
    getRiskCounters: bind(context, getRiskCounters),
    getSettlementRecord: bind(context, getSettlementRecord),
    getVersion: bind(context, getVersion),
    proposeAgreement: bind(context, proposeAgreement),
    proposeAmendment: bind(context, proposeAmendment),
    quoteSettlement: bind(context, quoteSettlement),
    refund: bind(context, refund),
    releaseReserve: bind(context, releaseReserve),
    settle: bind(context, settle),
    settleWithPermit: bind(context, settleWithPermit),
    signConsent: bind(context, signConsent),
    signTermination: bind(context, signTermination),
    terminateAgreement: bind(context, terminateAgreement),
    watchSettlements: bind(context, watchSettlements),
    withdraw: bind(context, withdraw),
  };
}

export type ConcordClient = Awaited<ReturnType<typeof createConcordClient>>;
