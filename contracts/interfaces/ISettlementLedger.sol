// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Party} from "./IConcordTypes.sol";

/// @notice One payment: a direct payment (the payer's own order) or a merchant's payment intent.
/// @dev An intent is this struct signed (EIP-712, `PaymentIntent`) by the terms' order signer.
struct Payment {
    uint64 agreementId;
    /// The version the payment was quoted under; it must be the active one when settled.
    uint32 version;
    /// The zero address for ETH.
    address token;
    uint256 gross;
    /// The one channel paid the referral fee, or zero.
    address referrer;
    /// Opaque reference (a salted hash made off chain), unique in its scope: the order signer
    /// for intents, the payer for direct payments. Scopes share bitmap words of 256 references
    /// (all but the lowest byte), so consecutive references are cheap.
    bytes32 orderRef;
    /// Who a refund is credited to (zero: the payer).
    address refundBeneficiary;
    /// The payment settles at or before this timestamp.
    uint256 deadline;
}

/// @notice Reserves held for the settlements of one pool made in one call, released together.
/// @dev Only its hash is stored, under its lot id: uint256(keccak256(abi.encode(scope, orderRef)))
/// of its first entry, unique because that reference settles once in its scope.
/// {ISettlementLedger-ReservesHeld} carries every field.
struct ReserveLot {
    uint64 agreementId;
    uint32 version;
    address token;
    uint40 releaseAt;
    /// Reserve still held (decreases with refunds).
    uint128 held;
    /// Hash chain of the lot's entries: h = keccak256(abi.encode(h, entry)) from h = 0.
    bytes32 entriesHash;
}

/// @notice One settlement's part of a reserve lot.
struct LotEntry {
    address scope;
    bytes32 orderRef;
    address beneficiary;
    /// Reserve still held for this settlement.
    uint128 reserve;
    /// Whether it was refunded at least once (a refund counts once per settlement).
    bool refunded;
}

/// @notice An agreement's pool in one token under one version: what its parties share.
struct Pool {
    /// Net credited so far (settlements, releases, parents' shares), less remainders swept.
    uint128 total;
    /// Reserves still held for this pool (in the same word as `total`: a settlement writes one word).
    uint128 held;
    /// The whole-unit part of `total` already paid to every party by {ISettlementLedger-distribute}.
    uint128 distributed;
}

/// @notice Risk counters of an agreement in one token, the input of risk measurement.
struct RiskCounters {
    uint128 settledVolume;
    uint64 settledCount;
    /// Settlements refunded at least once; never above `settledCount`.
    uint64 refundCount;
    uint128 refundedVolume;
}

/// @title Concord settlement ledger
/// @notice Settles payments against active agreements: the referral fee to the one attested or
/// allowed referrer, the reserve held until the dispute window ends, and the net into the
/// version's pool; refunds to named beneficiaries; payouts from pools; pull withdrawals.
/// @dev Laws (DESIGN.md): for each token, the ledger holds exactly the balances, the held reserves
/// and what pools have not paid out; referral fee + reserve + net = gross; an order reference
/// settles once in its scope; a pool pays each party at most its pro-rata share of the pool's
/// whole units, and only its final remainder goes to the dust party.
interface ISettlementLedger {
    // ---------------------------------------------------------------- errors

