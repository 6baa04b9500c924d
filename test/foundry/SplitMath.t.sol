// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SplitMath} from "../../contracts/libraries/SplitMath.sol";
import {Test} from "./utils/Test.sol";

/// @notice Exactness of the split rule for all inputs within the caps TermsLib enforces.
contract SplitMathTest is Test {
    uint256 internal constant TOTAL_BPS = 10_000;

    function testFuzz_split_partsSumToGross(uint256 gross, uint16 fee, uint16 reserve, bool hasReferrer, uint16 unit)
        public
        pure
    {
        gross = bound(gross, 0, type(uint128).max);
        uint256 feeBps = bound(fee, 0, 2_000);
        uint256 reserveBps = bound(reserve, 0, 5_000);
        uint256 u = bound(unit, 1, TOTAL_BPS);
        (uint256 referralFee, uint256 held, uint256 distributable, uint256 dust) =
            SplitMath.split(gross, feeBps, reserveBps, hasReferrer, u);
        assertEq(referralFee + held + distributable + dust, gross, "parts sum to gross");
        assertEq(referralFee, hasReferrer ? gross * feeBps / TOTAL_BPS : 0, "referral fee is gross * rate, only with a referrer");
        assertEq(held, gross * reserveBps / TOTAL_BPS, "reserve is gross * reserve rate");
        assertEq(distributable % u, 0, "distributable is whole units");
        assertTrue(dust < u, "dust is less than one unit");
    }

    /// @notice Shares on a grid of g bps (unit 10,000 / g): every party's credit is exact and the
    /// credits sum to the distributable amount, so dust is the only rounding and it is < unit.
    function testFuzz_partyShare_creditsSumToDistributable(uint256 net, uint8 gridIndex, uint256 seed) public pure {
        uint256[6] memory grids = [uint256(1), 2, 25, 400, 1_250, 5_000];
        uint256 grid = grids[bound(gridIndex, 0, 5)];
        uint256 unit = TOTAL_BPS / grid;
        net = bound(net, 0, type(uint128).max);
        (uint256 distributable, uint256 dust) = SplitMath.splitNet(net, unit);
        assertEq(distributable + dust, net, "splitNet loses nothing");
        assertTrue(dust < unit, "dust below one unit");

        // Random shares on the grid, up to 8 parties, summing to 10,000.
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

    /// @notice Adding to a pool in two parts never pays a party less than its exact share of the sum:
    /// entitlement is monotonic in the pool, so released can only catch up.
    function testFuzz_partyShare_monotonic(uint128 a, uint128 b, uint16 share) public pure {
        uint256 s = bound(share, 1, TOTAL_BPS);
        assertLe(SplitMath.partyShare(a, s), SplitMath.partyShare(uint256(a) + b, s), "entitlement never shrinks");
    }
}
