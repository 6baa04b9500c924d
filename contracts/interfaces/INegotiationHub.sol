// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementStatus, NestedTerms, Terms} from "./IConcordTypes.sol";
import {IAgreementRegistry} from "./IAgreementRegistry.sol";

/// @notice Lifecycle of a negotiation: open, then agreed, broken (a participant ended it) or
/// expired (past its deadline, round limit or move timeout, or the agreement changed under it).
enum NegotiationStatus {
    None,
    Open,
    Agreed,
    Broken,
    Expired
}

/// @notice The state of an agreement's current (or last) negotiation, as one read.
struct NegotiationState {
    /// The status, with expiry applied lazily (an open negotiation that can no longer move reads `Expired`).
    NegotiationStatus status;
    /// Sequence number of this negotiation for the agreement (1 for the first).
    uint32 negotiationId;
    /// Number of participants: every account of the tree of the version in force at open.
    uint16 participantCount;
    /// Index in the participant list of whose turn it is.
    uint16 turn;
    /// Moves made so far, the opening offer included. Round r spans moves (r-1)*n+1 .. r*n.
    uint32 moves;
    /// The negotiation expires when `moves` reaches `roundLimit * participantCount`.
    uint32 roundLimit;
    /// The negotiation expires after this timestamp (at most {MAX_DURATION} after open).
    uint64 deadline;
    /// The negotiation expires when nobody moves for this many seconds.
    uint32 moveTimeout;
    /// When the last move was made.
    uint64 lastMoveAt;
    /// The agreement's active version at open (0 for a proposed agreement).
    uint32 baseVersion;
    /// EIP-712 struct hash of the latest offer.
    bytes32 offerHash;
    /// Bit i set: participant i accepts the latest offer.
    uint256 acceptedMask;
}

/// @title Concord negotiation hub
/// @notice Negotiations among the consenters of an agreement in the stacked alternating-offers
/// protocol: turns go round the participants in order; on its turn a participant makes an offer
/// (full terms, validated as a direct proposal) or accepts the latest one. An offer counts as its
/// proposer's acceptance and clears everyone else's. When every participant accepts the latest
/// offer, the hub activates it in the registry as the agreement's next version.
/// @dev Invariants:
/// - participants are every account of the tree of the version in force at open (account parties
///   and the members of nested parties, recursively), sorted by address, at most 256;
/// - an offer's account parties are participants and its nested parties are nested parties of
///   the version in force, pinned to the same versions (which must still be the children's
///   active versions), so every account of the offer's tree is a participant, and every
///   participant must accept: activation has everyone's consent;
/// - a negotiation ends: its deadline is at most {MAX_DURATION} after open, a move timeout set at
///   open lets anyone expire it, and any participant may end it or withdraw its acceptance at any time.
interface INegotiationHub {
    // ---------------------------------------------------------------- errors

    /// @notice Thrown when opening on an agreement that is neither proposed nor active, or moving
    /// in one whose agreement was terminated since it opened.
    error NegotiationInvalidAgreementStatus(uint64 agreementId, AgreementStatus status);
    /// @notice Thrown when opening while another negotiation of the agreement is still open.
    error NegotiationAlreadyOpen(uint64 agreementId, uint32 negotiationId);
    /// @notice Thrown when the duration is zero or above {MAX_DURATION}.
    error NegotiationDurationInvalid(uint256 duration, uint256 max);
    /// @notice Thrown when the move timeout is below {MIN_MOVE_TIMEOUT} or above the duration.
    error NegotiationMoveTimeoutInvalid(uint256 moveTimeout, uint256 min, uint256 duration);
    /// @notice Thrown when the round limit given at open is zero.
    error NegotiationRoundLimitZero();
    /// @notice Thrown when the agreement's tree has fewer than two accounts, or more than 256.
    error NegotiationParticipantCountInvalid(uint64 agreementId, uint256 count);
    /// @notice Thrown on a move when the agreement has no open negotiation.
    error NegotiationNotOpen(uint64 agreementId, NegotiationStatus status);
    /// @notice Thrown when the caller is not a participant of the negotiation.
    error NegotiationNotParticipant(uint64 agreementId, address account);
    /// @notice Thrown when a participant offers or accepts out of turn.
    error NegotiationNotYourTurn(uint64 agreementId, address caller, address expected);
    /// @notice Thrown on a move in a negotiation that has expired (deadline, round limit, move timeout).
    error NegotiationExpiredAlready(uint64 agreementId, uint32 negotiationId);
    /// @notice Thrown when an offer names an account party that is not a participant.
    error NegotiationOfferPartyNotParticipant(uint64 agreementId, address party);
    /// @notice Thrown when an offer names a nested party, or a pin, that the version in force does not have.
    error NegotiationOfferNestedPartyChanged(uint64 agreementId, uint64 childAgreementId, uint32 childVersion);
    /// @notice Thrown when the terms accepted are not the latest offer.
    error NegotiationOfferMismatch(uint64 agreementId, bytes32 expected, bytes32 actual);
    /// @notice Thrown on any move in a negotiation whose agreement's active version changed since it opened.
    error NegotiationAgreementChanged(uint64 agreementId, uint32 baseVersion, uint32 activeVersion);
    /// @notice Thrown when expiring a negotiation that is still live.
    error NegotiationNotExpired(uint64 agreementId, uint64 deadline, uint64 moveDeadline);

