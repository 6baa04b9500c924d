// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementStatus, Terms} from "./IConcordTypes.sol";

/// @notice What the ledger remembers of a settlement with a reserve: only its hash is stored.
/// @dev Passed back in calldata to release or refund; {ISettlementLedger-Settled} carries every field.
struct SettlementRecord {
    uint64 agreementId;
    uint32 version;
    address token;
    address payer;
    /// Reserve still held (decreases with partial refunds).
    uint128 reserve;
    /// When the dispute window ends and the reserve may be released.
    uint40 releaseAt;
}

/// @notice An agreement's pool in one token under one version: what its parties share.
struct Pool {
    /// Sum of whole-unit net amounts; party i is entitled to distributable * share_i / 10,000.
    uint128 distributable;
    /// Sum of rounding dust, entitled to the dust party.
    uint128 dust;
}

/// @notice Risk counters of an agreement in one token, the input of risk measurement.
struct RiskCounters {
    uint128 settledVolume;
    uint64 settledCount;
    uint64 refundCount;
    uint256 refundedVolume;
}

/// @title Concord settlement ledger
/// @notice Settles payments against active agreements: the referral fee to the one eligible
/// referrer, the reserve held until the dispute window ends, and the rest to the parties by their
/// shares; refunds from reserves; pull withdrawals.
/// @dev Laws (see DESIGN.md): for each token, the ledger holds exactly the sum of balances, held
/// reserves and undistributed pools; referral fee + reserve + party credits + dust = gross; an order
/// reference settles once; a settlement's gas does not depend on the number of parties (pools are
/// credited lazily and paid out to balances by {claim} and {distribute}).
interface ISettlementLedger {
    // ---------------------------------------------------------------- errors

    /// @notice Thrown when the gross amount is zero.
    error LedgerZeroAmount();
    /// @notice Thrown when the order reference is zero.
    error LedgerZeroOrderRef();
    /// @notice Thrown when the order reference was already settled.
    error LedgerOrderAlreadySettled(bytes32 orderRef);
    /// @notice Thrown when the agreement is not active.
    error LedgerAgreementNotActive(uint64 agreementId, AgreementStatus status);
    /// @notice Thrown when the payer names itself as referrer.
    error LedgerSelfReferral(address payer);
    /// @notice Thrown when the referrer may not earn the agreement's referral fee.
    error LedgerReferrerNotAllowed(uint64 agreementId, uint32 version, address referrer);
    /// @notice Thrown when the ETH sent does not match (ETH: the gross; tokens: zero).
    error LedgerValueMismatch(uint256 value, uint256 expected);
    /// @notice Thrown when a token delivers less than the gross (fee on transfer).
    error LedgerTokenDeliveryShort(address token, uint256 expected, uint256 received);
    /// @notice Thrown when an amount does not fit the ledger's 128-bit accounting.
    error LedgerAmountOverflow(uint256 amount);
    /// @notice Thrown when a settlement record does not match the stored hash (or is closed).
    error LedgerUnknownSettlement(bytes32 orderRef);
    /// @notice Thrown when releasing a reserve before its dispute window ends.
    error LedgerDisputeWindowOpen(bytes32 orderRef, uint256 releaseAt);
    /// @notice Thrown when refunding after the dispute window ended.
    error LedgerDisputeWindowClosed(bytes32 orderRef, uint256 releaseAt);
    /// @notice Thrown when the caller is not the refund authority of the settlement's version.
    error LedgerNotRefundAuthority(address caller, address refundAuthority);
    /// @notice Thrown when a refund exceeds the remaining reserve.
    error LedgerRefundExceedsReserve(uint256 amount, uint256 reserve);
    /// @notice Thrown when the terms passed do not match the version's stored hash.
    error LedgerTermsMismatch(uint64 agreementId, uint32 version);
    /// @notice Thrown when a party index is out of range.
    error LedgerPartyIndexOutOfRange(uint256 index, uint256 partyCount);
    /// @notice Thrown when withdrawing more than the balance.
    error LedgerInsufficientBalance(address account, address token, uint256 balance, uint256 amount);
    /// @notice Thrown when withdrawing to the zero address.
    error LedgerZeroRecipient();
    /// @notice Thrown when an ETH transfer to `to` fails.
    error LedgerEthTransferFailed(address to, uint256 amount);

    // ---------------------------------------------------------------- events

