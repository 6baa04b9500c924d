// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementRegistry} from "../../../contracts/AgreementRegistry.sol";
import {SettlementLedger} from "../../../contracts/SettlementLedger.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {MockERC1271Wallet} from "../../../contracts/mocks/MockERC1271Wallet.sol";
import {
    AgreementStatus,
    ConsentSignature,
    Party,
    ReferrerPolicy,
    SettlementConfig,
    Terms
} from "../../../contracts/interfaces/IConcordTypes.sol";
import {ISettlementLedger, Pool, SettlementRecord} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {CheatCodes, Vm} from "../utils/Test.sol";

/// @notice Drives random sequences of propose, approve, activate (signatures and approvals), amend,
/// terminate, settle (ETH and a token, with and without referrers), refund, release, claim,
/// distribute, withdraw and time jumps across several actors (EOAs and an ERC-1271 wallet), and keeps
/// an independent model of what every pool, reserve and account must hold.
/// @dev Every call into the contracts is wrapped in try/catch: a reverted handler call is discarded
/// by forge, so a broken law found inside a call is recorded in {violations} (checked by an
/// invariant) instead of reverting. The model never uses SplitMath or TermsLib: it recomputes the
/// split with its own arithmetic.
contract ConcordHandler is CheatCodes {
    // ---------------------------------------------------------------- types

    struct VersionRef {
        uint64 id;
        uint32 version;
    }

    struct PoolRef {
        uint64 id;
        uint32 version;
        address token;
    }

    struct Held {
        bytes32 orderRef;
        SettlementRecord record;
    }

    /// @dev One settlement attempt, gathered in memory to keep the stack shallow.
    struct SettleCase {
        uint64 id;
        uint32 version;
        address token;
        address payer;
        address referrer;
        uint256 gross;
        bytes32 orderRef;
        bool expectOk;
        uint256 feeBps;
        uint256 reserveBps;
        uint256 window;
    }

    /// @dev What a settlement was observed to do.
    struct SettleObservation {
        uint256 holdingsBefore;
        uint256[] balancesBefore;
        Pool poolBefore;
    }

    // ---------------------------------------------------------------- constants

    uint256 internal constant TOTAL_BPS = 10_000;
    uint256 internal constant EOA_COUNT = 5;
    uint256 internal constant MAX_PARTIES = 4;
    address internal constant ETH = address(0);
    bytes32 internal constant CLOSED = bytes32(uint256(1));
    uint256 internal constant MAX_GROSS = 1e27;
    /// @dev Written out here rather than read from the registry, so that a wrong type string there shows.
    bytes32 internal constant CONSENT_TYPEHASH = keccak256(
        "Consent(uint256 agreementId,uint32 version,Terms terms,uint256 nonce,uint256 deadline)"
        "Party(address account,uint64 agreementId,uint16 shareBps)"
        "Terms(Party[] parties,uint16 referralFeeBps,uint8 referrerPolicy,address[] referrers,uint16 reserveBps,"
        "uint32 disputeWindow,address refundAuthority,uint8 dustPartyIndex,bytes32 documentHash)"
    );

    // ---------------------------------------------------------------- system under test

    AgreementRegistry public immutable registry;
    SettlementLedger public immutable ledger;
    MockERC20 public immutable token;
    MockERC1271Wallet public immutable wallet;
    /// @notice Where withdrawals to a third address go.
    address public immutable sink;

    // ---------------------------------------------------------------- actors

    /// @notice Every account that can hold a ledger balance: five EOAs and one ERC-1271 wallet.
    address[] public actors;
    mapping(address actor => uint256 key) internal _signingKey;
    mapping(address actor => uint256) internal _nextNonce;
    mapping(address actor => uint256) internal _spentNonce;
    mapping(address actor => bool) internal _hasSpentNonce;

    // ---------------------------------------------------------------- model

    mapping(uint64 id => mapping(uint32 version => bytes)) internal _terms;
    VersionRef[] internal _pending;
    /// @notice Every (agreement, version) the handler saw activated, in order.
    VersionRef[] public activations;
    mapping(uint64 id => uint32) public ghostActive;
    mapping(uint64 id => mapping(uint32 version => uint32)) public ghostPredecessor;
    mapping(uint64 id => mapping(uint32 version => mapping(address party => bool))) public ghostConsented;
    mapping(uint64 id => mapping(uint32 version => mapping(address party => bool))) public ghostTerminationApproved;

    PoolRef[] internal _pools;
    mapping(bytes32 poolKey => bool) internal _poolKnown;
    mapping(bytes32 poolKey => uint256) public modelDistributable;
    mapping(bytes32 poolKey => uint256) public modelDust;

    Held[] internal _held;
    bytes32[] public settledRefs;
    uint256 internal _orderCounter;

    /// @notice Exactly what each account must have been credited: balance + withdrawn.
    mapping(address account => mapping(address token => uint256)) public ghostCredited;
    /// @notice The most each account may ever be credited by its terms: referral fees earned,
    /// refunds received, and its entitlement in every pool it is a party of.
    mapping(address account => mapping(address token => uint256)) public ghostAllowed;
    mapping(address account => mapping(address token => uint256)) public ghostWithdrawn;
    mapping(address token => uint256) public ghostDeposited;
    mapping(address token => uint256) public ghostPaidOut;
    mapping(address token => uint256) public ghostHeldReserve;

    uint256 public currentTime;

    /// @notice Laws found broken inside a handler call (see the contract's @dev).
    uint256 public violations;
    string public firstViolation;
    /// @notice Successful calls per action, to show the campaign is not vacuous.
    mapping(bytes32 action => uint256) public successes;

    constructor(AgreementRegistry registry_, SettlementLedger ledger_, MockERC20 token_) {
        registry = registry_;
        ledger = ledger_;
        token = token_;
        for (uint256 i; i < EOA_COUNT; ++i) {
            uint256 key = uint256(keccak256(abi.encode("concord.actor", i))) % (2 ** 200) + 1;
            address account = vm.addr(key);
            actors.push(account);
            _signingKey[account] = key;
        }
        uint256 ownerKey = uint256(keccak256("concord.wallet-owner")) % (2 ** 200) + 1;
        wallet = new MockERC1271Wallet(vm.addr(ownerKey), MockERC1271Wallet.Mode.Approve);
        actors.push(address(wallet));
        _signingKey[address(wallet)] = ownerKey;
        sink = vm.addr(uint256(keccak256("concord.sink")) % (2 ** 200) + 1);
        currentTime = block.timestamp;
    }

    // ================================================================ actions: agreements

    /// @notice Proposes a new agreement with random valid terms (possibly nesting an active one).
    function propose(uint256 seed, uint256 proposerSeed) external {
        _syncTime();
        uint64 id = registry.agreementCount() + 1;
        Terms memory terms = _randomTerms(seed, id);
        vm.prank(_actor(proposerSeed));
        try registry.propose(terms) returns (uint64 newId) {
            if (newId != id) _violate("propose: unexpected agreement id");
            _terms[newId][1] = abi.encode(terms);
            _pending.push(VersionRef(newId, 1));
            successes["propose"]++;
        } catch {
            _violate("propose: valid terms reverted");
        }
    }

    /// @notice Proposes random valid terms as the next version of an active agreement.
    function amend(uint256 agreementSeed, uint256 seed) external {
        _syncTime();
        (bool found, uint64 id) = _pickAgreement(agreementSeed, AgreementStatus.Active);
        if (!found) return;
        Terms memory terms = _randomTerms(seed, id);
        vm.prank(_actor(seed >> 128));
        try registry.proposeAmendment(id, terms) returns (uint32 version) {
            _terms[id][version] = abi.encode(terms);
            _pending.push(VersionRef(id, version));
            successes["amend"]++;
        } catch {
            _violate("amend: valid amendment reverted");
        }
    }

    /// @notice An actor approves a pending version on chain (a party or not: only parties count).
    function approve(uint256 pendingSeed, uint256 actorSeed) external {
        _syncTime();
        (bool found, VersionRef memory ref) = _pickPending(pendingSeed);
        if (!found) return;
        address actor = _preferParty(ref, actorSeed);
        vm.prank(actor);
        try registry.approve(ref.id, ref.version) {
            ghostConsented[ref.id][ref.version][actor] = true;
            successes["approve"]++;
        } catch {
            _violate("approve: pending version refused");
        }
    }

    /// @notice Activates a pending version with signatures for the parties that did not approve,
    /// sometimes leaving one out or submitting a bad one (expired, spent nonce, another version,
    /// a non-party signer): then activation must revert.
    function activate(uint256 pendingSeed, uint256 seed) external {
        _syncTime();
        (bool found, VersionRef memory ref) = _pickPending(pendingSeed);
        if (!found) return;
        (AgreementStatus status,, uint32 active) = registry.agreement(ref.id);
        Terms memory terms = _termsOf(ref.id, ref.version);
        bool amendment = status == AgreementStatus.Active;
        Terms memory current;
        if (amendment) current = _termsOf(ref.id, active);
        address[] memory required = _requiredSigners(terms, current, amendment);

        (ConsentSignature[] memory sigs, bool allValid) = _consentSignatures(ref, terms, required, seed);
        bool ok;
        if (amendment) {
            try registry.activateAmendment(ref.id, ref.version, terms, current, sigs) {
                ok = true;
            } catch {}
        } else {
            try registry.activate(ref.id, ref.version, terms, sigs) {
                ok = true;
            } catch {}
        }
        if (!ok) {
            // Nested parties may have been terminated since the proposal: only flat terms must activate.
            if (allValid && !_hasNested(terms)) _violate("activate: full consent reverted");
            return;
        }
        if (!allValid) _violate("activate: accepted without every valid consent");
        for (uint256 i; i < sigs.length; ++i) {
            ghostConsented[ref.id][ref.version][sigs[i].signer] = true;
            _spentNonce[sigs[i].signer] = sigs[i].nonce;
            _hasSpentNonce[sigs[i].signer] = true;
        }
        ghostPredecessor[ref.id][ref.version] = active;
        ghostActive[ref.id] = ref.version;
        activations.push(ref);
        successes["activate"]++;
    }

    /// @notice Terminates an active agreement after its parties approve termination on chain
    /// (sometimes one party does not: then it must revert).
    function terminate(uint256 agreementSeed, uint256 seed) external {
        _syncTime();
        // Rare: most of the campaign should settle against live agreements.
        if (seed % 8 != 0) return;
        (bool found, uint64 id) = _pickAgreement(agreementSeed, AgreementStatus.Active);
        if (!found) return;
        Terms memory terms = _termsOf(id, ghostActive[id]);
        uint32 version = ghostActive[id];
        uint256 skip = (seed >> 8) % 4 == 0 ? (seed >> 16) % terms.parties.length : type(uint256).max;
        bool expectOk = true;
        for (uint256 i; i < terms.parties.length; ++i) {
            address account = terms.parties[i].account;
            if (account == address(0)) break;
            if (i != skip) {
                vm.prank(account);
                registry.approveTermination(id);
                ghostTerminationApproved[id][version][account] = true;
            }
            // A party skipped now may have approved in an earlier attempt: approvals persist.
            if (!ghostTerminationApproved[id][version][account]) expectOk = false;
        }
        try registry.terminate(id, terms, new ConsentSignature[](0)) {
            if (!expectOk) _violate("terminate: accepted without every party");
            successes["terminate"]++;
        } catch {
            if (expectOk) _violate("terminate: full consent reverted");
        }
    }

    /// @notice An actor cancels its next nonce; a later signature made with it must be refused.
    function cancelNonce(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        uint256 nonce = _nextNonce[actor]++;
        vm.prank(actor);
        try registry.cancelNonce(nonce) {
            _spentNonce[actor] = nonce;
            _hasSpentNonce[actor] = true;
            successes["cancelNonce"]++;
        } catch {
            _violate("cancelNonce: fresh nonce refused");
        }
    }

    // ================================================================ actions: money

    /// @notice Settles ETH or the token against an agreement, with or without a referrer;
    /// sometimes with the payer as referrer, a referrer not allowed, a reused order reference or an
    /// agreement that is not active: then it must revert and change nothing.
    function settle(uint256 agreementSeed, uint256 payerSeed, uint256 referrerSeed, uint256 grossSeed, bool useToken)
        external
    {
        _syncTime();
        uint64 count = registry.agreementCount();
        if (count == 0) return;
        SettleCase memory c;
        c.id = uint64(agreementSeed % count) + 1;
        c.token = useToken ? address(token) : ETH;
        c.payer = _actor(payerSeed);
        c.gross = (grossSeed >> 255) == 0 ? bound(grossSeed, 1, 1e6) : bound(grossSeed, 1, MAX_GROSS);
        c.orderRef = _orderRefFor(grossSeed);
        c.expectOk = !_isSettled(c.orderRef);

        SettlementConfig memory config = registry.settlementConfig(c.id);
        if (config.status != AgreementStatus.Active) {
            c.expectOk = false;
        } else {
            c.version = config.version;
            Terms memory terms = _termsOf(c.id, c.version);
            c.feeBps = terms.referralFeeBps;
            c.reserveBps = terms.reserveBps;
            c.window = terms.disputeWindow;
            c.referrer = _pickReferrer(referrerSeed, c.payer, terms);
            if (!_referrerValid(c.referrer, c.payer, terms)) c.expectOk = false;
        }
        _fund(c);
        SettleObservation memory before = _observe(c);

        vm.recordLogs();
        vm.prank(c.payer);
        try ledger.settle{value: c.token == ETH ? c.gross : 0}(c.id, c.token, c.gross, c.referrer, c.orderRef) {
            if (!c.expectOk) {
                _violate("settle: accepted an invalid settlement (self-referral, referrer, order ref or status)");
                return;
            }
            _afterSettle(c, before);
        } catch {
            if (c.expectOk) _violate("settle: valid settlement reverted");
        }
    }

    /// @notice Releases a held reserve (anyone may); before the window ends it must revert, and a
    /// record naming another version than the settlement's must always revert.
    function releaseReserve(uint256 heldSeed, uint256 callerSeed) external {
        _syncTime();
        if (_held.length == 0) return;
        uint256 index = heldSeed % _held.length;
        Held memory h = _held[index];
        SettlementRecord memory record = h.record;
        bool forged = callerSeed % 8 == 0;
        if (forged) record.version += 1;
        bool expectOk = !forged && block.timestamp >= record.releaseAt;
        vm.prank(_actor(callerSeed >> 8));
        try ledger.releaseReserve(h.orderRef, record) {
            if (!expectOk) {
                _violate(forged ? "release: under another version" : "release: inside the dispute window");
                return;
            }
            _creditModelPool(record.agreementId, record.version, record.token, record.reserve);
            ghostHeldReserve[record.token] -= record.reserve;
            if (ledger.settlementState(h.orderRef) != CLOSED) _violate("release: settlement not closed");
            _removeHeld(index);
            successes["releaseReserve"]++;
        } catch {
            if (expectOk) _violate("release: valid release reverted");
        }
    }

    /// @notice Refunds part of a held reserve to its payer; only the version's refund authority
    /// may, and only inside the dispute window.
    function refund(uint256 heldSeed, uint256 amountSeed, bool asAuthority) external {
        _syncTime();
        if (_held.length == 0) return;
        uint256 index = heldSeed % _held.length;
        Held memory h = _held[index];
        address authority = _termsOf(h.record.agreementId, h.record.version).refundAuthority;
        address caller = asAuthority && authority != address(0) ? authority : _actor(amountSeed >> 128);
        uint256 amount = bound(amountSeed, 1, h.record.reserve);
        bool expectOk = caller == authority && block.timestamp < h.record.releaseAt;
        uint256 payerBefore = ledger.balanceOf(h.record.payer, h.record.token);
        vm.prank(caller);
        try ledger.refund(h.orderRef, h.record, amount) {
            if (!expectOk) {
                _violate("refund: accepted from a non-authority or after the window");
                return;
            }
            if (ledger.balanceOf(h.record.payer, h.record.token) != payerBefore + amount) {
                _violate("refund: payer not credited exactly");
            }
            ghostCredited[h.record.payer][h.record.token] += amount;
            ghostAllowed[h.record.payer][h.record.token] += amount;
            ghostHeldReserve[h.record.token] -= amount;
            uint128 remaining = h.record.reserve - uint128(amount);
            if (remaining == 0) {
                if (ledger.settlementState(h.orderRef) != CLOSED) _violate("refund: emptied settlement not closed");
                _removeHeld(index);
            } else {
                _held[index].record.reserve = remaining;
                if (ledger.settlementState(h.orderRef) != keccak256(abi.encode(_held[index].record))) {
                    _violate("refund: stored record does not match the remaining reserve");
                }
            }
            successes["refund"]++;
        } catch {
            if (expectOk) _violate("refund: valid refund reverted");
        }
    }

    /// @notice Claims one party's outstanding entitlement from a pool (anyone may).
    function claim(uint256 poolSeed, uint256 partySeed) external {
        _syncTime();
        if (_pools.length == 0) return;
        PoolRef memory p = _pools[poolSeed % _pools.length];
        Terms memory terms = _termsOf(p.id, p.version);
        uint256 index = partySeed % terms.parties.length;
        (uint256 releasedBefore, uint256 balanceBefore) = _partyBefore(p, terms, index);
        vm.prank(_actor(partySeed >> 128));
        try ledger.claim(p.id, p.version, p.token, terms, index) {
            _afterClaim(p, terms, index, releasedBefore, balanceBefore);
            successes["claim"]++;
        } catch {
            _violate("claim: reverted (pull safety)");
        }
    }

    /// @notice Credits every party of a pool at once (anyone may).
    function distribute(uint256 poolSeed, uint256 callerSeed) external {
        _syncTime();
        if (_pools.length == 0) return;
        PoolRef memory p = _pools[poolSeed % _pools.length];
        Terms memory terms = _termsOf(p.id, p.version);
        uint256 count = terms.parties.length;
        uint256[] memory releasedBefore = new uint256[](count);
        uint256[] memory balanceBefore = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            (releasedBefore[i], balanceBefore[i]) = _partyBefore(p, terms, i);
        }
        vm.prank(_actor(callerSeed));
        try ledger.distribute(p.id, p.version, p.token, terms) {
            for (uint256 i; i < count; ++i) {
                _afterClaim(p, terms, i, releasedBefore[i], balanceBefore[i]);
            }
            successes["distribute"]++;
        } catch {
            _violate("distribute: reverted (pull safety)");
        }
    }

    /// @notice An actor withdraws part of its balance, to itself or to a third address.
    function withdraw(uint256 actorSeed, uint256 amountSeed, bool useToken, bool toSelf) external {
        _syncTime();
        address actor = _actor(actorSeed);
        address t = useToken ? address(token) : ETH;
        uint256 balance = ledger.balanceOf(actor, t);
        if (balance == 0) return;
        uint256 amount = bound(amountSeed, 1, balance);
        address to = toSelf ? actor : sink;
        uint256 toBefore = _holdingOf(to, t);
        vm.prank(actor);
        try ledger.withdraw(t, to, amount) {
            if (_holdingOf(to, t) != toBefore + amount) _violate("withdraw: recipient did not receive the amount");
            if (ledger.balanceOf(actor, t) != balance - amount) _violate("withdraw: balance not reduced exactly");
            ghostWithdrawn[actor][t] += amount;
            ghostPaidOut[t] += amount;
            successes["withdraw"]++;
        } catch {
            _violate("withdraw: covered withdrawal reverted");
        }
    }

    /// @notice Moves time forward by one minute to ten days.
    function warp(uint256 secondsSeed) external {
        currentTime += bound(secondsSeed, 1 minutes, 10 days);
        vm.warp(currentTime);
    }

    // ================================================================ views for the invariants

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function poolCount() external view returns (uint256) {
        return _pools.length;
    }

    function poolAt(uint256 i) external view returns (PoolRef memory) {
        return _pools[i];
    }

    function heldCount() external view returns (uint256) {
        return _held.length;
    }

    function heldAt(uint256 i) external view returns (Held memory) {
        return _held[i];
    }

    function settledCount() external view returns (uint256) {
        return settledRefs.length;
    }

    function activationCount() external view returns (uint256) {
        return activations.length;
    }

    function termsOf(uint64 id, uint32 version) external view returns (Terms memory) {
        return _termsOf(id, version);
    }

    function poolKey(uint64 id, uint32 version, address t) public pure returns (bytes32) {
        return keccak256(abi.encode(id, version, t));
    }

    /// @notice What the model says party `index` of a pool is entitled to.
    function modelEntitlement(PoolRef memory p, Terms memory terms, uint256 index) public view returns (uint256) {
        bytes32 key = poolKey(p.id, p.version, p.token);
        uint256 entitled = modelDistributable[key] * terms.parties[index].shareBps / TOTAL_BPS;
        if (index == terms.dustPartyIndex) entitled += modelDust[key];
        return entitled;
    }

    // ================================================================ internal: settlement

    function _fund(SettleCase memory c) internal {
        if (c.token == ETH) {
            vm.deal(c.payer, c.payer.balance + c.gross);
        } else {
            token.mint(c.payer, c.gross);
            vm.prank(c.payer);
            token.approve(address(ledger), c.gross);
        }
    }

    function _observe(SettleCase memory c) internal view returns (SettleObservation memory o) {
        o.holdingsBefore = _holdingOf(address(ledger), c.token);
        o.balancesBefore = new uint256[](actors.length);
        for (uint256 i; i < actors.length; ++i) {
            o.balancesBefore[i] = ledger.balanceOf(actors[i], c.token);
        }
        o.poolBefore = ledger.pool(c.id, c.version, c.token);
    }

    /// @dev Checks the settlement against the model: parts sum to gross, one referrer at most and at
    /// the agreed rate, the reserve held under this version; then books it in the model.
    function _afterSettle(SettleCase memory c, SettleObservation memory before) internal {
        (uint32 version, uint256 fee, uint256 reserve, uint40 releaseAt) = _settledEvent();
        if (version != c.version) _violate("settle: event names another version");

        uint256 expectedFee = c.referrer != address(0) ? c.gross * c.feeBps / TOTAL_BPS : 0;
        uint256 expectedReserve = c.gross * c.reserveBps / TOTAL_BPS;
        if (fee != expectedFee) _violate("settle: referral fee is not gross * rate");
        if (reserve != expectedReserve) _violate("settle: reserve is not gross * reserve rate");

        Pool memory poolAfter = ledger.pool(c.id, c.version, c.token);
        uint256 pooled = (poolAfter.distributable - before.poolBefore.distributable)
            + (poolAfter.dust - before.poolBefore.dust);
        if (fee + reserve + pooled != c.gross) _violate("settle: parts do not sum to gross");
        if (_holdingOf(address(ledger), c.token) != before.holdingsBefore + c.gross) {
            _violate("settle: ledger did not receive exactly the gross");
        }
        // Single attribution: only the referrer's balance moves, by exactly the fee.
        for (uint256 i; i < actors.length; ++i) {
            uint256 expected = before.balancesBefore[i] + (actors[i] == c.referrer ? fee : 0);
            if (ledger.balanceOf(actors[i], c.token) != expected) _violate("settle: a balance other than the referrer's moved");
        }

        // Book it in the model (the model's own split of the net, not SplitMath).
        _creditModelPool(c.id, c.version, c.token, c.gross - expectedFee - expectedReserve);
        if (expectedFee != 0) {
            ghostCredited[c.referrer][c.token] += expectedFee;
            ghostAllowed[c.referrer][c.token] += expectedFee;
        }
        ghostDeposited[c.token] += c.gross;
        settledRefs.push(c.orderRef);
        if (expectedReserve != 0) {
            SettlementRecord memory record = SettlementRecord({
                agreementId: c.id,
                version: c.version,
                token: c.token,
                payer: c.payer,
                reserve: uint128(expectedReserve),
                releaseAt: uint40(block.timestamp + c.window)
            });
            if (releaseAt != record.releaseAt) _violate("settle: release time is not now + window");
            if (ledger.settlementState(c.orderRef) != keccak256(abi.encode(record))) {
                _violate("settle: stored record does not match the settlement");
            }
            _held.push(Held(c.orderRef, record));
            ghostHeldReserve[c.token] += expectedReserve;
        } else if (ledger.settlementState(c.orderRef) != CLOSED) {
            _violate("settle: settlement without reserve not closed");
        }
        successes[c.referrer != address(0) ? bytes32("settleWithReferrer") : bytes32("settle")]++;
        if (c.token != ETH) successes["settleToken"]++;
    }

    function _settledEvent() internal returns (uint32 version, uint256 fee, uint256 reserve, uint40 releaseAt) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool seen;
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter != address(ledger) || logs[i].topics.length == 0
                    || logs[i].topics[0] != ISettlementLedger.Settled.selector
            ) continue;
            if (seen) _violate("settle: more than one Settled event");
            seen = true;
            (version,,,, fee, reserve, releaseAt) =
                abi.decode(logs[i].data, (uint32, address, uint256, address, uint256, uint256, uint40));
        }
        if (!seen) _violate("settle: no Settled event");
    }

    function _pickReferrer(uint256 seed, address payer, Terms memory terms) internal view returns (address) {
        uint256 mode = seed % 8;
        if (mode < 3) return address(0);
        if (mode == 3) return payer;
        if (mode == 4 && terms.referrers.length != 0) return terms.referrers[(seed >> 8) % terms.referrers.length];
        return _actor(seed >> 16);
    }

    function _referrerValid(address referrer, address payer, Terms memory terms) internal pure returns (bool) {
        if (referrer == address(0)) return true;
        if (referrer == payer || terms.referrerPolicy == ReferrerPolicy.None) return false;
        if (terms.referrerPolicy == ReferrerPolicy.Open) return true;
        for (uint256 i; i < terms.referrers.length; ++i) {
            if (terms.referrers[i] == referrer) return true;
        }
        return false;
    }

    function _orderRefFor(uint256 seed) internal returns (bytes32) {
        if ((seed >> 248) % 16 == 0 && settledRefs.length != 0) {
            return settledRefs[(seed >> 8) % settledRefs.length];
        }
        return keccak256(abi.encode("concord.order", ++_orderCounter));
    }

    function _isSettled(bytes32 orderRef) internal view returns (bool) {
        for (uint256 i; i < settledRefs.length; ++i) {
            if (settledRefs[i] == orderRef) return true;
        }
        return false;
    }

    function _removeHeld(uint256 index) internal {
        _held[index] = _held[_held.length - 1];
        _held.pop();
    }

    // ================================================================ internal: pools and claims

    /// @dev The model's split of `amount` entering a pool: whole units of 10,000 / gcd(shares), the
    /// rest is dust for the dust party. Raises every account party's allowance by its exact share.
    function _creditModelPool(uint64 id, uint32 version, address t, uint256 amount) internal {
        Terms memory terms = _termsOf(id, version);
        uint256 unit = _unitOf(terms);
        uint256 dust = amount % unit;
        uint256 distributable = amount - dust;
        bytes32 key = poolKey(id, version, t);
        if (!_poolKnown[key]) {
            _poolKnown[key] = true;
            _pools.push(PoolRef(id, version, t));
        }
        modelDistributable[key] += distributable;
        modelDust[key] += dust;
        for (uint256 i; i < terms.parties.length; ++i) {
            address account = terms.parties[i].account;
            if (account == address(0)) continue;
            uint256 share = distributable * terms.parties[i].shareBps / TOTAL_BPS;
            if (share * TOTAL_BPS != distributable * terms.parties[i].shareBps) {
                _violate("model: distributable is not a whole number of units");
            }
            ghostAllowed[account][t] += share + (i == terms.dustPartyIndex ? dust : 0);
        }
    }

    function _partyBefore(PoolRef memory p, Terms memory terms, uint256 index)
        internal
        view
        returns (uint256 releasedBefore, uint256 balanceBefore)
    {
        releasedBefore = ledger.released(p.id, p.version, p.token, index);
        address account = terms.parties[index].account;
        if (account != address(0)) balanceBefore = ledger.balanceOf(account, p.token);
    }

    /// @dev After a claim, the party's released equals its model entitlement, and exactly the
    /// difference moved to its balance (or into the nested agreement's current pool).
    function _afterClaim(
        PoolRef memory p,
        Terms memory terms,
        uint256 index,
        uint256 releasedBefore,
        uint256 balanceBefore
    ) internal {
        uint256 entitled = modelEntitlement(p, terms, index);
        if (releasedBefore > entitled) {
            _violate("claim: released more than the terms allow");
            return;
        }
        if (ledger.released(p.id, p.version, p.token, index) != entitled) {
            _violate("claim: released differs from the entitlement");
        }
        uint256 amount = entitled - releasedBefore;
        Party memory party = terms.parties[index];
        if (party.agreementId == 0) {
            if (ledger.balanceOf(party.account, p.token) != balanceBefore + amount) {
                _violate("claim: party balance not credited exactly");
            }
            ghostCredited[party.account][p.token] += amount;
        } else if (amount != 0) {
            uint32 childVersion = ghostActive[party.agreementId];
            if (registry.settlementConfig(party.agreementId).version != childVersion) {
                _violate("claim: nested agreement version differs from the model");
            }
            _creditModelPool(party.agreementId, childVersion, p.token, amount);
        }
    }

    // ================================================================ internal: consent

    function _consentSignatures(VersionRef memory ref, Terms memory terms, address[] memory required, uint256 seed)
        internal
        returns (ConsentSignature[] memory sigs, bool allValid)
    {
        bytes32 termsHash = registry.hashTerms(terms);
        allValid = true;
        ConsentSignature[] memory buffer = new ConsentSignature[](required.length + 1);
        uint256 n;
        for (uint256 i; i < required.length; ++i) {
            uint256 mode = uint256(keccak256(abi.encode(seed, i))) % 24;
            (bool include, bool valid, ConsentSignature memory sig) = _partyConsent(ref, termsHash, required[i], mode);
            if (!valid) allValid = false;
            if (include) buffer[n++] = sig;
        }
        // Sometimes an outsider signs too: a signer that is not a required party.
        if (seed % 16 == 1) {
            address outsider = _actor(seed >> 8);
            if (!_contains(required, outsider)) {
                buffer[n++] = _sign(outsider, ref.id, ref.version, termsHash, _nextNonce[outsider]++, block.timestamp + 1);
                allValid = false;
            }
        }
        sigs = new ConsentSignature[](n);
        for (uint256 i; i < n; ++i) {
            sigs[i] = buffer[i];
        }
        _sortBySigner(sigs);
    }

    /// @dev One required party's consent: none if it approved on chain (half the time), or missing
    /// (mode 0), or a signature that is expired (1), reuses a spent or cancelled nonce (2), names
    /// another version (3), or is valid.
    function _partyConsent(VersionRef memory ref, bytes32 termsHash, address signer, uint256 mode)
        internal
        returns (bool include, bool valid, ConsentSignature memory sig)
    {
        if (ghostConsented[ref.id][ref.version][signer] && mode % 2 == 0) return (false, true, sig);
        if (mode == 0) return (false, false, sig);
        valid = true;
        uint256 nonce = _nextNonce[signer]++;
        uint256 deadline = block.timestamp + 1 days;
        uint32 signedVersion = ref.version;
        if (mode == 1) {
            deadline = block.timestamp - 1;
            valid = false;
        } else if (mode == 2 && _hasSpentNonce[signer]) {
            nonce = _spentNonce[signer];
            valid = false;
        } else if (mode == 3) {
            signedVersion = ref.version + 1;
            valid = false;
        }
        return (true, valid, _sign(signer, ref.id, signedVersion, termsHash, nonce, deadline));
    }

    /// @dev Signs with the actor's key over an EIP-712 digest built here, independently of the
    /// registry's {consentDigest} (only the terms' struct hash comes from the registry; TermsLib's
    /// hash has its own fuzz test against an independent encoding).
    function _sign(address signer, uint64 id, uint32 version, bytes32 termsHash, uint256 nonce, uint256 deadline)
        internal
        view
        returns (ConsentSignature memory)
    {
        bytes32 digest = _consentDigest(id, version, termsHash, nonce, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_signingKey[signer], digest);
        return ConsentSignature({signer: signer, nonce: nonce, deadline: deadline, signature: abi.encodePacked(r, s, v)});
    }

    function _consentDigest(uint64 id, uint32 version, bytes32 termsHash, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Concord"),
                keccak256("1"),
                block.chainid,
                address(registry)
            )
        );
        bytes32 structHash = keccak256(abi.encode(CONSENT_TYPEHASH, id, version, termsHash, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _requiredSigners(Terms memory terms, Terms memory current, bool amendment)
        internal
        pure
        returns (address[] memory required)
    {
        uint256 max = terms.parties.length + (amendment ? current.parties.length : 0);
        address[] memory buffer = new address[](max);
        uint256 n;
        for (uint256 i; i < terms.parties.length; ++i) {
            if (terms.parties[i].account != address(0)) buffer[n++] = terms.parties[i].account;
        }
        if (amendment) {
            for (uint256 i; i < current.parties.length; ++i) {
                address account = current.parties[i].account;
                if (account != address(0) && !_containsPrefix(buffer, n, account)) buffer[n++] = account;
            }
        }
        required = new address[](n);
        for (uint256 i; i < n; ++i) {
            required[i] = buffer[i];
        }
    }

    function _preferParty(VersionRef memory ref, uint256 seed) internal view returns (address) {
        if (seed % 4 == 0) return _actor(seed >> 8);
        Terms memory terms = _termsOf(ref.id, ref.version);
        Party memory party = terms.parties[(seed >> 8) % terms.parties.length];
        return party.account != address(0) ? party.account : _actor(seed >> 16);
    }

    // ================================================================ internal: random terms

    /// @dev Valid terms for agreement `forId`: 1-4 actor parties (sorted), maybe one nested active
    /// agreement with a lower id, shares on a random grid (so the unit varies), a random policy,
    /// reserve and window, refund authority and dust party.
    function _randomTerms(uint256 seed, uint64 forId) internal view returns (Terms memory terms) {
        uint256 r = uint256(keccak256(abi.encode("concord.terms", seed)));
        address[] memory members = _randomSubset(r, MAX_PARTIES);
        (bool nest, uint64 child) = _nestedCandidate(r >> 40, forId);
        uint256 count = members.length + (nest ? 1 : 0);
        terms.parties = new Party[](count);
        uint256[] memory shares = _randomShares(r >> 64, count);
        for (uint256 i; i < members.length; ++i) {
            terms.parties[i] = Party({account: members[i], agreementId: 0, shareBps: uint16(shares[i])});
        }
        if (nest) terms.parties[count - 1] = Party({account: address(0), agreementId: child, shareBps: uint16(shares[count - 1])});

        terms.referrerPolicy = ReferrerPolicy((r >> 96) % 3);
        if (terms.referrerPolicy != ReferrerPolicy.None) terms.referralFeeBps = uint16(1 + (r >> 100) % 2_000);
        if (terms.referrerPolicy == ReferrerPolicy.Allowlist) terms.referrers = _randomSubset(r >> 120, actors.length);
        if ((r >> 140) % 3 != 0) {
            terms.reserveBps = uint16(1 + (r >> 144) % 5_000);
            terms.disputeWindow = uint32(1 hours + (r >> 160) % 20 days);
        }
        if ((r >> 190) % 3 != 0) terms.refundAuthority = _actor(r >> 194);
        terms.dustPartyIndex = uint8((r >> 200) % count);
        terms.documentHash = keccak256(abi.encode("concord.document", r));
    }

    function _randomSubset(uint256 r, uint256 maxSize) internal view returns (address[] memory subset) {
        uint256 n = actors.length;
        uint256 mask = r % (2 ** n);
        if (mask == 0) mask = 1 << ((r >> 8) % n);
        address[] memory buffer = new address[](n);
        uint256 size;
        for (uint256 i; i < n && size < maxSize; ++i) {
            if (mask & (1 << i) != 0) buffer[size++] = actors[i];
        }
        subset = new address[](size);
        for (uint256 i; i < size; ++i) {
            subset[i] = buffer[i];
        }
        _sortAddresses(subset);
    }

    function _nestedCandidate(uint256 r, uint64 forId) internal view returns (bool, uint64) {
        if (r % 4 != 0 || forId <= 1) return (false, 0);
        uint64 start = uint64((r >> 8) % (forId - 1)) + 1;
        for (uint64 k; k < forId - 1; ++k) {
            uint64 candidate = (start + k - 1) % (forId - 1) + 1;
            (AgreementStatus status,,) = registry.agreement(candidate);
            if (status == AgreementStatus.Active && registry.nestingDepth(candidate) < registry.MAX_NESTING_DEPTH()) {
                return (true, candidate);
            }
        }
        return (false, 0);
    }

    /// @dev `count` positive shares summing to 10,000 on a grid of 1, 25, 500 or 2,500 bps.
    function _randomShares(uint256 r, uint256 count) internal pure returns (uint256[] memory shares) {
        uint256[4] memory grids = [uint256(1), 25, 500, 2_500];
        uint256 grid = grids[r % 4];
        uint256 units = TOTAL_BPS / grid;
        if (units < count) {
            grid = 1;
            units = TOTAL_BPS;
        }
        shares = new uint256[](count);
        uint256 remaining = units;
        for (uint256 i; i + 1 < count; ++i) {
            uint256 maxUnits = remaining - (count - 1 - i);
            uint256 u = 1 + uint256(keccak256(abi.encode(r, i))) % maxUnits;
            shares[i] = u * grid;
            remaining -= u;
        }
        shares[count - 1] = remaining * grid;
    }

    // ================================================================ internal: helpers

    function _syncTime() internal {
        vm.warp(currentTime);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _termsOf(uint64 id, uint32 version) internal view returns (Terms memory) {
        return abi.decode(_terms[id][version], (Terms));
    }

    function _pickAgreement(uint256 seed, AgreementStatus wanted) internal view returns (bool, uint64) {
        uint64 count = registry.agreementCount();
        if (count == 0) return (false, 0);
        uint64 start = uint64(seed % count);
        for (uint64 k; k < count; ++k) {
            uint64 id = (start + k) % count + 1;
            (AgreementStatus status,,) = registry.agreement(id);
            if (status == wanted) return (true, id);
        }
        return (false, 0);
    }

    /// @dev A pending version that can still be activated; superseded ones are dropped on the way.
    function _pickPending(uint256 seed) internal returns (bool, VersionRef memory ref) {
        while (_pending.length != 0) {
            uint256 index = seed % _pending.length;
            ref = _pending[index];
            (AgreementStatus status,, uint32 active) = registry.agreement(ref.id);
            if (ref.version > active && status != AgreementStatus.Terminated) return (true, ref);
            _pending[index] = _pending[_pending.length - 1];
            _pending.pop();
        }
        return (false, ref);
    }

    function _unitOf(Terms memory terms) internal pure returns (uint256) {
        uint256 g;
        for (uint256 i; i < terms.parties.length; ++i) {
            uint256 a = g;
            uint256 b = terms.parties[i].shareBps;
            while (b != 0) (a, b) = (b, a % b);
            g = a;
        }
        return TOTAL_BPS / g;
    }

    function _hasNested(Terms memory terms) internal pure returns (bool) {
        return terms.parties[terms.parties.length - 1].agreementId != 0;
    }

    function _holdingOf(address account, address t) internal view returns (uint256) {
        return t == ETH ? account.balance : token.balanceOf(account);
    }

    function _contains(address[] memory list, address a) internal pure returns (bool) {
        return _containsPrefix(list, list.length, a);
    }

    function _containsPrefix(address[] memory list, uint256 n, address a) internal pure returns (bool) {
        for (uint256 i; i < n; ++i) {
            if (list[i] == a) return true;
        }
        return false;
    }

    function _sortAddresses(address[] memory list) internal pure {
        for (uint256 i = 1; i < list.length; ++i) {
            address x = list[i];
            uint256 j = i;
            while (j > 0 && list[j - 1] > x) {
                list[j] = list[j - 1];
                --j;
            }
            list[j] = x;
        }
    }

    function _sortBySigner(ConsentSignature[] memory list) internal pure {
        for (uint256 i = 1; i < list.length; ++i) {
            ConsentSignature memory x = list[i];
            uint256 j = i;
            while (j > 0 && list[j - 1].signer > x.signer) {
                list[j] = list[j - 1];
                --j;
            }
            list[j] = x;
        }
    }

    function _violate(string memory why) internal {
        if (violations == 0) firstViolation = why;
        ++violations;
    }
}
