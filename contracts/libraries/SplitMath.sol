// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The split rule of a settlement and of a pool's payout
/// @notice Pure functions of (terms version, gross, referrer) and of a pool's totals. The
/// TypeScript twin lives in src/sdk/split.ts and is property-tested against this library.
/// @dev A settlement splits into referral fee, reserve and net, exactly. A pool pays out only
/// whole units of 10,000 / gcd(shares) wei, so `units * share / 10,000` is exact for every party;
/// what is below one unit waits for later credits (and, once the pool is closed, goes to the dust party).
library SplitMath {
    uint256 internal constant TOTAL_BPS = 10_000;

    /// @notice Splits `gross` into referral fee, reserve and net: referralFee + reserve + net == gross.
    function split(uint256 gross, uint256 referralFeeBps, uint256 reserveBps, bool hasReferrer)
        internal
        pure
        returns (uint256 referralFee, uint256 reserve, uint256 net)
    {
        referralFee = hasReferrer ? gross * referralFeeBps / TOTAL_BPS : 0;
        reserve = gross * reserveBps / TOTAL_BPS;
        // Cannot underflow: referralFeeBps + reserveBps <= 7,000 < 10,000 (capped in TermsLib).
        unchecked {
            net = gross - referralFee - reserve;
        }
    }

    /// @notice The whole-unit part of a pool total: what its parties may be paid.
    function distributable(uint256 total, uint256 unit) internal pure returns (uint256) {
        // Cannot underflow: total % unit <= total.
        unchecked {
            return total - total % unit;
        }
    }

    /// @notice A party's exact share of `amount` whole units.
    function partyShare(uint256 amount, uint256 shareBps) internal pure returns (uint256) {
        // Cannot overflow: pool amounts are below 2**128 and shares at most 10,000.
        unchecked {
            return amount * shareBps / TOTAL_BPS;
        }
    }
}
