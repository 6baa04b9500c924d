// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementStatus, Terms} from "./IConcordTypes.sol";
import {IAgreementRegistry} from "./IAgreementRegistry.sol";

/// @notice Lifecycle of a negotiation: open, then agreed, broken (a participant ended it) or
/// expired (past its deadline or round limit, or the agreement changed under it).
enum NegotiationStatus {
    None,
    Open,
    Agreed,
    Broken,
    Expired
}

/// @notice The state of an agreement's current (or last) negotiation, as one read.
struct NegotiationState {
    /// The status, with expiry applied lazily: an open negotiation past its deadline or round
    /// limit, or whose agreement changed since it opened, reads as `Expired`.
    NegotiationStatus status;
    /// Sequence number of this negotiation for the agreement (1 for the first).
    uint32 negotiationId;
    /// Number of participants (the account parties fixed at open).
    uint8 participantCount;
    /// Index in the participant list of whose turn it is.
    uint8 turn;
    /// Moves made so far, the opening offer included. Round r spans moves (r-1)*n+1 .. r*n.
    uint32 moves;
    /// The negotiation expires when `moves` reaches `roundLimit * participantCount`.
    uint32 roundLimit;
    /// The negotiation expires after this timestamp.
    uint64 deadline;
    /// The agreement's active version at open (0 for a proposed agreement).
    uint32 baseVersion;
    /// EIP-712 struct hash of the latest offer.
    bytes32 offerHash;
    /// Bit i set: participant i accepted the latest offer.
    uint256 acceptedMask;
}

/// @title Concord negotiation hub
/// @notice Negotiations among the parties of an agreement in the stacked alternating-offers
/// protocol: turns go round the participants in order; on its turn a participant makes an offer
/// (full terms, validated exactly as a direct proposal), accepts the latest offer, or ends the
/// negotiation. An offer counts as its proposer's acceptance and clears everyone else's. When every
/// participant has accepted the latest offer, the hub activates it in the registry as the
/// agreement's next version; each acceptance came from the party itself, so no signature round follows.
/// @dev Invariants:
/// - participants are the account parties of the version in force at open (the latest version of a
///   proposed agreement, the active version of an active one), sorted by address;
/// - an offer's account parties are all participants, and every participant must accept it, so its
///   activation has the consent of every party of the new and of the current version;
/// - at most one negotiation per agreement is open at a time;
/// - only hashes and counters are stored; every move is an event with the full offer, so a
///   negotiation replays from events alone.
interface INegotiationHub {
    // ---------------------------------------------------------------- errors

    /// @notice Thrown when opening a negotiation on an agreement that is neither proposed nor active,
    /// or moving in one whose agreement was terminated since it opened.
    error NegotiationInvalidAgreementStatus(uint64 agreementId, AgreementStatus status);
    /// @notice Thrown when opening while another negotiation of the agreement is still open.
    error NegotiationAlreadyOpen(uint64 agreementId, uint32 negotiationId);
    /// @notice Thrown when the deadline given at open is not in the future.
    error NegotiationDeadlineInvalid(uint64 deadline, uint256 timestamp);
    /// @notice Thrown when the round limit given at open is zero.
    error NegotiationRoundLimitZero();
    /// @notice Thrown when the agreement has fewer than two account parties to negotiate.
    error NegotiationTooFewParticipants(uint64 agreementId, uint256 count);
    /// @notice Thrown on a move when the agreement has no open negotiation (never opened, or it ended).
    error NegotiationNotOpen(uint64 agreementId, NegotiationStatus status);
    /// @notice Thrown when the caller is not a participant of the negotiation.
    error NegotiationNotParticipant(uint64 agreementId, address account);
    /// @notice Thrown when a participant moves out of turn.
    error NegotiationNotYourTurn(uint64 agreementId, address caller, address expected);
    /// @notice Thrown on a move after the negotiation's deadline.
    error NegotiationDeadlinePassed(uint64 agreementId, uint64 deadline, uint256 timestamp);
    /// @notice Thrown on a move after the negotiation used up its round limit.
    error NegotiationRoundLimitReached(uint64 agreementId, uint32 roundLimit, uint32 moves);
    /// @notice Thrown when an offer names an account party that is not a participant.
    error NegotiationOfferPartyNotParticipant(uint64 agreementId, address party);
    /// @notice Thrown when the terms accepted are not the latest offer.
    error NegotiationOfferMismatch(uint64 agreementId, bytes32 expected, bytes32 actual);
    /// @notice Thrown on any move in a negotiation whose agreement's active version changed since it opened.
    error NegotiationAgreementChanged(uint64 agreementId, uint32 baseVersion, uint32 activeVersion);
    /// @notice Thrown when expiring a negotiation that is still live.
    error NegotiationNotExpired(uint64 agreementId, uint64 deadline, uint32 moves);

