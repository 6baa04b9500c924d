// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Party, Terms} from "../../../contracts/interfaces/IConcordTypes.sol";
import {LotEntry, Pool, ReserveLot} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {ConcordModel} from "../utils/ConcordModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice The handler's ghost model of the ledger: what every pool was credited and paid out,
/// every reserve lot with its entries, every account's credits and withdrawals, the risk
/// counters, and the order references settled per scope. Each action checks the ledger's
/// observed changes against it; the invariants check the ledger's state against it.
abstract contract LedgerModel is HandlerBase {
    struct PoolRef {
        uint64 id;
        uint32 version;
        address token;
    }

    struct GhostPool {
        /// What the pool was credited (nets, releases, parents' payouts, nested remainders), less
        /// the remainder swept out of it.
        uint256 total;
        uint256 held;
        uint256 distributed;
        /// What it paid its parties (accounts and child pools), by claims and distributions.
        uint256 paidOut;
        /// What its sweeps moved out of it to the dust party.
        uint256 swept;
    }

    /// @notice Per token, where every settled wei went (the exactness ledger of the model).
    struct TokenSums {
        uint256 gross;
        uint256 fees;
        uint256 reserves;
        uint256 nets;
        uint256 released;
        uint256 refunds;
        /// Pool payouts and sweeps that reached an account's balance (not a child pool).
        uint256 toAccounts;
        uint256 withdrawn;
    }

    struct GhostRisk {
        uint256 settledVolume;
        uint256 settledCount;
        uint256 refundCount;
        uint256 refundedVolume;
    }

    struct GhostLot {
        uint256 lotId;
        uint64 id;
        uint32 version;
        address token;
        uint40 releaseAt;
        uint128 held;
        bytes32 entriesHash;
        bool live;
        LotEntry[] entries;
    }

    struct OrderKey {
        address scope;
        bytes32 orderRef;
    }

    PoolRef[] internal _poolRefs;
    mapping(bytes32 poolKey => bool) internal _poolKnown;
    mapping(bytes32 poolKey => GhostPool) internal _pool;
    mapping(bytes32 poolKey => mapping(uint256 party => uint256)) public ghostPaidUpTo;
    mapping(bytes32 poolKey => mapping(uint256 party => uint256)) public ghostPartyPaid;
    mapping(address token => TokenSums) internal _sums;
    mapping(address account => mapping(address token => uint256)) public ghostCredited;
    mapping(address account => mapping(address token => uint256)) public ghostWithdrawn;
    mapping(uint64 id => mapping(address token => GhostRisk)) internal _risk;
    GhostLot[] internal _lots;
    OrderKey[] internal _orders;
    mapping(address scope => mapping(bytes32 orderRef => bool)) public ghostOrderSettled;
    uint256 internal _orderCounter;

    // ---------------------------------------------------------------- views for the invariants

    function poolCount() external view returns (uint256) {
        return _poolRefs.length;
    }

    function poolAt(uint256 i) external view returns (PoolRef memory) {
        return _poolRefs[i];
    }

    function ghostPool(uint64 id, uint32 version, address token_) external view returns (GhostPool memory) {
        return _pool[poolKey(id, version, token_)];
    }

    function sums(address token_) external view returns (TokenSums memory) {
        return _sums[token_];
    }

    function ghostRisk(uint64 id, address token_) external view returns (GhostRisk memory) {
        return _risk[id][token_];
    }

    function orderCount() external view returns (uint256) {
        return _orders.length;
    }

    function orderAt(uint256 i) external view returns (OrderKey memory) {
        return _orders[i];
    }

    function lotCount() external view returns (uint256) {
        return _lots.length;
    }

    function lotState(uint256 i) external view returns (uint256 lotId, bool live, bytes32 expectedHash) {
        GhostLot storage lot = _lots[i];
        return (lot.lotId, lot.live, _lotHash(lot));
    }

    function poolKey(uint64 id, uint32 version, address token_) public pure returns (bytes32) {
        return keccak256(abi.encode(id, version, token_));
    }

    // ---------------------------------------------------------------- helpers

    function _track(uint64 id, uint32 version, address token_) internal returns (bytes32 key) {
        key = poolKey(id, version, token_);
        if (!_poolKnown[key]) {
            _poolKnown[key] = true;
            _poolRefs.push(PoolRef(id, version, token_));
        }
    }

    /// @dev Credits a party of a pool: an account's balance, or the pinned child version's pool.
    function _creditParty(Party memory party, address token_, uint256 amount) internal {
        if (amount == 0) return;
        if (party.agreementId == 0) {
            ghostCredited[party.account][token_] += amount;
            _sums[token_].toAccounts += amount;
        } else {
            GhostPool storage child = _pool[_track(party.agreementId, party.version, token_)];
            child.total += amount;
        }
    }

    function _holdings(address token_) internal view returns (uint256) {
        return token_ == ETH ? address(ledger).balance : token.balanceOf(address(ledger));
    }

    /// @dev Every actor's ledger balance in `token_`, to compare before and after a call.
    function _balances(address token_) internal view returns (uint256[] memory out) {
        out = new uint256[](ACTOR_COUNT);
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            out[i] = ledger.balanceOf(actors[i], token_);
        }
    }

    /// @dev Each actor's balance moved by exactly `expected[i]`; `what` names the call in the violation.
    function _checkDeltas(address token_, uint256[] memory before, uint256[] memory expected, string memory what)
        internal
    {
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            if (ledger.balanceOf(actors[i], token_) != before[i] + expected[i]) {
                _violate(string.concat(what, ": an account's balance moved by other than its due"));
                return;
            }
        }
    }

    function _actorIndex(address account) internal view returns (uint256) {
        uint256 indexPlusOne = _indexOf[account];
        return indexPlusOne == 0 ? type(uint256).max : indexPlusOne - 1;
    }

    /// @dev A fresh order reference: a salted base per 256 orders with a counter in the low byte,
    /// as docs/contracts.md advises merchants (so that references share bitmap words).
    function _freshOrderRef() internal returns (bytes32) {
        uint256 n = _orderCounter++;
        uint256 base = uint256(keccak256(abi.encode("concord.order", n >> 8))) & ~uint256(0xff);
        return bytes32(base | (n & 0xff));
    }

    function _lotHash(GhostLot storage lot) internal view returns (bytes32) {
        return ConcordModel.hashLot(
            ReserveLot({
                agreementId: lot.id,
                version: lot.version,
                token: lot.token,
                releaseAt: lot.releaseAt,
                held: lot.held,
                entriesHash: lot.entriesHash
            })
        );
    }

    function _lotStruct(GhostLot storage lot) internal view returns (ReserveLot memory) {
        return ReserveLot({
            agreementId: lot.id,
            version: lot.version,
            token: lot.token,
            releaseAt: lot.releaseAt,
            held: lot.held,
            entriesHash: lot.entriesHash
        });
    }

    function _pickLiveLot(uint256 seed) internal view returns (bool, uint256) {
        uint256 count = _lots.length;
        for (uint256 k; k < count; ++k) {
            uint256 i = (seed % count + k) % count;
            if (_lots[i].live) return (true, i);
        }
        return (false, 0);
    }

    function _poolState(uint64 id, uint32 version, address token_) internal view returns (Pool memory) {
        return ledger.pool(id, version, token_);
    }

    function _unit(Terms memory terms) internal pure returns (uint256) {
        return ConcordModel.unitOf(terms);
    }
}
