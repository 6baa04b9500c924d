// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {
    AgreementStatus,
    ConsentSignature,
    NestedTerms,
    SettlementTerms,
    Terms,
    VersionPayout,
    VersionRef
} from "./IConcordTypes.sol";

/// @title Concord agreement registry
/// @notice Agreements between partners, their versions of terms, and the consent that makes a
/// version take effect. Consent rule: a version is activated (and an agreement terminated) only
/// with the consent of every account reachable from its terms through nesting: the account
/// parties, and for every nested party the account parties of the child's pinned version,
/// recursively. An amendment needs the same of the version in force too. Consent is an EIP-712
/// signature naming its signer (EOA or ERC-1271) or an on-chain approval that expires and can be
/// revoked, always given over the parent's own (agreement, version).
/// @dev Invariants: `activeVersion` only increases, and only to a version every required account
/// consented to; a nested party has a lower id than its parent (no cycles) and is pinned to an
/// activated version of the child, so a version's tree never changes after it is proposed.
interface IAgreementRegistry {
    // ---------------------------------------------------------------- errors

    /// @notice Thrown when the number of parties is zero or above the maximum.
    error RegistryPartyCountOutOfRange(uint256 count, uint256 max);
    /// @notice Thrown when a party has neither an account nor a nested agreement.
    error RegistryZeroAddress(uint256 index);
    /// @notice Thrown when a party sets both an account and a nested agreement, or an account with a version.
    error RegistryAmbiguousParty(uint256 index);
    /// @notice Thrown when two parties have the same key.
    error RegistryDuplicateParty(uint256 index);
    /// @notice Thrown when parties are not sorted by key.
    error RegistryPartiesNotSorted(uint256 index);
    /// @notice Thrown when a party's share is zero.
    error RegistryZeroShare(uint256 index);
    /// @notice Thrown when the shares do not sum to 10,000 basis points.
    error RegistrySharesSumInvalid(uint256 sum);
    /// @notice Thrown when the referral fee exceeds the cap.
    error RegistryReferralFeeTooHigh(uint256 feeBps, uint256 maxBps);
    /// @notice Thrown when the reserve exceeds the cap.
    error RegistryReserveTooHigh(uint256 reserveBps, uint256 maxBps);
    /// @notice Thrown when the dispute window is out of range (zero exactly when there is no reserve).
    error RegistryDisputeWindowOutOfRange(uint256 window, uint256 min, uint256 max);
    /// @notice Thrown when a referral fee has nobody who could earn it (no order signer and no
    /// referrer listed), or referrers are listed without a fee.
    error RegistryReferralTermsInvalid(uint256 feeBps, uint256 referrerCount, address orderSigner);
    /// @notice Thrown when the referrer list is not sorted strictly ascending (or holds zero).
    error RegistryReferrerListInvalid(uint256 index);
    /// @notice Thrown when the dust party index is out of range.
    error RegistryDustPartyOutOfRange(uint256 index, uint256 partyCount);
    /// @notice Thrown when a nested agreement is unknown, not active, not older than its parent,
    /// pinned to a version that is not its active one (at proposal and at activation), or too deep.
    error RegistryNestedAgreementInvalid(uint64 agreementId, uint32 version);
    /// @notice Thrown when the nested terms passed for consent are missing, unsorted or do not match.
    error RegistryNestedTermsInvalid(uint64 agreementId, uint32 version);
    /// @notice Thrown when an agreement does not exist.
    error RegistryUnknownAgreement(uint64 agreementId);
    /// @notice Thrown when a version does not exist.
    error RegistryUnknownVersion(uint64 agreementId, uint32 version);
    /// @notice Thrown when the agreement's status does not allow the call.
    error RegistryInvalidStatus(uint64 agreementId, AgreementStatus status);
    /// @notice Thrown when a version is not newer than the active one.
    error RegistryVersionSuperseded(uint64 agreementId, uint32 version, uint32 activeVersion);
    /// @notice Thrown when terms do not match a version's stored hash.
    error RegistryTermsMismatch(uint64 agreementId, uint32 version, bytes32 expected, bytes32 actual);
    /// @notice Thrown when a signature's deadline has passed.
    error RegistrySignatureExpired(address signer, uint256 deadline);
    /// @notice Thrown when a signature does not verify for its named signer.
    error RegistryInvalidSignature(address signer);
    /// @notice Thrown when a nonce was used or cancelled.
    error RegistryNonceUsed(address signer, uint256 nonce);
    /// @notice Thrown when a signer appears twice.
    error RegistryDuplicateSigner(address signer);
    /// @notice Thrown when signatures are not sorted by signer.
    error RegistrySignersNotSorted(address signer);
    /// @notice Thrown when a signer's consent is not required.
    error RegistrySignerNotParty(address signer);
    /// @notice Thrown when a required account has neither signed nor a live on-chain approval.
    error RegistryMissingConsent(address party);
    /// @notice Thrown when the caller may not make the call (a non-party proposing, a stranger activating negotiated terms).
    error RegistryUnauthorized(address caller);
    /// @notice Thrown when an approval's expiry is not in the future.
    error RegistryApprovalExpiryInvalid(uint64 expiry, uint256 timestamp);

