// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementRegistry} from "../../contracts/AgreementRegistry.sol";
import {SettlementLedger} from "../../contracts/SettlementLedger.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {IAgreementRegistry} from "../../contracts/interfaces/IAgreementRegistry.sol";
import {AgreementActions} from "./handlers/AgreementActions.sol";
import {ConcordHandler} from "./handlers/ConcordHandler.sol";
import {PayoutActions} from "./handlers/PayoutActions.sol";
import {SettlementActions} from "./handlers/SettlementActions.sol";
import {Test} from "./utils/Test.sol";

/// @notice One long fixed campaign through the invariant handler: it must reach every shape the
/// invariant suite relies on (trees at the nesting limit, refused partial consent, settled and
/// refused payments, refunds, releases, claims, distributions, sweeps, withdrawals) without a
/// law broken, so that a passing invariant run cannot be a vacuous one.
contract ConcordCampaignTest is Test {
    ConcordHandler internal handler;

    function setUp() public {
        AgreementRegistry registry = new AgreementRegistry();
        SettlementLedger ledger = new SettlementLedger(IAgreementRegistry(address(registry)));
        handler = new ConcordHandler(registry, ledger, new MockERC20("Concord USD", "cUSD", 6));
    }

    function test_campaign_reachesEveryShapeWithoutBreakingALaw() public {
        bytes4[16] memory actions = [
            AgreementActions.propose.selector,
            AgreementActions.approve.selector,
            AgreementActions.activate.selector,
            AgreementActions.activate.selector,
            AgreementActions.proposeAmendment.selector,
            AgreementActions.terminate.selector,
            AgreementActions.revokeApproval.selector,
            SettlementActions.settle.selector,
            SettlementActions.settle.selector,
            SettlementActions.settleBatch.selector,
            PayoutActions.refund.selector,
            PayoutActions.releaseReserve.selector,
            PayoutActions.claim.selector,
            PayoutActions.distribute.selector,
            PayoutActions.sweepRemainder.selector,
            PayoutActions.withdraw.selector
        ];
        for (uint256 i; i < 1_500; ++i) {
            uint256 r = uint256(keccak256(abi.encode("campaign", i)));
            bytes4 action = i % 25 == 24 ? PayoutActions.warp.selector : actions[r % actions.length];
            (bool ok,) = address(handler).call(abi.encodeWithSelector(action, r >> 8, r >> 16, r >> 24));
            assertTrue(ok, string.concat("handler action reverted at step ", vm.toString(i), "; ", handler.firstViolation()));
        }
        assertEq(handler.violations(), 0, handler.firstViolation());
        _reached("propose", 5);
        _reached("activate", 5);
        _reached("activateAmendment", 1);
        _reached("proposeAmendment", 1);
        _reached("terminate", 1);
        _reached("settle", 10);
        _reached("settleBatch", 5);
        _reached("refund", 1);
        _reached("releaseReserve", 1);
        _reached("claim", 5);
        _reached("distribute", 5);
        _reached("sweepRemainder", 1);
        _reached("withdraw", 5);
        assertTrue(handler.refusals("activate") != 0, "no partial consent was attempted and refused");
        assertTrue(handler.refusals("settle") != 0, "no refused payment shape was attempted");
        assertTrue(handler.refusals("settleBatch") != 0, "no refused batch was attempted");
        assertEq(handler.maxDepthActivated(), 4, "no tree reached the nesting limit");
    }

    function _reached(bytes32 action, uint256 atLeast) internal view {
        uint256 n = handler.successes(action);
        assertTrue(n >= atLeast, string.concat(string(abi.encodePacked(action)), " succeeded only ", vm.toString(n), " times"));
    }
}
