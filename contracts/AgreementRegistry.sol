// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IAgreementRegistry} from "./interfaces/IAgreementRegistry.sol";
import {
    AgreementStatus,
    ConsentSignature,
    ReferrerPolicy,
    SettlementConfig,
    Terms
} from "./interfaces/IConcordTypes.sol";
import {TermsLib} from "./libraries/TermsLib.sol";
import {NegotiationHub} from "./NegotiationHub.sol";

/// @title AgreementRegistry
/// @notice Agreements, their versions of terms, and multi-party consent. See {IAgreementRegistry}.
/// @dev Invariants:
/// - `activeVersion` only ever increases, and only to a version every required party consented to.
/// - a nested agreement party has a lower id than its parent, so nesting can never form a cycle;
///   the nesting depth of an agreement that is itself nested never grows past what its parents checked.
contract AgreementRegistry is IAgreementRegistry, EIP712 {
    // ---------------------------------------------------------------- constants

    /// @notice An agreement may nest other agreements at most this many levels deep.
    uint8 public constant MAX_NESTING_DEPTH = 4;

    /// @notice EIP-712 type hash of a consent to one version's terms (the terms are a nested struct).
    bytes32 public constant CONSENT_TYPEHASH = keccak256(
        "Consent(uint256 agreementId,uint32 version,Terms terms,uint256 nonce,uint256 deadline)"
        "Party(address account,uint64 agreementId,uint16 shareBps)"
        "Terms(Party[] parties,uint16 referralFeeBps,uint8 referrerPolicy,address[] referrers,uint16 reserveBps,"
        "uint32 disputeWindow,address refundAuthority,uint8 dustPartyIndex,bytes32 documentHash)"
    );

    /// @notice EIP-712 type hash of a consent to terminating an agreement's current version.
    bytes32 public constant TERMINATION_TYPEHASH =
        keccak256("Termination(uint256 agreementId,uint32 version,uint256 nonce,uint256 deadline)");

    /// @dev Namespace of the transient consent marks of one transaction.
    bytes32 private constant CONSENT_MARK_NAMESPACE = keccak256("concord.registry.consent-mark");

    uint256 private constant MARK_SIGNED = 1;
    uint256 private constant MARK_COUNTED = 2;

    // ---------------------------------------------------------------- storage

    /// @notice The negotiation hub deployed with this registry, the only caller of {activateNegotiated}.
    NegotiationHub public immutable NEGOTIATION;

    /// @dev Everything a settlement reads, packed in one slot.
    struct AgreementState {
        AgreementStatus status;
        uint32 latestVersion;
        uint32 activeVersion;
        uint8 depth;
        bool nested;
        uint16 referralFeeBps;
        uint16 reserveBps;
        uint32 disputeWindow;
        ReferrerPolicy referrerPolicy;
        uint16 unit;
    }

    struct VersionPayout {
        address refundAuthority;
        uint16 unit;
    }

    uint64 private _agreementCount;
    mapping(uint64 agreementId => AgreementState) private _agreements;
    mapping(uint64 agreementId => mapping(uint32 version => bytes32 termsHash)) private _termsHashes;
    mapping(uint64 agreementId => mapping(uint32 version => VersionPayout)) private _payouts;
    mapping(uint64 agreementId => mapping(uint32 version => mapping(address referrer => bool))) private
        _allowedReferrers;
    mapping(uint64 agreementId => mapping(uint32 version => mapping(address party => bool))) private _approvals;
    mapping(uint64 agreementId => mapping(uint32 version => mapping(address party => bool))) private
        _terminationApprovals;
    mapping(address owner => mapping(uint256 word => uint256 bitmap)) private _nonceBitmaps;

    // ---------------------------------------------------------------- constructor

    constructor() EIP712("Concord", "1") {
        NEGOTIATION = new NegotiationHub(IAgreementRegistry(address(this)));
    }

    // ---------------------------------------------------------------- agreements

    /// @inheritdoc IAgreementRegistry
    function propose(Terms calldata terms) external returns (uint64 agreementId) {
        agreementId = ++_agreementCount;
        TermsLib.validate(terms);
        _checkNested(agreementId, terms, false);
        bytes32 hash_ = TermsLib.hash(terms);
        _agreements[agreementId].status = AgreementStatus.Proposed;
        _agreements[agreementId].latestVersion = 1;
        _termsHashes[agreementId][1] = hash_;
        emit AgreementProposed(agreementId, msg.sender);
        emit VersionProposed(agreementId, 1, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function proposeAmendment(uint64 agreementId, Terms calldata terms) external returns (uint32 version) {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Active) revert RegistryInvalidStatus(agreementId, state.status);
        TermsLib.validate(terms);
        _checkNested(agreementId, terms, false);
        bytes32 hash_ = TermsLib.hash(terms);
        version = ++state.latestVersion;
        _termsHashes[agreementId][version] = hash_;
        emit VersionProposed(agreementId, version, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function approve(uint64 agreementId, uint32 version) external {
        AgreementState storage state = _existing(agreementId);
        if (version == 0 || version > state.latestVersion) revert RegistryUnknownVersion(agreementId, version);
        if (version <= state.activeVersion) {
            revert RegistryVersionSuperseded(agreementId, version, state.activeVersion);
        }
        if (state.status == AgreementStatus.Terminated) revert RegistryInvalidStatus(agreementId, state.status);
        _approvals[agreementId][version][msg.sender] = true;
        emit VersionApproved(agreementId, version, msg.sender);
    }

    /// @inheritdoc IAgreementRegistry
    function activate(uint64 agreementId, uint32 version, Terms calldata terms, ConsentSignature[] calldata signatures)
        external
    {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Proposed) revert RegistryInvalidStatus(agreementId, state.status);
        bytes32 hash_ = _checkTerms(agreementId, version, terms);
        _verifySignatures(agreementId, version, hash_, false, signatures);
        _requireConsent(agreementId, version, terms, false);
        _releaseSignatureMarks(agreementId, version, false, signatures);
        _activate(state, agreementId, version, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function activateAmendment(
        uint64 agreementId,
        uint32 version,
        Terms calldata terms,
        Terms calldata currentTerms,
        ConsentSignature[] calldata signatures
    ) external {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Active) revert RegistryInvalidStatus(agreementId, state.status);
        if (version <= state.activeVersion) revert RegistryVersionSuperseded(agreementId, version, state.activeVersion);
        bytes32 hash_ = _checkTerms(agreementId, version, terms);
        _checkTerms(agreementId, state.activeVersion, currentTerms);
        _verifySignatures(agreementId, version, hash_, false, signatures);
        _requireConsent(agreementId, version, terms, false);
        _requireConsent(agreementId, version, currentTerms, false);
        _releaseSignatureMarks(agreementId, version, false, signatures);
        _activate(state, agreementId, version, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function activateNegotiated(uint64 agreementId, Terms calldata terms) external returns (uint32 version) {
        if (msg.sender != address(NEGOTIATION)) revert RegistryUnauthorized(msg.sender);
        AgreementState storage state = _existing(agreementId);
        if (state.status == AgreementStatus.Terminated) revert RegistryInvalidStatus(agreementId, state.status);
        // _activate validates the terms (TermsLib) and the nested agreements before any state change.
        bytes32 hash_ = TermsLib.hash(terms);
        version = ++state.latestVersion;
        _termsHashes[agreementId][version] = hash_;
        emit VersionProposed(agreementId, version, hash_, terms);
        _activate(state, agreementId, version, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function approveTermination(uint64 agreementId) external {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Active) revert RegistryInvalidStatus(agreementId, state.status);
        _terminationApprovals[agreementId][state.activeVersion][msg.sender] = true;
        emit TerminationApproved(agreementId, state.activeVersion, msg.sender);
    }

    /// @inheritdoc IAgreementRegistry
    function terminate(uint64 agreementId, Terms calldata currentTerms, ConsentSignature[] calldata signatures)
        external
    {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Active) revert RegistryInvalidStatus(agreementId, state.status);
        uint32 version = state.activeVersion;
        _checkTerms(agreementId, version, currentTerms);
        _verifySignatures(agreementId, version, bytes32(0), true, signatures);
        _requireConsent(agreementId, version, currentTerms, true);
        _releaseSignatureMarks(agreementId, version, true, signatures);
        state.status = AgreementStatus.Terminated;
        emit AgreementTerminated(agreementId, version);
    }

    /// @inheritdoc IAgreementRegistry
    function cancelNonce(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
        emit NonceCancelled(msg.sender, nonce);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAgreementRegistry
    function agreement(uint64 agreementId)
        external
        view
        returns (AgreementStatus status, uint32 latestVersion, uint32 activeVersion)
    {
        AgreementState storage state = _agreements[agreementId];
        return (state.status, state.latestVersion, state.activeVersion);
    }

    /// @inheritdoc IAgreementRegistry
    function termsHash(uint64 agreementId, uint32 version) external view returns (bytes32) {
        return _termsHashes[agreementId][version];
    }

    /// @inheritdoc IAgreementRegistry
    function settlementConfig(uint64 agreementId) external view returns (SettlementConfig memory config) {
        AgreementState storage state = _agreements[agreementId];
        config = SettlementConfig({
            status: state.status,
            version: state.activeVersion,
            referralFeeBps: state.referralFeeBps,
            reserveBps: state.reserveBps,
            disputeWindow: state.disputeWindow,
            referrerPolicy: state.referrerPolicy,
            unit: state.unit
        });
    }

    /// @inheritdoc IAgreementRegistry
    function versionPayout(uint64 agreementId, uint32 version)
        external
        view
        returns (address refundAuthority, uint16 unit)
    {
        VersionPayout storage payout = _payouts[agreementId][version];
        return (payout.refundAuthority, payout.unit);
    }

    /// @inheritdoc IAgreementRegistry
    function isReferrerAllowed(uint64 agreementId, uint32 version, address referrer) external view returns (bool) {
        return _allowedReferrers[agreementId][version][referrer];
    }

    /// @inheritdoc IAgreementRegistry
    function hasApproved(uint64 agreementId, uint32 version, address party) external view returns (bool) {
        return _approvals[agreementId][version][party];
    }

    /// @notice Whether `party` approved terminating `version` on chain.
    function hasApprovedTermination(uint64 agreementId, uint32 version, address party) external view returns (bool) {
        return _terminationApprovals[agreementId][version][party];
    }

    /// @notice The nesting depth of an agreement's active version (0: no nested agreements).
    function nestingDepth(uint64 agreementId) external view returns (uint8) {
        return _agreements[agreementId].depth;
    }

    /// @inheritdoc IAgreementRegistry
    function isNonceUsed(address owner, uint256 nonce) public view returns (bool) {
        return _nonceBitmaps[owner][nonce >> 8] & (uint256(1) << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IAgreementRegistry
    function negotiationHub() external view returns (address) {
        return address(NEGOTIATION);
    }

    /// @inheritdoc IAgreementRegistry
    function agreementCount() external view returns (uint64) {
        return _agreementCount;
    }

    /// @inheritdoc IAgreementRegistry
    function hashTerms(Terms calldata terms) external pure returns (bytes32) {
        return TermsLib.hash(terms);
    }

    /// @inheritdoc IAgreementRegistry
    function consentDigest(uint64 agreementId, uint32 version, bytes32 termsHash_, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CONSENT_TYPEHASH, agreementId, version, termsHash_, nonce, deadline)));
    }

    /// @inheritdoc IAgreementRegistry
    function terminationDigest(uint64 agreementId, uint32 version, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(TERMINATION_TYPEHASH, agreementId, version, nonce, deadline)));
    }

    /// @notice The EIP-712 domain separator of this deployment.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internal

    function _existing(uint64 agreementId) private view returns (AgreementState storage state) {
        state = _agreements[agreementId];
        if (state.status == AgreementStatus.None) revert RegistryUnknownAgreement(agreementId);
    }

    /// @dev Checks that `version` exists and that `terms` are exactly its stored terms.
    function _checkTerms(uint64 agreementId, uint32 version, Terms calldata terms) private view returns (bytes32 hash_) {
        bytes32 expected = _termsHashes[agreementId][version];
        if (expected == bytes32(0)) revert RegistryUnknownVersion(agreementId, version);
        hash_ = TermsLib.hash(terms);
        if (hash_ != expected) revert RegistryTermsMismatch(agreementId, version, expected, hash_);
    }

    /// @dev Nested agreements must exist, be active, have a lower id than `agreementId` (no
    /// cycles) and keep the nesting depth within {MAX_NESTING_DEPTH}.
    function _checkNested(uint64 agreementId, Terms calldata terms, bool markNested) private returns (uint8 depth) {
        uint256 count = terms.parties.length;
        // Parties are sorted with nested agreements last: walk back from the end.
        for (uint256 i = count; i != 0; --i) {
            uint64 childId = terms.parties[i - 1].agreementId;
            if (childId == 0) break;
            AgreementState storage child = _agreements[childId];
            if (childId >= agreementId || child.status != AgreementStatus.Active || child.depth >= MAX_NESTING_DEPTH)
            {
                revert RegistryNestedAgreementInvalid(childId);
            }
            if (child.depth + 1 > depth) depth = child.depth + 1;
            if (markNested && !child.nested) child.nested = true;
        }
    }

    /// @dev Verifies each signature, consumes its nonce and marks its signer in transient storage.
    function _verifySignatures(
        uint64 agreementId,
        uint32 version,
        bytes32 hash_,
        bool termination,
        ConsentSignature[] calldata signatures
    ) private {
        address previous;
        for (uint256 i; i < signatures.length; ++i) {
            ConsentSignature calldata sig = signatures[i];
            if (i != 0 && sig.signer == previous) revert RegistryDuplicateSigner(sig.signer);
            if (sig.signer < previous) revert RegistrySignersNotSorted(sig.signer);
            previous = sig.signer;
            if (block.timestamp > sig.deadline) revert RegistrySignatureExpired(sig.signer, sig.deadline);
            bytes32 digest = termination
                ? terminationDigest(agreementId, version, sig.nonce, sig.deadline)
                : consentDigest(agreementId, version, hash_, sig.nonce, sig.deadline);
            if (!SignatureChecker.isValidSignatureNow(sig.signer, digest, sig.signature)) {
                revert RegistryInvalidSignature(sig.signer);
            }
            _useNonce(sig.signer, sig.nonce);
            _tstore(_markSlot(agreementId, version, termination, sig.signer), MARK_SIGNED);
            if (termination) emit TerminationSigned(agreementId, version, sig.signer, sig.nonce);
            else emit ConsentSigned(agreementId, version, sig.signer, sig.nonce);
        }
    }

    /// @dev Every account party of `terms` consented: by a signature verified in this call or on chain.
    function _requireConsent(uint64 agreementId, uint32 version, Terms calldata terms, bool termination) private {
        uint256 count = terms.parties.length;
        for (uint256 i; i < count; ++i) {
            address party = terms.parties[i].account;
            // Nested agreements hold no key; their members consented to their own terms, and a
            // parent can only ever send them value.
            if (party == address(0)) break;
            bytes32 slot = _markSlot(agreementId, version, termination, party);
            if (_tload(slot) != 0) {
                _tstore(slot, MARK_COUNTED);
            } else {
                bool approved = termination
                    ? _terminationApprovals[agreementId][version][party]
                    : _approvals[agreementId][version][party];
                if (!approved) revert RegistryMissingConsent(party);
            }
        }
    }

    /// @dev Every signer must have been a required party; clears the transient marks.
    function _releaseSignatureMarks(
        uint64 agreementId,
        uint32 version,
        bool termination,
        ConsentSignature[] calldata signatures
    ) private {
        for (uint256 i; i < signatures.length; ++i) {
            bytes32 slot = _markSlot(agreementId, version, termination, signatures[i].signer);
            if (_tload(slot) != MARK_COUNTED) revert RegistrySignerNotParty(signatures[i].signer);
            _tstore(slot, 0);
        }
    }

    function _activate(
        AgreementState storage state,
        uint64 agreementId,
        uint32 version,
        bytes32 hash_,
        Terms calldata terms
    ) private {
        if (version <= state.activeVersion) revert RegistryVersionSuperseded(agreementId, version, state.activeVersion);
        uint16 unit = TermsLib.validate(terms);
        uint8 depth = _checkNested(agreementId, terms, true);
        if (state.nested && depth > state.depth) revert RegistryNestedAgreementInvalid(agreementId);

        state.status = AgreementStatus.Active;
        state.activeVersion = version;
        state.depth = depth;
        state.referralFeeBps = terms.referralFeeBps;
        state.reserveBps = terms.reserveBps;
        state.disputeWindow = terms.disputeWindow;
        state.referrerPolicy = terms.referrerPolicy;
        state.unit = unit;
        _payouts[agreementId][version] = VersionPayout({refundAuthority: terms.refundAuthority, unit: unit});
        if (terms.referrerPolicy == ReferrerPolicy.Allowlist) {
            mapping(address => bool) storage allowed = _allowedReferrers[agreementId][version];
            for (uint256 i; i < terms.referrers.length; ++i) {
                allowed[terms.referrers[i]] = true;
            }
        }
        emit VersionActivated(agreementId, version, hash_, unit);
    }

    function _useNonce(address owner, uint256 nonce) private {
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 bitmap = _nonceBitmaps[owner][nonce >> 8];
        if (bitmap & bit != 0) revert RegistryNonceUsed(owner, nonce);
        _nonceBitmaps[owner][nonce >> 8] = bitmap | bit;
    }

    function _markSlot(uint64 agreementId, uint32 version, bool termination, address party)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(CONSENT_MARK_NAMESPACE, agreementId, version, termination, party));
    }

    function _tstore(bytes32 slot, uint256 value) private {
        assembly ("memory-safe") {
            tstore(slot, value)
        }
    }

    function _tload(bytes32 slot) private view returns (uint256 value) {
        assembly ("memory-safe") {
            value := tload(slot)
        }
    }
}
