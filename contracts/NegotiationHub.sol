// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgreementRegistry} from "./interfaces/IAgreementRegistry.sol";
import {AgreementStatus, Terms} from "./interfaces/IConcordTypes.sol";
import {INegotiationHub, NegotiationState, NegotiationStatus} from "./interfaces/INegotiationHub.sol";
import {TermsLib} from "./libraries/TermsLib.sol";

/// @title NegotiationHub
/// @notice Stacked alternating-offers negotiations over an agreement's terms. See {INegotiationHub}.
/// @dev Deployed by the {AgreementRegistry} in its constructor: one trusted hub per registry, the
/// only caller allowed to activate negotiated terms. Per negotiation only the latest offer's hash,
/// the turn, the move count, the deadline and the acceptance bitmap are stored; participants are
/// stored once at open so that turns can be checked without calldata.
contract NegotiationHub is INegotiationHub {
    // ---------------------------------------------------------------- storage

    /// @dev One slot of counters, the offer hash, the acceptance bitmap.
    struct Negotiation {
        NegotiationStatus status;
        uint8 participantCount;
        uint8 turn;
        uint32 negotiationId;
        uint32 moves;
        uint32 roundLimit;
        uint64 deadline;
        uint32 baseVersion;
        bytes32 offerHash;
        uint256 acceptedMask;
    }

    /// @notice The registry that deployed this hub and activates the terms it agrees.
    IAgreementRegistry public immutable REGISTRY;

    mapping(uint64 agreementId => Negotiation) private _negotiations;
    mapping(uint64 agreementId => address[] accounts) private _participants;

    // ---------------------------------------------------------------- constructor

    constructor(IAgreementRegistry registry_) {
        REGISTRY = registry_;
    }

    // ---------------------------------------------------------------- moves

    /// @inheritdoc INegotiationHub
    function open(
        uint64 agreementId,
        uint32 roundLimit,
        uint64 deadline,
        Terms calldata initialOffer,
        Terms calldata currentTerms
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
        if (deadline <= block.timestamp) revert NegotiationDeadlineInvalid(deadline, block.timestamp);

        uint256 openerIndex = _fixParticipants(agreementId, n, currentTerms);
        bytes32 offerHash = _checkOffer(agreementId, initialOffer, n.participantCount);

        negotiationId = n.negotiationId + 1;
        n.status = NegotiationStatus.Open;
        n.negotiationId = negotiationId;
        n.moves = 1;
        n.roundLimit = roundLimit;
        n.deadline = deadline;
        n.offerHash = offerHash;
        n.acceptedMask = uint256(1) << openerIndex;

        emit NegotiationOpened(
            agreementId, negotiationId, msg.sender, _participants[agreementId], roundLimit, deadline, n.baseVersion
        );
        emit OfferMade(agreementId, negotiationId, msg.sender, 1, offerHash, initialOffer);
    }

    /// @inheritdoc INegotiationHub
    function offer(uint64 agreementId, Terms calldata terms) external {
        Negotiation storage n = _negotiations[agreementId];
        (uint256 index, uint32 move) = _takeTurn(agreementId, n);
        bytes32 offerHash = _checkOffer(agreementId, terms, n.participantCount);
        n.offerHash = offerHash;
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

        if (mask != (uint256(1) << n.participantCount) - 1) return;
        // Every participant accepted: the participants are a superset of the account parties of
        // both the offer and the version in force (_takeTurn checked that the agreement has not
        // changed since open).
        n.status = NegotiationStatus.Agreed;
        uint32 version = REGISTRY.activateNegotiated(agreementId, terms);
        emit NegotiationAgreed(agreementId, negotiationId, version, offerHash);
    }

    /// @inheritdoc INegotiationHub
    function end(uint64 agreementId) external {
        Negotiation storage n = _negotiations[agreementId];
        (, uint32 move) = _takeTurn(agreementId, n);
        n.status = NegotiationStatus.Broken;
        emit NegotiationBroken(agreementId, n.negotiationId, msg.sender, move);
    }

    /// @inheritdoc INegotiationHub
    function expire(uint64 agreementId) external {
        Negotiation storage n = _negotiations[agreementId];
        if (n.status != NegotiationStatus.Open) revert NegotiationNotOpen(agreementId, n.status);
        if (_liveness(agreementId, n) == NegotiationStatus.Open) {
            revert NegotiationNotExpired(agreementId, n.deadline, n.moves);
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
        if (n.status != NegotiationStatus.Open) revert NegotiationNotOpen(agreementId, n.status);
        if (block.timestamp > n.deadline) revert NegotiationDeadlinePassed(agreementId, n.deadline, block.timestamp);
        uint32 moves = n.moves;
        uint256 count = n.participantCount;
        if (moves >= uint256(n.roundLimit) * count) revert NegotiationRoundLimitReached(agreementId, n.roundLimit, moves);
        // A negotiation whose agreement was terminated or amended since open is dead: no move may
        // be made on it (the views already report it Expired).
        (AgreementStatus status, , uint32 activeVersion) = REGISTRY.agreement(agreementId);
        if (status == AgreementStatus.Terminated) revert NegotiationInvalidAgreementStatus(agreementId, status);
        if (activeVersion != n.baseVersion) revert NegotiationAgreementChanged(agreementId, n.baseVersion, activeVersion);
        index = n.turn;
        address expected = _participants[agreementId][index];
        if (msg.sender != expected) {
            _indexOf(agreementId, msg.sender, count); // reverts for a non-participant
            revert NegotiationNotYourTurn(agreementId, msg.sender, expected);
        }
        move = moves + 1;
        n.moves = move;
        n.turn = uint8((index + 1) % count);
    }

    /// @dev Open, or the status an open negotiation lazily has: expired past its deadline or round
    /// limit, or when the agreement's active version moved since open.
    function _liveness(uint64 agreementId, Negotiation storage n) private view returns (NegotiationStatus) {
        if (block.timestamp > n.deadline || n.moves >= uint256(n.roundLimit) * n.participantCount) {
            return NegotiationStatus.Expired;
        }
        (AgreementStatus status, , uint32 activeVersion) = REGISTRY.agreement(agreementId);
        if (activeVersion != n.baseVersion || status == AgreementStatus.Terminated) return NegotiationStatus.Expired;
        return NegotiationStatus.Open;
    }

    /// @dev Checks `currentTerms` against the version in force, stores its account parties as the
    /// participants, records their number, the base version (the active version, 0 for a proposed
    /// agreement) and the first turn (after the opener's); returns the opener's index.
    function _fixParticipants(uint64 agreementId, Negotiation storage n, Terms calldata currentTerms)
        private
        returns (uint256 openerIndex)
    {
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
        uint256 count = _storeParticipants(agreementId, currentTerms);
        if (count < 2) revert NegotiationTooFewParticipants(agreementId, count);
        openerIndex = _indexOf(agreementId, msg.sender, count);
        n.participantCount = uint8(count); // count <= 255 parties (TermsLib.MAX_PARTIES)
        n.turn = uint8((openerIndex + 1) % count);
        n.baseVersion = activeVersion;
    }

    /// @dev Stores the account parties of `terms` (already sorted by address: TermsLib's order,
    /// accounts before nested agreements) as the participants; returns their number.
    function _storeParticipants(uint64 agreementId, Terms calldata terms) private returns (uint256 count) {
        address[] storage list = _participants[agreementId];
        uint256 previousLength = list.length;
        uint256 partyCount = terms.parties.length;
        for (; count < partyCount; ++count) {
            address account = terms.parties[count].account;
            if (account == address(0)) break;
            if (count < previousLength) list[count] = account;
            else list.push(account);
        }
        for (uint256 i = previousLength; i > count; --i) {
            list.pop();
        }
    }

    /// @dev The index of `account` among the participants; reverts if it is not one.
    function _indexOf(uint64 agreementId, address account, uint256 count) private view returns (uint256) {
        address[] storage list = _participants[agreementId];
        for (uint256 i; i < count; ++i) {
            if (list[i] == account) return i;
        }
        revert NegotiationNotParticipant(agreementId, account);
    }

    /// @dev Validates an offer as a direct proposal (TermsLib, then the cheap nested-agreement
    /// checks; the registry repeats them with the depth limit at activation) and checks that its
    /// account parties are participants. Both lists are sorted by address: one merge walk.
    function _checkOffer(uint64 agreementId, Terms calldata terms, uint256 count) private view returns (bytes32) {
        TermsLib.validate(terms);
        address[] storage list = _participants[agreementId];
        uint256 partyCount = terms.parties.length;
        uint256 j;
        for (uint256 i; i < partyCount; ++i) {
            address account = terms.parties[i].account;
            if (account == address(0)) {
                uint64 childId = terms.parties[i].agreementId;
                (AgreementStatus childStatus, , ) = REGISTRY.agreement(childId);
                if (childId >= agreementId || childStatus != AgreementStatus.Active) {
                    revert IAgreementRegistry.RegistryNestedAgreementInvalid(childId);
                }
                continue;
            }
            while (j < count && list[j] < account) ++j;
            if (j == count || list[j] != account) revert NegotiationOfferPartyNotParticipant(agreementId, account);
            ++j;
        }
        return TermsLib.hash(terms);
    }
}