    // ---------------------------------------------------------------- events

    /// @notice Emitted when a negotiation opens; the opening offer follows in {OfferMade}.
    event NegotiationOpened(
        uint64 indexed agreementId,
        uint32 indexed negotiationId,
        address indexed opener,
        address[] participants,
        uint32 roundLimit,
        uint64 deadline,
        uint32 baseVersion
    );
    /// @notice Emitted for every offer (the opening one included), with the full terms.
    event OfferMade(
        uint64 indexed agreementId,
        uint32 indexed negotiationId,
        address indexed proposer,
        uint32 move,
        bytes32 offerHash,
        Terms terms
    );
    /// @notice Emitted when a participant accepts the latest offer.
    event OfferAccepted(
        uint64 indexed agreementId, uint32 indexed negotiationId, address indexed party, uint32 move, bytes32 offerHash
    );
    /// @notice Emitted when every participant accepted the latest offer and it became `version`.
    event NegotiationAgreed(uint64 indexed agreementId, uint32 indexed negotiationId, uint32 version, bytes32 termsHash);
    /// @notice Emitted when a participant ends the negotiation without agreement.
    event NegotiationBroken(uint64 indexed agreementId, uint32 indexed negotiationId, address indexed party, uint32 move);
    /// @notice Emitted when an expired negotiation is closed.
    event NegotiationExpired(uint64 indexed agreementId, uint32 indexed negotiationId, uint32 moves);

    // ---------------------------------------------------------------- moves

    /// @notice Opens a negotiation on `agreementId` with the caller's opening offer.
    /// @param currentTerms The full terms of the version in force (latest version of a proposed
    /// agreement, active version of an active one), checked against the stored hash; its account
    /// parties become the participants, in that order.
    /// @param roundLimit Rounds allowed; a round is one turn of every participant.
    /// @param deadline Timestamp after which no move is accepted.
    /// @param initialOffer The opener's offer, validated as a direct proposal; it counts as the opener's acceptance.
    /// @dev An open negotiation that has expired is closed first (emitting {NegotiationExpired}).
    /// Emits a {NegotiationOpened} and an {OfferMade} event.
    /// @return negotiationId The sequence number of the new negotiation for this agreement.
    function open(
        uint64 agreementId,
        uint32 roundLimit,
        uint64 deadline,
        Terms calldata initialOffer,
        Terms calldata currentTerms
    ) external returns (uint32 negotiationId);

    /// @notice Makes a counter-offer on the caller's turn; it becomes the latest offer, accepted only by the caller.
    /// @dev Emits an {OfferMade} event.
    function offer(uint64 agreementId, Terms calldata terms) external;

    /// @notice Accepts the latest offer on the caller's turn. When this completes every
    /// participant's acceptance, the offer is activated in the registry as the next version.
    /// @param terms The full terms of the latest offer, checked against its hash.
    /// @dev Emits an {OfferAccepted} event, and on the last acceptance a {NegotiationAgreed} event
    /// (after the registry's {IAgreementRegistry-VersionProposed} and {IAgreementRegistry-VersionActivated}).
    function accept(uint64 agreementId, Terms calldata terms) external;

    /// @notice Ends the negotiation on the caller's turn without agreement.
    /// @dev Emits a {NegotiationBroken} event.
    function end(uint64 agreementId) external;

    /// @notice Closes an open negotiation that is past its deadline or round limit, or whose
    /// agreement changed since it opened. Anyone may call it.
    /// @dev Emits a {NegotiationExpired} event.
    function expire(uint64 agreementId) external;

    // ---------------------------------------------------------------- views

    /// @notice The registry whose agreements this hub negotiates and activates.
    function registry() external view returns (IAgreementRegistry);

    /// @notice The agreement's current or last negotiation, with expiry applied lazily.
    function negotiation(uint64 agreementId) external view returns (NegotiationState memory);

    /// @notice The participants of the agreement's current or last negotiation, sorted by address.
    function participants(uint64 agreementId) external view returns (address[] memory);

    /// @notice The participant whose turn it is (zero if no negotiation is live).
    function nextMover(uint64 agreementId) external view returns (address);
}
