/**
 * A readable sentence for every custom error of the Concord contracts, naming the offending
 * values. Keyed by error name; arguments arrive decoded, in declaration order.
 */
const n = (v: unknown) => (typeof v === "bigint" || typeof v === "number" ? v.toLocaleString("en-US") : String(v));
const STATUS = ["none", "proposed", "active", "terminated"];
const NEGOTIATION_STATUS = ["none", "open", "agreed", "broken", "expired"];
const status = (v: unknown) => STATUS[Number(v)] ?? String(v);
const days = (seconds: unknown) => `${n(seconds)} s (${(Number(seconds) / 86_400).toFixed(2)} days)`;
const time = (t: unknown) => `${n(t)} (${new Date(Number(t) * 1000).toISOString()})`;

type Message = (...args: readonly unknown[]) => string;

export const ERROR_MESSAGES: Record<string, Message> = {
  RegistryPartyCountOutOfRange: (count, max) => `terms have ${n(count)} parties; they must have 1 to ${n(max)}`,
  RegistryZeroAddress: (i) => `party ${n(i)} has neither an account nor a nested agreement id`,
  RegistryAmbiguousParty: (i) => `party ${n(i)} sets an account and also a nested agreement id or version; give one or the other`,
  RegistryDuplicateParty: (i) => `party ${n(i)} appears twice in the terms`,
  RegistryPartiesNotSorted: (i) => `party ${n(i)} is out of order: parties must be sorted by address, nested agreements last by id`,
  RegistryZeroShare: (i) => `party ${n(i)} has a share of 0 basis points; every share must be positive`,
  RegistrySharesSumInvalid: (sum) => `shares sum to ${n(sum)} basis points; they must sum to 10,000`,
  RegistryReferralFeeTooHigh: (fee, max) => `referral fee is ${n(fee)} basis points; the cap is ${n(max)}`,
  RegistryReserveTooHigh: (reserve, max) => `reserve is ${n(reserve)} basis points; the cap is ${n(max)}`,
  RegistryDisputeWindowOutOfRange: (w, min, max) =>
    `dispute window is ${days(w)}; with a reserve it must be from ${n(min)} to ${n(max)} s, and 0 without one`,
  RegistryReferralTermsInvalid: (fee, count, signer) =>
    `referral terms do not fit: fee ${n(fee)} basis points, ${n(count)} listed referrers, order signer ${String(signer)} ` +
    "(with an order signer the list is empty; without one a fee needs a list and no fee means no list)",
  RegistryReferrerListInvalid: (i) => `referrer ${n(i)} of the list is zero, repeated or out of order (sort ascending)`,
  RegistryDustPartyOutOfRange: (i, count) => `dust party index ${n(i)} is out of range for ${n(count)} parties`,
  RegistryNestedAgreementInvalid: (id, v) =>
    `agreement ${n(id)} version ${n(v)} cannot be nested here: the child must exist, be active, be older, ` +
    "be pinned to its active version and keep nesting within 4 levels",
  RegistryNestedTermsInvalid: (id, v) =>
    `the nested terms for agreement ${n(id)} version ${n(v)} are missing, out of order, not activated or do not match the stored hash`,
  RegistryUnknownAgreement: (id) => `agreement ${n(id)} does not exist`,
  RegistryUnknownVersion: (id, v) => `agreement ${n(id)} has no version ${n(v)} for this call`,
  RegistryInvalidStatus: (id, s) => `agreement ${n(id)} is ${status(s)}; this action needs another status`,
  RegistryVersionSuperseded: (id, v, active) => `version ${n(v)} of agreement ${n(id)} is not newer than active version ${n(active)}`,
  RegistryTermsMismatch: (id, v, expected, actual) =>
    `the terms given hash to ${String(actual)}, not to ${String(expected)} stored for agreement ${n(id)} version ${n(v)}`,
  RegistrySignatureExpired: (signer, deadline) => `the signature of ${String(signer)} expired at ${time(deadline)}`,
  RegistryInvalidSignature: (signer) =>
    `the signature of ${String(signer)} is not valid for this agreement, version, terms, signer, nonce and deadline on this chain and registry`,
  RegistryNonceUsed: (signer, nonce) => `nonce ${n(nonce)} of ${String(signer)} is already used or cancelled`,
  RegistryDuplicateSigner: (signer) => `${String(signer)} signed twice`,
  RegistrySignersNotSorted: (signer) => `signatures must be sorted by signer address; ${String(signer)} is out of order`,
  RegistrySignerNotParty: (signer) => `${String(signer)} signed but is not an account whose consent is needed`,
  RegistryMissingConsent: (party) => `${String(party)} has not consented (no signature and no live on-chain approval)`,
  RegistryUnauthorized: (caller) => `${String(caller)} may not call this (only a consenter proposes an amendment)`,
  RegistryApprovalExpiryInvalid: (expiry, now) => `approval expiry ${time(expiry)} is not after the block time ${time(now)}`,
  NegotiationInvalidAgreementStatus: (id, s) => `agreement ${n(id)} is ${status(s)}; it cannot be negotiated`,
  NegotiationAlreadyOpen: (id, nid) => `agreement ${n(id)} already has negotiation ${n(nid)} open`,
  NegotiationDurationInvalid: (duration, max) => `a negotiation of ${days(duration)} is not allowed; it must last 1 to ${n(max)} s`,
  NegotiationMoveTimeoutInvalid: (timeout, min, duration) =>
    `move timeout ${n(timeout)} s must be at least ${n(min)} s and at most the duration ${n(duration)} s`,
  NegotiationRoundLimitZero: () => "the round limit must be at least 1",
  NegotiationParticipantCountInvalid: (id, count) =>
    `agreement ${n(id)} has ${n(count)} accounts in its tree; a negotiation needs 2 to 256`,
  NegotiationNotOpen: (id, s) => `the negotiation of agreement ${n(id)} is ${NEGOTIATION_STATUS[Number(s)] ?? String(s)}, not open`,
  NegotiationNotParticipant: (id, account) => `${String(account)} is not a participant of the negotiation of agreement ${n(id)}`,
  NegotiationNotYourTurn: (id, caller, expected) =>
    `it is not the turn of ${String(caller)} in the negotiation of agreement ${n(id)}; ${String(expected)} moves next`,
  NegotiationExpiredAlready: (id, nid) =>
    `negotiation ${n(nid)} of agreement ${n(id)} has expired (deadline, round limit or move timeout); close it with expire`,
  NegotiationOfferPartyNotParticipant: (id, party) =>
    `the offer names ${String(party)}, who is not a participant of the negotiation of agreement ${n(id)}`,
  NegotiationOfferNestedPartyChanged: (id, child, v) =>
    `the offer names nested agreement ${n(child)} version ${n(v)}, which the version in force of agreement ${n(id)} does not pin`,
  NegotiationOfferMismatch: (id, expected, actual) =>
    `the terms given (${String(actual)}) are not the latest offer (${String(expected)}) of agreement ${n(id)}`,
  NegotiationAgreementChanged: (id, base, active) =>
    `agreement ${n(id)} moved from version ${n(base)} to ${n(active)} since the negotiation opened`,
  NegotiationNotExpired: (id, deadline, moveDeadline) =>
    `the negotiation of agreement ${n(id)} has not expired (deadline ${time(deadline)}, next move due by ${time(moveDeadline)})`,
  LedgerZeroAmount: () => "the amount is zero; it must be positive",
  LedgerZeroOrderRef: () => "the order reference is zero; make one from an order id and a salt",
  LedgerOrderAlreadySettled: (scope, ref) => `order reference ${String(ref)} is already settled in the scope of ${String(scope)}`,
  LedgerAgreementNotActive: (id) => `agreement ${n(id)} is not active: it cannot be settled`,
  LedgerVersionNotActive: (id, v, active) =>
    `the payment names version ${n(v)} of agreement ${n(id)}, but version ${n(active)} is active: quote it again`,
  LedgerPaymentExpired: (ref, deadline) => `the payment ${String(ref)} expired at ${time(deadline)}`,
  LedgerInvalidIntent: (signer, ref) => `the intent for ${String(ref)} is not signed by the order signer ${String(signer)}`,
  LedgerUnexpectedSignature: (ref) => `the payment ${String(ref)} carries a signature, but its terms have no order signer`,
  LedgerSelfReferral: (payer) => `the payer ${String(payer)} cannot be its own referrer`,
  LedgerReferrerNotAllowed: (id, v, referrer) =>
    `${String(referrer)} may not earn the referral fee of agreement ${n(id)} version ${n(v)} (not on the referrer list)`,
  LedgerUnreachableRecipient: (recipient) =>
    `${String(recipient)} could never withdraw (the ledger, the registry, the hub or the token): name another referrer or beneficiary`,
  LedgerValueMismatch: (value, expected) => `the transaction sends ${n(value)} wei; it must send ${n(expected)}`,
  LedgerBatchInvalid: (i) => `payment ${n(i)} of the batch is in another token, or the signatures do not match the payments`,
  LedgerTokenDeliveryShort: (token, expected, received) =>
    `token ${String(token)} delivered ${n(received)} of ${n(expected)} (fee-on-transfer tokens are not supported)`,
  LedgerAmountOverflow: (amount) => `amount ${n(amount)} exceeds 2^128 - 1`,
  LedgerUnknownLot: (lot) => `reserve lot ${n(lot)} does not match the lot given (unknown, or released)`,
  LedgerLotEntriesMismatch: (lot, i) => `the entries given for reserve lot ${n(lot)} do not match it, or index ${n(i)} is out of range`,
  LedgerDisputeWindowOpen: (lot, at) => `reserve lot ${n(lot)} can be released only from ${time(at)}`,
  LedgerDisputeWindowClosed: (lot, at) => `the dispute window of reserve lot ${n(lot)} closed at ${time(at)}: no more refunds`,
  LedgerNotRefundAuthority: (caller, authority) => `${String(caller)} is not the refund authority (${String(authority)})`,
  LedgerRefundExceedsReserve: (amount, reserve) => `refund of ${n(amount)} exceeds the remaining reserve of ${n(reserve)}`,
  LedgerPartiesMismatch: (id, v) => `the parties given are not those of activated version ${n(v)} of agreement ${n(id)}`,
  LedgerPoolStillOpen: (id, v, token) =>
    `the pool of agreement ${n(id)} version ${n(v)} in token ${String(token)} can still receive value (active, holding reserves or pinned)`,
  LedgerInsufficientBalance: (account, token, balance, amount) =>
    `${String(account)} has ${n(balance)} of token ${String(token)}; cannot withdraw ${n(amount)}`,
  LedgerZeroRecipient: () => "the recipient is the zero address",
  LedgerEthTransferFailed: (to, amount) => `sending ${n(amount)} wei to ${String(to)} failed (the recipient reverted)`,
  ReentrancyGuardReentrantCall: () => "re-entrant call refused",
  AddressEmptyCode: (target) => `${String(target)} has no code`,
  FailedCall: () => "a low-level call failed without a reason",
  InvalidShortString: () => "the EIP-712 domain name or version is not a valid short string",
  StringTooLong: (str) => `the string "${String(str)}" is too long for a short string`,
  SafeERC20FailedOperation: (token) => `token ${String(token)} refused the transfer`,
};
