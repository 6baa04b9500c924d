// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SplitMath} from "../../contracts/libraries/SplitMath.sol";
import {Test} from "./utils/Test.sol";

/// @notice Exactness of the split rule (law 2) for all inputs within the caps TermsLib enforces,
/// and the payout rule's whole units (docs/contracts.md, "Pools and payouts").
contract SplitMathTest is Test {
    uint256 internal constant TOTAL_BPS = 10_000;

    /// @notice referralFee + reserve + net == gross; the fee only with a referrer; both rounded down.
    function testFuzz_split_partsSumToGross(uint256 gross, uint16 fee, uint16 reserve, bool hasReferrer) public pure {
        gross = bound(gross, 0, type(uint128).max);
        uint256 feeBps = bound(fee, 0, 2_000);
        uint256 reserveBps = bound(reserve, 0, 5_000);
        (uint256 referralFee, uint256 held, uint256 net) = SplitMath.split(gross, feeBps, reserveBps, hasReferrer);
        assertEq(referralFee + held + net, gross, "parts sum to gross");
        assertEq(referralFee, hasReferrer ? gross * feeBps / TOTAL_BPS : 0, "fee is gross * rate, only with a referrer");
        assertEq(held, gross * reserveBps / TOTAL_BPS, "reserve is gross * reserve rate");
        assertLe(referralFee * TOTAL_BPS, gross * feeBps, "the fee never rounds up");
    }

    /// @notice Only whole units are distributable; less than one unit waits.
    function testFuzz_distributable_wholeUnitsOnly(uint256 total, uint16 unit) public pure {
        total = bound(total, 0, type(uint128).max);
        uint256 u = bound(unit, 1, TOTAL_BPS);
        uint256 d = SplitMath.distributable(total, u);
        assertEq(d % u, 0, "distributable is whole units");
        assertLe(d, total, "never more than the total");
        assertTrue(total - d < u, "what waits is less than one unit");
    }

    /// @notice Shares on a grid of g bps (unit 10,000 / g): every party's credit of the whole units
    /// is exact and the credits sum to them, so nothing is created or lost.
    function testFuzz_partyShare_creditsSumToDistributable(uint256 total, uint8 gridIndex, uint256 seed) public pure {
        uint256[6] memory grids = [uint256(1), 2, 25, 400, 1_250, 5_000];
        uint256 grid = grids[bound(gridIndex, 0, 5)];
        uint256 unit = TOTAL_BPS / grid;
        uint256 distributable = SplitMath.distributable(bound(total, 0, type(uint128).max), unit);
        uint256 remaining = unit;
        uint256 credited;
        for (uint256 i; remaining != 0; ++i) {
            uint256 units = i == 7 ? remaining : bound(uint256(keccak256(abi.encode(seed, i))), 1, remaining);
            remaining -= units;
            uint256 share = units * grid;
            uint256 credit = SplitMath.partyShare(distributable, share);
            assertEq(credit * TOTAL_BPS, distributable * share, "credit is exact, no rounding");
            credited += credit;
        }
        assertEq(credited, distributable, "credits sum to the distributable amount");
    }

    /// @notice Paying a party in steps (a claim, then a distribution) gives exactly what one payment
    /// of the later total gives (law 6: the split does not depend on when it is paid out).
    function testFuzz_partyShare_stepsEqualOnePayment(uint128 first, uint128 more, uint16 share, uint16 unit) public pure {
        // Shares are multiples of g, so the unit is 10,000 / g.
        uint256 g = _divisorOfTotal(unit);
        uint256 u = TOTAL_BPS / g;
        uint256 s = bound(share, 1, u) * g;
        uint256 d1 = SplitMath.distributable(first, u);
        uint256 d2 = SplitMath.distributable(uint256(first) + more, u);
        assertLe(d1, d2, "distributable never shrinks as credits arrive");
        uint256 inSteps = SplitMath.partyShare(d1, s) + SplitMath.partyShare(d2 - d1, s);
        assertEq(inSteps, SplitMath.partyShare(d2, s), "steps pay the same as one payment");
    }

    /// @dev A divisor of 10,000 chosen by `x`.
    function _divisorOfTotal(uint16 x) private pure returns (uint256) {
        uint256[10] memory divisors = [uint256(1), 2, 4, 5, 8, 16, 25, 100, 625, 10_000];
        return divisors[x % 10];
    }
}
