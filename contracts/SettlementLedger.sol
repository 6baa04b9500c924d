// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAgreementRegistry} from "./interfaces/IAgreementRegistry.sol";
import {AgreementStatus, Party, ReferrerPolicy, SettlementConfig, Terms} from "./interfaces/IConcordTypes.sol";
import {ISettlementLedger, Pool, RiskCounters, SettlementRecord} from "./interfaces/ISettlementLedger.sol";
import {SplitMath} from "./libraries/SplitMath.sol";
import {TermsLib} from "./libraries/TermsLib.sol";

/// @title SettlementLedger
/// @notice Settlements, reserves, refunds, lazy party pools and pull withdrawals. See {ISettlementLedger}.
/// @dev Conservation, for each token T (address(0) is ETH):
///   holdings(T) = sum(balances[*][T]) + sum(held reserves in T) + sum over pools in T of
///   (distributable + dust - sum(released)).
/// Every function below moves value between these terms and never creates or drops any.
contract SettlementLedger is ISettlementLedger, ReentrancyGuardTransient, Multicall {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------- constants

    /// @dev Stored for an order reference once it has no reserve left to release or refund.
    bytes32 private constant CLOSED = bytes32(uint256(1));

    address private constant ETH = address(0);

    /// @notice The registry whose agreements this ledger settles (see {registry}).
    IAgreementRegistry public immutable REGISTRY;

    // ---------------------------------------------------------------- storage

    mapping(address account => mapping(address token => uint256)) private _balances;
    mapping(uint64 agreementId => mapping(uint32 version => mapping(address token => Pool))) private _pools;
    mapping(bytes32 poolPartyKey => uint256) private _released;
    mapping(bytes32 orderRef => bytes32 state) private _settlements;
    mapping(uint64 agreementId => mapping(address token => RiskCounters)) private _risk;

    // ---------------------------------------------------------------- constructor

    constructor(IAgreementRegistry registry_) {
        REGISTRY = registry_;
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ISettlementLedger
    function settle(uint64 agreementId, address token, uint256 gross, address referrer, bytes32 orderRef)
        external
        payable
        nonReentrant
    {
        uint256 expectedValue = token == ETH ? gross : 0;
        if (msg.value != expectedValue) revert LedgerValueMismatch(msg.value, expectedValue);
        _settle(agreementId, token, gross, referrer, orderRef);
    }

    /// @inheritdoc ISettlementLedger
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
    ) external nonReentrant {
        if (token == ETH) revert LedgerValueMismatch(0, gross);
        // A front-run permit must not block the payment: the allowance decides (OpenZeppelin's advice).
        // solhint-disable-next-line no-empty-blocks
        try IERC20Permit(token).permit(msg.sender, address(this), gross, permitDeadline, v, r, s) {} catch {}
        _settle(agreementId, token, gross, referrer, orderRef);
    }

    /// @inheritdoc ISettlementLedger
    function releaseReserve(bytes32 orderRef, SettlementRecord calldata record) external nonReentrant {
        _checkRecord(orderRef, record);
        if (block.timestamp < record.releaseAt) revert LedgerDisputeWindowOpen(orderRef, record.releaseAt);
        _settlements[orderRef] = CLOSED;
        (, uint16 unit) = REGISTRY.versionPayout(record.agreementId, record.version);
        _creditPool(record.agreementId, record.version, record.token, record.reserve, unit);
        emit ReserveReleased(orderRef, record.agreementId, record.version, record.token, record.reserve);
    }

    /// @inheritdoc ISettlementLedger
    function refund(bytes32 orderRef, SettlementRecord calldata record, uint256 amount) external nonReentrant {
        _checkRecord(orderRef, record);
        if (block.timestamp >= record.releaseAt) revert LedgerDisputeWindowClosed(orderRef, record.releaseAt);
        (address authority,) = REGISTRY.versionPayout(record.agreementId, record.version);
        if (msg.sender != authority) revert LedgerNotRefundAuthority(msg.sender, authority);
        if (amount == 0) revert LedgerZeroAmount();
        if (amount > record.reserve) revert LedgerRefundExceedsReserve(amount, record.reserve);

        uint128 remaining;
        // Cannot underflow: amount <= record.reserve, checked above.
        unchecked {
            remaining = record.reserve - uint128(amount);
        }
        if (remaining == 0) {
            _settlements[orderRef] = CLOSED;
        } else {
            SettlementRecord memory updated = record;
            updated.reserve = remaining;
            _settlements[orderRef] = keccak256(abi.encode(updated));
        }
        _balances[record.payer][record.token] += amount;
        RiskCounters storage risk = _risk[record.agreementId][record.token];
        risk.refundCount += 1;
        risk.refundedVolume += amount;
        emit ReserveRefunded(
            orderRef, record.agreementId, record.version, record.token, record.payer, amount, remaining
        );
    }

    /// @inheritdoc ISettlementLedger
    function claim(uint64 agreementId, uint32 version, address token, Terms calldata terms, uint256 partyIndex)
        external
        nonReentrant
    {
        _checkTerms(agreementId, version, terms);
        uint256 count = terms.parties.length;
        if (partyIndex >= count) revert LedgerPartyIndexOutOfRange(partyIndex, count);
        _claim(agreementId, version, token, terms, partyIndex, _pools[agreementId][version][token]);
    }

    /// @inheritdoc ISettlementLedger
    function distribute(uint64 agreementId, uint32 version, address token, Terms calldata terms)
        external
        nonReentrant
    {
        _checkTerms(agreementId, version, terms);
        Pool memory pool_ = _pools[agreementId][version][token];
        uint256 count = terms.parties.length;
        for (uint256 i; i < count; ++i) {
            _claim(agreementId, version, token, terms, i, pool_);
        }
    }

    /// @inheritdoc ISettlementLedger
    function withdraw(address token, address to, uint256 amount) external nonReentrant {
        if (to == address(0)) revert LedgerZeroRecipient();
        if (amount == 0) revert LedgerZeroAmount();
        uint256 balance = _balances[msg.sender][token];
        if (amount > balance) revert LedgerInsufficientBalance(msg.sender, token, balance, amount);
        // Cannot underflow: amount <= balance, checked above.
        unchecked {
            _balances[msg.sender][token] = balance - amount;
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
        return _balances[account][token];
    }

    /// @inheritdoc ISettlementLedger
    function pool(uint64 agreementId, uint32 version, address token) external view returns (Pool memory) {
        return _pools[agreementId][version][token];
    }

    /// @inheritdoc ISettlementLedger
    function released(uint64 agreementId, uint32 version, address token, uint256 partyIndex)
        external
        view
        returns (uint256)
    {
        return _released[_poolPartyKey(agreementId, version, token, partyIndex)];
    }

    /// @inheritdoc ISettlementLedger
    function claimable(uint64 agreementId, uint32 version, address token, Terms calldata terms, uint256 partyIndex)
        external
        view
        returns (uint256)
    {
        _checkTerms(agreementId, version, terms);
        uint256 count = terms.parties.length;
        if (partyIndex >= count) revert LedgerPartyIndexOutOfRange(partyIndex, count);
        return _entitlement(terms, partyIndex, _pools[agreementId][version][token])
            - _released[_poolPartyKey(agreementId, version, token, partyIndex)];
    }

    /// @inheritdoc ISettlementLedger
    function settlementState(bytes32 orderRef) external view returns (bytes32) {
        return _settlements[orderRef];
    }

    /// @inheritdoc ISettlementLedger
    function riskCounters(uint64 agreementId, address token) external view returns (RiskCounters memory) {
        return _risk[agreementId][token];
    }

    /// @inheritdoc ISettlementLedger
    function hashRecord(SettlementRecord calldata record) external pure returns (bytes32) {
        return keccak256(abi.encode(record));
    }

    // ---------------------------------------------------------------- internal

    function _settle(uint64 agreementId, address token, uint256 gross, address referrer, bytes32 orderRef) private {
        if (gross == 0) revert LedgerZeroAmount();
        if (orderRef == bytes32(0)) revert LedgerZeroOrderRef();
        if (_settlements[orderRef] != bytes32(0)) revert LedgerOrderAlreadySettled(orderRef);
        SettlementConfig memory config = _settlementConfig(agreementId);
        if (config.status != AgreementStatus.Active) revert LedgerAgreementNotActive(agreementId, config.status);
        if (referrer != address(0)) _checkReferrer(agreementId, config, referrer);

        uint256 referralFee;
        uint256 reserve;
        {
            uint256 distributable;
            uint256 dust;
            (referralFee, reserve, distributable, dust) = SplitMath.split(
                gross, config.referralFeeBps, config.reserveBps, referrer != address(0), config.unit
            );
            Pool storage pool_ = _pools[agreementId][config.version][token];
            pool_.distributable = _toUint128(pool_.distributable + distributable);
            pool_.dust = _toUint128(pool_.dust + dust);
        }
        uint40 releaseAt = _holdReserve(orderRef, agreementId, config, token, reserve);
        if (referralFee != 0) _balances[referrer][token] += referralFee;
        RiskCounters storage risk = _risk[agreementId][token];
        risk.settledVolume = _toUint128(risk.settledVolume + gross);
        risk.settledCount += 1;

        emit Settled(
            orderRef, agreementId, msg.sender, config.version, token, gross, referrer, referralFee, reserve, releaseAt
        );

        if (token != ETH) _collectToken(token, gross);
    }

    /// @dev {IAgreementRegistry-settlementConfig} without ABI re-validation: the registry is
    /// immutable and trusted, and its answer is seven static words laid out as the memory struct.
    function _settlementConfig(uint64 agreementId) private view returns (SettlementConfig memory config) {
        address registry_ = address(REGISTRY);
        bytes4 selector = IAgreementRegistry.settlementConfig.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 4), agreementId)
            if iszero(staticcall(gas(), registry_, ptr, 36, config, 224)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
        }
    }

    function _checkReferrer(uint64 agreementId, SettlementConfig memory config, address referrer) private view {
        if (referrer == msg.sender) revert LedgerSelfReferral(msg.sender);
        if (
            config.referrerPolicy == ReferrerPolicy.None
                || (
                    config.referrerPolicy == ReferrerPolicy.Allowlist
                        && !REGISTRY.isReferrerAllowed(agreementId, config.version, referrer)
                )
        ) revert LedgerReferrerNotAllowed(agreementId, config.version, referrer);
    }

    /// @dev Stores the settlement's record hash (or CLOSED when nothing is held) and returns its release time.
    function _holdReserve(
        bytes32 orderRef,
        uint64 agreementId,
        SettlementConfig memory config,
        address token,
        uint256 reserve
    ) private returns (uint40 releaseAt) {
        if (reserve == 0) {
            _settlements[orderRef] = CLOSED;
            return 0;
        }
        releaseAt = uint40(block.timestamp + config.disputeWindow);
        // reserve < gross < 2**128 (settledVolume is checked to fit uint128), so the record's uint128 holds it.
        _settlements[orderRef] = _hashRecord(agreementId, config.version, token, msg.sender, reserve, releaseAt);
    }

    /// @dev Equals keccak256(abi.encode(SettlementRecord(...))) ({hashRecord}), without building the struct.
    function _hashRecord(
        uint64 agreementId,
        uint32 version,
        address token,
        address payer,
        uint256 reserve,
        uint40 releaseAt
    ) private pure returns (bytes32 hash_) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, agreementId)
            mstore(add(ptr, 0x20), version)
            mstore(add(ptr, 0x40), token)
            mstore(add(ptr, 0x60), payer)
            mstore(add(ptr, 0x80), reserve)
            mstore(add(ptr, 0xa0), releaseAt)
            hash_ := keccak256(ptr, 0xc0)
        }
    }

    /// @dev Interaction last; the guard is held, and delivery is measured, not trusted.
    function _collectToken(address token, uint256 gross) private {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), gross);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != gross) revert LedgerTokenDeliveryShort(token, gross, received);
    }

    function _claim(
        uint64 agreementId,
        uint32 version,
        address token,
        Terms calldata terms,
        uint256 partyIndex,
        Pool memory pool_
    ) private {
        bytes32 key = _poolPartyKey(agreementId, version, token, partyIndex);
        uint256 entitled = _entitlement(terms, partyIndex, pool_);
        uint256 alreadyReleased = _released[key];
        if (entitled == alreadyReleased) return;
        // Cannot underflow: released only ever catches up with a monotonically growing entitlement.
        uint256 amount;
        unchecked {
            amount = entitled - alreadyReleased;
        }
        _released[key] = entitled;
        Party calldata party = terms.parties[partyIndex];
        if (party.agreementId == 0) {
            _balances[party.account][token] += amount;
        } else {
            SettlementConfig memory child = REGISTRY.settlementConfig(party.agreementId);
            _creditPool(party.agreementId, child.version, token, amount, child.unit);
            emit NestedShareReceived(party.agreementId, child.version, token, agreementId, amount);
        }
        emit PartyCredited(agreementId, version, token, partyIndex, party.account, party.agreementId, amount);
    }

    function _entitlement(Terms calldata terms, uint256 partyIndex, Pool memory pool_)
        private
        pure
        returns (uint256 entitled)
    {
        entitled = SplitMath.partyShare(pool_.distributable, terms.parties[partyIndex].shareBps);
        if (partyIndex == terms.dustPartyIndex) entitled += pool_.dust;
    }

    function _creditPool(uint64 agreementId, uint32 version, address token, uint256 amount, uint256 unit) private {
        (uint256 distributable, uint256 dust) = SplitMath.splitNet(amount, unit);
        Pool storage pool_ = _pools[agreementId][version][token];
        pool_.distributable = _toUint128(pool_.distributable + distributable);
        pool_.dust = _toUint128(pool_.dust + dust);
    }

    function _checkRecord(bytes32 orderRef, SettlementRecord calldata record) private view {
        bytes32 stored = _settlements[orderRef];
        if (stored == bytes32(0) || stored == CLOSED || stored != keccak256(abi.encode(record))) {
            revert LedgerUnknownSettlement(orderRef);
        }
    }

    function _checkTerms(uint64 agreementId, uint32 version, Terms calldata terms) private view {
        bytes32 stored = REGISTRY.termsHash(agreementId, version);
        (, uint16 unit) = REGISTRY.versionPayout(agreementId, version);
        // Only activated versions (unit set) have pools.
        if (unit == 0 || stored != TermsLib.hash(terms)) revert LedgerTermsMismatch(agreementId, version);
    }

    function _poolPartyKey(uint64 agreementId, uint32 version, address token, uint256 partyIndex)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(agreementId, version, token, partyIndex));
    }

    function _toUint128(uint256 amount) private pure returns (uint128) {
        if (amount > type(uint128).max) revert LedgerAmountOverflow(amount);
        return uint128(amount);
    }
}
