// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The split rule of a settlement
/// @notice A pure function of (terms version, gross, referrer). The TypeScript twin lives in
/// src/sdk/split.ts and is property-tested against this library.
/// @dev With unit = 10,000 / gcd(shares), the net amount is split in whole units:
/// distributable = net - net % unit, and every party's credit distributable * share / 10,000 is
/// exact. The remainder `net % unit` (< unit <= 10,000 wei) is the dust, credited to the dust party.
/// Hence referralFee + reserve + sum(party credits) + dust = gross, to the wei.
library SplitMath {
    uint256 internal constant TOTAL_BPS = 10_000;

    /// @notice Splits `gross` into referral fee, reserve, distributable and dust.
    function split(uint256 gross, uint256 referralFeeBps, uint256 reserveBps, bool hasReferrer, uint256 unit)
        internal
        pure
        returns (uint256 referralFee, uint256 reserve, uint256 distributable, uint256 dust)
    {
        referralFee = hasReferrer ? gross * referralFeeBps / TOTAL_BPS : 0;
        reserve = gross * reserveBps / TOTAL_BPS;
        // Cannot underflow: referralFeeBps + reserveBps <= 7,000 < 10,000 (capped in TermsLib).
        uint256 net;
        unchecked {
            net = gross - referralFee - reserve;
        }
        (distributable, dust) = splitNet(net, unit);
    }

    /// @notice Splits a net amount into whole distribution units and dust.
    function splitNet(uint256 net, uint256 unit) internal pure returns (uint256 distributable, uint256 dust) {
        dust = net % unit;
        // Cannot underflow: dust <= net.
        unchecked {
            distributable = net - dust;
        }
    }

    /// @notice A party's exact entitlement from a pool's distributable total.
    function partyShare(uint256 distributable, uint256 shareBps) internal pure returns (uint256) {
        return distributable * shareBps / TOTAL_BPS;
    }
}
