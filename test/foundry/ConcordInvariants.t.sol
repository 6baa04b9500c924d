// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementRegistry} from "../../contracts/AgreementRegistry.sol";
import {SettlementLedger} from "../../contracts/SettlementLedger.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {IAgreementRegistry} from "../../contracts/interfaces/IAgreementRegistry.sol";
import {AgreementStatus, Party, Terms} from "../../contracts/interfaces/IConcordTypes.sol";
import {Pool} from "../../contracts/interfaces/ISettlementLedger.sol";
import {ConcordHandler} from "./handlers/ConcordHandler.sol";
import {Test} from "./utils/Test.sol";

/// @notice The ledger's laws (DESIGN.md) as invariants over random sequences of every action.
/// @dev Each invariant is checked after every handler call. Laws that concern one call (parts sum
/// to gross, single attribution, idempotency, consent at activation) are checked inside the
/// handler against its model and surface here through `handler.violations()`.
contract ConcordInvariantsTest is Test {
    AgreementRegistry internal registry;
    SettlementLedger internal ledger;
    MockERC20 internal token;
    ConcordHandler internal handler;

    function setUp() public {
        registry = new AgreementRegistry();
        ledger = new SettlementLedger(IAgreementRegistry(address(registry)));
        token = new MockERC20("Concord USD", "cUSD", 6);
        handler = new ConcordHandler(registry, ledger, token);

        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = ConcordHandler.propose.selector;
        selectors[1] = ConcordHandler.amend.selector;
        selectors[2] = ConcordHandler.approve.selector;
        selectors[3] = ConcordHandler.activate.selector;
        selectors[4] = ConcordHandler.terminate.selector;
        selectors[5] = ConcordHandler.cancelNonce.selector;
        selectors[6] = ConcordHandler.settle.selector;
        selectors[7] = ConcordHandler.releaseReserve.selector;
        selectors[8] = ConcordHandler.refund.selector;
        selectors[9] = ConcordHandler.claim.selector;
        selectors[10] = ConcordHandler.distribute.selector;
        selectors[11] = ConcordHandler.withdraw.selector;
        selectors[12] = ConcordHandler.warp.selector;
        // Settling is what the ledger is for: give it twice the weight.
        selectors[13] = ConcordHandler.settle.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Law 1: for each token, what the ledger holds equals withdrawable balances plus held
    /// reserves plus what pools have not yet paid out; and it equals deposits minus withdrawals.
    function invariant_conservation() public view {
        _checkConservation(address(0));
        _checkConservation(address(token));
    }

    /// @notice Law 2 and the version rule of reserves: every pool holds exactly what the model's own
    /// split put there (each settlement's net under its version, each reserve under the version it
    /// was settled under); no law broken inside a call (parts sum to gross, one referrer at the rate,
    /// never the payer, order references once, consent at activation, pull safety).
    function invariant_poolsMatchModelAndNoViolation() public view {
        assertEq(handler.violations(), 0, handler.firstViolation());
        uint256 count = handler.poolCount();
        for (uint256 i; i < count; ++i) {
            ConcordHandler.PoolRef memory p = handler.poolAt(i);
            bytes32 key = handler.poolKey(p.id, p.version, p.token);
            Pool memory pool = ledger.pool(p.id, p.version, p.token);
            assertEq(pool.distributable, handler.modelDistributable(key), "pool distributable differs from the model");
            assertEq(pool.dust, handler.modelDust(key), "pool dust differs from the model");
        }
    }

    /// @notice No account ever receives more than its terms allow: balance + withdrawn equals what
    /// the model credited, which never exceeds referral fees + refunds + pool entitlements; no
    /// party's released amount exceeds its entitlement.
    function invariant_accountsWithinTerms() public view {
        uint256 actors = handler.actorCount();
        for (uint256 i; i < actors; ++i) {
            address account = handler.actors(i);
            _checkAccount(account, address(0));
            _checkAccount(account, address(token));
        }
        uint256 count = handler.poolCount();
        for (uint256 i; i < count; ++i) {
            ConcordHandler.PoolRef memory p = handler.poolAt(i);
            Terms memory terms = handler.termsOf(p.id, p.version);
            for (uint256 j; j < terms.parties.length; ++j) {
                assertLe(
                    ledger.released(p.id, p.version, p.token, j),
                    handler.modelEntitlement(p, terms, j),
                    "party released more than its entitlement"
                );
            }
        }
    }

    /// @notice Law 4: every order reference settled is closed or holds exactly one record, and the
    /// ledger counted exactly as many settlements as succeeded.
    function invariant_orderRefsSettleOnce() public view {
        uint256 settled = handler.settledCount();
        uint256 counted;
        uint64 agreements = registry.agreementCount();
        for (uint64 id = 1; id <= agreements; ++id) {
            counted += ledger.riskCounters(id, address(0)).settledCount + ledger.riskCounters(id, address(token)).settledCount;
        }
        assertEq(counted, settled, "settlement count differs from the successful settles");
        for (uint256 i; i < settled; ++i) {
            assertTrue(ledger.settlementState(handler.settledRefs(i)) != bytes32(0), "settled order ref forgotten");
        }
    }

    /// @notice Law 5: the active version of every agreement, and every version ever activated, had the
    /// consent of each account party of its terms and of the version it replaced; the stored terms
    /// hash is the hash of the terms consented to; a terminated agreement had every party's consent.
    function invariant_consentBeforeActivation() public view {
        uint64 agreements = registry.agreementCount();
        for (uint64 id = 1; id <= agreements; ++id) {
            (AgreementStatus status,, uint32 active) = registry.agreement(id);
            if (status == AgreementStatus.Proposed) assertEq(active, 0, "proposed agreement has an active version");
            if (active == 0) continue;
            assertEq(active, handler.ghostActive(id), "active version differs from the last consented activation");
            if (status != AgreementStatus.Terminated) continue;
            Terms memory current = handler.termsOf(id, active);
            for (uint256 j; j < current.parties.length; ++j) {
                address account = current.parties[j].account;
                if (account == address(0)) continue;
                assertTrue(handler.ghostTerminationApproved(id, active, account), "terminated without a party's consent");
            }
        }
        uint256 activations = handler.activationCount();
        for (uint256 i; i < activations; ++i) {
            (uint64 id, uint32 version) = handler.activations(i);
            Terms memory terms = handler.termsOf(id, version);
            assertEq(registry.termsHash(id, version), registry.hashTerms(terms), "stored terms hash differs");
            _checkConsent(id, version, terms);
            uint32 predecessor = handler.ghostPredecessor(id, version);
            if (predecessor != 0) _checkConsent(id, version, handler.termsOf(id, predecessor));
        }
    }

    /// @notice Held reserves stay bound to the version they were settled under: each open record is
    /// the one stored for its order reference, and their sum is the model's held reserve.
    function invariant_reservesFollowTheirVersion() public view {
        uint256 count = handler.heldCount();
        uint256 ethHeld;
        uint256 tokenHeld;
        for (uint256 i; i < count; ++i) {
            ConcordHandler.Held memory h = handler.heldAt(i);
            assertEq(
                ledger.settlementState(h.orderRef), keccak256(abi.encode(h.record)), "held record differs from the stored one"
            );
            if (h.record.token == address(0)) ethHeld += h.record.reserve;
            else tokenHeld += h.record.reserve;
        }
        assertEq(ethHeld, handler.ghostHeldReserve(address(0)), "ETH reserves differ from the model");
        assertEq(tokenHeld, handler.ghostHeldReserve(address(token)), "token reserves differ from the model");
    }

    /// @notice The handler is not vacuous: a fixed pseudo-random sequence of 600 calls reaches every
    /// action's success path (settlements with and without referrers, in ETH and the token, releases,
    /// refunds, claims, distributions, withdrawals, amendments, terminations) without a violation.
    function test_handler_reachesEveryAction() public {
        for (uint256 i; i < 600; ++i) {
            uint256 a = uint256(keccak256(abi.encode("a", i)));
            uint256 b = uint256(keccak256(abi.encode("b", i)));
            uint256 c = uint256(keccak256(abi.encode("c", i)));
            uint256 action = i < 8 ? i % 2 : a % 13;
            if (action == 0) handler.propose(b, c);
            else if (action == 1) handler.activate(b, c);
            else if (action == 2) handler.approve(b, c);
            else if (action == 3) handler.amend(b, c);
            else if (action == 4) handler.terminate(b, i % 4 == 0 ? (c >> 3) << 3 : c);
            else if (action == 5) handler.cancelNonce(b);
            else if (action == 6 || action == 12) handler.settle(a >> 8, b, c, uint256(keccak256(abi.encode(b))), c % 2 == 0);
            else if (action == 7) handler.releaseReserve(b, c);
            else if (action == 8) handler.refund(b, c, c % 4 != 0);
            else if (action == 9) handler.claim(b, c);
            else if (action == 10) handler.distribute(b, c);
            else handler.withdraw(b, c, c % 2 == 0, c % 3 == 0);
            if (i % 20 == 19) handler.warp(b % 3 days);
        }
        assertEq(handler.violations(), 0, handler.firstViolation());
        string[14] memory actions = [
            "propose", "activate", "approve", "amend", "terminate", "cancelNonce", "settle", "settleWithReferrer",
            "settleToken", "releaseReserve", "refund", "claim", "distribute", "withdraw"
        ];
        for (uint256 i; i < actions.length; ++i) {
            assertTrue(handler.successes(bytes32(bytes(actions[i]))) > 0, actions[i]);
        }
        invariant_conservation();
        invariant_poolsMatchModelAndNoViolation();
        invariant_accountsWithinTerms();
        invariant_orderRefsSettleOnce();
        invariant_consentBeforeActivation();
        invariant_reservesFollowTheirVersion();
    }

    // ---------------------------------------------------------------- helpers

    function _checkConservation(address t) internal view {
        uint256 holdings = t == address(0) ? address(ledger).balance : token.balanceOf(address(ledger));
        uint256 balances;
        uint256 actors = handler.actorCount();
        for (uint256 i; i < actors; ++i) {
            balances += ledger.balanceOf(handler.actors(i), t);
        }
        uint256 undistributed;
        uint256 count = handler.poolCount();
        for (uint256 i; i < count; ++i) {
            ConcordHandler.PoolRef memory p = handler.poolAt(i);
            if (p.token != t) continue;
            Pool memory pool = ledger.pool(p.id, p.version, p.token);
            uint256 owed = uint256(pool.distributable) + pool.dust;
            uint256 parties = handler.termsOf(p.id, p.version).parties.length;
            for (uint256 j; j < parties; ++j) {
                owed -= ledger.released(p.id, p.version, p.token, j);
            }
            undistributed += owed;
        }
        assertEq(holdings, balances + handler.ghostHeldReserve(t) + undistributed, "conservation: holdings differ");
        assertEq(holdings, handler.ghostDeposited(t) - handler.ghostPaidOut(t), "conservation: deposits - payouts differ");
    }

    function _checkAccount(address account, address t) internal view {
        uint256 received = ledger.balanceOf(account, t) + handler.ghostWithdrawn(account, t);
        assertEq(received, handler.ghostCredited(account, t), "account credited differently from the model");
        assertLe(received, handler.ghostAllowed(account, t), "account received more than its terms allow");
    }

    function _checkConsent(uint64 id, uint32 version, Terms memory terms) internal view {
        for (uint256 j; j < terms.parties.length; ++j) {
            Party memory party = terms.parties[j];
            if (party.account == address(0)) continue;
            assertTrue(handler.ghostConsented(id, version, party.account), "version active without a party's consent");
        }
    }
}
