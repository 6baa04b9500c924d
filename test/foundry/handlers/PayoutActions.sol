// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementStatus, Party, Terms} from "../../../contracts/interfaces/IConcordTypes.sol";
import {ISettlementLedger, LotEntry, Pool, ReserveLot, RiskCounters} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {RevertingRecipient} from "../../../contracts/mocks/MockRecipients.sol";
import {ConcordModel} from "../utils/ConcordModel.sol";
import {SettlementActions} from "./SettlementActions.sol";

/// @notice Refunds and releases of reserve lots, claims with Merkle proofs, distributions,
/// sweeps of remainders, withdrawals (to a reverting recipient too) and time warps, each checked
/// against the model's own payout rule: a party is paid its share of the pool's whole units
/// from where it was last paid (the last distribution, or its own claim when later).
abstract contract PayoutActions is SettlementActions {
    /// @dev A recipient whose receive hook reverts (set by the concrete handler's constructor).
    RevertingRecipient internal _reverting;

    // ---------------------------------------------------------------- reserves

    /// @notice The refund authority (or, sometimes, anyone else) refunds part of one entry's
    /// reserve; `mode` 0 names the entry's own beneficiary, 1 redirects it to the caller (a forged entry).
    function refund(uint256 lotSeed, uint256 amountSeed, uint256 callerSeed) external {
        _syncTime();
        (bool found, uint256 index) = _pickLiveLot(lotSeed);
        if (!found) return;
        GhostLot storage lot = _lots[index];
        RefundCase memory c;
        address authority = _terms(lot.id, lot.version).refundAuthority;
        c.caller = callerSeed % 4 != 0 && authority != address(0) ? authority : _actor(callerSeed >> 8);
        c.entry = (callerSeed >> 16) % lot.entries.length;
        LotEntry[] memory entries = lot.entries;
        uint256 reserve = entries[c.entry].reserve;
        c.amount = bound(amountSeed, 1, reserve == 0 ? 1 : reserve);
        // A forged entry names the caller as beneficiary (no forgery when it already is).
        bool forged = (callerSeed >> 24) % 8 == 0 && entries[c.entry].beneficiary != c.caller;
        if (forged) entries[c.entry].beneficiary = c.caller;
        c.beneficiary = lot.entries[c.entry].beneficiary;
        bool expected = currentTime < lot.releaseAt && c.caller == authority && authority != address(0) && !forged
            && c.amount <= reserve;
        c.before = _balances(lot.token);
        c.poolHeld = _poolState(lot.id, lot.version, lot.token).held;
        c.risk = ledger.riskCounters(lot.id, lot.token);
        bytes memory data = abi.encodeCall(ISettlementLedger.refund, (lot.lotId, _lotStruct(lot), entries, c.entry, c.amount));
        bool ok = _callAs(c.caller, address(ledger), data);
        if (ok != expected) {
            _violate(ok ? "refund: refused shape refunded (not the authority, window closed, forged entry or too much)" : "refund: a valid refund reverted");
            return;
        }
        if (!ok) return;
        _checkRefund(lot, c);
        _bookRefund(lot, c);
        successes["refund"]++;
    }

    struct RefundCase {
        address caller;
        address beneficiary;
        uint256 entry;
        uint256 amount;
        uint256 poolHeld;
        uint256[] before;
        RiskCounters risk;
    }

    /// @dev Only the entry's beneficiary gained, by the amount; the pool's reserve fell by it; the
    /// settlement counts as refunded once.
    function _checkRefund(GhostLot storage lot, RefundCase memory c) private {
        uint256[] memory due = new uint256[](ACTOR_COUNT);
        due[_actorIndex(c.beneficiary)] = c.amount;
        _checkDeltas(lot.token, c.before, due, "refund");
        if (_poolState(lot.id, lot.version, lot.token).held != c.poolHeld - c.amount) {
            _violate("refund: the pool's held reserve did not fall by the refund");
        }
        uint256 counted = lot.entries[c.entry].refunded ? 0 : 1;
        RiskCounters memory r = ledger.riskCounters(lot.id, lot.token);
        if (r.refundedVolume != c.risk.refundedVolume + c.amount || r.refundCount != c.risk.refundCount + counted) {
            _violate("refund: risk counters did not count the settlement once");
        }
    }

    function _bookRefund(GhostLot storage lot, RefundCase memory c) private {
        LotEntry storage entry = lot.entries[c.entry];
        GhostRisk storage risk = _risk[lot.id][lot.token];
        if (!entry.refunded) risk.refundCount += 1;
        risk.refundedVolume += c.amount;
        entry.reserve -= uint128(c.amount);
        entry.refunded = true;
        lot.held -= uint128(c.amount);
        bytes32 chain;
        for (uint256 i; i < lot.entries.length; ++i) {
            chain = ConcordModel.chainEntry(chain, lot.entries[i]);
        }
        lot.entriesHash = chain;
        if (lot.held == 0) lot.live = false;
        if (ledger.lotHash(lot.lotId) != (lot.live ? _lotHash(lot) : bytes32(0))) {
            _violate("refund: the stored lot is not the documented encoding");
        }
        ghostCredited[c.beneficiary][lot.token] += c.amount;
        _sums[lot.token].refunds += c.amount;
        _pool[poolKey(lot.id, lot.version, lot.token)].held -= c.amount;
    }

    /// @notice Anyone releases a lot into the pool of the version it was settled under; before the
    /// window ends, or with a lot that claims more than it holds, it must fail.
    function releaseReserve(uint256 lotSeed, uint256 callerSeed) external {
        _syncTime();
        (bool found, uint256 index) = _pickLiveLot(lotSeed);
        if (!found) return;
        GhostLot storage lot = _lots[index];
        ReserveLot memory claimed = _lotStruct(lot);
        bool inflated = callerSeed % 8 == 0;
        if (inflated) claimed.held += 1;
        bool expected = currentTime >= lot.releaseAt && !inflated;
        Pool memory before = _poolState(lot.id, lot.version, lot.token);
        bytes memory data = abi.encodeCall(ISettlementLedger.releaseReserve, (lot.lotId, claimed));
        bool ok = _callAs(_actor(callerSeed >> 8), address(ledger), data);
        if (ok != expected) {
            _violate(ok ? "releaseReserve: released early or an inflated lot" : "releaseReserve: a due release reverted");
            return;
        }
        if (!ok) return;
        Pool memory after_ = _poolState(lot.id, lot.version, lot.token);
        if (after_.total != before.total + lot.held || after_.held != before.held - lot.held) {
            _violate("releaseReserve: the reserve did not move exactly into the pool it was settled under");
        }
        if (ledger.lotHash(lot.lotId) != bytes32(0)) _violate("releaseReserve: the lot can be used again");
        GhostPool storage pool_ = _pool[poolKey(lot.id, lot.version, lot.token)];
        pool_.total += lot.held;
        pool_.held -= lot.held;
        _sums[lot.token].released += lot.held;
        lot.live = false;
        successes["releaseReserve"]++;
    }

    // ---------------------------------------------------------------- payouts

    /// @notice Anyone claims one party's due with its Merkle proof (sometimes a forged share, which must fail).
    function claim(uint256 poolSeed, uint256 partySeed) external {
        _syncTime();
        if (_poolRefs.length == 0) return;
        ClaimCase memory c;
        c.ref = _poolRefs[poolSeed % _poolRefs.length];
        Terms memory terms = _terms(c.ref.id, c.ref.version);
        c.i = partySeed % terms.parties.length;
        Party memory p = terms.parties[c.i];
        // A copy: forging its share must not change the terms the model pays by.
        c.party = Party({account: p.account, agreementId: p.agreementId, version: p.version, shareBps: p.shareBps});
        c.forged = (partySeed >> 8) % 8 == 0;
        if (c.forged) c.party.shareBps += 1;
        c.key = poolKey(c.ref.id, c.ref.version, c.ref.token);
        (c.upTo, c.amount) = _claimDue(c.key, terms, c.i);
        c.before = _balances(c.ref.token);
        c.childBefore = _childTotal(c.party, c.ref.token);
        bytes memory data = abi.encodeCall(
            ISettlementLedger.claim,
            (c.ref.id, c.ref.version, c.ref.token, c.i, c.party, ConcordModel.partyProof(terms.parties, c.i))
        );
        if (_callAs(_actor(partySeed >> 16), address(ledger), data) == c.forged) {
            _violate(c.forged ? "claim: a forged share was paid" : "claim: a proven party's claim reverted");
            return;
        }
        if (!c.forged) _checkClaim(c);
    }

    struct ClaimCase {
        PoolRef ref;
        uint256 i;
        Party party;
        bool forged;
        bytes32 key;
        uint256 upTo;
        uint256 amount;
        uint256[] before;
        uint256 childBefore;
    }

    function _checkClaim(ClaimCase memory c) private {
        uint256[] memory due = new uint256[](ACTOR_COUNT);
        if (c.party.agreementId == 0) due[_actorIndex(c.party.account)] = c.amount;
        _checkDeltas(c.ref.token, c.before, due, "claim");
        if (_childTotal(c.party, c.ref.token) != c.childBefore + (c.party.agreementId == 0 ? 0 : c.amount)) {
            _violate("claim: the nested party's pinned pool did not gain exactly its share");
        }
        if (c.upTo > _start(c.key, c.i)) ghostPaidUpTo[c.key][c.i] = c.upTo;
        if (ledger.paidUpTo(c.ref.id, c.ref.version, c.ref.token, c.i) != ghostPaidUpTo[c.key][c.i]) {
            _violate("claim: paidUpTo differs from the model");
        }
        _payParty(c.key, c.i, c.party, c.ref.token, c.amount);
        successes["claim"]++;
    }

    /// @dev A claim pays the party its share of the whole units from where it was last paid.
    function _claimDue(bytes32 key, Terms memory terms, uint256 i) private view returns (uint256 upTo, uint256 amount) {
        upTo = _distributable(key, terms);
        uint256 start = _start(key, i);
        if (upTo > start) amount = (upTo - start) * terms.parties[i].shareBps / TOTAL_BPS;
    }

    /// @notice Anyone distributes a pool to all its parties (sometimes with a forged packed list,
    /// which must fail).
    function distribute(uint256 poolSeed, uint256 seed) external {
        _syncTime();
        if (_poolRefs.length == 0) return;
        PoolRef memory ref = _poolRefs[poolSeed % _poolRefs.length];
        Terms memory terms = _terms(ref.id, ref.version);
        uint256[] memory parties = new uint256[](terms.parties.length);
        for (uint256 i; i < parties.length; ++i) {
            parties[i] = _packed(terms.parties[i]);
        }
        bool forged = _forgePacked(parties, seed);
        bytes32 key = poolKey(ref.id, ref.version, ref.token);
        uint256 upTo = _distributable(key, terms);
        (uint256[] memory amounts, uint256[] memory due) = _dues(key, terms, upTo);
        uint256[] memory before = _balances(ref.token);
        bytes memory data = abi.encodeCall(ISettlementLedger.distribute, (ref.id, ref.version, ref.token, parties));
        bool ok = _callAs(_actor(seed >> 8), address(ledger), data);
        if (ok == forged) {
            _violate(ok ? "distribute: a forged packed party list was accepted" : "distribute: the version's parties reverted");
            return;
        }
        if (!ok) return;
        _checkDeltas(ref.token, before, due, "distribute");
        for (uint256 i; i < amounts.length; ++i) {
            _payParty(key, i, terms.parties[i], ref.token, amounts[i]);
        }
        _pool[key].distributed = upTo;
        if (_poolState(ref.id, ref.version, ref.token).distributed != upTo) _violate("distribute: distributed differs from the pool's whole units");
        successes["distribute"]++;
    }

    /// @dev What a distribution up to `upTo` owes each party, and each actor's part of it.
    function _dues(bytes32 key, Terms memory terms, uint256 upTo)
        private
        view
        returns (uint256[] memory amounts, uint256[] memory due)
    {
        uint256 n = terms.parties.length;
        amounts = new uint256[](n);
        due = new uint256[](ACTOR_COUNT);
        for (uint256 i; i < n; ++i) {
            uint256 start = _start(key, i);
            amounts[i] = upTo > start ? (upTo - start) * terms.parties[i].shareBps / TOTAL_BPS : 0;
            if (terms.parties[i].agreementId == 0) due[_actorIndex(terms.parties[i].account)] = amounts[i];
        }
    }

    /// @notice Anyone sweeps a pool's remainder to its dust party: only once the pool is closed.
    function sweepRemainder(uint256 poolSeed, uint256 seed) external {
        _syncTime();
        if (_poolRefs.length == 0) return;
        PoolRef memory ref = _poolRefs[poolSeed % _poolRefs.length];
        Terms memory terms = _terms(ref.id, ref.version);
        Party memory dust = terms.parties[terms.dustPartyIndex];
        bytes32 key = poolKey(ref.id, ref.version, ref.token);
        bool closed = _final(ref.id, ref.version, ref.token, 0);
        uint256 paid = _pool[key].total % _unit(terms);
        uint256[] memory before = _balances(ref.token);
        uint256 childBefore = _childTotal(dust, ref.token);
        bytes memory data = abi.encodeCall(
            ISettlementLedger.sweepRemainder,
            (ref.id, ref.version, ref.token, dust, ConcordModel.partyProof(terms.parties, terms.dustPartyIndex))
        );
        bool ok = _callAs(_actor(seed), address(ledger), data);
        if (ok != closed) {
            _violate(ok ? "sweepRemainder: swept a pool that can still receive value" : "sweepRemainder: a closed pool's sweep reverted");
            return;
        }
        if (!ok) return;
        uint256[] memory due = new uint256[](ACTOR_COUNT);
        if (dust.agreementId == 0) due[_actorIndex(dust.account)] = paid;
        _checkDeltas(ref.token, before, due, "sweepRemainder");
        if (_childTotal(dust, ref.token) != childBefore + (dust.agreementId == 0 ? 0 : paid)) {
            _violate("sweepRemainder: the nested dust party's pool did not gain the remainder");
        }
        _pool[key].total -= paid;
        _pool[key].swept += paid;
        _creditParty(dust, ref.token, paid);
        successes["sweepRemainder"]++;
    }

    /// @dev docs/contracts.md's final pool, nothing can credit it again: its version cannot settle,
    /// it holds no reserve, and every activated version that pins it has paid out everything
    /// (total == distributed) and is final itself.
    function _final(uint64 id, uint32 version, address token_, uint256 depth) private view returns (bool) {
        if (depth > MAX_NESTING_DEPTH) return false;
        bytes32 key = poolKey(id, version, token_);
        bool settling = ghostStatus[id] == AgreementStatus.Active && ghostActive[id] == version;
        if (settling || _pool[key].held != 0) return false;
        for (uint64 parent = id + 1; parent <= ghostAgreementCount; ++parent) {
            for (uint32 v = 1; v <= ghostLatest[parent]; ++v) {
                if (!ghostActivated[parent][v] || !_pins(_terms(parent, v), id, version)) continue;
                GhostPool storage p = _pool[poolKey(parent, v, token_)];
                if (p.total != p.distributed || !_final(parent, v, token_, depth + 1)) return false;
            }
        }
        return true;
    }

    function _pins(Terms memory terms, uint64 id, uint32 version) private pure returns (bool) {
        for (uint256 i; i < terms.parties.length; ++i) {
            if (terms.parties[i].agreementId == id && terms.parties[i].version == version) return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- withdrawals and time

    /// @notice An actor withdraws part of its balance (or one wei too much) to itself, the sink, or a recipient that reverts.
    function withdraw(uint256 actorSeed, uint256 amountSeed, uint256 toSeed) external {
        _syncTime();
        address actor = _actor(actorSeed);
        address token_ = (actorSeed >> 8) & 1 == 0 ? ETH : address(token);
        uint256 balance = ghostCredited[actor][token_] - ghostWithdrawn[actor][token_];
        uint256 amount = toSeed % 8 == 0 ? balance + 1 : bound(amountSeed, 1, balance == 0 ? 1 : balance);
        uint256 pick = (toSeed >> 8) % 4;
        address to = pick == 0 ? sink : pick == 1 && token_ == ETH ? address(_reverting) : actor;
        bool expected = amount <= balance && to != address(_reverting);
        uint256 holdings = _holdings(token_);
        uint256 received = token_ == ETH ? to.balance : token.balanceOf(to);
        bool ok = _callAs(actor, address(ledger), abi.encodeCall(ISettlementLedger.withdraw, (token_, to, amount)));
        if (ok != expected) {
            _violate(ok ? "withdraw: more than the balance, or to a reverting recipient" : "withdraw: a covered withdrawal reverted");
            return;
        }
        if (!ok) return;
        uint256 receivedAfter = token_ == ETH ? to.balance : token.balanceOf(to);
        if (receivedAfter != received + amount || _holdings(token_) != holdings - amount) _violate("withdraw: the recipient did not receive exactly the amount");
        ghostWithdrawn[actor][token_] += amount;
        _sums[token_].withdrawn += amount;
        successes["withdraw"]++;
    }

    /// @notice Time passes: up to two days, past dispute windows and approval expiries.
    function warp(uint256 secondsSeed) external {
        currentTime += bound(secondsSeed, 1 minutes, 2 days);
        vm.warp(currentTime);
    }

    // ---------------------------------------------------------------- internal

    function _distributable(bytes32 key, Terms memory terms) private view returns (uint256) {
        uint256 total = _pool[key].total;
        return total - total % _unit(terms);
    }

    /// @dev Where party `i` was last paid up to: the last distribution, or its own later claim.
    function _start(bytes32 key, uint256 i) private view returns (uint256) {
        uint256 distributed = _pool[key].distributed;
        uint256 claimed = ghostPaidUpTo[key][i];
        return claimed > distributed ? claimed : distributed;
    }

    function _payParty(bytes32 key, uint256 i, Party memory party, address token_, uint256 amount) private {
        ghostPartyPaid[key][i] += amount;
        _pool[key].paidOut += amount;
        _creditParty(party, token_, amount);
    }

    function _childTotal(Party memory party, address token_) private view returns (uint256) {
        return party.agreementId == 0 ? 0 : _poolState(party.agreementId, party.version, token_).total;
    }

    /// @dev Forges the packed list for one seed in four: two parties swapped, one basis point moved
    /// from party 1 to party 0 (the shares still sum to 10,000), a stray bit, or the nested flag
    /// flipped (an account read as a nested party or the reverse). Each must be refused.
    function _forgePacked(uint256[] memory parties, uint256 seed) private pure returns (bool) {
        uint256 forgery = parties.length > 1 ? seed % 16 : 15;
        if (forgery == 0) {
            (parties[0], parties[1]) = (parties[1], parties[0]);
        } else if (forgery == 1) {
            parties[0] += uint256(1) << 160;
            parties[1] -= uint256(1) << 160;
        } else if (forgery == 2) {
            parties[seed % parties.length] ^= uint256(1) << (176 + (seed >> 16) % 79);
        } else if (forgery == 3) {
            parties[seed % parties.length] ^= uint256(1) << 255;
        }
        return forgery < 4;
    }

    /// @dev A party in one word as docs/contracts.md documents `distribute`'s input: the share in
    /// bits 160-175 above the account, or for a nested party bit 255, the share, and
    /// (agreementId << 32 | version) below.
    function _packed(Party memory party) private pure returns (uint256) {
        uint256 share = uint256(party.shareBps) << 160;
        if (party.agreementId == 0) return share | uint256(uint160(party.account));
        return (uint256(1) << 255) | share | (uint256(party.agreementId) << 32) | party.version;
    }
}