    /// @notice Emitted when a payment is settled. With the version's terms, it determines every credit.
    event Settled(
        bytes32 indexed orderRef,
        uint64 indexed agreementId,
        address indexed payer,
        uint32 version,
        address token,
        uint256 gross,
        address referrer,
        uint256 referralFee,
        uint256 reserve,
        uint40 releaseAt
    );
    /// @notice Emitted when a reserve is released into the pool of the version it was settled under.
    event ReserveReleased(
        bytes32 indexed orderRef, uint64 indexed agreementId, uint32 version, address token, uint256 amount
    );
    /// @notice Emitted when the refund authority refunds from a reserve to the payer's balance.
    event ReserveRefunded(
        bytes32 indexed orderRef,
        uint64 indexed agreementId,
        uint32 version,
        address token,
        address payer,
        uint256 amount,
        uint256 remainingReserve
    );
    /// @notice Emitted when a party's pool entitlement moves to its balance (account) or into a nested agreement.
    event PartyCredited(
        uint64 indexed agreementId,
        uint32 indexed version,
        address indexed token,
        uint256 partyIndex,
        address account,
        uint64 childAgreementId,
        uint256 amount
    );
    /// @notice Emitted when a nested agreement's pool receives its parent's share.
    event NestedShareReceived(
        uint64 indexed agreementId, uint32 indexed version, address indexed token, uint64 fromAgreementId, uint256 amount
    );
    /// @notice Emitted when an account withdraws from its balance.
    event Withdrawn(address indexed account, address indexed token, address indexed to, uint256 amount);

    // ---------------------------------------------------------------- settlement

    /// @notice Settles `gross` of `token` (zero address: ETH, sent as value) for an active agreement.
    /// @param referrer The one channel that brought the customer, or zero.
    /// @param orderRef Opaque order reference (a salted hash made off chain); settles once.
    /// @dev Emits a {Settled} event.
    function settle(uint64 agreementId, address token, uint256 gross, address referrer, bytes32 orderRef)
        external
        payable;

    /// @notice {settle} for an EIP-2612 token, with the payer's permit in the same transaction.
    /// @dev A permit that fails (for example because it was front-run) is ignored if the allowance suffices.
    /// Emits a {Settled} event.
    function settleWithPermit(
        uint64 agreementId,
        address token,
        uint256 gross,
        address referrer,
        bytes32 orderRef,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice Releases a settlement's remaining reserve after its dispute window; anyone may call.
    /// @dev Credited to the pool of the version the settlement was made under. Emits a {ReserveReleased} event.
    function releaseReserve(bytes32 orderRef, SettlementRecord calldata record) external;

    /// @notice Refunds `amount` from a settlement's reserve to its payer's balance, within the dispute window.
    /// @dev Only the refund authority of the settlement's version. Emits a {ReserveRefunded} event.
    function refund(bytes32 orderRef, SettlementRecord calldata record, uint256 amount) external;

    /// @notice Credits one party's outstanding entitlement from a version's pool; anyone may call.
    /// @dev Emits a {PartyCredited} event (and {NestedShareReceived} for a nested agreement).
    function claim(uint64 agreementId, uint32 version, address token, Terms calldata terms, uint256 partyIndex)
        external;

    /// @notice Credits every party's outstanding entitlement from a version's pool; anyone may call.
    /// @dev Emits a {PartyCredited} event per party with something owed.
    function distribute(uint64 agreementId, uint32 version, address token, Terms calldata terms) external;

    /// @notice Withdraws `amount` of the caller's balance in `token` to `to`.
    /// @dev Emits a {Withdrawn} event.
    function withdraw(address token, address to, uint256 amount) external;

    // ---------------------------------------------------------------- views

    /// @notice The registry whose agreements this ledger settles.
    function registry() external view returns (address);

    /// @notice What `account` may withdraw in `token`.
    function balanceOf(address account, address token) external view returns (uint256);

    /// @notice The pool of an agreement's version in a token.
    function pool(uint64 agreementId, uint32 version, address token) external view returns (Pool memory);

    /// @notice What party `partyIndex` has already been credited from a pool.
    function released(uint64 agreementId, uint32 version, address token, uint256 partyIndex)
        external
        view
        returns (uint256);

    /// @notice What party `partyIndex` could be credited from a pool now.
    function claimable(uint64 agreementId, uint32 version, address token, Terms calldata terms, uint256 partyIndex)
        external
        view
        returns (uint256);

    /// @notice The stored state of an order reference: zero (never settled), the record hash, or closed.
    function settlementState(bytes32 orderRef) external view returns (bytes32);

    /// @notice The risk counters of an agreement in a token.
    function riskCounters(uint64 agreementId, address token) external view returns (RiskCounters memory);

    /// @notice The hash under which a settlement record is stored.
    function hashRecord(SettlementRecord calldata record) external pure returns (bytes32);
}
