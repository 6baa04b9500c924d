// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SplitMath} from "../../contracts/libraries/SplitMath.sol";
import {Test} from "./utils/Test.sol";

contract SplitMathTest is Test {
    function testFuzz_split_partsSumToGross(uint256 gross, uint16 fee, uint16 reserve, bool hasReferrer, uint16 unit)
        public
        pure
    {
        gross = bound(gross, 0, type(uint128).max);
        uint256 feeBps = bound(fee, 0, 2_000);
        uint256 reserveBps = bound(reserve, 0, 5_000);
        uint256 u = bound(unit, 1, 10_000);
        (uint256 referralFee, uint256 held, uint256 distributable, uint256 dust) =
            SplitMath.split(gross, feeBps, reserveBps, hasReferrer, u);
        assertEq(referralFee + held + distributable + dust, gross, "parts sum to gross");
    }
}
