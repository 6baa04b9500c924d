// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementRegistry} from "../../contracts/AgreementRegistry.sol";
import {SettlementLedger} from "../../contracts/SettlementLedger.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {IAgreementRegistry} from "../../contracts/interfaces/IAgreementRegistry.sol";
import {AgreementStatus, Terms} from "../../contracts/interfaces/IConcordTypes.sol";
import {Pool, RiskCounters} from "../../contracts/interfaces/ISettlementLedger.sol";
import {AgreementActions} from "./handlers/AgreementActions.sol";
import {ConcordHandler} from "./handlers/ConcordHandler.sol";
import {PayoutActions} from "./handlers/PayoutActions.sol";
import {SettlementActions} from "./handlers/SettlementActions.sol";
import {LedgerModel} from "./handlers/LedgerModel.sol";
import {ConcordModel} from "./utils/ConcordModel.sol";
import {Test} from "./utils/Test.sol";

/// @notice The ledger's laws (DESIGN.md) as invariants over random sequences of every action.
/// @dev Checked after every handler call. What concerns one call (its split, its attribution, its
/// consent, which shapes must be refused) is judged inside the handler against its model and
/// surfaces here through `violations`; what concerns the whole state is checked here, from the
/// ledger's own views against the model's sums.
contract ConcordInvariantsTest is Test {
    uint256 internal constant TOTAL_BPS = 10_000;

    AgreementRegistry internal registry;
    SettlementLedger internal ledger;
    MockERC20 internal token;
    ConcordHandler internal handler;

    function setUp() public {
        registry = new AgreementRegistry();
        ledger = new SettlementLedger(IAgreementRegistry(address(registry)));
        token = new MockERC20("Concord USD", "cUSD", 6);
        handler = new ConcordHandler(registry, ledger, token);

        bytes4[] memory selectors = new bytes4[](24);
        selectors[0] = AgreementActions.propose.selector;
        selectors[1] = AgreementActions.propose.selector;
        selectors[2] = AgreementActions.proposeAmendment.selector;
        selectors[3] = AgreementActions.approve.selector;
        selectors[4] = AgreementActions.revokeApproval.selector;
        selectors[5] = AgreementActions.approveTermination.selector;
        selectors[6] = AgreementActions.revokeTerminationApproval.selector;
        selectors[7] = AgreementActions.cancelNonce.selector;
        selectors[8] = AgreementActions.activate.selector;
        selectors[9] = AgreementActions.activate.selector;
        selectors[10] = AgreementActions.terminate.selector;
        selectors[11] = SettlementActions.settle.selector;
        selectors[12] = SettlementActions.settle.selector;
        selectors[13] = SettlementActions.settle.selector;
        selectors[14] = SettlementActions.settleBatch.selector;
        selectors[15] = SettlementActions.settleBatch.selector;
        selectors[16] = PayoutActions.refund.selector;
        selectors[17] = PayoutActions.releaseReserve.selector;
        selectors[18] = PayoutActions.claim.selector;
        selectors[19] = PayoutActions.distribute.selector;
        selectors[20] = PayoutActions.sweepRemainder.selector;
        selectors[21] = PayoutActions.withdraw.selector;
        selectors[22] = PayoutActions.warp.selector;
        selectors[23] = PayoutActions.claim.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Every law below, after every handler call. One campaign checks them all (forge runs
    /// a campaign per invariant function, so separate functions would repeat the same calls).
    function invariant_everyLaw() public view {
        _noLawBrokenWithinACall();
        _conservation();
        _exactness();
        _noPartyBeyondItsShare();
        _orderReferencesOncePerScope();
        _riskCounters();
        _consentedVersionsOnly();
        _reserveLots();
    }

    /// @notice Laws 3-7 within each call: no violation recorded by the handler (a split other than
    /// the model's, a referrer other than the attested or listed one, the payer credited, a
    /// reference settled twice in its scope or blocked from another, a version activated or an
    /// agreement ended without every account of its tree, a refused shape accepted, a valid one refused).
    function _noLawBrokenWithinACall() internal view {
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// @notice Law 1, for ETH and the token: what the ledger holds equals the withdrawable balances
    /// plus held reserves plus what pools have not paid out; and in the model's own sums, what was
    /// settled less what was withdrawn equals the same three terms.
    function _conservation() internal view {
        _checkConservation(address(0));
        _checkConservation(address(token));
    }

    /// @notice Law 2: every wei of gross is a referral fee, a reserve (refunded, released or held)
    /// or a net; the ledger's balances are exactly the fees, refunds and pool payouts and
    /// remainders credited; every pool's total, held and distributed are the model's.
    function _exactness() internal view {
        _checkExactness(address(0));
        _checkExactness(address(token));
        uint256 count = handler.poolCount();
        for (uint256 i; i < count; ++i) {
            LedgerModel.PoolRef memory ref = handler.poolAt(i);
            Pool memory pool = ledger.pool(ref.id, ref.version, ref.token);
            LedgerModel.GhostPool memory ghost = handler.ghostPool(ref.id, ref.version, ref.token);
            assertEq(pool.total, ghost.total, "pool total differs from the model");
            assertEq(pool.held, ghost.held, "pool held reserve differs from the model");
            assertEq(pool.distributed, ghost.distributed, "pool distributed differs from the model");
            assertLe(ghost.paidOut, ghost.total, "a pool paid out more than it was credited");
        }
    }

    /// @notice Law 2's bound: no party receives one unit or more beyond its pro-rata share of what
    /// its pool was ever credited; a party other than the dust party never beyond it at all.
    function _noPartyBeyondItsShare() internal view {
        uint256 count = handler.poolCount();
        for (uint256 i; i < count; ++i) {
            LedgerModel.PoolRef memory ref = handler.poolAt(i);
            Terms memory terms = handler.termsOf(ref.id, ref.version);
            LedgerModel.GhostPool memory ghost = handler.ghostPool(ref.id, ref.version, ref.token);
            bytes32 key = handler.poolKey(ref.id, ref.version, ref.token);
            uint256 unit = ConcordModel.unitOf(terms);
            uint256 paidSum;
            for (uint256 p; p < terms.parties.length; ++p) {
                uint256 paid = handler.ghostPartyPaid(key, p);
                paidSum += paid;
                uint256 entitled = (ghost.total + ghost.swept) * terms.parties[p].shareBps;
                if (p == terms.dustPartyIndex) {
                    assertTrue((paid + ghost.swept) * TOTAL_BPS < entitled + unit * TOTAL_BPS, "dust party paid a unit or more beyond its share");
                } else {
                    assertLe(paid * TOTAL_BPS, entitled, "party paid beyond its pro-rata share");
                }
            }
            assertEq(paidSum, ghost.paidOut, "pool payouts differ from the sum of its parties' payments");
        }
    }

    /// @notice Law 4: every reference the model settled is marked in its scope, and in no other
    /// scope unless that scope settled it too (nobody outside the scope takes or blocks it).
    function _orderReferencesOncePerScope() internal view {
        uint256 count = handler.orderCount();
        uint256 from = count > 16 ? count - 16 : 0;
        uint256 actors = handler.actorCount();
        for (uint256 i = from; i < count; ++i) {
            LedgerModel.OrderKey memory o = handler.orderAt(i);
            assertTrue(ledger.isOrderSettled(o.scope, o.orderRef), "a settled reference is not marked in its scope");
            for (uint256 a; a < actors; ++a) {
                address scope = handler.actors(a);
                assertEq(
                    ledger.isOrderSettled(scope, o.orderRef) ? 1 : 0,
                    handler.ghostOrderSettled(scope, o.orderRef) ? 1 : 0,
                    "a reference is marked in a scope that never settled it"
                );
            }
        }
    }

    /// @notice Risk input: the counters are the model's, and a refunded settlement counts once (refundCount <= settledCount).
    function _riskCounters() internal view {
        uint64 agreements = handler.ghostAgreementCount();
        for (uint64 id = 1; id <= agreements; ++id) {
            _checkRisk(id, address(0));
            _checkRisk(id, address(token));
        }
    }

    /// @notice Law 5 over the state: the registry's status and versions are the model's, whose
    /// every activation passed the consent oracle; what the ledger settles against is that version.
    function _consentedVersionsOnly() internal view {
        uint64 agreements = handler.ghostAgreementCount();
        assertEq(registry.agreementCount(), agreements, "agreements exist that the model did not see proposed");
        for (uint64 id = 1; id <= agreements; ++id) {
            (AgreementStatus status, uint32 latest, uint32 active) = registry.agreement(id);
            assertEq(uint256(status), uint256(handler.ghostStatus(id)), "status differs from the model");
            assertEq(latest, handler.ghostLatest(id), "latest version differs from the model");
            assertEq(active, handler.ghostActive(id), "active version differs from the model");
            if (active != 0) assertTrue(handler.ghostConsentChecked(id, active), "a version is active that the consent oracle never passed");
            uint32 settling = status == AgreementStatus.Active ? active : 0;
            assertEq(registry.settlementTerms(id).version, settling, "the ledger would settle against another version");
        }
    }

    /// @notice Reserve lots: each stored lot is the documented encoding of the model's lot, and a
    /// lot released or refunded to zero is gone.
    function _reserveLots() internal view {
        uint256 count = handler.lotCount();
        for (uint256 i; i < count; ++i) {
            (uint256 lotId, bool live, bytes32 expected) = handler.lotState(i);
            assertEq(ledger.lotHash(lotId), live ? expected : bytes32(0), "stored lot differs from the model");
        }
    }

    // ---------------------------------------------------------------- internal

    function _checkConservation(address token_) internal view {
        uint256 holdings = token_ == address(0) ? address(ledger).balance : token.balanceOf(address(ledger));
        uint256 balances;
        uint256 ghostBalances;
        uint256 actors = handler.actorCount();
        for (uint256 i; i < actors; ++i) {
            address a = handler.actors(i);
            balances += ledger.balanceOf(a, token_);
            ghostBalances += handler.ghostCredited(a, token_) - handler.ghostWithdrawn(a, token_);
        }
        uint256 inPools;
        uint256 ghostInPools;
        uint256 count = handler.poolCount();
        for (uint256 i; i < count; ++i) {
            LedgerModel.PoolRef memory ref = handler.poolAt(i);
            if (ref.token != token_) continue;
            Pool memory pool = ledger.pool(ref.id, ref.version, ref.token);
            LedgerModel.GhostPool memory ghost = handler.ghostPool(ref.id, ref.version, ref.token);
            inPools += pool.total + pool.held - ghost.paidOut;
            ghostInPools += ghost.total + ghost.held - ghost.paidOut;
        }
        assertEq(holdings, balances + inPools, "ledger holdings != balances + held reserves + undistributed");
        LedgerModel.TokenSums memory s = handler.sums(token_);
        assertEq(s.gross - s.withdrawn, ghostBalances + ghostInPools, "model: settled - withdrawn != balances + pools");
    }

    function _checkExactness(address token_) internal view {
        LedgerModel.TokenSums memory s = handler.sums(token_);
        assertEq(s.fees + s.reserves + s.nets, s.gross, "fee + reserve + net != gross");
        uint256 held;
        uint256 count = handler.poolCount();
        for (uint256 i; i < count; ++i) {
            LedgerModel.PoolRef memory ref = handler.poolAt(i);
            if (ref.token == token_) held += ledger.pool(ref.id, ref.version, ref.token).held;
        }
        assertEq(s.refunds + s.released + held, s.reserves, "reserves != refunded + released + held");
        uint256 credited;
        uint256 actors = handler.actorCount();
        for (uint256 i; i < actors; ++i) {
            address a = handler.actors(i);
            uint256 had = ledger.balanceOf(a, token_) + handler.ghostWithdrawn(a, token_);
            // Law 3 per account: credited only its fees as the attested or listed referrer, its
            // refunds as beneficiary and its payouts as a party, never as the payer.
            assertEq(had, handler.ghostCredited(a, token_), "an account holds other than the model credited it");
            credited += had;
        }
        assertEq(credited, s.fees + s.refunds + s.toAccounts, "balances != fees + refunds + payouts and remainders");
    }

    function _checkRisk(uint64 id, address token_) internal view {
        RiskCounters memory r = ledger.riskCounters(id, token_);
        LedgerModel.GhostRisk memory g = handler.ghostRisk(id, token_);
        assertEq(r.settledCount, g.settledCount, "settledCount differs from the model");
        assertEq(r.settledVolume, g.settledVolume, "settledVolume differs from the model");
        assertEq(r.refundCount, g.refundCount, "refundCount differs from the model");
        assertEq(r.refundedVolume, g.refundedVolume, "refundedVolume differs from the model");
        assertLe(r.refundCount, r.settledCount, "refundCount > settledCount");
    }
}
