// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementStatus, ConsentSignature, SettlementConfig, Terms} from "./IConcordTypes.sol";

/// @title Concord agreement registry
/// @notice Agreements between partners, their versions of terms, and the consent that makes a
/// version take effect: an EIP-712 signature (EOA or ERC-1271 wallet) or an on-chain approval
/// by every party of the version and, for an amendment, every party of the current version.
/// @dev Invariant: a version is active only if every required party consented to exactly its
/// terms hash. Only terms hashes are stored; the full terms are in {VersionProposed}.
interface IAgreementRegistry {
    // ---------------------------------------------------------------- errors

    /// @notice Thrown when terms have no parties or more than `max`.
    error RegistryPartyCountOutOfRange(uint256 count, uint256 max);
    /// @notice Thrown when party `index` has neither an account nor an agreement id.
    error RegistryZeroAddress(uint256 index);
    /// @notice Thrown when party `index` sets both an account and an agreement id.
    error RegistryAmbiguousParty(uint256 index);
    /// @notice Thrown when party `index` repeats the party before it.
    error RegistryDuplicateParty(uint256 index);
    /// @notice Thrown when party `index` is not sorted after the party before it.
    error RegistryPartiesNotSorted(uint256 index);
    /// @notice Thrown when party `index` has a zero share.
    error RegistryZeroShare(uint256 index);
    /// @notice Thrown when the shares do not sum to 10,000 basis points.
    error RegistrySharesSumInvalid(uint256 sum);
    /// @notice Thrown when the referral fee rate is above the cap.
    error RegistryReferralFeeTooHigh(uint256 feeBps, uint256 maxBps);
    /// @notice Thrown when the reserve rate is above the cap.
    error RegistryReserveTooHigh(uint256 reserveBps, uint256 maxBps);
    /// @notice Thrown when the dispute window is outside [min, max] (or non-zero without a reserve).
    error RegistryDisputeWindowOutOfRange(uint256 window, uint256 min, uint256 max);
    /// @notice Thrown when the referral fee, policy and referrer list contradict each other.
    error RegistryReferrerPolicyInvalid();
    /// @notice Thrown when referrer `index` is zero, duplicated or not sorted ascending.
    error RegistryReferrerListInvalid(uint256 index);
    /// @notice Thrown when the dust party index is not a party.
    error RegistryDustPartyOutOfRange(uint256 index, uint256 partyCount);
    /// @notice Thrown when a nested agreement party does not exist, is not active, would make a
    /// cycle (its id must be lower than the parent's), or nests deeper than the limit.
    error RegistryNestedAgreementInvalid(uint64 agreementId);
    /// @notice Thrown when an agreement does not exist.
    error RegistryUnknownAgreement(uint64 agreementId);
    /// @notice Thrown when a version does not exist.
    error RegistryUnknownVersion(uint64 agreementId, uint32 version);
    /// @notice Thrown when the agreement is not in the status the operation needs.
    error RegistryInvalidStatus(uint64 agreementId, AgreementStatus status);
    /// @notice Thrown when activating a version that is not newer than the active one.
    error RegistryVersionSuperseded(uint64 agreementId, uint32 version, uint32 activeVersion);
    /// @notice Thrown when the terms passed do not hash to the stored terms hash.
    error RegistryTermsMismatch(uint64 agreementId, uint32 version, bytes32 expected, bytes32 actual);
    /// @notice Thrown when a signature's deadline has passed.
    error RegistrySignatureExpired(address signer, uint256 deadline);
    /// @notice Thrown when a signature does not verify for its signer (ECDSA or ERC-1271).
    error RegistryInvalidSignature(address signer);
    /// @notice Thrown when a signer's nonce was already used or cancelled.
    error RegistryNonceUsed(address signer, uint256 nonce);
    /// @notice Thrown when the same signer appears twice in a signature list.
    error RegistryDuplicateSigner(address signer);
    /// @notice Thrown when a signature list is not sorted ascending by signer.
    error RegistrySignersNotSorted(address signer);
    /// @notice Thrown when a signature comes from an address that is not a required party.
    error RegistrySignerNotParty(address signer);
    /// @notice Thrown when a required party has not consented.
    error RegistryMissingConsent(address party);
    /// @notice Thrown when the caller may not do this (only the negotiation module may).
    error RegistryUnauthorized(address caller);

    // ---------------------------------------------------------------- events

    /// @notice Emitted when a new agreement is proposed (its first version follows in {VersionProposed}).
    event AgreementProposed(uint64 indexed agreementId, address indexed proposer);
    /// @notice Emitted when a version is proposed, with the full terms so that history replays from events.
    event VersionProposed(uint64 indexed agreementId, uint32 indexed version, bytes32 termsHash, Terms terms);
    /// @notice Emitted when a party approves a version on chain.
    event VersionApproved(uint64 indexed agreementId, uint32 indexed version, address indexed party);
    /// @notice Emitted when a party's signature is consumed as consent to a version.
    event ConsentSigned(uint64 indexed agreementId, uint32 indexed version, address indexed party, uint256 nonce);
    /// @notice Emitted when a version takes effect.
    event VersionActivated(uint64 indexed agreementId, uint32 indexed version, bytes32 termsHash, uint16 unit);
    /// @notice Emitted when a party approves the termination of the current version on chain.
    event TerminationApproved(uint64 indexed agreementId, uint32 indexed version, address indexed party);
    /// @notice Emitted when a party's signature is consumed as consent to termination.
    event TerminationSigned(uint64 indexed agreementId, uint32 indexed version, address indexed party, uint256 nonce);
    /// @notice Emitted when an agreement is terminated: no new settlements; reserves and pools still pay out.
    event AgreementTerminated(uint64 indexed agreementId, uint32 indexed version);
    /// @notice Emitted when an owner cancels an unused nonce.
    event NonceCancelled(address indexed owner, uint256 nonce);

