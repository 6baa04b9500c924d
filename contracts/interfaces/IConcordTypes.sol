// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Lifecycle of an agreement: proposed (no version active yet), active, terminated.
enum AgreementStatus {
    None,
    Proposed,
    Active,
    Terminated
}

/// @notice Who may earn the referral fee of an agreement.
/// @dev `None`: no referral fee is paid and naming a referrer reverts. `Open`: any referrer
/// other than the payer. `Allowlist`: only the referrers listed in the terms.
enum ReferrerPolicy {
    None,
    Open,
    Allowlist
}

/// @notice One party of a version of an agreement.
/// @dev Exactly one of `account` and `agreementId` is set: an account (EOA or contract
/// wallet), or a nested agreement whose share is split again by its own terms.
struct Party {
    address account;
    uint64 agreementId;
    uint16 shareBps;
}

/// @notice One version of an agreement. Only its EIP-712 struct hash is stored on chain;
/// the full terms are emitted in {IAgreementRegistry-VersionProposed} and passed back in calldata.
struct Terms {
    /// Parties sorted strictly ascending by party key (accounts by address, then nested agreements by id).
    Party[] parties;
    /// Referral fee taken from the gross of a settlement that names an eligible referrer.
    uint16 referralFeeBps;
    ReferrerPolicy referrerPolicy;
    /// The allowlist for `ReferrerPolicy.Allowlist`, sorted strictly ascending; empty otherwise.
    address[] referrers;
    /// Part of the gross held back until the dispute window ends.
    uint16 reserveBps;
    /// Seconds after a settlement during which its reserve can be refunded.
    uint32 disputeWindow;
    /// Who may refund from reserves (zero: nobody, reserves are always released).
    address refundAuthority;
    /// Index in `parties` of the party that receives rounding dust.
    uint8 dustPartyIndex;
    /// Hash of the off-chain document or negotiation transcript.
    bytes32 documentHash;
}

/// @notice A consent signature submitted with an activation or a termination.
struct ConsentSignature {
    address signer;
    uint256 nonce;
    uint256 deadline;
    bytes signature;
}

/// @notice What the ledger needs to settle against an agreement; one storage slot.
struct SettlementConfig {
    AgreementStatus status;
    uint32 version;
    uint16 referralFeeBps;
    uint16 reserveBps;
    uint32 disputeWindow;
    ReferrerPolicy referrerPolicy;
    /// Distribution unit: 10,000 / gcd(shares). Net amounts are split in whole units.
    uint16 unit;
}