    // ---------------------------------------------------------------- events

    /// @notice Emitted when an agreement is proposed.
    event AgreementProposed(uint64 indexed agreementId, address indexed proposer);
    /// @notice Emitted when a version is proposed, with the full terms so that history replays from events.
    event VersionProposed(
        uint64 indexed agreementId, uint32 indexed version, address indexed proposer, bytes32 termsHash, Terms terms
    );
    /// @notice Emitted when an account approves a version on chain, until `expiry`.
    event VersionApproved(uint64 indexed agreementId, uint32 indexed version, address indexed party, uint64 expiry);
    /// @notice Emitted when an account revokes its approval of a version.
    event ApprovalRevoked(uint64 indexed agreementId, uint32 indexed version, address indexed party);
    /// @notice Emitted for each consent signature counted by an activation.
    event ConsentSigned(uint64 indexed agreementId, uint32 indexed version, address indexed party, uint256 nonce);
    /// @notice Emitted when a version takes effect.
    event VersionActivated(
        uint64 indexed agreementId, uint32 indexed version, bytes32 termsHash, bytes32 partiesRoot, uint16 unit
    );
    /// @notice Emitted when an account approves terminating a version on chain, until `expiry`.
    event TerminationApproved(uint64 indexed agreementId, uint32 indexed version, address indexed party, uint64 expiry);
    /// @notice Emitted when an account revokes its approval of a termination.
    event TerminationApprovalRevoked(uint64 indexed agreementId, uint32 indexed version, address indexed party);
    /// @notice Emitted for each termination signature counted.
    event TerminationSigned(uint64 indexed agreementId, uint32 indexed version, address indexed party, uint256 nonce);
    /// @notice Emitted when an agreement is terminated.
    event AgreementTerminated(uint64 indexed agreementId, uint32 indexed version);
    /// @notice Emitted when an owner cancels a nonce.
    event NonceCancelled(address indexed owner, uint256 nonce);

    // ---------------------------------------------------------------- proposals

    /// @notice Proposes a new agreement with its first version of terms.
    /// @dev Validates the terms; nested parties must be pinned to their active version.
    /// Emits an {AgreementProposed} and a {VersionProposed} event.
    function propose(Terms calldata terms) external returns (uint64 agreementId);

    /// @notice Proposes a new version of an agreement.
    /// @dev Only a consenter of the version in force (an active agreement), or the proposer of a
    /// proposed agreement (then `currentTerms` and `children` are not read).
    /// Emits a {VersionProposed} event.
    /// @param currentTerms The terms of the active version.
    /// @param children The pinned terms of every nested agreement reachable from `currentTerms`.
    function proposeAmendment(
        uint64 agreementId,
        Terms calldata terms,
        Terms calldata currentTerms,
        NestedTerms[] calldata children
    ) external returns (uint32 version);

    // ---------------------------------------------------------------- consent

    /// @notice Approves `version` of an agreement on chain until `expiry`, as the caller.
    /// @dev Counts for the caller wherever its consent is required. Emits a {VersionApproved} event.
    function approve(uint64 agreementId, uint32 version, uint64 expiry) external;

    /// @notice Revokes the caller's on-chain approval of `version`.
    /// @dev Emits an {ApprovalRevoked} event.
    function revokeApproval(uint64 agreementId, uint32 version) external;

    /// @notice Approves terminating the agreement while `version` is active, until `expiry`.
    /// @dev Emits a {TerminationApproved} event.
    function approveTermination(uint64 agreementId, uint32 version, uint64 expiry) external;

    /// @notice Revokes the caller's approval of terminating `version`.
    /// @dev Emits a {TerminationApprovalRevoked} event.
    function revokeTerminationApproval(uint64 agreementId, uint32 version) external;

    /// @notice Activates the first version of a proposed agreement.
    /// @param children The pinned terms of every nested agreement reachable from `terms`, sorted
    /// by (agreementId, version).
    /// @param signatures Consent signatures sorted by signer; accounts without one need a live approval.
    /// @dev Emits a {ConsentSigned} event per signature and a {VersionActivated} event.
    function activate(
        uint64 agreementId,
        uint32 version,
        Terms calldata terms,
        NestedTerms[] calldata children,
        ConsentSignature[] calldata signatures
    ) external;