    /// @notice Thrown when an amount is zero.
    error LedgerZeroAmount();
    /// @notice Thrown when the order reference is zero.
    error LedgerZeroOrderRef();
    /// @notice Thrown when the order reference was already settled in its scope.
    error LedgerOrderAlreadySettled(address scope, bytes32 orderRef);
    /// @notice Thrown when the agreement cannot settle (not active).
    error LedgerAgreementNotActive(uint64 agreementId);
    /// @notice Thrown when the payment names another version than the active one.
    error LedgerVersionNotActive(uint64 agreementId, uint32 version, uint32 activeVersion);
    /// @notice Thrown when the payment or intent is past its deadline.
    error LedgerPaymentExpired(bytes32 orderRef, uint256 deadline);
    /// @notice Thrown when the terms need an intent and the signature does not verify for the order signer.
    error LedgerInvalidIntent(address orderSigner, bytes32 orderRef);
    /// @notice Thrown when a signature is given for terms without an order signer.
    error LedgerUnexpectedSignature(bytes32 orderRef);
    /// @notice Thrown when the payer names itself (or is named) as referrer.
    error LedgerSelfReferral(address payer);
    /// @notice Thrown when the referrer may not earn the agreement's referral fee.
    error LedgerReferrerNotAllowed(uint64 agreementId, uint32 version, address referrer);
    /// @notice Thrown when a referrer or refund beneficiary could never withdraw (the ledger, the registry, the hub, the token).
    error LedgerUnreachableRecipient(address recipient);
    /// @notice Thrown when the ETH sent does not match (ETH: the gross; tokens: zero).
    error LedgerValueMismatch(uint256 value, uint256 expected);
    /// @notice Thrown when a batch mixes tokens, or its signatures do not match its payments.
    error LedgerBatchInvalid(uint256 index);
    /// @notice Thrown when a token delivers less than the gross (fee on transfer).
    error LedgerTokenDeliveryShort(address token, uint256 expected, uint256 received);
    /// @notice Thrown when an amount does not fit the ledger's 128-bit accounting.
    error LedgerAmountOverflow(uint256 amount);
    /// @notice Thrown when a reserve lot does not match the stored hash (or was released).
    error LedgerUnknownLot(uint256 lotId);
    /// @notice Thrown when the entries passed do not match the lot's entries hash, or the index is out of range.
    error LedgerLotEntriesMismatch(uint256 lotId, uint256 index);
    /// @notice Thrown when releasing a reserve before its dispute window ends.
    error LedgerDisputeWindowOpen(uint256 lotId, uint256 releaseAt);
    /// @notice Thrown when refunding after the dispute window ended.
    error LedgerDisputeWindowClosed(uint256 lotId, uint256 releaseAt);
    /// @notice Thrown when the caller is not the refund authority of the settlement's version.
    error LedgerNotRefundAuthority(address caller, address refundAuthority);
    /// @notice Thrown when a refund exceeds the settlement's remaining reserve.
    error LedgerRefundExceedsReserve(uint256 amount, uint256 reserve);
    /// @notice Thrown when the parties passed are not the version's (or the version was never activated).
    error LedgerPartiesMismatch(uint64 agreementId, uint32 version);
    /// @notice Thrown when a pool's remainder is swept while the pool can still receive value
    /// (from itself or from the pool of a version that pins it, named here).
    error LedgerPoolStillOpen(uint64 agreementId, uint32 version, address token);
    /// @notice Thrown when withdrawing more than the balance.
    error LedgerInsufficientBalance(address account, address token, uint256 balance, uint256 amount);
    /// @notice Thrown when withdrawing to the zero address.
    error LedgerZeroRecipient();
    /// @notice Thrown when an ETH transfer to `to` fails.
    error LedgerEthTransferFailed(address to, uint256 amount);

    // ---------------------------------------------------------------- events

    /// @notice Emitted when a payment is settled. It records the payment as it was paid; the
    /// version's terms determine the rest, so a log carries nothing derivable (docs/contracts.md):
    /// the scope is the terms' order signer, or else the payer; the referral fee and reserve are
    /// SplitMath.split(gross, the terms' rates, referrer != 0); the net goes to the pool; a reserve
    /// is held in the lot of the next {ReservesHeld} of the same transaction.
    /// @param refundBeneficiary Who a refund of its reserve is credited to (the payer unless named).
    event Settled(
        bytes32 indexed orderRef,
        uint64 indexed agreementId,
        uint32 version,
        address token,
        address payer,
        uint256 gross,
        address referrer,
        address refundBeneficiary
    );
    /// @notice Emitted when a call's settlements of one pool hold reserves, after their {Settled} events.
    event ReservesHeld(
        uint256 indexed lotId,
        uint64 indexed agreementId,
        uint32 version,
        address token,
        uint40 releaseAt,
        uint256 held,
        bytes32 entriesHash
    );
    /// @notice Emitted when a lot's remaining reserve is released into its pool.
    event ReserveReleased(
        uint256 indexed lotId, uint64 indexed agreementId, uint32 version, address token, uint256 amount
    );
    /// @notice Emitted when the refund authority refunds from a settlement's reserve to its beneficiary's balance.
    event ReserveRefunded(
        uint256 indexed lotId,
        bytes32 indexed orderRef,
        address indexed beneficiary,
        uint256 entryIndex,
        uint256 amount,
        uint256 remainingReserve
    );
    /// @notice Emitted when a pool pays every party its share of the whole units from `fromTotal`
    /// to `toTotal` (a party that claimed since, from where its claim left it).
    event Distributed(
        uint64 indexed agreementId, uint32 indexed version, address indexed token, uint256 fromTotal, uint256 toTotal
    );
    /// @notice Emitted when one party is paid its share of the pool's whole units up to `paidUpTo`.
    event Claimed(
        uint64 indexed agreementId,
        uint32 indexed version,
        address indexed token,
        uint256 partyIndex,
        uint256 amount,
        uint256 paidUpTo
    );
    /// @notice Emitted when a final pool's remainder (under one unit) goes to the dust party.
    event RemainderSwept(
        uint64 indexed agreementId, uint32 indexed version, address indexed token, uint256 partyIndex, uint256 amount
    );
    /// @notice Emitted when an account withdraws from its balance.
    event Withdrawn(address indexed account, address indexed token, address indexed to, uint256 amount);

