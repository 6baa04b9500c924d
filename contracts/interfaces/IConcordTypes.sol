// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Lifecycle of an agreement: proposed (no version active yet), active, terminated.
enum AgreementStatus {
    None,
    Proposed,
    Active,
    Terminated
}

/// @notice One party of a version of an agreement.
/// @dev Either an account (`account` set, `agreementId` and `version` zero: an EOA or a contract
/// wallet), or a nested agreement (`account` zero, `agreementId` set) whose share flows into the
/// pool of its version `version`, pinned in the parent's terms: the child's active version when
/// the parent's version was proposed.
struct Party {
    address account;
    uint64 agreementId;
    uint32 version;
    uint16 shareBps;
}

/// @notice One version of an agreement. Only its EIP-712 struct hash is stored on chain;
/// the full terms are emitted in {IAgreementRegistry-VersionProposed} and passed back in calldata.
struct Terms {
    /// Parties sorted strictly ascending by party key (accounts by address, then nested agreements by id).
    Party[] parties;
    /// Referral fee taken from the gross of a settlement that names a referrer (0: no referral fee).
    uint16 referralFeeBps;
    /// Referrers a direct payment may name, sorted strictly ascending; empty when the terms name
    /// an order signer (its intents attest the referrer) or charge no referral fee.
    address[] referrers;
    /// Part of the gross held back until the dispute window ends.
    uint16 reserveBps;
    /// Seconds after a settlement during which its reserve can be refunded.
    uint32 disputeWindow;
    /// Who may refund from reserves (zero: nobody, reserves are always released).
    address refundAuthority;
    /// The merchant of record whose EIP-712 payment intents are the only settlements accepted
    /// (an EOA or an ERC-1271 wallet); zero: direct payments only.
    address orderSigner;
    /// Index in `parties` of the party that receives a pool's final remainder.
    uint8 dustPartyIndex;
    /// Hash of the off-chain document or negotiation transcript.
    bytes32 documentHash;
}

/// @notice The active terms of a nested agreement, passed in calldata wherever consent through
/// nesting is checked; verified against the stored hash of (`agreementId`, `version`).
struct NestedTerms {
    uint64 agreementId;
    uint32 version;
    Terms terms;
}

/// @notice One version of one agreement.
struct VersionRef {
    uint64 agreementId;
    uint32 version;
}

/// @notice A consent signature submitted with an activation or a termination.
struct ConsentSignature {
    address signer;
    uint256 nonce;
    uint256 deadline;
    bytes signature;
}

/// @notice What the ledger needs to settle against an agreement's active version; one storage slot.
/// @dev `version` is zero when the agreement cannot settle (proposed or terminated).
struct SettlementTerms {
    uint32 version;
    uint16 referralFeeBps;
    uint16 reserveBps;
    uint32 disputeWindow;
    address orderSigner;
}

/// @notice What the ledger needs to pay out an activated version's pools.
struct VersionPayout {
    /// Merkle root of the parties (see {PartyTree}); zero for a version never activated.
    bytes32 partiesRoot;
    /// Who may refund the version's reserves.
    address refundAuthority;
    /// Distribution unit 10,000 / gcd(shares): pools are paid out in whole units.
    uint16 unit;
    uint8 partyCount;
    uint8 dustPartyIndex;
    /// 0 for terms of accounts only; 1 + the deepest pinned child's depth otherwise.
    uint8 depth;
    /// How many active versions of other agreements pin this version (they still send it value).
    uint32 activePins;
}
