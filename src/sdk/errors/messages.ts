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
  RegistryZeroAddress: (i) => `party ${n(i)} has neither an account nor an agreement id`,
  RegistryAmbiguousParty: (i) => `party ${n(i)} has both an account and an agreement id; give one`,
  RegistryDuplicateParty: (i) => `party ${n(i)} appears twice in the terms`,
  RegistryPartiesNotSorted: (i) => `party ${n(i)} is out of order: parties must be sorted by address, nested agreements last by id`,
  RegistryZeroShare: (i) => `party ${n(i)} has a share of 0 basis points; every share must be positive`,
  RegistrySharesSumInvalid: (sum) => `shares sum to ${n(sum)} basis points; they must sum to 10,000`,
  RegistryReferralFeeTooHigh: (fee, max) => `referral fee is ${n(fee)} basis points; the cap is ${n(max)}`,
  RegistryReserveTooHigh: (reserve, max) => `reserve is ${n(reserve)} basis points; the cap is ${n(max)}`,
  RegistryDisputeWindowOutOfRange: (w, min, max) =>
    `dispute window is ${days(w)}; with a reserve it must be from ${n(min)} to ${n(max)} s, and 0 without one`,
  RegistryReferrerPolicyInvalid: () =>
    "referrer policy does not fit the fee: None needs a zero fee and no referrers, Open a fee and no list, Allowlist a fee and a list",
  RegistryReferrerListInvalid: (i) => `referrer ${n(i)} of the allowlist is zero or out of order (sort ascending, no duplicates)`,
  RegistryDustPartyOutOfRange: (i, count) => `dust party index ${n(i)} is out of range for ${n(count)} parties`,
  RegistryNestedAgreementInvalid: (id) =>
    `agreement ${n(id)} cannot be nested here: it must exist, be active, have a lower id and keep nesting within 4 levels`,
  RegistryUnknownAgreement: (id) => `agreement ${n(id)} does not exist`,
  RegistryUnknownVersion: (id, v) => `agreement ${n(id)} has no version ${n(v)}`,
  RegistryInvalidStatus: (id, s) => `agreement ${n(id)} is ${status(s)}; this action needs another status`,
  RegistryVersionSuperseded: (id, v, active) => `version ${n(v)} of agreement ${n(id)} is superseded: version ${n(active)} is active`,
  RegistryTermsMismatch: (id, v, expected, actual) =>
    `the terms given hash to ${String(actual)}, not to ${String(expected)} stored for agreement ${n(id)} version ${n(v)}`,
  RegistrySignatureExpired: (signer, deadline) => `the signature of ${String(signer)} expired at ${time(deadline)}`,
  RegistryInvalidSignature: (signer) =>
    `the signature of ${String(signer)} is not valid for this agreement, version, terms, nonce and deadline on this chain and registry`,
  RegistryNonceUsed: (signer, nonce) => `nonce ${n(nonce)} of ${String(signer)} is already used or cancelled`,
  RegistryDuplicateSigner: (signer) => `${String(signer)} signed twice`,
  RegistrySignersNotSorted: (signer) => `signatures must be sorted by signer address; ${String(signer)} is out of order`,
  RegistrySignerNotParty: (signer) => `${String(signer)} signed but is not a party whose consent is needed`,
  RegistryMissingConsent: (party) => `party ${String(party)} has not consented (no signature and no on-chain approval)`,
  RegistryUnauthorized: (caller) => `${String(caller)} may not call this`,
  NegotiationInvalidAgreementStatus: (id, s) => `agreement ${n(id)} is ${status(s)}; it cannot be negotiated`,
  NegotiationAlreadyOpen: (id, nid) => `agreement ${n(id)} already has negotiation ${n(nid)} open`,
  NegotiationDeadlineInvalid: (deadline, now) => `deadline ${time(deadline)} is not after the current block time ${time(now)}`,
  NegotiationRoundLimitZero: () => "the round limit must be at least 1",
  NegotiationTooFewParticipants: (id, count) => `agreement ${n(id)} has ${n(count)} account parties; a negotiation needs at least 2`,
  NegotiationNotOpen: (id, s) => `the negotiation of agreement ${n(id)} is ${NEGOTIATION_STATUS[Number(s)] ?? String(s)}, not open`,
  NegotiationNotParticipant: (id, account) => `${String(account)} is not a participant of the negotiation of agreement ${n(id)}`,
  NegotiationNotYourTurn: (id, caller, expected) =>
    `it is not the turn of ${String(caller)} in the negotiation of agreement ${n(id)}; ${String(expected)} moves next`,
  NegotiationDeadlinePassed: (id, deadline, now) =>
    `the negotiation of agreement ${n(id)} expired at ${time(deadline)} (block time ${time(now)})`,
  NegotiationRoundLimitReached: (id, limit, moves) =>
    `the negotiation of agreement ${n(id)} used all ${n(limit)} rounds (${n(moves)} moves)`,
  NegotiationOfferPartyNotParticipant: (id, party) =>
    `the offer names ${String(party)}, who is not a participant of the negotiation of agreement ${n(id)}`,
  NegotiationOfferMismatch: (id, expected, actual) =>
    `the terms given (${String(actual)}) are not the latest offer (${String(expected)}) of agreement ${n(id)}`,
  NegotiationAgreementChanged: (id, base, active) =>
    `agreement ${n(id)} moved from version ${n(base)} to ${n(active)} since the negotiation opened`,
  NegotiationNotExpired: (id, deadline, moves) =>
    `the negotiation of agreement ${n(id)} has not expired (deadline ${time(deadline)}, ${n(moves)} moves)`,
  LedgerZeroAmount: () => "the amount is zero; it must be positive",
  LedgerZeroOrderRef: () => "the order reference is zero; make one from an order id and a salt",
  LedgerOrderAlreadySettled: (ref) => `order reference ${String(ref)} is already settled`,
  LedgerAgreementNotActive: (id, s) => `agreement ${n(id)} is ${status(s)}, not active: it cannot be settled`,
  LedgerSelfReferral: (payer) => `the payer ${String(payer)} cannot be its own referrer`,
  LedgerReferrerNotAllowed: (id, v, referrer) =>
    `${String(referrer)} may not earn the referral fee of agreement ${n(id)} version ${n(v)} (referrer policy)`,
  LedgerValueMismatch: (value, expected) => `the transaction sends ${n(value)} wei; it must send ${n(expected)}`,
  LedgerTokenDeliveryShort: (token, expected, received) =>
    `token ${String(token)} delivered ${n(received)} of ${n(expected)} (fee-on-transfer tokens are not supported)`,
  LedgerAmountOverflow: (amount) => `amount ${n(amount)} exceeds 2^128 - 1`,
  LedgerUnknownSettlement: (ref) => `order reference ${String(ref)} has no reserve matching the record given (unknown, released or refunded)`,
  LedgerDisputeWindowOpen: (ref, at) => `the reserve of ${String(ref)} can be released only from ${time(at)}`,
  LedgerDisputeWindowClosed: (ref, at) => `the dispute window of ${String(ref)} closed at ${time(at)}: no more refunds`,
  LedgerNotRefundAuthority: (caller, authority) => `${String(caller)} is not the refund authority (${String(authority)})`,
  LedgerRefundExceedsReserve: (amount, reserve) => `refund of ${n(amount)} exceeds the remaining reserve of ${n(reserve)}`,
  LedgerTermsMismatch: (id, v) => `the terms given are not those of active version ${n(v)} of agreement ${n(id)}`,
  LedgerPartyIndexOutOfRange: (i, count) => `party index ${n(i)} is out of range for ${n(count)} parties`,
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