    // ---------------------------------------------------------------- events

    /// @notice Emitted when a negotiation opens; the opening offer follows in {OfferMade}.
    event NegotiationOpened(
        uint64 indexed agreementId,
        uint32 indexed negotiationId,
        address indexed opener,
        address[] participants,
        uint32 roundLimit,
        uint64 deadline,
        uint32 moveTimeout,
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
    /// @notice Emitted when a participant withdraws its acceptance of the latest offer.
    event AcceptanceWithdrawn(uint64 indexed agreementId, uint32 indexed negotiationId, address indexed party);
    /// @notice Emitted when every participant accepted the latest offer and it became `version`.
    event NegotiationAgreed(uint64 indexed agreementId, uint32 indexed negotiationId, uint32 version, bytes32 termsHash);
    /// @notice Emitted when a participant ends the negotiation without agreement.
    event NegotiationBroken(uint64 indexed agreementId, uint32 indexed negotiationId, address indexed party, uint32 moves);
    /// @notice Emitted when an expired negotiation is closed.
    event NegotiationExpired(uint64 indexed agreementId, uint32 indexed negotiationId, uint32 moves);

    // ---------------------------------------------------------------- moves

    /// @notice Opens a negotiation on `agreementId` with the caller's opening offer.
    /// @param roundLimit Rounds allowed; a round is one turn of every participant.
    /// @param duration Seconds from now until the deadline (at most {MAX_DURATION}).
    /// @param moveTimeout Seconds a move may wait before anyone may expire the negotiation.
    /// @param initialOffer The opener's offer; it counts as the opener's acceptance.
    /// @param currentTerms The terms of the version in force (latest version of a proposed agreement,
    /// active version of an active one), checked against the stored hash.
    /// @param children The pinned terms of every nested agreement reachable from `currentTerms`.
    /// @dev An open negotiation that has expired is closed first (emitting {NegotiationExpired}).
    /// Emits a {NegotiationOpened} and an {OfferMade} event.
    function open(
        uint64 agreementId,
        uint32 roundLimit,
        uint32 duration,
        uint32 moveTimeout,
        Terms calldata initialOffer,
        Terms calldata currentTerms,
        NestedTerms[] calldata children
    ) external returns (uint32 negotiationId);

    /// @notice Makes a counter-offer on the caller's turn; it becomes the latest offer, accepted only by the caller.
    /// @dev Emits an {OfferMade} event.
    function offer(uint64 agreementId, Terms calldata terms) external;

    /// @notice Accepts the latest offer on the caller's turn; the last acceptance activates it.
    /// @dev Emits an {OfferAccepted} event, and on the last acceptance a {NegotiationAgreed} event.
    function accept(uint64 agreementId, Terms calldata terms) external;

    /// @notice Withdraws the caller's acceptance of the latest offer, at any time.
    /// @dev Emits an {AcceptanceWithdrawn} event.
    function withdrawAcceptance(uint64 agreementId) external;

    /// @notice Ends the negotiation without agreement; any participant, at any time.
    /// @dev Emits a {NegotiationBroken} event.
    function end(uint64 agreementId) external;

    /// @notice Closes an open negotiation that can no longer move; anyone may call it.
    /// @dev Emits a {NegotiationExpired} event.
    function expire(uint64 agreementId) external;

    // ---------------------------------------------------------------- views

    /// @notice The longest a negotiation may run.
    function MAX_DURATION() external view returns (uint32);

    /// @notice The shortest move timeout.
    function MIN_MOVE_TIMEOUT() external view returns (uint32);

    /// @notice The registry whose agreements this hub negotiates and activates.
    function registry() external view returns (IAgreementRegistry);

    /// @notice The agreement's current or last negotiation, with expiry applied lazily.
    function negotiation(uint64 agreementId) external view returns (NegotiationState memory);

    /// @notice The participants of the agreement's current or last negotiation, sorted by address.
    function participants(uint64 agreementId) external view returns (address[] memory);

    /// @notice The participant whose turn it is (zero if no negotiation is live).
    function nextMover(uint64 agreementId) external view returns (address);
}
