// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAgreementRegistry} from "./interfaces/IAgreementRegistry.sol";
import {Party, SettlementTerms, VersionPayout, VersionRef} from "./interfaces/IConcordTypes.sol";
import {
    ISettlementLedger, LotEntry, Payment, Pool, ReserveLot, RiskCounters
} from "./interfaces/ISettlementLedger.sol";
import {PartyTree} from "./libraries/PartyTree.sol";
import {SplitMath} from "./libraries/SplitMath.sol";

/// @title SettlementLedger
/// @notice Settlements, reserve lots, refunds, pools with Merkle-committed parties and pull
/// withdrawals. See {ISettlementLedger} and docs/contracts.md.
/// @dev Conservation, for each token T (address(0) is ETH):
///   holdings(T) = sum(balances[*][T]) + sum over pools in T of (total - paid out) , where a
///   pool's `held` counts the reserves of its live lots and `total` what it has been credited.
/// Every function below moves value between these terms and never creates or drops any.
contract SettlementLedger is ISettlementLedger, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------- constants

    /// @notice EIP-712 type hash of a merchant's payment intent.
    bytes32 public constant PAYMENT_INTENT_TYPEHASH = keccak256(
        "PaymentIntent(uint64 agreementId,uint32 version,address token,uint256 gross,address referrer,"
        "bytes32 orderRef,address refundBeneficiary,uint256 deadline)"
    );

    address private constant ETH = address(0);
    /// @dev The registry's nesting limit: a version has at most this many levels of parents above it.
    uint256 private constant MAX_NESTING_DEPTH = 4;

    /// @notice The registry whose agreements this ledger settles.
    IAgreementRegistry public immutable REGISTRY;
    /// @dev The registry's negotiation hub: it can never withdraw, so it is never a recipient.
    address private immutable HUB;

    // ---------------------------------------------------------------- storage

    /// @dev Balance plus one once credited, so that a withdrawn balance keeps its word non-zero.
    mapping(address account => mapping(address token => uint256 balancePlusOne)) private _balances;
    mapping(uint64 agreementId => mapping(uint32 version => mapping(address token => Pool))) private _pools;
    /// @dev keccak256(poolKey, partyIndex) => the distributable total a party's own claim paid it up to.
    mapping(bytes32 poolPartyKey => uint256) private _paidUpTo;
    /// @dev Per pool, bit i set: party i claimed since the last distribution.
    mapping(bytes32 poolKey => mapping(uint256 word => uint256 bits)) private _claimedSince;
    mapping(address scope => mapping(uint256 word => uint256 bits)) private _orderBitmaps;
    mapping(uint256 lotId => bytes32 lotHash) private _lots;
    mapping(uint64 agreementId => mapping(address token => RiskCounters)) private _risk;


    /// @dev What one settling call carries from one payment to the next: the agreement's terms,
    /// the last allowed referrer, the order bitmap word in use, and the current run of payments
    /// into one pool, whose pool, risk and lot words are written once when the run ends.
    struct Call {
        address token;
        uint256 grossSum;
        uint64 cachedAgreement;
        SettlementTerms terms;
        address allowedReferrer;
        address bitsScope;
        uint256 bitsWord;
        uint256 bits;
        uint64 runAgreement;
        uint32 runVersion;
        uint256 runNet;
        uint256 runGross;
        uint256 runCount;
        uint256 lotId;
        uint256 lotHeld;
        bytes32 lotEntries;
    }


    // ---------------------------------------------------------------- constructor

    constructor(IAgreementRegistry registry_) EIP712("Concord Ledger", "1") {
        REGISTRY = registry_;
        HUB = registry_.negotiationHub();
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ISettlementLedger
    function settle(Payment calldata payment, bytes calldata signature) external payable nonReentrant {
        Call memory call_ = _startCall(payment.token);
        _settleOne(call_, payment, signature);
        _finishCall(call_);
    }

    /// @inheritdoc ISettlementLedger
    function settleBatch(Payment[] calldata payments, bytes[] calldata signatures) external payable nonReentrant {
        uint256 count = payments.length;
        if (count == 0) revert LedgerBatchInvalid(0);
        if (signatures.length != 0 && signatures.length != count) revert LedgerBatchInvalid(signatures.length);
        Call memory call_ = _startCall(payments[0].token);
        for (uint256 i; i < count; ++i) {
            Payment calldata payment = payments[i];
            if (payment.token != call_.token) revert LedgerBatchInvalid(i);
            _settleOne(call_, payment, signatures.length == 0 ? msg.data[0:0] : signatures[i]);
        }
        _finishCall(call_);
    }

    /// @inheritdoc ISettlementLedger
    function settleWithPermit(
        Payment calldata payment,
        bytes calldata signature,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant {
        if (payment.token == ETH) revert LedgerValueMismatch(0, payment.gross);
        // A front-run permit must not block the payment: the allowance decides (OpenZeppelin's advice).
        // solhint-disable no-empty-blocks
        try IERC20Permit(payment.token).permit(msg.sender, address(this), payment.gross, permitDeadline, v, r, s) {}
        catch {}
        // solhint-enable no-empty-blocks
        Call memory call_ = _startCall(payment.token);
        _settleOne(call_, payment, signature);
        _finishCall(call_);
    }

    /// @inheritdoc ISettlementLedger
    function releaseReserve(uint256 lotId, ReserveLot calldata lot) external nonReentrant {
        _checkLot(lotId, lot);
        if (block.timestamp < lot.releaseAt) revert LedgerDisputeWindowOpen(lotId, lot.releaseAt);
        delete _lots[lotId];
        Pool storage pool_ = _pools[lot.agreementId][lot.version][lot.token];
        // Cannot underflow: the pool's held sum includes this lot's held reserve.
        unchecked {
            pool_.held -= lot.held;
        }
        pool_.total = _toUint128(uint256(pool_.total) + lot.held);
        emit ReserveReleased(lotId, lot.agreementId, lot.version, lot.token, lot.held);
    }

    /// @inheritdoc ISettlementLedger
    function refund(uint256 lotId, ReserveLot calldata lot, LotEntry[] calldata entries, uint256 index, uint256 amount)
        external
        nonReentrant
    {
        _checkLot(lotId, lot);
        if (block.timestamp >= lot.releaseAt) revert LedgerDisputeWindowClosed(lotId, lot.releaseAt);
        address authority = REGISTRY.versionPayout(lot.agreementId, lot.version).refundAuthority;
        if (msg.sender != authority || authority == address(0)) revert LedgerNotRefundAuthority(msg.sender, authority);
        if (amount == 0) revert LedgerZeroAmount();
        if (index >= entries.length) revert LedgerLotEntriesMismatch(lotId, index);
        LotEntry calldata entry = entries[index];
        if (amount > entry.reserve) revert LedgerRefundExceedsReserve(amount, entry.reserve);

        // Cannot underflow: amount <= entry.reserve <= lot.held (the entries hash checks the entry).
        uint128 remaining;
        uint128 held;
        unchecked {
            remaining = entry.reserve - uint128(amount);
            held = lot.held - uint128(amount);
        }
        bytes32 updatedEntries = _refundedEntries(lotId, lot.entriesHash, entries, index, remaining);
        if (held == 0) {
            delete _lots[lotId];
        } else {
            ReserveLot memory updated = lot;
            updated.held = held;
            updated.entriesHash = updatedEntries;
            _lots[lotId] = keccak256(abi.encode(updated));
        }
        unchecked {
            _pools[lot.agreementId][lot.version][lot.token].held -= uint128(amount);
        }
        _credit(entry.beneficiary, lot.token, amount);
        RiskCounters storage risk = _risk[lot.agreementId][lot.token];
        risk.refundedVolume = _toUint128(uint256(risk.refundedVolume) + amount);
        // A settlement counts once however many times it is refunded: refundCount <= settledCount.
        if (!entry.refunded) risk.refundCount += 1;
        emit ReserveRefunded(lotId, entry.orderRef, entry.beneficiary, index, amount, remaining);
    }

    // ---------------------------------------------------------------- payouts

    /// @inheritdoc ISettlementLedger
    function claim(
        uint64 agreementId,
        uint32 version,
        address token,
        uint256 partyIndex,
        Party calldata party,
        bytes32[] calldata proof
    ) external nonReentrant {
        VersionPayout memory payout = REGISTRY.versionPayout(agreementId, version);
        if (
            payout.unit == 0 || partyIndex >= payout.partyCount
                || !PartyTree.verify(payout.partiesRoot, partyIndex, party, proof)
        ) revert LedgerPartiesMismatch(agreementId, version);
        Pool storage pool_ = _pools[agreementId][version][token];
        uint256 upTo = SplitMath.distributable(pool_.total, payout.unit);
        bytes32 poolKey = _poolKey(agreementId, version, token);
        bytes32 key = _poolPartyKey(poolKey, partyIndex);
        uint256 start = _paidUpTo[key];
        if (pool_.distributed > start) start = pool_.distributed;
        if (upTo <= start) return;
        // upTo - start is a whole number of units, so the share is exact.
        uint256 amount = SplitMath.partyShare(upTo - start, party.shareBps);
        _paidUpTo[key] = upTo;
        _claimedSince[poolKey][partyIndex >> 8] |= uint256(1) << (partyIndex & 0xff);
        _creditParty(party, token, amount);
        emit Claimed(agreementId, version, token, partyIndex, amount, upTo);
    }

    /// @inheritdoc ISettlementLedger
    function distribute(uint64 agreementId, uint32 version, address token, uint256[] calldata parties)
        external
        nonReentrant
    {
        (bytes32 listHash, uint256 unit) = REGISTRY.distribution(agreementId, version);
        if (unit == 0 || PartyTree.listHash(parties) != listHash) revert LedgerPartiesMismatch(agreementId, version);
        Pool storage pool_ = _pools[agreementId][version][token];
        uint256 from = pool_.distributed;
        uint256 upTo = SplitMath.distributable(pool_.total, unit);
        if (upTo == from) return;
        _payEveryParty(_poolKey(agreementId, version, token), parties, token, from, upTo);
        // upTo <= total < 2**128.
        pool_.distributed = uint128(upTo);
        emit Distributed(agreementId, version, token, from, upTo);
    }

    /// @inheritdoc ISettlementLedger
    function sweepRemainder(
        uint64 agreementId,
        uint32 version,
        address token,
        Party calldata dustParty,
        bytes32[] calldata proof
    ) external nonReentrant {
        VersionPayout memory payout = REGISTRY.versionPayout(agreementId, version);
        if (payout.unit == 0 || !PartyTree.verify(payout.partiesRoot, payout.dustPartyIndex, dustParty, proof)) {
            revert LedgerPartiesMismatch(agreementId, version);
        }
        _requireFinal(agreementId, version, token, 0);
        Pool storage pool_ = _pools[agreementId][version][token];
        uint256 remainder = pool_.total % payout.unit;
        if (remainder == 0) return;
        // Cannot underflow: remainder <= total; the distributable part is unchanged. Nothing can
        // credit a final pool again, so this is its one and final remainder.
        unchecked {
            pool_.total -= uint128(remainder);
        }
        _creditParty(dustParty, token, remainder);
        emit RemainderSwept(agreementId, version, token, payout.dustPartyIndex, remainder);
    }

    /// @inheritdoc ISettlementLedger
    function withdraw(address token, address to, uint256 amount) external nonReentrant {
        if (to == address(0)) revert LedgerZeroRecipient();
        if (amount == 0) revert LedgerZeroAmount();
        uint256 stored = _balances[msg.sender][token];
        // The balance is stored - 1 (or 0 if never credited): amount <= balance means amount < stored.
        if (amount >= stored) revert LedgerInsufficientBalance(msg.sender, token, stored == 0 ? 0 : stored - 1, amount);
        // Cannot underflow: amount < stored; the word stays at least one.
        unchecked {
            _balances[msg.sender][token] = stored - amount;
        }
        emit Withdrawn(msg.sender, token, to, amount);
        if (token == ETH) {
            // All gas forwarded: contract wallets must be able to receive. A reverting or
            // re-entering recipient can only fail its own withdrawal (state is final, guard is held).
            (bool ok,) = payable(to).call{value: amount}("");
            if (!ok) revert LedgerEthTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISettlementLedger
    function registry() external view returns (address) {
        return address(REGISTRY);
    }

    /// @inheritdoc ISettlementLedger
    function balanceOf(address account, address token) external view returns (uint256) {
        uint256 stored = _balances[account][token];
        return stored == 0 ? 0 : stored - 1;
    }

    /// @inheritdoc ISettlementLedger
    function pool(uint64 agreementId, uint32 version, address token) external view returns (Pool memory) {
        return _pools[agreementId][version][token];
    }

    /// @inheritdoc ISettlementLedger
    function paidUpTo(uint64 agreementId, uint32 version, address token, uint256 partyIndex)
        external
        view
        returns (uint256)
    {
        return _paidUpTo[_poolPartyKey(_poolKey(agreementId, version, token), partyIndex)];
    }

    /// @inheritdoc ISettlementLedger
    function lotHash(uint256 lotId) external view returns (bytes32) {
        return _lots[lotId];
    }

    /// @inheritdoc ISettlementLedger
    function isOrderSettled(address scope, bytes32 orderRef) external view returns (bool) {
        return _orderBitmaps[scope][uint256(orderRef) >> 8] & (uint256(1) << (uint256(orderRef) & 0xff)) != 0;
    }

    /// @inheritdoc ISettlementLedger
    function riskCounters(uint64 agreementId, address token) external view returns (RiskCounters memory) {
        return _risk[agreementId][token];
    }

    /// @inheritdoc ISettlementLedger
    function intentDigest(Payment calldata payment) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    PAYMENT_INTENT_TYPEHASH,
                    payment.agreementId,
                    payment.version,
                    payment.token,
                    payment.gross,
                    payment.referrer,
                    payment.orderRef,
                    payment.refundBeneficiary,
                    payment.deadline
                )
            )
        );
    }

    /// @inheritdoc ISettlementLedger
    function hashLot(ReserveLot calldata lot) external pure returns (bytes32) {
        return keccak256(abi.encode(lot));
    }

    /// @inheritdoc ISettlementLedger
    function extsload(bytes32[] calldata slots) external view returns (bytes32[] memory values) {
        values = new bytes32[](slots.length);
        for (uint256 i; i < slots.length; ++i) {
            bytes32 slot = slots[i];
            bytes32 value;
            assembly ("memory-safe") {
                value := sload(slot)
            }
            values[i] = value;
        }
    }

    // ---------------------------------------------------------------- internal: settling

    function _startCall(address token) private pure returns (Call memory call_) {
        call_.token = token;
    }

    /// @dev Checks, books and emits one payment of the call.
    function _settleOne(Call memory call_, Payment calldata payment, bytes calldata signature) private {
        if (payment.gross == 0) revert LedgerZeroAmount();
        if (payment.orderRef == bytes32(0)) revert LedgerZeroOrderRef();
        if (block.timestamp > payment.deadline) revert LedgerPaymentExpired(payment.orderRef, payment.deadline);
        if (payment.agreementId != call_.cachedAgreement) {
            if (call_.runCount != 0) _flushRun(call_);
            call_.terms = REGISTRY.settlementTerms(payment.agreementId);
            call_.cachedAgreement = payment.agreementId;
            call_.allowedReferrer = address(0);
        }
        SettlementTerms memory terms = call_.terms;
        if (terms.version == 0) revert LedgerAgreementNotActive(payment.agreementId);
        if (payment.version != terms.version) {
            revert LedgerVersionNotActive(payment.agreementId, payment.version, terms.version);
        }
        address scope = _authorize(call_, terms, payment, signature);
        _useOrderRef(call_, scope, payment.orderRef);
        call_.grossSum += payment.gross;
        _book(call_, terms, payment, scope);
    }

    /// @dev The order reference's scope: the order signer, whose intent (or own call) attests the
    /// payment and its referrer, or else the payer, whose referrer the terms must list.
    function _authorize(
        Call memory call_,
        SettlementTerms memory terms,
        Payment calldata payment,
        bytes calldata signature
    ) private view returns (address scope) {
        address referrer = payment.referrer;
        if (terms.orderSigner != address(0)) {
            scope = terms.orderSigner;
            if (msg.sender != scope && !SignatureChecker.isValidSignatureNow(scope, intentDigest(payment), signature)) {
                revert LedgerInvalidIntent(scope, payment.orderRef);
            }
        } else {
            if (signature.length != 0) revert LedgerUnexpectedSignature(payment.orderRef);
            scope = msg.sender;
            if (referrer != address(0) && referrer != call_.allowedReferrer) {
                if (!REGISTRY.isReferrerAllowed(payment.agreementId, terms.version, referrer)) {
                    revert LedgerReferrerNotAllowed(payment.agreementId, terms.version, referrer);
                }
                call_.allowedReferrer = referrer;
            }
        }
        if (referrer != address(0)) {
            if (referrer == msg.sender) revert LedgerSelfReferral(msg.sender);
            _checkReachable(referrer, payment.token);
        }
        if (payment.refundBeneficiary != address(0)) _checkReachable(payment.refundBeneficiary, payment.token);
    }

    /// @dev Splits the gross: the fee to the referrer's balance, the net and the reserve into the
    /// call's run for this pool (the reserve as an entry of the run's lot); emits {Settled}.
    function _book(Call memory call_, SettlementTerms memory terms, Payment calldata payment, address scope) private {
        // A run is one pool: _settleOne ends it when the agreement (hence the version) changes.
        if (call_.runCount == 0) {
            call_.runAgreement = payment.agreementId;
            call_.runVersion = terms.version;
        }
        (uint256 referralFee, uint256 reserve, uint256 net) =
            SplitMath.split(payment.gross, terms.referralFeeBps, terms.reserveBps, payment.referrer != address(0));
        call_.runNet += net;
        call_.runGross += payment.gross;
        call_.runCount += 1;
        if (referralFee != 0) _credit(payment.referrer, payment.token, referralFee);
        address beneficiary = payment.refundBeneficiary == address(0) ? msg.sender : payment.refundBeneficiary;
        if (reserve != 0) {
            if (call_.lotId == 0) call_.lotId = uint256(keccak256(abi.encode(scope, payment.orderRef)));
            call_.lotHeld += reserve;
            call_.lotEntries = keccak256(
                abi.encode(
                    call_.lotEntries,
                    LotEntry({
                        scope: scope,
                        orderRef: payment.orderRef,
                        beneficiary: beneficiary,
                        // reserve < gross <= the run's gross, which _flushRun checks fits 128 bits.
                        reserve: uint128(reserve),
                        refunded: false
                    })
                )
            );
        }
        emit Settled(
            payment.orderRef,
            payment.agreementId,
            payment.version,
            payment.token,
            msg.sender,
            payment.gross,
            payment.referrer,
            beneficiary
        );
    }

    /// @dev Writes the run's pool word (net and reserves), risk counters and lot, once.
    function _flushRun(Call memory call_) private {
        uint64 agreementId = call_.runAgreement;
        uint32 version = call_.runVersion;
        address token = call_.token;
        Pool storage pool_ = _pools[agreementId][version][token];
        pool_.total = _toUint128(uint256(pool_.total) + call_.runNet);
        RiskCounters storage risk = _risk[agreementId][token];
        risk.settledVolume = _toUint128(uint256(risk.settledVolume) + call_.runGross);
        // A run has fewer payments than a call's calldata could hold: far below 2**64.
        risk.settledCount += uint64(call_.runCount);
        if (call_.lotId != 0) {
            uint128 held = _toUint128(call_.lotHeld);
            pool_.held = _toUint128(uint256(pool_.held) + held);
            // A dispute window is at most 365 days, so the release time fits 40 bits for ages.
            uint40 releaseAt = uint40(block.timestamp + call_.terms.disputeWindow);
            ReserveLot memory lot = ReserveLot({
                agreementId: agreementId,
                version: version,
                token: token,
                releaseAt: releaseAt,
                held: held,
                entriesHash: call_.lotEntries
            });
            _lots[call_.lotId] = keccak256(abi.encode(lot));
            emit ReservesHeld(call_.lotId, agreementId, version, token, releaseAt, held, call_.lotEntries);
        }
        call_.runNet = 0;
        call_.runGross = 0;
        call_.runCount = 0;
        call_.lotId = 0;
        call_.lotHeld = 0;
        call_.lotEntries = bytes32(0);
    }

    /// @dev Closes the call's run and bitmap word, then takes the payment: interaction last, with the guard held.
    function _finishCall(Call memory call_) private {
        _flushRun(call_);
        if (call_.bitsScope != address(0)) _orderBitmaps[call_.bitsScope][call_.bitsWord] = call_.bits;
        uint256 expectedValue = call_.token == ETH ? call_.grossSum : 0;
        if (msg.value != expectedValue) revert LedgerValueMismatch(msg.value, expectedValue);
        if (call_.token != ETH) _collectToken(call_.token, call_.grossSum);
    }

    /// @dev Delivery is measured, not trusted (fee-on-transfer tokens are refused).
    function _collectToken(address token, uint256 gross) private {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), gross);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != gross) revert LedgerTokenDeliveryShort(token, gross, received);
    }

    /// @dev Marks `orderRef` settled in `scope` in the call's cached bitmap word (written back
    /// when another word is needed and at the end of the call).
    function _useOrderRef(Call memory call_, address scope, bytes32 orderRef) private {
        uint256 word = uint256(orderRef) >> 8;
        if (scope != call_.bitsScope || word != call_.bitsWord) {
            if (call_.bitsScope != address(0)) _orderBitmaps[call_.bitsScope][call_.bitsWord] = call_.bits;
            call_.bitsScope = scope;
            call_.bitsWord = word;
            call_.bits = _orderBitmaps[scope][word];
        }
        uint256 bit = uint256(1) << (uint256(orderRef) & 0xff);
        if (call_.bits & bit != 0) revert LedgerOrderAlreadySettled(scope, orderRef);
        call_.bits |= bit;
    }

    function _checkReachable(address recipient, address token) private view {
        if (
            recipient == address(this) || recipient == address(REGISTRY) || recipient == HUB
                || (token != ETH && recipient == token)
        ) revert LedgerUnreachableRecipient(recipient);
    }

    // ---------------------------------------------------------------- internal: lots and credits

    function _checkLot(uint256 lotId, ReserveLot calldata lot) private view {
        bytes32 stored = _lots[lotId];
        if (stored == bytes32(0) || stored != keccak256(abi.encode(lot))) revert LedgerUnknownLot(lotId);
    }

    /// @dev Checks `entries` against the lot's hash chain and returns the chain with entry `index`
    /// holding `remaining` and marked refunded.
    function _refundedEntries(
        uint256 lotId,
        bytes32 expected,
        LotEntry[] calldata entries,
        uint256 index,
        uint128 remaining
    ) private pure returns (bytes32 updated) {
        bytes32 chain;
        for (uint256 i; i < entries.length; ++i) {
            LotEntry calldata entry = entries[i];
            chain = keccak256(abi.encode(chain, entry));
            if (i == index) {
                LotEntry memory refunded = entry;
                refunded.reserve = remaining;
                refunded.refunded = true;
                updated = keccak256(abi.encode(updated, refunded));
            } else {
                updated = keccak256(abi.encode(updated, entry));
            }
        }
        if (chain != expected) revert LedgerLotEntriesMismatch(lotId, index);
    }

    /// @dev Pays every party its share of the units from `from` (or from where its own claim since
    /// the last distribution left it) to `upTo`, and forgets those claims.
    function _payEveryParty(bytes32 poolKey, uint256[] calldata parties, address token, uint256 from, uint256 upTo)
        private
    {
        mapping(uint256 => uint256) storage claimedSince = _claimedSince[poolKey];
        uint256 bits;
        uint256 count = parties.length;
        uint256 units = upTo - from;
        for (uint256 i; i < count; ++i) {
            if (i & 0xff == 0) {
                bits = claimedSince[i >> 8];
                if (bits != 0) claimedSince[i >> 8] = 0;
            }
            // The list hash matched the registry's, so each word is PartyTree.pack of a validated party.
            uint256 packed = parties[i];
            uint256 shareBps = (packed >> 160) & 0xffff;
            uint256 amount;
            if ((bits >> (i & 0xff)) & 1 == 0) {
                // units is a whole number of units, so the share is exact.
                amount = SplitMath.partyShare(units, shareBps);
            } else {
                uint256 start = _startAfterClaim(poolKey, i, from);
                if (upTo == start) continue;
                amount = SplitMath.partyShare(upTo - start, shareBps);
            }
            if (packed & PartyTree.NESTED == 0) {
                _credit(address(uint160(packed)), token, amount);
            } else {
                _creditPool(uint64(packed >> 32), uint32(packed), token, amount);
            }
        }
    }

    /// @dev Where a party that claimed since the last distribution starts: its own claim's mark.
    function _startAfterClaim(bytes32 poolKey, uint256 partyIndex, uint256 from) private view returns (uint256) {
        uint256 paid = _paidUpTo[_poolPartyKey(poolKey, partyIndex)];
        return paid > from ? paid : from;
    }

    /// @dev Reverts unless nothing can credit the pool again: its version cannot settle, it holds
    /// no reserve, and every version that pinned it has paid out everything in `token` and is
    /// final itself (parents have higher ids and the nesting is at most 4 deep, so this ends).
    function _requireFinal(uint64 agreementId, uint32 version, address token, uint256 depth) private view {
        Pool storage pool_ = _pools[agreementId][version][token];
        if (
            depth > MAX_NESTING_DEPTH || pool_.held != 0 || REGISTRY.settlementTerms(agreementId).version == version
        ) revert LedgerPoolStillOpen(agreementId, version, token);
        VersionRef[] memory parents = REGISTRY.pinnedBy(agreementId, version);
        for (uint256 i; i < parents.length; ++i) {
            VersionRef memory parent = parents[i];
            Pool storage parentPool = _pools[parent.agreementId][parent.version][token];
            if (parentPool.total != parentPool.distributed) {
                revert LedgerPoolStillOpen(parent.agreementId, parent.version, token);
            }
            _requireFinal(parent.agreementId, parent.version, token, depth + 1);
        }
    }

    function _credit(address account, address token, uint256 amount) private {
        mapping(address => uint256) storage balances = _balances[account];
        uint256 stored = balances[token];
        // Cannot overflow: every credit is below 2**128 (pool amounts, remainders and reserves are
        // uint128; a referral fee is part of a gross counted into the uint128 settledVolume), so a
        // balance would need about 2**128 credits to wrap.
        unchecked {
            balances[token] = stored == 0 ? amount + 1 : stored + amount;
        }
    }

    /// @dev An account's balance, or the pool of a nested party's pinned version.
    function _creditParty(Party calldata party, address token, uint256 amount) private {
        if (party.agreementId == 0) {
            _credit(party.account, token, amount);
        } else {
            _creditPool(party.agreementId, party.version, token, amount);
        }
    }

    /// @dev Credits a nested party's pinned version's pool.
    function _creditPool(uint64 agreementId, uint32 version, address token, uint256 amount) private {
        Pool storage child = _pools[agreementId][version][token];
        child.total = _toUint128(uint256(child.total) + amount);
    }

    function _poolKey(uint64 agreementId, uint32 version, address token) private pure returns (bytes32) {
        return keccak256(abi.encode(agreementId, version, token));
    }

    function _poolPartyKey(bytes32 poolKey, uint256 partyIndex) private pure returns (bytes32) {
        return keccak256(abi.encode(poolKey, partyIndex));
    }

    function _toUint128(uint256 amount) private pure returns (uint128) {
        if (amount > type(uint128).max) revert LedgerAmountOverflow(amount);
        return uint128(amount);
    }
}
