// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IAgreementRegistry} from "./interfaces/IAgreementRegistry.sol";
import {
    AgreementStatus,
    ConsentSignature,
    NestedTerms,
    Party,
    SettlementTerms,
    Terms,
    VersionPayout,
    VersionRef
} from "./interfaces/IConcordTypes.sol";
import {PartyTree} from "./libraries/PartyTree.sol";
import {TermsLib} from "./libraries/TermsLib.sol";
import {NegotiationHub} from "./NegotiationHub.sol";

/// @title AgreementRegistry
/// @notice Agreements, their versions of terms, and multi-party consent through nesting. See {IAgreementRegistry}.
/// @dev Invariants:
/// - `activeVersion` only ever increases, and only to a version that every account of its tree
///   (and, for an amendment, of the tree of the version it replaces) consented to;
/// - a nested party has a lower id than its parent and is pinned to an activated version of the
///   child, so trees are acyclic, at most {MAX_NESTING_DEPTH} deep, fixed once proposed, and
///   every tree reaches at least one account (a depth-0 version holds only accounts);
/// - `VersionPayout.activePins` counts the active versions of other agreements that pin a version.
contract AgreementRegistry is IAgreementRegistry, EIP712 {
    // ---------------------------------------------------------------- constants

    /// @notice An agreement may nest other agreements at most this many levels deep.
    uint8 public constant MAX_NESTING_DEPTH = 4;

    /// @notice EIP-712 type hash of a consent to one version's terms (the terms are a nested struct).
    bytes32 public constant CONSENT_TYPEHASH = keccak256(
        "Consent(uint256 agreementId,uint32 version,Terms terms,address signer,uint256 nonce,uint256 deadline)"
        "Party(address account,uint64 agreementId,uint32 version,uint16 shareBps)"
        "Terms(Party[] parties,uint16 referralFeeBps,address[] referrers,uint16 reserveBps,uint32 disputeWindow,"
        "address refundAuthority,address orderSigner,uint8 dustPartyIndex,bytes32 documentHash)"
    );

    /// @notice EIP-712 type hash of a consent to terminating an agreement at its active version.
    bytes32 public constant TERMINATION_TYPEHASH = keccak256(
        "Termination(uint256 agreementId,uint32 version,address signer,uint256 nonce,uint256 deadline)"
    );

    /// @dev Namespace of the transient consent marks of one transaction.
    bytes32 private constant CONSENT_MARK_NAMESPACE = keccak256("concord.registry.consent-mark");

    uint256 private constant MARK_SIGNED = 1;
    uint256 private constant MARK_COUNTED = 2;

    // ---------------------------------------------------------------- storage

    /// @notice The negotiation hub deployed with this registry, the only caller of {activateNegotiated}.
    NegotiationHub public immutable NEGOTIATION;

    struct AgreementState {
        AgreementStatus status;
        uint32 latestVersion;
        uint32 activeVersion;
        address proposer;
    }

    uint64 private _agreementCount;
    mapping(uint64 agreementId => AgreementState) private _agreements;
    mapping(uint64 agreementId => SettlementTerms) private _settlement;
    mapping(uint64 agreementId => mapping(uint32 version => bytes32 termsHash)) private _termsHashes;
    mapping(uint64 agreementId => mapping(uint32 version => VersionPayout)) private _payouts;
    /// @dev The nested parties of an activated version, as childId << 32 | childVersion.
    mapping(uint64 agreementId => mapping(uint32 version => uint96[] pins)) private _pins;
    /// @dev The activated versions that pin a version, as parentId << 32 | parentVersion.
    mapping(uint64 agreementId => mapping(uint32 version => uint96[] parents)) private _pinnedBy;
    mapping(uint64 agreementId => mapping(uint32 version => mapping(address referrer => bool))) private
        _allowedReferrers;
    mapping(uint64 agreementId => mapping(uint32 version => mapping(address party => uint64 expiry))) private
        _approvals;
    mapping(uint64 agreementId => mapping(uint32 version => mapping(address party => uint64 expiry))) private
        _terminationApprovals;
    mapping(address owner => mapping(uint256 word => uint256 bitmap)) private _nonceBitmaps;
    /// @dev PartyTree.listHash of an activated version's parties: what `distribute` checks.
    mapping(uint64 agreementId => mapping(uint32 version => bytes32 listHash)) private _partiesListHashes;

    // ---------------------------------------------------------------- constructor

    constructor() EIP712("Concord", "2") {
        NEGOTIATION = new NegotiationHub(IAgreementRegistry(address(this)));
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IAgreementRegistry
    function propose(Terms calldata terms) external returns (uint64 agreementId) {
        agreementId = ++_agreementCount;
        TermsLib.validate(terms);
        _checkNested(agreementId, terms);
        bytes32 hash_ = TermsLib.hash(terms);
        AgreementState storage state = _agreements[agreementId];
        state.status = AgreementStatus.Proposed;
        state.latestVersion = 1;
        state.proposer = msg.sender;
        _termsHashes[agreementId][1] = hash_;
        emit AgreementProposed(agreementId, msg.sender);
        emit VersionProposed(agreementId, 1, msg.sender, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function proposeAmendment(
        uint64 agreementId,
        Terms calldata terms,
        Terms calldata currentTerms,
        NestedTerms[] calldata children
    ) external returns (uint32 version) {
        AgreementState storage state = _existing(agreementId);
        if (state.status == AgreementStatus.Active) {
            _checkTerms(agreementId, state.activeVersion, currentTerms);
            _checkChildren(children);
            if (!_isConsenter(msg.sender, currentTerms, children, 0)) revert RegistryUnauthorized(msg.sender);
        } else if (state.status == AgreementStatus.Proposed) {
            if (msg.sender != state.proposer) revert RegistryUnauthorized(msg.sender);
        } else {
            revert RegistryInvalidStatus(agreementId, state.status);
        }
        TermsLib.validate(terms);
        _checkNested(agreementId, terms);
        bytes32 hash_ = TermsLib.hash(terms);
        version = ++state.latestVersion;
        _termsHashes[agreementId][version] = hash_;
        emit VersionProposed(agreementId, version, msg.sender, hash_, terms);
    }

    // ---------------------------------------------------------------- consent

    /// @inheritdoc IAgreementRegistry
    function approve(uint64 agreementId, uint32 version, uint64 expiry) external {
        AgreementState storage state = _existing(agreementId);
        if (state.status == AgreementStatus.Terminated) revert RegistryInvalidStatus(agreementId, state.status);
        if (version == 0 || version > state.latestVersion) revert RegistryUnknownVersion(agreementId, version);
        if (version <= state.activeVersion) {
            revert RegistryVersionSuperseded(agreementId, version, state.activeVersion);
        }
        if (expiry <= block.timestamp) revert RegistryApprovalExpiryInvalid(expiry, block.timestamp);
        _approvals[agreementId][version][msg.sender] = expiry;
        emit VersionApproved(agreementId, version, msg.sender, expiry);
    }

    /// @inheritdoc IAgreementRegistry
    function revokeApproval(uint64 agreementId, uint32 version) external {
        delete _approvals[agreementId][version][msg.sender];
        emit ApprovalRevoked(agreementId, version, msg.sender);
    }

    /// @inheritdoc IAgreementRegistry
    function approveTermination(uint64 agreementId, uint32 version, uint64 expiry) external {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Active) revert RegistryInvalidStatus(agreementId, state.status);
        if (version != state.activeVersion) revert RegistryUnknownVersion(agreementId, version);
        if (expiry <= block.timestamp) revert RegistryApprovalExpiryInvalid(expiry, block.timestamp);
        _terminationApprovals[agreementId][version][msg.sender] = expiry;
        emit TerminationApproved(agreementId, version, msg.sender, expiry);
    }

    /// @inheritdoc IAgreementRegistry
    function revokeTerminationApproval(uint64 agreementId, uint32 version) external {
        delete _terminationApprovals[agreementId][version][msg.sender];
        emit TerminationApprovalRevoked(agreementId, version, msg.sender);
    }

    /// @inheritdoc IAgreementRegistry
    function activate(
        uint64 agreementId,
        uint32 version,
        Terms calldata terms,
        NestedTerms[] calldata children,
        ConsentSignature[] calldata signatures
    ) external {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Proposed) revert RegistryInvalidStatus(agreementId, state.status);
        bytes32 hash_ = _checkTerms(agreementId, version, terms);
        _checkChildren(children);
        _verifySignatures(agreementId, version, hash_, false, signatures);
        _requireTree(agreementId, version, false, terms, children, 0);
        _releaseSignatureMarks(agreementId, version, false, signatures);
        _activate(state, agreementId, version, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function activateAmendment(
        uint64 agreementId,
        uint32 version,
        Terms calldata terms,
        Terms calldata currentTerms,
        NestedTerms[] calldata children,
        ConsentSignature[] calldata signatures
    ) external {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Active) revert RegistryInvalidStatus(agreementId, state.status);
        if (version <= state.activeVersion) revert RegistryVersionSuperseded(agreementId, version, state.activeVersion);
        bytes32 hash_ = _checkTerms(agreementId, version, terms);
        _checkTerms(agreementId, state.activeVersion, currentTerms);
        _checkChildren(children);
        _verifySignatures(agreementId, version, hash_, false, signatures);
        _requireTree(agreementId, version, false, terms, children, 0);
        _requireTree(agreementId, version, false, currentTerms, children, 0);
        _releaseSignatureMarks(agreementId, version, false, signatures);
        _activate(state, agreementId, version, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function activateNegotiated(uint64 agreementId, Terms calldata terms, address offerer)
        external
        returns (uint32 version)
    {
        if (msg.sender != address(NEGOTIATION)) revert RegistryUnauthorized(msg.sender);
        AgreementState storage state = _existing(agreementId);
        if (state.status == AgreementStatus.Terminated) revert RegistryInvalidStatus(agreementId, state.status);
        // _activate validates the terms and their nested parties before any state it reads changes.
        bytes32 hash_ = TermsLib.hash(terms);
        version = ++state.latestVersion;
        _termsHashes[agreementId][version] = hash_;
        emit VersionProposed(agreementId, version, offerer, hash_, terms);
        _activate(state, agreementId, version, hash_, terms);
    }

    /// @inheritdoc IAgreementRegistry
    function terminate(
        uint64 agreementId,
        Terms calldata currentTerms,
        NestedTerms[] calldata children,
        ConsentSignature[] calldata signatures
    ) external {
        AgreementState storage state = _existing(agreementId);
        if (state.status != AgreementStatus.Active) revert RegistryInvalidStatus(agreementId, state.status);
        uint32 version = state.activeVersion;
        _checkTerms(agreementId, version, currentTerms);
        _checkChildren(children);
        _verifySignatures(agreementId, version, bytes32(0), true, signatures);
        _requireTree(agreementId, version, true, currentTerms, children, 0);
        _releaseSignatureMarks(agreementId, version, true, signatures);
        state.status = AgreementStatus.Terminated;
        _settlement[agreementId].version = 0;
        _unpin(agreementId, version);
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
    function proposer(uint64 agreementId) external view returns (address) {
        return _agreements[agreementId].proposer;
    }

    /// @inheritdoc IAgreementRegistry
    function termsHash(uint64 agreementId, uint32 version) external view returns (bytes32) {
        return _termsHashes[agreementId][version];
    }

    /// @inheritdoc IAgreementRegistry
    function settlementTerms(uint64 agreementId) external view returns (SettlementTerms memory) {
        return _settlement[agreementId];
    }

    /// @inheritdoc IAgreementRegistry
    function versionPayout(uint64 agreementId, uint32 version) external view returns (VersionPayout memory) {
        return _payouts[agreementId][version];
    }

    /// @inheritdoc IAgreementRegistry
    function distribution(uint64 agreementId, uint32 version) external view returns (bytes32 partiesListHash, uint16 unit) {
        return (_partiesListHashes[agreementId][version], _payouts[agreementId][version].unit);
    }

    /// @inheritdoc IAgreementRegistry
    function pinnedBy(uint64 agreementId, uint32 version) external view returns (VersionRef[] memory parents) {
        uint96[] storage list = _pinnedBy[agreementId][version];
        parents = new VersionRef[](list.length);
        for (uint256 i; i < list.length; ++i) {
            parents[i] = VersionRef({agreementId: uint64(list[i] >> 32), version: uint32(list[i])});
        }
    }

    /// @inheritdoc IAgreementRegistry
    function isReferrerAllowed(uint64 agreementId, uint32 version, address referrer) external view returns (bool) {
        return _allowedReferrers[agreementId][version][referrer];
    }

    /// @inheritdoc IAgreementRegistry
    function approvalExpiry(uint64 agreementId, uint32 version, address party) external view returns (uint64) {
        return _approvals[agreementId][version][party];
    }

    /// @inheritdoc IAgreementRegistry
    function terminationApprovalExpiry(uint64 agreementId, uint32 version, address party)
        external
        view
        returns (uint64)
    {
        return _terminationApprovals[agreementId][version][party];
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
    function consenters(Terms calldata terms, NestedTerms[] calldata children)
        external
        view
        returns (address[] memory accounts)
    {
        _checkChildren(children);
        return _collect(terms, children, 0);
    }

    /// @inheritdoc IAgreementRegistry
    function consentDigest(
        uint64 agreementId,
        uint32 version,
        bytes32 termsHash_,
        address signer,
        uint256 nonce,
        uint256 deadline
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(CONSENT_TYPEHASH, agreementId, version, termsHash_, signer, nonce, deadline))
        );
    }

    /// @inheritdoc IAgreementRegistry
    function terminationDigest(uint64 agreementId, uint32 version, address signer, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(TERMINATION_TYPEHASH, agreementId, version, signer, nonce, deadline))
        );
    }

    /// @notice The EIP-712 domain separator of this deployment.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internal: checks

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

    /// @dev Nested parties must be older than `agreementId` (no cycles), active, pinned to their
    /// active version and keep the depth within {MAX_NESTING_DEPTH}. Returns the depth of `terms`.
    function _checkNested(uint64 agreementId, Terms calldata terms) private view returns (uint8 depth) {
        // Parties are sorted with nested agreements last: walk back from the end.
        for (uint256 i = terms.parties.length; i != 0; --i) {
            Party calldata party = terms.parties[i - 1];
            uint64 childId = party.agreementId;
            if (childId == 0) break;
            AgreementState storage child = _agreements[childId];
            VersionPayout storage pinned = _payouts[childId][party.version];
            if (
                childId >= agreementId || child.status != AgreementStatus.Active || party.version != child.activeVersion
                    || pinned.depth >= MAX_NESTING_DEPTH
            ) revert RegistryNestedAgreementInvalid(childId, party.version);
            if (pinned.depth + 1 > depth) depth = pinned.depth + 1;
        }
    }

    /// @dev `children` are sorted strictly by (agreementId, version), each an activated version
    /// whose stored hash matches its terms.
    function _checkChildren(NestedTerms[] calldata children) private view {
        uint256 previous;
        for (uint256 i; i < children.length; ++i) {
            NestedTerms calldata child = children[i];
            uint256 key = _childKey(child.agreementId, child.version);
            if (
                (i != 0 && key <= previous) || _payouts[child.agreementId][child.version].unit == 0
                    || _termsHashes[child.agreementId][child.version] != TermsLib.hash(child.terms)
            ) revert RegistryNestedTermsInvalid(child.agreementId, child.version);
            previous = key;
        }
    }

    /// @dev The terms of a pinned child, by binary search in the sorted `children`.
    function _child(NestedTerms[] calldata children, uint64 agreementId, uint32 version)
        private
        pure
        returns (Terms calldata)
    {
        uint256 key = _childKey(agreementId, version);
        uint256 low;
        uint256 high = children.length;
        while (low < high) {
            uint256 mid = (low + high) >> 1;
            uint256 midKey = _childKey(children[mid].agreementId, children[mid].version);
            if (midKey == key) return children[mid].terms;
            if (midKey < key) low = mid + 1;
            else high = mid;
        }
        revert RegistryNestedTermsInvalid(agreementId, version);
    }

    function _childKey(uint64 agreementId, uint32 version) private pure returns (uint256) {
        return (uint256(agreementId) << 32) | version;
    }

    // ---------------------------------------------------------------- internal: consent

    /// @dev Verifies each signature over its named signer, consumes its nonce and marks the signer
    /// in transient storage.
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
                ? terminationDigest(agreementId, version, sig.signer, sig.nonce, sig.deadline)
                : consentDigest(agreementId, version, hash_, sig.signer, sig.nonce, sig.deadline);
            if (!SignatureChecker.isValidSignatureNow(sig.signer, digest, sig.signature)) {
                revert RegistryInvalidSignature(sig.signer);
            }
            _useNonce(sig.signer, sig.nonce);
            _tstore(_markSlot(agreementId, version, termination, sig.signer), MARK_SIGNED);
            if (termination) emit TerminationSigned(agreementId, version, sig.signer, sig.nonce);
            else emit ConsentSigned(agreementId, version, sig.signer, sig.nonce);
        }
    }

    /// @dev Every account of the tree of `terms` consented to (agreementId, version): by a
    /// signature verified in this call or by a live on-chain approval.
    function _requireTree(
        uint64 agreementId,
        uint32 version,
        bool termination,
        Terms calldata terms,
        NestedTerms[] calldata children,
        uint256 depth
    ) private {
        uint256 count = terms.parties.length;
        for (uint256 i; i < count; ++i) {
            Party calldata party = terms.parties[i];
            if (party.account != address(0)) {
                _requireConsenter(agreementId, version, termination, party.account);
            } else {
                if (depth >= MAX_NESTING_DEPTH) revert RegistryNestedAgreementInvalid(party.agreementId, party.version);
                Terms calldata child = _child(children, party.agreementId, party.version);
                _requireTree(agreementId, version, termination, child, children, depth + 1);
            }
        }
    }

    function _requireConsenter(uint64 agreementId, uint32 version, bool termination, address account) private {
        bytes32 slot = _markSlot(agreementId, version, termination, account);
        if (_tload(slot) != 0) {
            _tstore(slot, MARK_COUNTED);
            return;
        }
        uint64 expiry = termination
            ? _terminationApprovals[agreementId][version][account]
            : _approvals[agreementId][version][account];
        if (expiry < block.timestamp) revert RegistryMissingConsent(account);
    }

    /// @dev Every signer must have been a required consenter; clears the transient marks.
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

    /// @dev Whether `account` is in the tree of `terms`.
    function _isConsenter(address account, Terms calldata terms, NestedTerms[] calldata children, uint256 depth)
        private
        pure
        returns (bool)
    {
        uint256 count = terms.parties.length;
        for (uint256 i; i < count; ++i) {
            Party calldata party = terms.parties[i];
            if (party.account == account && account != address(0)) return true;
            if (party.account == address(0) && depth < MAX_NESTING_DEPTH) {
                Terms calldata child = _child(children, party.agreementId, party.version);
                if (_isConsenter(account, child, children, depth + 1)) return true;
            }
        }
        return false;
    }

    /// @dev The accounts of the tree of `terms`, sorted ascending without repeats. Each version's
    /// accounts come sorted (TermsLib's order), so subtrees merge in linear time.
    function _collect(Terms calldata terms, NestedTerms[] calldata children, uint256 depth)
        private
        pure
        returns (address[] memory accounts)
    {
        uint256 count = terms.parties.length;
        uint256 accountCount;
        while (accountCount < count && terms.parties[accountCount].account != address(0)) ++accountCount;
        accounts = new address[](accountCount);
        for (uint256 i; i < accountCount; ++i) {
            accounts[i] = terms.parties[i].account;
        }
        for (uint256 i = accountCount; i < count; ++i) {
            Party calldata party = terms.parties[i];
            if (depth >= MAX_NESTING_DEPTH) revert RegistryNestedAgreementInvalid(party.agreementId, party.version);
            accounts = _merge(accounts, _collect(_child(children, party.agreementId, party.version), children, depth + 1));
        }
    }

    function _merge(address[] memory a, address[] memory b) private pure returns (address[] memory out) {
        out = new address[](a.length + b.length);
        uint256 i;
        uint256 j;
        uint256 k;
        while (i < a.length || j < b.length) {
            address next;
            if (j == b.length || (i < a.length && a[i] < b[j])) {
                next = a[i++];
            } else if (i == a.length || b[j] < a[i]) {
                next = b[j++];
            } else {
                next = a[i++];
                ++j;
            }
            out[k++] = next;
        }
        // Shrink to the merged length (k <= a.length + b.length).
        assembly ("memory-safe") {
            mstore(out, k)
        }
    }

    // ---------------------------------------------------------------- internal: activation

    function _activate(
        AgreementState storage state,
        uint64 agreementId,
        uint32 version,
        bytes32 hash_,
        Terms calldata terms
    ) private {
        uint32 previous = state.activeVersion;
        if (version <= previous) revert RegistryVersionSuperseded(agreementId, version, previous);
        uint16 unit = TermsLib.validate(terms);
        // Pins must still be the children's active versions, so that every member of a child's
        // active terms consents (a stale pin would let a removed member stand in for the new one).
        uint8 depth = _checkNested(agreementId, terms);
        if (previous != 0) _unpin(agreementId, previous);
        _pinChildren(agreementId, version, terms);

        state.status = AgreementStatus.Active;
        state.activeVersion = version;
        _settlement[agreementId] = SettlementTerms({
            version: version,
            referralFeeBps: terms.referralFeeBps,
            reserveBps: terms.reserveBps,
            disputeWindow: terms.disputeWindow,
            orderSigner: terms.orderSigner
        });
        bytes32 root = PartyTree.root(terms.parties);
        _payouts[agreementId][version] = VersionPayout({
            partiesRoot: root,
            refundAuthority: terms.refundAuthority,
            unit: unit,
            // At most 255 parties (TermsLib.MAX_PARTIES).
            partyCount: uint8(terms.parties.length),
            dustPartyIndex: terms.dustPartyIndex,
            depth: depth,
            activePins: 0
        });
        _partiesListHashes[agreementId][version] = PartyTree.listHash(terms.parties);
        mapping(address => bool) storage allowed = _allowedReferrers[agreementId][version];
        for (uint256 i; i < terms.referrers.length; ++i) {
            allowed[terms.referrers[i]] = true;
        }
        emit VersionActivated(agreementId, version, hash_, root, unit);
    }

    function _pinChildren(uint64 agreementId, uint32 version, Terms calldata terms) private {
        uint96[] storage pins = _pins[agreementId][version];
        for (uint256 i = terms.parties.length; i != 0; --i) {
            Party calldata party = terms.parties[i - 1];
            if (party.agreementId == 0) break;
            pins.push(uint96((uint256(party.agreementId) << 32) | party.version));
            _pinnedBy[party.agreementId][party.version].push(uint96((uint256(agreementId) << 32) | version));
            _payouts[party.agreementId][party.version].activePins += 1;
        }
    }

    function _unpin(uint64 agreementId, uint32 version) private {
        uint96[] storage pins = _pins[agreementId][version];
        for (uint256 i; i < pins.length; ++i) {
            uint96 pin = pins[i];
            // Cannot underflow: every pin counted here was counted in _pinChildren.
            unchecked {
                _payouts[uint64(pin >> 32)][uint32(pin)].activePins -= 1;
            }
        }
    }

    // ---------------------------------------------------------------- internal: nonces and marks

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
