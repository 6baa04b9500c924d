/**
 * The slices of the Concord contracts' ABIs that negotiation needs, typed for viem. Checked
 * against the compiled artifacts by test/negotiation/onchain.ts.
 */
import { parseAbi } from "viem";

const structs = [
  "struct Party { address account; uint64 agreementId; uint16 shareBps; }",
  "struct Terms { Party[] parties; uint16 referralFeeBps; uint8 referrerPolicy; address[] referrers; uint16 reserveBps; uint32 disputeWindow; address refundAuthority; uint8 dustPartyIndex; bytes32 documentHash; }",
] as const;

export const negotiationHubAbi = parseAbi([
  ...structs,
  "struct NegotiationState { uint8 status; uint32 negotiationId; uint8 participantCount; uint8 turn; uint32 moves; uint32 roundLimit; uint64 deadline; uint32 baseVersion; bytes32 offerHash; uint256 acceptedMask; }",
  "function open(uint64 agreementId, uint32 roundLimit, uint64 deadline, Terms initialOffer, Terms currentTerms) returns (uint32)",
  "function offer(uint64 agreementId, Terms terms)",
  "function accept(uint64 agreementId, Terms terms)",
  "function end(uint64 agreementId)",
  "function expire(uint64 agreementId)",
  "function negotiation(uint64 agreementId) view returns (NegotiationState)",
  "function participants(uint64 agreementId) view returns (address[])",
  "function nextMover(uint64 agreementId) view returns (address)",
  "event NegotiationOpened(uint64 indexed agreementId, uint32 indexed negotiationId, address indexed opener, address[] participants, uint32 roundLimit, uint64 deadline, uint32 baseVersion)",
  "event OfferMade(uint64 indexed agreementId, uint32 indexed negotiationId, address indexed proposer, uint32 move, bytes32 offerHash, Terms terms)",
  "event OfferAccepted(uint64 indexed agreementId, uint32 indexed negotiationId, address indexed party, uint32 move, bytes32 offerHash)",
  "event NegotiationAgreed(uint64 indexed agreementId, uint32 indexed negotiationId, uint32 version, bytes32 termsHash)",
  "event NegotiationBroken(uint64 indexed agreementId, uint32 indexed negotiationId, address indexed party, uint32 move)",
  "event NegotiationExpired(uint64 indexed agreementId, uint32 indexed negotiationId, uint32 moves)",
  "error NegotiationInvalidAgreementStatus(uint64 agreementId, uint8 status)",
  "error NegotiationAlreadyOpen(uint64 agreementId, uint32 negotiationId)",
  "error NegotiationDeadlineInvalid(uint64 deadline, uint256 timestamp)",
  "error NegotiationRoundLimitZero()",
  "error NegotiationTooFewParticipants(uint64 agreementId, uint256 count)",
  "error NegotiationNotOpen(uint64 agreementId, uint8 status)",
  "error NegotiationNotParticipant(uint64 agreementId, address account)",
  "error NegotiationNotYourTurn(uint64 agreementId, address caller, address expected)",
  "error NegotiationDeadlinePassed(uint64 agreementId, uint64 deadline, uint256 timestamp)",
  "error NegotiationRoundLimitReached(uint64 agreementId, uint32 roundLimit, uint32 moves)",
  "error NegotiationOfferPartyNotParticipant(uint64 agreementId, address party)",
  "error NegotiationOfferMismatch(uint64 agreementId, bytes32 expected, bytes32 actual)",
  "error NegotiationAgreementChanged(uint64 agreementId, uint32 baseVersion, uint32 activeVersion)",
  "error NegotiationNotExpired(uint64 agreementId, uint64 deadline, uint32 moves)",
]);

export const registryNegotiationAbi = parseAbi([
  ...structs,
  "function propose(Terms terms) returns (uint64)",
  "function agreement(uint64 agreementId) view returns (uint8 status, uint32 latestVersion, uint32 activeVersion)",
  "function termsHash(uint64 agreementId, uint32 version) view returns (bytes32)",
  "function hashTerms(Terms terms) pure returns (bytes32)",
  "function negotiationHub() view returns (address)",
  "function agreementCount() view returns (uint64)",
  "event AgreementProposed(uint64 indexed agreementId, address indexed proposer)",
  "event VersionActivated(uint64 indexed agreementId, uint32 indexed version, bytes32 termsHash, uint16 unit)",
]);

/** NegotiationStatus on chain. */
export const NEGOTIATION_STATUS = ["none", "open", "agreed", "broken", "expired"] as const;
