// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgreementRegistry} from "./interfaces/IAgreementRegistry.sol";
import {AgreementStatus, NestedTerms, Party, Terms} from "./interfaces/IConcordTypes.sol";
import {INegotiationHub, NegotiationState, NegotiationStatus} from "./interfaces/INegotiationHub.sol";
import {TermsLib} from "./libraries/TermsLib.sol";

/// @title NegotiationHub
/// @notice Stacked alternating-offers negotiations over an agreement's terms. See {INegotiationHub}.
/// @dev Deployed by the {AgreementRegistry} in its constructor: one trusted hub per registry, the
/// only caller allowed to activate negotiated terms. Participants (every account of the tree of the
/// version in force) and the nested parties of that version are stored once at open; per move only
/// counters, the latest offer's hash and the acceptance bitmap change.
contract NegotiationHub is INegotiationHub {
    // ---------------------------------------------------------------- constants

    /// @inheritdoc INegotiationHub
    uint32 public constant MAX_DURATION = 90 days;
    /// @inheritdoc INegotiationHub
    uint32 public constant MIN_MOVE_TIMEOUT = 5 minutes;
    /// @dev The acceptance bitmap has one bit per participant.
    uint256 private constant MAX_PARTICIPANTS = 256;

    // ---------------------------------------------------------------- storage

    struct Negotiation {
        NegotiationStatus status;
        uint16 participantCount;
        uint16 turn;
        uint32 negotiationId;
        uint32 moves;
        uint32 roundLimit;
        uint64 deadline;
        uint32 moveTimeout;
        uint64 lastMoveAt;
        uint32 baseVersion;
        address offerer;
        bytes32 offerHash;
        uint256 acceptedMask;
    }

    /// @notice The registry that deployed this hub and activates the terms it agrees.
    IAgreementRegistry public immutable REGISTRY;

    mapping(uint64 agreementId => Negotiation) private _negotiations;
    mapping(uint64 agreementId => address[] accounts) private _participants;
    /// @dev The nested parties of the version in force at open, as childId << 32 | childVersion, ascending.
    mapping(uint64 agreementId => uint96[] pins) private _baseNested;

    // ---------------------------------------------------------------- constructor

    constructor(IAgreementRegistry registry_) {
        REGISTRY = registry_;
    }

    // ---------------------------------------------------------------- moves

    /// @inheritdoc INegotiationHub
    function open(
        uint64 agreementId,
        uint32 roundLimit,
        uint32 duration,
        uint32 moveTimeout,
        Terms calldata initialOffer,
        Terms calldata currentTerms,
        NestedTerms[] calldata children
    ) external returns (uint32 negotiationId) {
        Negotiation storage n = _negotiations[agreementId];
        if (n.status == NegotiationStatus.Open) {
            if (_liveness(agreementId, n) == NegotiationStatus.Open) {
                revert NegotiationAlreadyOpen(agreementId, n.negotiationId);
            }
            n.status = NegotiationStatus.Expired;
            emit NegotiationExpired(agreementId, n.negotiationId, n.moves);
        }
        if (roundLimit == 0) revert NegotiationRoundLimitZero();
        if (duration == 0 || duration > MAX_DURATION) revert NegotiationDurationInvalid(duration, MAX_DURATION);
        if (moveTimeout < MIN_MOVE_TIMEOUT || moveTimeout > duration) {
            revert NegotiationMoveTimeoutInvalid(moveTimeout, MIN_MOVE_TIMEOUT, duration);
        }

        uint256 openerIndex = _fixParticipants(agreementId, n, currentTerms, children);
        bytes32 offerHash = _checkOffer(agreementId, initialOffer, n.participantCount);

        negotiationId = n.negotiationId + 1;
        uint64 deadline = uint64(block.timestamp + duration);
        n.status = NegotiationStatus.Open;
        n.negotiationId = negotiationId;
        n.moves = 1;
        n.roundLimit = roundLimit;
        n.deadline = deadline;
        n.moveTimeout = moveTimeout;
        n.lastMoveAt = uint64(block.timestamp);
        n.offerHash = offerHash;
        n.offerer = msg.sender;
        n.acceptedMask = uint256(1) << openerIndex;

        _emitOpened(agreementId, n);
        emit OfferMade(agreementId, negotiationId, msg.sender, 1, offerHash, initialOffer);
    }

    /// @inheritdoc INegotiationHub
    function offer(uint64 agreementId, Terms calldata terms) external {
        Negotiation storage n = _negotiations[agreementId];
        (uint256 index, uint32 move) = _takeTurn(agreementId, n);
        bytes32 offerHash = _checkOffer(agreementId, terms, n.participantCount);
        n.offerHash = offerHash;
        n.offerer = msg.sender;
        n.acceptedMask = uint256(1) << index;
        emit OfferMade(agreementId, n.negotiationId, msg.sender, move, offerHash, terms);
    }

    /// @inheritdoc INegotiationHub
    function accept(uint64 agreementId, Terms calldata terms) external {
        Negotiation storage n = _negotiations[agreementId];
        (uint256 index, uint32 move) = _takeTurn(agreementId, n);
        bytes32 offerHash = n.offerHash;
        bytes32 actual = TermsLib.hash(terms);
        if (actual != offerHash) revert NegotiationOfferMismatch(agreementId, offerHash, actual);
        uint256 mask = n.acceptedMask | (uint256(1) << index);
        n.acceptedMask = mask;
        uint32 negotiationId = n.negotiationId;
        emit OfferAccepted(agreementId, negotiationId, msg.sender, move, offerHash);

        if (mask != _fullMask(n.participantCount)) return;
        // Every participant, that is every account of the tree in force, accepted; the offer's tree
        // is within it (_checkOffer), and _takeTurn checked the agreement has not changed since open.
        n.status = NegotiationStatus.Agreed;
        uint32 version = REGISTRY.activateNegotiated(agreementId, terms, n.offerer);
        emit NegotiationAgreed(agreementId, negotiationId, version, offerHash);
    }

    /// @inheritdoc INegotiationHub
    function withdrawAcceptance(uint64 agreementId) external {
        Negotiation storage n = _negotiations[agreementId];
        _requireLive(agreementId, n);
        uint256 index = _indexOf(agreementId, msg.sender, n.participantCount);
        n.acceptedMask &= ~(uint256(1) << index);
        emit AcceptanceWithdrawn(agreementId, n.negotiationId, msg.sender);
    }

    /// @inheritdoc INegotiationHub
    function end(uint64 agreementId) external {
        Negotiation storage n = _negotiations[agreementId];
        _requireLive(agreementId, n);
        _indexOf(agreementId, msg.sender, n.participantCount); // reverts for a non-participant
        n.status = NegotiationStatus.Broken;
        emit NegotiationBroken(agreementId, n.negotiationId, msg.sender, n.moves);
    }

    /// @inheritdoc INegotiationHub
    function expire(uint64 agreementId) external {
        Negotiation storage n = _negotiations[agreementId];
        if (n.status != NegotiationStatus.Open) revert NegotiationNotOpen(agreementId, n.status);
        if (_liveness(agreementId, n) == NegotiationStatus.Open) {
            revert NegotiationNotExpired(agreementId, n.deadline, n.lastMoveAt + n.moveTimeout);
        }
        n.status = NegotiationStatus.Expired;
        emit NegotiationExpired(agreementId, n.negotiationId, n.moves);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc INegotiationHub
    function registry() external view returns (IAgreementRegistry) {
        return REGISTRY;
    }

    /// @inheritdoc INegotiationHub
    function negotiation(uint64 agreementId) external view returns (NegotiationState memory state) {
        Negotiation storage n = _negotiations[agreementId];
        state = NegotiationState({
            status: n.status == NegotiationStatus.Open ? _liveness(agreementId, n) : n.status,
            negotiationId: n.negotiationId,
            participantCount: n.participantCount,
            turn: n.turn,
            moves: n.moves,
            roundLimit: n.roundLimit,
            deadline: n.deadline,
            moveTimeout: n.moveTimeout,
            lastMoveAt: n.lastMoveAt,
            baseVersion: n.baseVersion,
            offerHash: n.offerHash,
            acceptedMask: n.acceptedMask
        });
    }

    /// @inheritdoc INegotiationHub
    function participants(uint64 agreementId) external view returns (address[] memory) {
        return _participants[agreementId];
    }

    /// @inheritdoc INegotiationHub
    function nextMover(uint64 agreementId) external view returns (address) {
        Negotiation storage n = _negotiations[agreementId];
        if (n.status != NegotiationStatus.Open || _liveness(agreementId, n) != NegotiationStatus.Open) {
            return address(0);
        }
        return _participants[agreementId][n.turn];
    }

    // ---------------------------------------------------------------- internal

    /// @dev Checks that the caller may move now and advances the turn; returns the caller's
    /// participant index and the number of this move.
    function _takeTurn(uint64 agreementId, Negotiation storage n) private returns (uint256 index, uint32 move) {
        _requireLive(agreementId, n);
        index = n.turn;
        address expected = _participants[agreementId][index];
        if (msg.sender != expected) {
            _indexOf(agreementId, msg.sender, n.participantCount); // reverts for a non-participant
            revert NegotiationNotYourTurn(agreementId, msg.sender, expected);
        }
        move = n.moves + 1;
        n.moves = move;
        n.lastMoveAt = uint64(block.timestamp);
        n.turn = uint16((index + 1) % n.participantCount);
    }

    /// @dev Reverts unless the negotiation is open and live, naming why.
    function _requireLive(uint64 agreementId, Negotiation storage n) private view {
        if (n.status != NegotiationStatus.Open) revert NegotiationNotOpen(agreementId, n.status);
        (AgreementStatus status,, uint32 activeVersion) = REGISTRY.agreement(agreementId);
        if (status == AgreementStatus.Terminated) revert NegotiationInvalidAgreementStatus(agreementId, status);
        if (activeVersion != n.baseVersion) revert NegotiationAgreementChanged(agreementId, n.baseVersion, activeVersion);
        if (_timedOut(n)) revert NegotiationExpiredAlready(agreementId, n.negotiationId);
    }

    /// @dev Open, or the status an open negotiation lazily has: expired past its deadline, round
    /// limit or move timeout, or when the agreement changed since open.
    function _liveness(uint64 agreementId, Negotiation storage n) private view returns (NegotiationStatus) {
        if (_timedOut(n)) return NegotiationStatus.Expired;
        (AgreementStatus status,, uint32 activeVersion) = REGISTRY.agreement(agreementId);
        if (activeVersion != n.baseVersion || status == AgreementStatus.Terminated) return NegotiationStatus.Expired;
        return NegotiationStatus.Open;
    }

    function _timedOut(Negotiation storage n) private view returns (bool) {
        return block.timestamp > n.deadline || block.timestamp > uint256(n.lastMoveAt) + n.moveTimeout
            || n.moves >= uint256(n.roundLimit) * n.participantCount;
    }

    function _emitOpened(uint64 agreementId, Negotiation storage n) private {
        emit NegotiationOpened(
            agreementId,
            n.negotiationId,
            msg.sender,
            _participants[agreementId],
            n.roundLimit,
            n.deadline,
            n.moveTimeout,
            n.baseVersion
        );
    }

    function _fullMask(uint256 count) private pure returns (uint256) {
        return count == MAX_PARTICIPANTS ? type(uint256).max : (uint256(1) << count) - 1;
    }

    /// @dev Checks `currentTerms` against the version in force, stores every account of its tree
    /// as the participants and its nested parties as the base; returns the opener's index.
    function _fixParticipants(
        uint64 agreementId,
        Negotiation storage n,
        Terms calldata currentTerms,
        NestedTerms[] calldata children
    ) private returns (uint256 openerIndex) {
        n.baseVersion = _checkInForce(agreementId, currentTerms);
        address[] memory accounts = REGISTRY.consenters(currentTerms, children);
        uint256 count = accounts.length;
        if (count < 2 || count > MAX_PARTICIPANTS) revert NegotiationParticipantCountInvalid(agreementId, count);
        _participants[agreementId] = accounts;
        _storeBaseNested(agreementId, currentTerms);
        openerIndex = _indexOf(agreementId, msg.sender, count);
        n.participantCount = uint16(count);
        n.turn = uint16((openerIndex + 1) % count);
    }

    /// @dev Checks `currentTerms` against the version in force; returns the active version (0 if proposed).
    function _checkInForce(uint64 agreementId, Terms calldata currentTerms) private view returns (uint32) {
        (AgreementStatus status, uint32 latestVersion, uint32 activeVersion) = REGISTRY.agreement(agreementId);
        uint32 inForce;
        if (status == AgreementStatus.Proposed) inForce = latestVersion;
        else if (status == AgreementStatus.Active) inForce = activeVersion;
        else revert NegotiationInvalidAgreementStatus(agreementId, status);
        bytes32 expected = REGISTRY.termsHash(agreementId, inForce);
        bytes32 actual = TermsLib.hash(currentTerms);
        if (actual != expected) {
            revert IAgreementRegistry.RegistryTermsMismatch(agreementId, inForce, expected, actual);
        }
        return activeVersion;
    }

    function _storeBaseNested(uint64 agreementId, Terms calldata terms) private {
        uint96[] storage base = _baseNested[agreementId];
        while (base.length != 0) base.pop();
        for (uint256 i; i < terms.parties.length; ++i) {
            Party calldata party = terms.parties[i];
            if (party.agreementId != 0) base.push(uint96((uint256(party.agreementId) << 32) | party.version));
        }
    }

    /// @dev The index of `account` among the participants (sorted: binary search); reverts if it is not one.
    function _indexOf(uint64 agreementId, address account, uint256 count) private view returns (uint256) {
        address[] storage list = _participants[agreementId];
        uint256 low;
        uint256 high = count;
        while (low < high) {
            uint256 mid = (low + high) >> 1;
            address candidate = list[mid];
            if (candidate == account) return mid;
            if (candidate < account) low = mid + 1;
            else high = mid;
        }
        revert NegotiationNotParticipant(agreementId, account);
    }

    /// @dev Validates an offer as a direct proposal and checks that its tree lies within the
    /// participants: account parties are participants, nested parties (with their pins) are nested
    /// parties of the version in force. All lists are sorted: merge walks.
    function _checkOffer(uint64 agreementId, Terms calldata terms, uint256 count) private view returns (bytes32) {
        TermsLib.validate(terms);
        address[] storage list = _participants[agreementId];
        uint96[] storage base = _baseNested[agreementId];
        uint256 partyCount = terms.parties.length;
        uint256 j;
        uint256 k;
        for (uint256 i; i < partyCount; ++i) {
            Party calldata party = terms.parties[i];
            if (party.account == address(0)) {
                uint96 pin = uint96((uint256(party.agreementId) << 32) | party.version);
                while (k < base.length && base[k] < pin) ++k;
                if (k == base.length || base[k] != pin) {
                    revert NegotiationOfferNestedPartyChanged(agreementId, party.agreementId, party.version);
                }
                // The registry activates only pins to the child's active version: refuse stale ones now.
                (AgreementStatus childStatus,, uint32 childActive) = REGISTRY.agreement(party.agreementId);
                if (childStatus != AgreementStatus.Active || childActive != party.version) {
                    revert IAgreementRegistry.RegistryNestedAgreementInvalid(party.agreementId, party.version);
                }
                ++k;
                continue;
            }
            while (j < count && list[j] < party.account) ++j;
            if (j == count || list[j] != party.account) {
                revert NegotiationOfferPartyNotParticipant(agreementId, party.account);
            }
            ++j;
        }
        return TermsLib.hash(terms);
    }
}
