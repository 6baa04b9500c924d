// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementStatus, Terms} from "../../../contracts/interfaces/IConcordTypes.sol";
import {ISettlementLedger, LotEntry, Payment, Pool, RiskCounters} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {ConcordModel} from "../utils/ConcordModel.sol";
import {LedgerModel} from "./LedgerModel.sol";

/// @notice Direct payments and merchant intents, alone and in batches (dust-sized ones included),
/// with the shapes that break naive code: superseded versions, unlisted or self referrers, order
/// references reused in their scope and in another, expired deadlines, tampered intents, a
/// signature where none belongs. The model decides from docs/contracts.md which must settle and
/// splits each one with its own arithmetic; the ledger's observed changes must match.
abstract contract SettlementActions is LedgerModel {
    /// @dev One payment of a call, as the model plans it.
    struct Planned {
        Payment p;
        bytes sig;
        address scope;
        bool valid;
        uint256 fee;
        uint256 reserve;
        uint256 net;
        uint32 window;
    }

    struct SettleCall {
        address payer;
        address token;
        bool batch;
        uint256 grossSum;
        bool expected;
        Planned[] items;
    }

    uint256 internal constant SETTLE_MODES = 11;

    /// @notice One payment: `mode` 0-2 valid, 3 a superseded version, 4 an unlisted referrer, 5 the
    /// payer as referrer, 6 a reference reused in its scope, 7 a reference of another scope, 8 past
    /// its deadline, 9 a tampered intent or an unexpected signature, 10 the order signer paying itself.
    function settle(uint256 idSeed, uint256 mode, uint256 seed) external {
        _syncTime();
        (bool found, uint64 id) = _pickActive(idSeed);
        // Now and then any agreement, proposed and terminated ones included (which must refuse).
        if (seed % 8 == 0 && ghostAgreementCount != 0) (found, id) = (true, uint64(1 + idSeed % ghostAgreementCount));
        if (!found) return;
        SettleCall memory c = _newCall(seed, 1, false);
        c.items[0] = _plan(c, id, mode % SETTLE_MODES, seed >> 8);
        _run(c);
    }

    /// @notice Two to six payments in one token into one or two agreements (runs alternate), often
    /// dust-sized; sometimes one of them flawed or two sharing a reference, which must sink the batch.
    function settleBatch(uint256 idSeed, uint256 otherSeed, uint256 seed) external {
        _syncTime();
        (bool found, uint64 a) = _pickActive(idSeed);
        if (!found) return;
        (, uint64 b) = _pickActive(otherSeed);
        uint256 n = 2 + seed % 5;
        SettleCall memory c = _newCall(seed >> 8, n, true);
        uint256 flawed = (seed >> 16) % 4 == 0 ? (seed >> 24) % n : type(uint256).max;
        for (uint256 i; i < n; ++i) {
            uint64 id = (seed >> (32 + i)) & 1 == 0 ? a : b;
            uint256 mode = i == flawed ? 3 + (seed >> 48) % 8 : 0;
            c.items[i] = _plan(c, id, mode, uint256(keccak256(abi.encode(seed, i))));
        }
        if ((seed >> 56) % 6 == 0 && n > 1) {
            // Two payments of one scope with one reference: at most one may settle, so none does.
            c.items[n - 1].p.orderRef = c.items[0].p.orderRef;
            c.items[n - 1].p.agreementId = c.items[0].p.agreementId;
            c.items[n - 1] = _resign(c.items[n - 1], c.items[0]);
        }
        _run(c);
    }

    // ---------------------------------------------------------------- planning

    function _newCall(uint256 seed, uint256 n, bool batch) private view returns (SettleCall memory c) {
        c.batch = batch;
        c.token = seed & 1 == 0 ? ETH : address(token);
        // Payers are the EOAs and the stranger (the wallet cannot attach value through `execute`).
        uint256 payer = (seed >> 1) % 6;
        c.payer = actors[payer == 5 ? STRANGER : payer];
        c.items = new Planned[](n);
    }

    function _plan(SettleCall memory c, uint64 id, uint256 mode, uint256 seed) private returns (Planned memory it) {
        uint32 active = ghostActive[id];
        Terms memory terms = _terms(id, active == 0 ? 1 : active);
        it.window = terms.disputeWindow;
        it.p.agreementId = id;
        it.p.version = active;
        it.p.token = c.token;
        uint256 size = seed % 3;
        it.p.gross = size == 0 ? 1 + (seed >> 8) % 30 : size == 1 ? 1 + (seed >> 8) % 1e6 : 1 + (seed >> 8) % 1e24;
        it.p.orderRef = _freshOrderRef();
        it.p.deadline = currentTime + 1 hours;
        if ((seed >> 90) % 3 == 0) it.p.refundBeneficiary = _actor(seed >> 92);
        address signer = terms.orderSigner;
        if (signer != address(0)) {
            if ((seed >> 100) % 3 != 0) it.p.referrer = _actor(seed >> 102);
        } else if (terms.referrers.length != 0 && (seed >> 100) % 3 != 0) {
            it.p.referrer = terms.referrers[(seed >> 102) % terms.referrers.length];
        }
        if (it.p.referrer == c.payer) it.p.referrer = address(0);
        bool tampered;
        bool selfPaying;
        if (mode == 3) it.p.version = active > 1 ? active - 1 : active + 1;
        else if (mode == 4) it.p.referrer = _unlisted(terms, c.payer);
        else if (mode == 5) it.p.referrer = c.payer;
        else if (mode == 6 || mode == 7) it.p.orderRef = _reusedRef(mode == 6, signer != address(0) ? signer : c.payer, seed >> 110, it.p.orderRef);
        else if (mode == 8) it.p.deadline = currentTime - 1;
        else if (mode == 9) tampered = true;
        else if (mode == 10 && signer != address(0) && signer != address(wallet) && !c.batch) {
            c.payer = signer;
            selfPaying = true;
            if (it.p.referrer == signer) it.p.referrer = address(0);
        }
        it.scope = signer != address(0) ? signer : c.payer;
        if (signer != address(0) && !selfPaying) {
            bytes32 digest = ConcordModel.intentDigest(address(ledger), it.p);
            // Tampered: signed by someone other than the order signer.
            address forger = signer == actors[STRANGER] ? actors[0] : actors[STRANGER];
            it.sig = tampered ? _sign(forger, digest) : _sign(signer, digest);
        } else if (tampered) {
            it.sig = _sign(c.payer, keccak256("not an intent"));
        }
        (it.fee, it.reserve, it.net) = _split(terms, it.p);
        it.valid = ghostStatus[id] == AgreementStatus.Active && it.p.version == active && active != 0
            && !ghostOrderSettled[it.scope][it.p.orderRef] && currentTime <= it.p.deadline && it.p.referrer != c.payer
            && (!tampered || c.payer == signer) && _referrerAllowed(terms, it.p.referrer);
    }

    /// @dev Law 2's split in the model's own words: the fee only with a referrer, both rounded down, the rest net.
    function _split(Terms memory terms, Payment memory p) private pure returns (uint256 fee, uint256 reserve, uint256 net) {
        if (p.referrer != address(0)) fee = p.gross * terms.referralFeeBps / TOTAL_BPS;
        reserve = p.gross * terms.reserveBps / TOTAL_BPS;
        net = p.gross - fee - reserve;
    }

    /// @dev With an order signer the intent attests any referrer; otherwise only a listed one.
    function _referrerAllowed(Terms memory terms, address referrer) private pure returns (bool) {
        if (referrer == address(0) || terms.orderSigner != address(0)) return true;
        for (uint256 i; i < terms.referrers.length; ++i) {
            if (terms.referrers[i] == referrer) return true;
        }
        return false;
    }

    function _unlisted(Terms memory terms, address payer) private view returns (address) {
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            address a = actors[(i + terms.referrers.length) % ACTOR_COUNT];
            if (a != payer && !_referrerAllowed(terms, a)) return a;
        }
        return address(0);
    }

    /// @dev A reference already settled in `scope` (same) or in another scope (not same).
    function _reusedRef(bool same, address scope, uint256 seed, bytes32 fallback_) private view returns (bytes32) {
        uint256 count = _orders.length;
        for (uint256 k; k < count && k < 64; ++k) {
            OrderKey memory o = _orders[(seed % count + k) % count];
            if ((o.scope == scope) == same) return o.orderRef;
        }
        return fallback_;
    }

    /// @dev Re-signs `it` (whose reference and agreement now equal `first`'s) for its new fields.
    function _resign(Planned memory it, Planned memory first) private view returns (Planned memory) {
        it.p.version = first.p.version;
        it.scope = first.scope;
        it.window = first.window;
        if (first.sig.length != 0 && first.valid) {
            it.sig = _sign(first.scope, ConcordModel.intentDigest(address(ledger), it.p));
        } else {
            it.sig = first.sig;
        }
        Terms memory terms = _terms(it.p.agreementId, ghostActive[it.p.agreementId]);
        if (!_referrerAllowed(terms, it.p.referrer)) it.p.referrer = address(0);
        (it.fee, it.reserve, it.net) = _split(terms, it.p);
        return it;
    }

    // ---------------------------------------------------------------- running and checking

    function _run(SettleCall memory c) private {
        c.expected = true;
        uint256 n = c.items.length;
        for (uint256 i; i < n; ++i) {
            c.grossSum += c.items[i].p.gross;
            if (!c.items[i].valid) c.expected = false;
            for (uint256 j; j < i; ++j) {
                if (c.items[j].scope == c.items[i].scope && c.items[j].p.orderRef == c.items[i].p.orderRef) {
                    c.expected = false;
                }
            }
        }
        uint256 holdings = _holdings(c.token);
        uint256[] memory before = _balances(c.token);
        Pool[] memory pools = new Pool[](n);
        RiskCounters[] memory risks = new RiskCounters[](n);
        for (uint256 i; i < n; ++i) {
            pools[i] = _poolState(c.items[i].p.agreementId, c.items[i].p.version, c.token);
            risks[i] = ledger.riskCounters(c.items[i].p.agreementId, c.token);
        }
        bool ok = _send(c);
        // A call the model did not expect is reported and not booked (booking it could revert the record).
        if (ok != c.expected) {
            _violate(ok ? "settle: a payment the rules refuse was settled" : "settle: a valid payment reverted");
            return;
        }
        if (!ok) {
            refusals[c.batch ? bytes32("settleBatch") : bytes32("settle")]++;
            return;
        }
        if (_holdings(c.token) != holdings + c.grossSum) _violate("settle: the ledger did not receive exactly the gross");
        _checkSettled(c, before, pools, risks);
        _book(c);
        successes[c.batch ? bytes32("settleBatch") : bytes32("settle")]++;
    }

    function _send(SettleCall memory c) private returns (bool ok) {
        uint256 value = c.token == ETH ? c.grossSum : 0;
        if (c.token == ETH) {
            vm.deal(c.payer, c.payer.balance + value);
        } else {
            token.mint(c.payer, c.grossSum);
            vm.prank(c.payer);
            token.approve(address(ledger), c.grossSum);
        }
        bytes memory data;
        if (c.batch) {
            Payment[] memory payments = new Payment[](c.items.length);
            bytes[] memory sigs = new bytes[](c.items.length);
            bool anySig;
            for (uint256 i; i < c.items.length; ++i) {
                payments[i] = c.items[i].p;
                sigs[i] = c.items[i].sig;
                if (sigs[i].length != 0) anySig = true;
            }
            if (!anySig && c.grossSum % 2 == 0) sigs = new bytes[](0);
            data = abi.encodeCall(ISettlementLedger.settleBatch, (payments, sigs));
        } else {
            data = abi.encodeCall(ISettlementLedger.settle, (c.items[0].p, c.items[0].sig));
        }
        vm.prank(c.payer);
        (ok,) = address(ledger).call{value: value}(data);
    }

    /// @dev Single attribution and exactness on the observed state: each referrer gained exactly
    /// its fees and nobody else (the payer included) gained anything; each pool gained exactly its
    /// nets and reserves; the risk counters moved by the call's settlements; each reference is taken.
    function _checkSettled(SettleCall memory c, uint256[] memory before, Pool[] memory pools, RiskCounters[] memory risks)
        private
    {
        uint256 n = c.items.length;
        uint256[] memory due = new uint256[](ACTOR_COUNT);
        for (uint256 i; i < n; ++i) {
            Planned memory it = c.items[i];
            if (it.fee != 0) due[_actorIndex(it.p.referrer)] += it.fee;
            if (!ledger.isOrderSettled(it.scope, it.p.orderRef)) _violate("settle: the reference is not marked in its scope");
            if (_firstOfPool(c, i)) _checkPool(c, i, pools[i], risks[i]);
        }
        _checkDeltas(c.token, before, due, "settle");
    }

    function _firstOfPool(SettleCall memory c, uint256 i) private pure returns (bool) {
        for (uint256 j; j < i; ++j) {
            if (c.items[j].p.agreementId == c.items[i].p.agreementId) return false;
        }
        return true;
    }

    /// @dev The pool of item `i` gained the nets and reserves of every item of the call into it,
    /// and its agreement's risk counters their count and gross.
    function _checkPool(SettleCall memory c, uint256 i, Pool memory before, RiskCounters memory risk) private {
        uint256[4] memory sum;
        for (uint256 j; j < c.items.length; ++j) {
            if (c.items[j].p.agreementId != c.items[i].p.agreementId) continue;
            sum[0] += c.items[j].net;
            sum[1] += c.items[j].reserve;
            sum[2] += c.items[j].p.gross;
            sum[3] += 1;
        }
        Pool memory after_ = _poolState(c.items[i].p.agreementId, c.items[i].p.version, c.token);
        if (after_.total != before.total + sum[0] || after_.held != before.held + sum[1]) {
            _violate("settle: the pool did not gain exactly the nets and the reserves");
        }
        RiskCounters memory r = ledger.riskCounters(c.items[i].p.agreementId, c.token);
        if (r.settledCount != risk.settledCount + sum[3] || r.settledVolume != risk.settledVolume + sum[2]) {
            _violate("settle: risk counters did not count each settlement once");
        }
    }

    /// @dev Books the call into the model, with its lots: each run of consecutive payments into one
    /// pool holds its reserves in one lot named by its first entry.
    function _book(SettleCall memory c) private {
        uint256 n = c.items.length;
        int256 lot = -1;
        for (uint256 i; i < n; ++i) {
            Planned memory it = c.items[i];
            if (i != 0 && it.p.agreementId != c.items[i - 1].p.agreementId) {
                if (lot >= 0) _closeLot(uint256(lot));
                lot = -1;
            }
            ghostOrderSettled[it.scope][it.p.orderRef] = true;
            _orders.push(OrderKey(it.scope, it.p.orderRef));
            if (it.fee != 0) ghostCredited[it.p.referrer][c.token] += it.fee;
            TokenSums storage s = _sums[c.token];
            s.gross += it.p.gross;
            s.fees += it.fee;
            s.reserves += it.reserve;
            s.nets += it.net;
            GhostPool storage pool_ = _pool[_track(it.p.agreementId, it.p.version, c.token)];
            pool_.total += it.net;
            pool_.held += it.reserve;
            GhostRisk storage risk = _risk[it.p.agreementId][c.token];
            risk.settledCount += 1;
            risk.settledVolume += it.p.gross;
            if (it.reserve == 0) continue;
            if (lot < 0) {
                lot = int256(_lots.length);
                GhostLot storage fresh = _lots.push();
                fresh.lotId = ConcordModel.lotId(it.scope, it.p.orderRef);
                fresh.id = it.p.agreementId;
                fresh.version = it.p.version;
                fresh.token = c.token;
                fresh.releaseAt = uint40(currentTime + it.window);
                fresh.live = true;
            }
            GhostLot storage open = _lots[uint256(lot)];
            LotEntry memory entry = LotEntry({
                scope: it.scope,
                orderRef: it.p.orderRef,
                beneficiary: it.p.refundBeneficiary == address(0) ? c.payer : it.p.refundBeneficiary,
                reserve: uint128(it.reserve),
                refunded: false
            });
            open.entries.push(entry);
            open.held += uint128(it.reserve);
            open.entriesHash = ConcordModel.chainEntry(open.entriesHash, entry);
        }
        if (lot >= 0) _closeLot(uint256(lot));
    }

    /// @dev The stored lot must be the documented encoding of the model's lot.
    function _closeLot(uint256 index) private {
        GhostLot storage lot = _lots[index];
        if (ledger.lotHash(lot.lotId) != _lotHash(lot)) _violate("settle: the stored lot is not the documented encoding of its entries");
    }
}