    /// @notice Activates an amendment of an active agreement: consent of every account of both trees.
    /// @param children The pinned terms reachable from `terms` and from `currentTerms`, sorted.
    /// @dev Emits a {ConsentSigned} event per signature and a {VersionActivated} event.
    function activateAmendment(
        uint64 agreementId,
        uint32 version,
        Terms calldata terms,
        Terms calldata currentTerms,
        NestedTerms[] calldata children,
        ConsentSignature[] calldata signatures
    ) external;

    /// @notice Records and activates terms agreed in the negotiation hub; only the hub may call.
    /// @param offerer The participant whose offer was agreed, named as the version's proposer.
    /// @dev The hub checked that every consenter of the new and the current tree accepted.
    /// Emits a {VersionProposed} and a {VersionActivated} event.
    function activateNegotiated(uint64 agreementId, Terms calldata terms, address offerer)
        external
        returns (uint32 version);

    /// @notice Terminates an active agreement with the consent of every account of its tree.
    /// @dev Emits a {TerminationSigned} event per signature and an {AgreementTerminated} event.
    function terminate(
        uint64 agreementId,
        Terms calldata currentTerms,
        NestedTerms[] calldata children,
        ConsentSignature[] calldata signatures
    ) external;

    /// @notice Cancels one of the caller's signature nonces.
    /// @dev Emits a {NonceCancelled} event.
    function cancelNonce(uint256 nonce) external;

    // ---------------------------------------------------------------- views

    /// @notice An agreement's status, latest and active version.
    function agreement(uint64 agreementId)
        external
        view
        returns (AgreementStatus status, uint32 latestVersion, uint32 activeVersion);

    /// @notice Who proposed an agreement.
    function proposer(uint64 agreementId) external view returns (address);

    /// @notice The stored EIP-712 hash of a version's terms (zero if none).
    function termsHash(uint64 agreementId, uint32 version) external view returns (bytes32);

    /// @notice What a settlement against the agreement's active version needs, in one slot.
    function settlementTerms(uint64 agreementId) external view returns (SettlementTerms memory);

    /// @notice What paying out a version's pools needs.
    function versionPayout(uint64 agreementId, uint32 version) external view returns (VersionPayout memory);

    /// @notice What `distribute` checks its parties against: the hash of the version's parties
    /// packed one word each (PartyTree.pack, in order) and the distribution unit; both zero for
    /// a version never activated.
    function distribution(uint64 agreementId, uint32 version) external view returns (bytes32 partiesListHash, uint16 unit);

    /// @notice Every activated version of another agreement that pins (agreementId, version), in
    /// activation order. Only the child's members can add to it: pinning needs their consent.
    function pinnedBy(uint64 agreementId, uint32 version) external view returns (VersionRef[] memory parents);

    /// @notice Whether `referrer` is on the referrer list of an activated version.
    function isReferrerAllowed(uint64 agreementId, uint32 version, address referrer) external view returns (bool);

    /// @notice Until when `party` approves `version` on chain (0: no approval).
    function approvalExpiry(uint64 agreementId, uint32 version, address party) external view returns (uint64);

    /// @notice Until when `party` approves terminating `version` on chain (0: no approval).
    function terminationApprovalExpiry(uint64 agreementId, uint32 version, address party)
        external
        view
        returns (uint64);

    /// @notice Whether an owner's nonce was used or cancelled.
    function isNonceUsed(address owner, uint256 nonce) external view returns (bool);

    /// @notice The negotiation hub deployed with this registry.
    function negotiationHub() external view returns (address);

    /// @notice The number of agreements proposed so far (ids run 1..count).
    function agreementCount() external view returns (uint64);

    /// @notice The EIP-712 struct hash of `terms`.
    function hashTerms(Terms calldata terms) external pure returns (bytes32);

    /// @notice Every account whose consent `terms` need, sorted ascending without repeats.
    /// @dev Checks `children` against the stored hashes; reverts like an activation would.
    function consenters(Terms calldata terms, NestedTerms[] calldata children)
        external
        view
        returns (address[] memory accounts);

    /// @notice The digest a consenter signs to consent to `version` with terms hash `termsHash_`.
    function consentDigest(
        uint64 agreementId,
        uint32 version,
        bytes32 termsHash_,
        address signer,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice The digest a consenter signs to consent to terminating the agreement at `version`.
    function terminationDigest(uint64 agreementId, uint32 version, address signer, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);
}