    // ---------------------------------------------------------------- settlement

    /// @notice Settles one payment, paid by the caller (ETH as value).
    /// @param signature The order signer's EIP-712 intent signature; empty for terms without an
    /// order signer, or when the caller is the order signer.
    /// @dev Emits a {Settled} event (and {ReservesHeld} with a reserve).
    function settle(Payment calldata payment, bytes calldata signature) external payable;

    /// @notice Settles many payments in one token, paid by the caller; each keeps every guarantee of {settle}.
    /// @param signatures Empty, or one per payment (empty entries where none is needed).
    /// @dev Emits a {Settled} event per payment and a {ReservesHeld} event per lot.
    function settleBatch(Payment[] calldata payments, bytes[] calldata signatures) external payable;

    /// @notice {settle} for an EIP-2612 token, with the payer's permit in the same transaction.
    /// @dev A failing permit (front-run) is ignored when the allowance suffices. Emits a {Settled} event.
    function settleWithPermit(
        Payment calldata payment,
        bytes calldata signature,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice Releases a lot's remaining reserve into its pool after the dispute window; anyone may call.
    /// @dev Emits a {ReserveReleased} event.
    function releaseReserve(uint256 lotId, ReserveLot calldata lot) external;

    /// @notice Refunds `amount` of entry `index`'s reserve to its beneficiary's balance, within the window.
    /// @dev Only the refund authority of the lot's version. Emits a {ReserveRefunded} event.
    function refund(uint256 lotId, ReserveLot calldata lot, LotEntry[] calldata entries, uint256 index, uint256 amount)
        external;

    /// @notice Pays one party what it is owed from a pool, proving its place with a Merkle proof; anyone may call.
    /// @dev Emits a {Claimed} event.
    function claim(
        uint64 agreementId,
        uint32 version,
        address token,
        uint256 partyIndex,
        Party calldata party,
        bytes32[] calldata proof
    ) external;

    /// @notice Pays every party what it is owed from a pool; anyone may call.
    /// @param parties Every party of the version, in the terms' order, each packed in one word
    /// (PartyTree.pack; the SDK's `packParties`), checked against the registry's `distribution` hash.
    /// @dev Emits one {Distributed} event.
    function distribute(uint64 agreementId, uint32 version, address token, uint256[] calldata parties) external;

    /// @notice Credits a final pool's remainder to its dust party; anyone may call. A pool is final
    /// when nothing can credit it again: its version cannot settle, it holds no reserve, and every
    /// version that pinned it is final in the same token and has paid out everything
    /// (`total == distributed`: its own remainder swept first).
    /// @dev Emits a {RemainderSwept} event.
    function sweepRemainder(
        uint64 agreementId,
        uint32 version,
        address token,
        Party calldata dustParty,
        bytes32[] calldata proof
    ) external;

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

    /// @notice The pool total up to which a party was paid by its own claims (0: never claimed).
    function paidUpTo(uint64 agreementId, uint32 version, address token, uint256 partyIndex)
        external
        view
        returns (uint256);

    /// @notice The stored hash of a reserve lot (zero: unknown or released).
    function lotHash(uint256 lotId) external view returns (bytes32);

    /// @notice Whether `orderRef` was settled in `scope`.
    function isOrderSettled(address scope, bytes32 orderRef) external view returns (bool);

    /// @notice The risk counters of an agreement in a token.
    function riskCounters(uint64 agreementId, address token) external view returns (RiskCounters memory);

    /// @notice The EIP-712 digest an order signer signs for `payment`.
    function intentDigest(Payment calldata payment) external view returns (bytes32);

    /// @notice The hash under which a reserve lot is stored.
    function hashLot(ReserveLot calldata lot) external pure returns (bytes32);

    /// @notice Raw storage words, for readers that check state in bulk (layout pinned by tests).
    function extsload(bytes32[] calldata slots) external view returns (bytes32[] memory values);
}