    // ---------------------------------------------------------------- agreements

    /// @notice Proposes a new agreement with `terms` as version 1.
    /// @dev Validates the terms (see the errors); consent is collected afterwards.
    /// Emits an {AgreementProposed} and a {VersionProposed} event.
    /// @return agreementId The id of the new agreement.
    function propose(Terms calldata terms) external returns (uint64 agreementId);

    /// @notice Proposes `terms` as the next version of an active agreement.
    /// @dev Takes effect only with the consent of every party of the new and of the current version.
    /// Emits a {VersionProposed} event.
    /// @return version The number of the proposed version.
    function proposeAmendment(uint64 agreementId, Terms calldata terms) external returns (uint32 version);

    /// @notice Records the caller's on-chain consent to a version of an agreement.
    /// @dev Emits a {VersionApproved} event.
    function approve(uint64 agreementId, uint32 version) external;

    /// @notice Activates the first version of a proposed agreement.
    /// @param terms The full terms of `version`, checked against the stored hash.
    /// @param signatures Consent signatures sorted ascending by signer; parties that approved on chain need none.
    /// @dev Emits a {ConsentSigned} event per signature and a {VersionActivated} event.
    function activate(uint64 agreementId, uint32 version, Terms calldata terms, ConsentSignature[] calldata signatures)
        external;

    /// @notice Activates an amendment: every party of `terms` and of `currentTerms` must consent.
    /// @param currentTerms The full terms of the active version, checked against the stored hash.
    /// @dev Emits a {ConsentSigned} event per signature and a {VersionActivated} event.
    function activateAmendment(
        uint64 agreementId,
        uint32 version,
        Terms calldata terms,
        Terms calldata currentTerms,
        ConsentSignature[] calldata signatures
    ) external;

    /// @notice Proposes and activates `terms` as the next version, with the consent gathered by a
    /// negotiation: callable only by this registry's {negotiationHub}, which calls it once every
    /// participant (a superset of the account parties of `terms` and of the version in force) accepted them.
    /// @dev Validates the terms exactly as {propose} and {proposeAmendment}; works for a proposed
    /// agreement (first activation) and an active one (amendment).
    /// Emits a {VersionProposed} and a {VersionActivated} event.
    /// @return version The number of the activated version.
    function activateNegotiated(uint64 agreementId, Terms calldata terms) external returns (uint32 version);

    /// @notice Records the caller's on-chain consent to terminating the agreement's current version.
    /// @dev Emits a {TerminationApproved} event.
    function approveTermination(uint64 agreementId) external;

    /// @notice Terminates an active agreement with the consent of every party of its current version.
    /// @dev Settlements stop; held reserves and undistributed pools still pay out by their versions.
    /// Emits a {TerminationSigned} event per signature and an {AgreementTerminated} event.
    function terminate(uint64 agreementId, Terms calldata currentTerms, ConsentSignature[] calldata signatures)
        external;

    /// @notice Cancels an unused consent nonce of the caller, voiding any signature made with it.
    /// @dev Emits a {NonceCancelled} event.
    function cancelNonce(uint256 nonce) external;

    // ---------------------------------------------------------------- views

    /// @notice The status, latest proposed version and active version of an agreement.
    function agreement(uint64 agreementId)
        external
        view
        returns (AgreementStatus status, uint32 latestVersion, uint32 activeVersion);

    /// @notice The stored EIP-712 struct hash of a version's terms (zero if it does not exist).
    function termsHash(uint64 agreementId, uint32 version) external view returns (bytes32);

    /// @notice The settlement parameters of an agreement's current version, in one read.
    function settlementConfig(uint64 agreementId) external view returns (SettlementConfig memory);

    /// @notice The refund authority and distribution unit of an activated version.
    function versionPayout(uint64 agreementId, uint32 version)
        external
        view
        returns (address refundAuthority, uint16 unit);

    /// @notice Whether `referrer` may earn the referral fee under an activated allowlist version.
    function isReferrerAllowed(uint64 agreementId, uint32 version, address referrer) external view returns (bool);

    /// @notice Whether `party` approved `version` on chain.
    function hasApproved(uint64 agreementId, uint32 version, address party) external view returns (bool);

    /// @notice Whether `owner` used or cancelled `nonce`.
    function isNonceUsed(address owner, uint256 nonce) external view returns (bool);

    /// @notice The negotiation hub this registry deployed, the only caller of {activateNegotiated}.
    function negotiationHub() external view returns (address);

    /// @notice The number of agreements ever proposed (ids run from 1 to this number).
    function agreementCount() external view returns (uint64);

    /// @notice The EIP-712 struct hash of `terms`.
    function hashTerms(Terms calldata terms) external pure returns (bytes32);

    /// @notice The EIP-712 digest a party signs to consent to a version.
    function consentDigest(uint64 agreementId, uint32 version, bytes32 termsHash_, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest a party signs to consent to terminating a version.
    function terminationDigest(uint64 agreementId, uint32 version, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);
}
