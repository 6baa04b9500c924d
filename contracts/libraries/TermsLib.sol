// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgreementRegistry} from "../interfaces/IAgreementRegistry.sol";
import {Party, Terms} from "../interfaces/IConcordTypes.sol";

/// @title Terms hashing and validation
/// @notice The EIP-712 encoding of {Terms} and the rules every version must satisfy. The same
/// rules apply to direct proposals and to negotiation offers.
library TermsLib {
    /// @notice Shares are in basis points and sum to exactly this.
    uint256 internal constant TOTAL_BPS = 10_000;
    /// @notice At most this many parties per version (the dust party index is a uint8).
    uint256 internal constant MAX_PARTIES = 255;
    /// @notice Cap on the referral fee rate: 20%.
    uint256 internal constant MAX_REFERRAL_FEE_BPS = 2_000;
    /// @notice Cap on the reserve rate: 50%.
    uint256 internal constant MAX_RESERVE_BPS = 5_000;
    /// @notice A reserve is held for at least one hour ...
    uint256 internal constant MIN_DISPUTE_WINDOW = 1 hours;
    /// @notice ... and at most one year.
    uint256 internal constant MAX_DISPUTE_WINDOW = 365 days;

    bytes32 internal constant PARTY_TYPEHASH =
        keccak256("Party(address account,uint64 agreementId,uint32 version,uint16 shareBps)");

    bytes32 internal constant TERMS_TYPEHASH = keccak256(
        "Terms(Party[] parties,uint16 referralFeeBps,address[] referrers,uint16 reserveBps,uint32 disputeWindow,"
        "address refundAuthority,address orderSigner,uint8 dustPartyIndex,bytes32 documentHash)"
        "Party(address account,uint64 agreementId,uint32 version,uint16 shareBps)"
    );

    /// @notice The sort key of a party: accounts by address, then nested agreements by id.
    function partyKey(Party calldata party) internal pure returns (uint256) {
        return party.agreementId != 0 ? (uint256(1) << 160) | party.agreementId : uint256(uint160(party.account));
    }

    /// @notice The EIP-712 struct hash of `terms`.
    function hash(Terms calldata terms) internal pure returns (bytes32) {
        uint256 count = terms.parties.length;
        bytes32[] memory partyHashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            Party calldata p = terms.parties[i];
            partyHashes[i] = keccak256(abi.encode(PARTY_TYPEHASH, p.account, p.agreementId, p.version, p.shareBps));
        }
        return keccak256(
            abi.encode(
                TERMS_TYPEHASH,
                keccak256(abi.encodePacked(partyHashes)),
                terms.referralFeeBps,
                keccak256(abi.encodePacked(terms.referrers)),
                terms.reserveBps,
                terms.disputeWindow,
                terms.refundAuthority,
                terms.orderSigner,
                terms.dustPartyIndex,
                terms.documentHash
            )
        );
    }

    /// @notice Checks every rule of a version that does not depend on other agreements.
    /// @return unit The distribution unit 10,000 / gcd(shares): pools pay out in whole units so
    /// that every party credit is exact.
    function validate(Terms calldata terms) internal pure returns (uint16 unit) {
        uint256 count = terms.parties.length;
        if (count == 0 || count > MAX_PARTIES) {
            revert IAgreementRegistry.RegistryPartyCountOutOfRange(count, MAX_PARTIES);
        }
        uint256 sum;
        uint256 divisor;
        uint256 previousKey;
        for (uint256 i; i < count; ++i) {
            Party calldata p = terms.parties[i];
            if (p.account == address(0)) {
                if (p.agreementId == 0) revert IAgreementRegistry.RegistryZeroAddress(i);
                if (p.version == 0) revert IAgreementRegistry.RegistryNestedAgreementInvalid(p.agreementId, 0);
            } else if (p.agreementId != 0 || p.version != 0) {
                revert IAgreementRegistry.RegistryAmbiguousParty(i);
            }
            if (p.shareBps == 0) revert IAgreementRegistry.RegistryZeroShare(i);
            uint256 key = partyKey(p);
            if (i != 0) {
                if (key == previousKey) revert IAgreementRegistry.RegistryDuplicateParty(i);
                if (key < previousKey) revert IAgreementRegistry.RegistryPartiesNotSorted(i);
            }
            previousKey = key;
            // Cannot overflow: at most 255 uint16 values.
            unchecked {
                sum += p.shareBps;
            }
            divisor = _gcd(divisor, p.shareBps);
        }
        if (sum != TOTAL_BPS) revert IAgreementRegistry.RegistrySharesSumInvalid(sum);
        if (terms.dustPartyIndex >= count) {
            revert IAgreementRegistry.RegistryDustPartyOutOfRange(terms.dustPartyIndex, count);
        }
        if (terms.referralFeeBps > MAX_REFERRAL_FEE_BPS) {
            revert IAgreementRegistry.RegistryReferralFeeTooHigh(terms.referralFeeBps, MAX_REFERRAL_FEE_BPS);
        }
        if (terms.reserveBps > MAX_RESERVE_BPS) {
            revert IAgreementRegistry.RegistryReserveTooHigh(terms.reserveBps, MAX_RESERVE_BPS);
        }
        _validateDisputeWindow(terms.reserveBps, terms.disputeWindow);
        _validateReferrers(terms);
        // divisor divides 10,000, so the quotient fits in 16 bits.
        unit = uint16(TOTAL_BPS / divisor);
    }

    function _validateDisputeWindow(uint16 reserveBps, uint32 window) private pure {
        bool valid = reserveBps == 0
            ? window == 0
            : window >= MIN_DISPUTE_WINDOW && window <= MAX_DISPUTE_WINDOW;
        if (!valid) {
            revert IAgreementRegistry.RegistryDisputeWindowOutOfRange(window, MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW);
        }
    }

    /// @dev With an order signer the intent attests the referrer, so no list; without one a fee
    /// needs a list of referrers who may earn it, and no fee means no list.
    function _validateReferrers(Terms calldata terms) private pure {
        uint256 count = terms.referrers.length;
        bool valid = terms.orderSigner != address(0) ? count == 0 : (terms.referralFeeBps == 0) == (count == 0);
        if (!valid) {
            revert IAgreementRegistry.RegistryReferralTermsInvalid(terms.referralFeeBps, count, terms.orderSigner);
        }
        address previous;
        for (uint256 i; i < count; ++i) {
            address referrer = terms.referrers[i];
            if (referrer <= previous) revert IAgreementRegistry.RegistryReferrerListInvalid(i);
            previous = referrer;
        }
    }

    function _gcd(uint256 a, uint256 b) private pure returns (uint256) {
        while (b != 0) {
            (a, b) = (b, a % b);
        }
        return a;
    }
}
