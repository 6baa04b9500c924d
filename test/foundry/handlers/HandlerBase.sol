// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementRegistry} from "../../../contracts/AgreementRegistry.sol";
import {SettlementLedger} from "../../../contracts/SettlementLedger.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {MockERC1271Wallet} from "../../../contracts/mocks/MockERC1271Wallet.sol";
import {AgreementStatus, NestedTerms, Party, Terms} from "../../../contracts/interfaces/IConcordTypes.sol";
import {ConcordModel} from "../utils/ConcordModel.sol";
import {CheatCodes} from "../utils/Test.sol";

/// @notice The handler's system under test, its actors and its ghost model of the registry: the
/// terms of every version, who approved what until when, which nonces are spent, and the tree of
/// every version (its consenters as a bit mask over the actors, its pinned children, its depth),
/// all computed from the handler's own copy of the terms, never read back from the registry.
/// @dev A reverted handler call is discarded by forge (fail_on_revert = false), so a law found
/// broken inside a call is recorded in {violations} and reported by an invariant.
abstract contract HandlerBase is CheatCodes {
    uint256 internal constant TOTAL_BPS = 10_000;
    /// @dev Actors 0..4 are EOAs, 5 is an ERC-1271 wallet: these may be parties. Actor 6 is a
    /// stranger, never a party, who pays, refers, signs and calls where it has no right to.
    uint256 internal constant PARTY_ACTORS = 6;
    uint256 internal constant STRANGER = 6;
    uint256 internal constant ACTOR_COUNT = 7;
    uint256 internal constant MAX_AGREEMENTS = 14;
    uint256 internal constant MAX_NESTING_DEPTH = 4;
    address internal constant ETH = address(0);

    AgreementRegistry public immutable registry;
    SettlementLedger public immutable ledger;
    MockERC20 public immutable token;
    MockERC1271Wallet public immutable wallet;
    address internal immutable walletOwner;
    /// @notice Where withdrawals to a third address go.
    address public immutable sink;

    address[] public actors;
    mapping(address actor => uint256 key) internal _keyOf;
    mapping(address actor => uint256 indexPlusOne) internal _indexOf;

    // ---------------------------------------------------------------- ghost registry

    mapping(uint64 id => mapping(uint32 version => bytes)) internal _termsBlob;
    mapping(uint64 id => AgreementStatus) public ghostStatus;
    mapping(uint64 id => uint32) public ghostLatest;
    mapping(uint64 id => uint32) public ghostActive;
    mapping(uint64 id => address) internal _ghostProposer;
    mapping(uint64 id => mapping(uint32 version => bool)) public ghostActivated;
    /// @notice Set when the consent oracle passed for an activation the registry accepted.
    mapping(uint64 id => mapping(uint32 version => bool)) public ghostConsentChecked;
    mapping(uint64 id => mapping(uint32 version => mapping(address party => uint64))) internal _approval;
    mapping(uint64 id => mapping(uint32 version => mapping(address party => uint64))) internal _terminationApproval;
    mapping(address signer => mapping(uint256 nonce => bool)) internal _nonceUsed;
    mapping(address signer => uint256) internal _nextNonce;
    uint64 public ghostAgreementCount;

    uint256 public currentTime;
    /// @notice The revert data of the last refused call (to read a violation's cause).
    bytes public lastRevert;
    uint256 public violations;
    string public firstViolation;
    /// @notice Successful calls per action, so that a run shows it was not vacuous.
    mapping(bytes32 action => uint256) public successes;
    /// @notice Calls the model expected to fail that failed, per action (the refused shapes were reached).
    mapping(bytes32 action => uint256) public refusals;
    /// @notice The deepest tree of an activated version so far (the nesting limit is 4).
    uint256 public maxDepthActivated;

    constructor(AgreementRegistry registry_, SettlementLedger ledger_, MockERC20 token_) {
        registry = registry_;
        ledger = ledger_;
        token = token_;
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            uint256 key = uint256(keccak256(abi.encode("concord.actor", i))) % (2 ** 200) + 1;
            address account = vm.addr(key);
            if (i == 5) {
                walletOwner = account;
                wallet = new MockERC1271Wallet(account, MockERC1271Wallet.Mode.Approve);
                account = address(wallet);
            }
            actors.push(account);
            _keyOf[account] = key;
            _indexOf[account] = i + 1;
        }
        sink = vm.addr(uint256(keccak256("concord.sink")) % (2 ** 200) + 1);
        currentTime = block.timestamp;
    }

    // ---------------------------------------------------------------- views for the invariants

    function actorCount() external pure returns (uint256) {
        return ACTOR_COUNT;
    }

    function termsOf(uint64 id, uint32 version) external view returns (Terms memory) {
        return _terms(id, version);
    }

    // ---------------------------------------------------------------- common helpers

    function _violate(string memory what) internal {
        if (violations == 0) firstViolation = what;
        violations += 1;
    }

    function _syncTime() internal {
        vm.warp(currentTime);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % ACTOR_COUNT];
    }

    function _bit(address account) internal view returns (uint256) {
        uint256 index = _indexOf[account];
        return index == 0 ? 0 : uint256(1) << (index - 1);
    }

    /// @dev Calls `target` as `actor` (the wallet acts through its owner's `execute`).
    function _callAs(address actor, address target, bytes memory data) internal returns (bool ok) {
        bytes memory result;
        if (actor == address(wallet)) {
            vm.prank(walletOwner);
            (ok, result) = address(wallet).call(abi.encodeCall(MockERC1271Wallet.execute, (target, data)));
        } else {
            vm.prank(actor);
            (ok, result) = target.call(data);
        }
        if (!ok) lastRevert = result;
    }

    /// @dev A 65-byte signature by `key` (r, s, v), which the wallet also checks for its owner.
    function _signWith(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _sign(address signer, bytes32 digest) internal view returns (bytes memory) {
        return _signWith(_keyOf[signer], digest);
    }

    /// @dev An active agreement chosen by `seed` (the next active one after it).
    function _pickActive(uint256 seed) internal view returns (bool, uint64) {
        uint64 count = ghostAgreementCount;
        for (uint64 k; k < count; ++k) {
            uint64 id = uint64(1 + (seed % count + k) % count);
            if (ghostStatus[id] == AgreementStatus.Active) return (true, id);
        }
        return (false, 0);
    }

    // ---------------------------------------------------------------- the tree model

    function _terms(uint64 id, uint32 version) internal view returns (Terms memory) {
        return abi.decode(_termsBlob[id][version], (Terms));
    }

    function _activeTerms(uint64 id) internal view returns (Terms memory) {
        return _terms(id, ghostActive[id]);
    }

    /// @notice Law 5's "every affected party": every account reachable from `terms` through the
    /// pinned child versions, as a mask over the actors.
    function _consenterMask(Terms memory terms) internal view returns (uint256 mask) {
        for (uint256 i; i < terms.parties.length; ++i) {
            Party memory p = terms.parties[i];
            if (p.agreementId == 0) mask |= _bit(p.account);
            else mask |= _consenterMask(_terms(p.agreementId, p.version));
        }
    }

    /// @notice The account parties of `terms` alone, without the members of nested parties.
    function _directMask(Terms memory terms) internal view returns (uint256 mask) {
        for (uint256 i; i < terms.parties.length; ++i) {
            if (terms.parties[i].agreementId == 0) mask |= _bit(terms.parties[i].account);
        }
    }

    function _depth(Terms memory terms) internal view returns (uint256 depth) {
        for (uint256 i; i < terms.parties.length; ++i) {
            Party memory p = terms.parties[i];
            if (p.agreementId == 0) continue;
            uint256 d = 1 + _depth(_terms(p.agreementId, p.version));
            if (d > depth) depth = d;
        }
    }

    /// @dev Whether every nested party of `terms` is still active and pinned to its active version
    /// (docs/contracts.md: activation needs it, so the members who consent are the child's current ones).
    function _childrenActive(Terms memory terms) internal view returns (bool) {
        for (uint256 i; i < terms.parties.length; ++i) {
            uint64 child = terms.parties[i].agreementId;
            if (child == 0) continue;
            if (ghostStatus[child] != AgreementStatus.Active || ghostActive[child] != terms.parties[i].version) {
                return false;
            }
        }
        return true;
    }

    /// @notice The pinned terms of every (agreement, version) reachable from `a` (and `b`), sorted
    /// strictly by (agreementId, version), as the consent calls take them.
    function _children(Terms memory a, Terms memory b, bool both) internal view returns (NestedTerms[] memory out) {
        uint256[] memory keys = new uint256[](64);
        uint256 count = _collectKeys(a, keys, 0);
        if (both) count = _collectKeys(b, keys, count);
        for (uint256 i = 1; i < count; ++i) {
            uint256 key = keys[i];
            uint256 j = i;
            while (j != 0 && keys[j - 1] > key) {
                keys[j] = keys[j - 1];
                --j;
            }
            keys[j] = key;
        }
        uint256 unique;
        for (uint256 i; i < count; ++i) {
            if (unique == 0 || keys[unique - 1] != keys[i]) keys[unique++] = keys[i];
        }
        out = new NestedTerms[](unique);
        for (uint256 i; i < unique; ++i) {
            uint64 id = uint64(keys[i] >> 32);
            uint32 version = uint32(keys[i]);
            out[i] = NestedTerms({agreementId: id, version: version, terms: _terms(id, version)});
        }
    }

    function _collectKeys(Terms memory terms, uint256[] memory keys, uint256 count) private view returns (uint256) {
        for (uint256 i; i < terms.parties.length; ++i) {
            Party memory p = terms.parties[i];
            if (p.agreementId == 0) continue;
            keys[count++] = (uint256(p.agreementId) << 32) | p.version;
            count = _collectKeys(_terms(p.agreementId, p.version), keys, count);
        }
        return count;
    }

    // ---------------------------------------------------------------- random terms

    /// @notice Valid terms for agreement `forId`: one to three accounts (none when something is
    /// nested), up to two nested agreements of lower id pinned to their active versions (the deepest
    /// preferred, so trees reach the nesting limit), shares on a random grid, and random referral,
    /// reserve, refund authority and order signer settings.
    /// @param pinMode 0: valid; 1: nest a version already at the depth limit; 2: pin a superseded version.
    function _randomTerms(uint256 seed, uint64 forId, uint256 pinMode) internal view returns (Terms memory terms) {
        Party[] memory nested = _pickNested(seed, forId, pinMode);
        uint256 accountCount = (seed >> 8) % 4;
        if (accountCount == 0 && nested.length == 0) accountCount = 1;
        address[] memory accounts = _distinctSorted(seed >> 16, accountCount, PARTY_ACTORS);
        uint256 n = accounts.length + nested.length;
        terms.parties = new Party[](n);
        uint256[] memory shares = _randomShares(seed >> 40, n);
        for (uint256 i; i < accounts.length; ++i) {
            terms.parties[i] = Party({account: accounts[i], agreementId: 0, version: 0, shareBps: uint16(shares[i])});
        }
        for (uint256 i; i < nested.length; ++i) {
            nested[i].shareBps = uint16(shares[accounts.length + i]);
            terms.parties[accounts.length + i] = nested[i];
        }
        uint256 s = uint256(keccak256(abi.encode(seed, "settings")));
        if (s % 3 != 0) terms.referralFeeBps = uint16(1 + (s >> 8) % 2_000);
        if ((s >> 24) % 3 != 0) {
            terms.reserveBps = uint16(1 + (s >> 32) % 5_000);
            terms.disputeWindow = uint32(1 hours + (s >> 48) % 3 days);
        }
        if ((s >> 64) % 4 != 0) terms.refundAuthority = actors[(s >> 72) % ACTOR_COUNT];
        if ((s >> 80) % 2 == 0) {
            // The merchant of record: an EOA or the ERC-1271 wallet, a party or not.
            terms.orderSigner = actors[(s >> 88) % ACTOR_COUNT];
        } else if (terms.referralFeeBps != 0) {
            terms.referrers = _distinctSorted(s >> 96, 1 + (s >> 120) % 3, ACTOR_COUNT);
        }
        terms.dustPartyIndex = uint8((s >> 128) % n);
        terms.documentHash = keccak256(abi.encode(seed, forId));
    }

    function _pickNested(uint256 seed, uint64 forId, uint256 pinMode) private view returns (Party[] memory sorted) {
        uint256 want = pinMode == 0 ? seed % 3 : 1;
        Party[] memory picked = new Party[](want);
        uint256 count;
        // Two times in three the deepest eligible tree goes first, so that trees reach the limit.
        uint64 deepest;
        if (pinMode == 0 && want != 0 && (seed >> 90) % 3 != 0) {
            uint256 best;
            for (uint64 id = 1; id < forId; ++id) {
                if (ghostStatus[id] != AgreementStatus.Active) continue;
                uint256 depth = _depth(_terms(id, ghostActive[id]));
                if (depth < MAX_NESTING_DEPTH && (deepest == 0 || depth >= best)) (deepest, best) = (id, depth);
            }
            if (deepest != 0) picked[count++] = Party(address(0), deepest, ghostActive[deepest], 0);
        }
        for (uint64 id = forId - 1; id >= 1 && count < want; --id) {
            if (ghostStatus[id] != AgreementStatus.Active || id == deepest) continue;
            uint32 version = ghostActive[id];
            bool tooDeep = _depth(_terms(id, version)) >= MAX_NESTING_DEPTH;
            if (pinMode == 1 ? !tooDeep : tooDeep) continue;
            if (pinMode == 2) {
                // A superseded version of the child (it was activated, then amended).
                if (version == 1 || !ghostActivated[id][version - 1]) continue;
                version -= 1;
            }
            if (pinMode == 0 && (seed >> (100 + id)) & 3 == 0) continue;
            picked[count++] = Party(address(0), id, version, 0);
        }
        // Parties go sorted by key: nested agreements ascending by id.
        sorted = new Party[](count);
        for (uint256 i; i < count; ++i) {
            uint256 j = i;
            while (j != 0 && sorted[j - 1].agreementId > picked[i].agreementId) {
                sorted[j] = sorted[j - 1];
                --j;
            }
            sorted[j] = picked[i];
        }
    }

    /// @dev `count` distinct actors among the first `range`, sorted ascending by address.
    function _distinctSorted(uint256 seed, uint256 count, uint256 range) internal view returns (address[] memory out) {
        out = new address[](count);
        uint256 used;
        uint256 n;
        for (uint256 k; n < count; ++k) {
            uint256 index = uint256(keccak256(abi.encode(seed, k))) % range;
            if (used & (1 << index) != 0) continue;
            used |= 1 << index;
            address a = actors[index];
            uint256 j = n++;
            while (j != 0 && out[j - 1] > a) {
                out[j] = out[j - 1];
                --j;
            }
            out[j] = a;
        }
    }

    /// @dev `n` positive shares summing to 10,000 on a grid of g bps, so units range from 4 to 10,000 wei.
    function _randomShares(uint256 seed, uint256 n) private pure returns (uint256[] memory shares) {
        uint256[5] memory grids = [uint256(1), 5, 100, 625, 2_500];
        uint256 grid = grids[seed % 5];
        if (TOTAL_BPS / grid < n || TOTAL_BPS % grid != 0) grid = 1;
        uint256 slots = TOTAL_BPS / grid;
        shares = new uint256[](n);
        uint256 left = slots;
        for (uint256 i; i < n; ++i) {
            uint256 take = i + 1 == n ? left : 1 + uint256(keccak256(abi.encode(seed, i))) % (left - (n - 1 - i));
            shares[i] = take * grid;
            left -= take;
        }
    }
}
