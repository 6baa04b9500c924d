// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgreementRegistry} from "../../contracts/interfaces/IAgreementRegistry.sol";
import {Party, Terms} from "../../contracts/interfaces/IConcordTypes.sol";
import {TermsLib} from "../../contracts/libraries/TermsLib.sol";
import {Test} from "./utils/Test.sol";

/// @notice TermsLib takes calldata: this harness gives it some.
contract TermsLibHarness {
    function hash(Terms calldata terms) external pure returns (bytes32) {
        return TermsLib.hash(terms);
    }

    function validate(Terms calldata terms) external pure returns (uint16) {
        return TermsLib.validate(terms);
    }
}

contract TermsLibTest is Test {
    TermsLibHarness internal lib;

    function setUp() public {
        lib = new TermsLibHarness();
    }

    /// @notice The struct hash equals the EIP-712 encoding of docs/contracts.md, written out here.
    function testFuzz_hash_matchesIndependentEip712Encoding(uint256 seed) public view {
        Terms memory terms = _validTerms(seed);
        bytes32[] memory partyHashes = new bytes32[](terms.parties.length);
        for (uint256 i; i < terms.parties.length; ++i) {
            partyHashes[i] = keccak256(
                abi.encode(
                    keccak256("Party(address account,uint64 agreementId,uint32 version,uint16 shareBps)"),
                    terms.parties[i].account,
                    uint256(terms.parties[i].agreementId),
                    uint256(terms.parties[i].version),
                    uint256(terms.parties[i].shareBps)
                )
            );
        }
        bytes32 expected = keccak256(
            bytes.concat(
                abi.encode(
                    keccak256(
                        "Terms(Party[] parties,uint16 referralFeeBps,address[] referrers,uint16 reserveBps,"
                        "uint32 disputeWindow,address refundAuthority,address orderSigner,uint8 dustPartyIndex,"
                        "bytes32 documentHash)Party(address account,uint64 agreementId,uint32 version,uint16 shareBps)"
                    ),
                    keccak256(abi.encodePacked(partyHashes)),
                    uint256(terms.referralFeeBps),
                    keccak256(abi.encodePacked(terms.referrers)),
                    uint256(terms.reserveBps)
                ),
                abi.encode(
                    uint256(terms.disputeWindow),
                    terms.refundAuthority,
                    terms.orderSigner,
                    uint256(terms.dustPartyIndex),
                    terms.documentHash
                )
            )
        );
        assertEq(lib.hash(terms), expected, "TermsLib.hash differs from the EIP-712 encoding");
    }

    /// @notice Any change to any field changes the hash (what a signature binds).
    function testFuzz_hash_bindsEveryField(uint256 seed, uint8 field) public view {
        Terms memory terms = _validTerms(seed);
        bytes32 before = lib.hash(terms);
        uint256 f = bound(field, 0, 9);
        if (f == 0) terms.parties[0].shareBps += 1;
        else if (f == 1) terms.parties[0].account = address(uint160(terms.parties[0].account) ^ 1);
        else if (f == 8) terms.parties[terms.parties.length - 1].version += 1;
        else if (f == 9) terms.orderSigner = address(uint160(terms.orderSigner) ^ 1);
        else if (f == 2) terms.referralFeeBps += 1;
        else if (f == 3) terms.reserveBps += 1;
        else if (f == 4) terms.disputeWindow += 1;
        else if (f == 5) terms.refundAuthority = address(uint160(terms.refundAuthority) ^ 1);
        else if (f == 6) terms.dustPartyIndex += 1;
        else terms.documentHash = bytes32(uint256(terms.documentHash) ^ 1);
        assertTrue(lib.hash(terms) != before, "a changed field kept the hash");
    }

    /// @notice Valid terms pass and the unit is 10,000 / gcd(shares).
    function testFuzz_validate_acceptsValidTermsAndReturnsUnit(uint256 seed) public view {
        Terms memory terms = _validTerms(seed);
        uint256 g;
        for (uint256 i; i < terms.parties.length; ++i) {
            g = _gcd(g, terms.parties[i].shareBps);
        }
        assertEq(lib.validate(terms), 10_000 / g, "unit is 10,000 / gcd(shares)");
    }

    /// @notice Shares that do not sum to 10,000 are refused, naming the sum.
    function testFuzz_validate_rejectsSharesNotSummingToTotal(uint256 seed, uint16 delta) public {
        Terms memory terms = _validTerms(seed);
        uint256 d = bound(delta, 1, 1_000);
        uint256 last = terms.parties.length - 1;
        bool up = seed % 2 == 0 || terms.parties[last].shareBps <= d;
        terms.parties[last].shareBps = up ? uint16(terms.parties[last].shareBps + d) : uint16(terms.parties[last].shareBps - d);
        uint256 sum = up ? 10_000 + d : 10_000 - d;
        vm.expectRevert(abi.encodeWithSelector(IAgreementRegistry.RegistrySharesSumInvalid.selector, sum));
        lib.validate(terms);
    }

    /// @notice Parties out of order or repeated are refused at the first offending index.
    function testFuzz_validate_rejectsUnsortedOrDuplicateParties(uint256 seed) public {
        Terms memory terms = _validTerms(seed);
        uint256 accounts = terms.parties[terms.parties.length - 1].agreementId == 0 ? terms.parties.length : terms.parties.length - 1;
        vm.assume(accounts >= 2);
        uint256 i = bound(seed >> 128, 1, accounts - 1);
        if (seed % 2 == 0) {
            terms.parties[i].account = terms.parties[i - 1].account;
            vm.expectRevert(abi.encodeWithSelector(IAgreementRegistry.RegistryDuplicateParty.selector, i));
        } else {
            (terms.parties[i].account, terms.parties[i - 1].account) = (terms.parties[i - 1].account, terms.parties[i].account);
            vm.expectRevert(abi.encodeWithSelector(IAgreementRegistry.RegistryPartiesNotSorted.selector, i));
        }
        lib.validate(terms);
    }

    /// @notice Rates above the caps are refused, naming the rate and the cap.
    function testFuzz_validate_rejectsRatesAboveCaps(uint256 seed, uint16 excess, bool fee) public {
        Terms memory terms = _validTerms(seed);
        uint256 over = bound(excess, 1, type(uint16).max - 5_000);
        if (fee) {
            terms.referralFeeBps = uint16(2_000 + over);
            vm.expectRevert(
                abi.encodeWithSelector(IAgreementRegistry.RegistryReferralFeeTooHigh.selector, 2_000 + over, 2_000)
            );
        } else {
            terms.reserveBps = uint16(5_000 + over);
            terms.disputeWindow = 1 days;
            vm.expectRevert(abi.encodeWithSelector(IAgreementRegistry.RegistryReserveTooHigh.selector, 5_000 + over, 5_000));
        }
        lib.validate(terms);
    }

    /// @notice A dispute window outside [1 h, 365 d] with a reserve, or non-zero without one, is refused.
    function testFuzz_validate_rejectsDisputeWindowOutOfRange(uint256 seed, uint32 window) public {
        Terms memory terms = _validTerms(seed);
        if (terms.reserveBps == 0) {
            vm.assume(window != 0);
        } else {
            vm.assume(window < 1 hours || window > 365 days);
        }
        terms.disputeWindow = window;
        vm.expectRevert(
            abi.encodeWithSelector(IAgreementRegistry.RegistryDisputeWindowOutOfRange.selector, window, 1 hours, 365 days)
        );
        lib.validate(terms);
    }

    /// @notice With an order signer the intent names the referrer, so a referrer list is refused;
    /// without one, a fee needs a list and a list needs a fee.
    function testFuzz_validate_referralTermsFollowTheOrderSigner(uint256 seed, uint8 shape) public {
        Terms memory terms = _validTerms(seed);
        uint256 k = bound(shape, 0, 2);
        if (k == 0) {
            terms.orderSigner = address(0x5161);
            terms.referralFeeBps = 100;
            terms.referrers = _pair();
        } else if (k == 1) {
            terms.orderSigner = address(0);
            terms.referralFeeBps = 100;
            delete terms.referrers;
        } else {
            terms.orderSigner = address(0);
            terms.referralFeeBps = 0;
            terms.referrers = _pair();
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                IAgreementRegistry.RegistryReferralTermsInvalid.selector,
                terms.referralFeeBps,
                terms.referrers.length,
                terms.orderSigner
            )
        );
        lib.validate(terms);
    }

    /// @notice A referrer list out of order (or holding zero) is refused at the offending index.
    function testFuzz_validate_rejectsUnsortedReferrers(uint256 seed, bool zero) public {
        Terms memory terms = _validTerms(seed);
        terms.orderSigner = address(0);
        terms.referralFeeBps = 100;
        terms.referrers = _pair();
        uint256 index;
        if (zero) {
            terms.referrers[0] = address(0);
        } else {
            (terms.referrers[0], terms.referrers[1]) = (terms.referrers[1], terms.referrers[0]);
            index = 1;
        }
        vm.expectRevert(abi.encodeWithSelector(IAgreementRegistry.RegistryReferrerListInvalid.selector, index));
        lib.validate(terms);
    }

    /// @notice A party is an account (no agreement, no version) or a nested agreement with a pinned version.
    function testFuzz_validate_rejectsAmbiguousOrUnpinnedParties(uint256 seed, bool unpinned) public {
        Terms memory terms = _validTerms(seed);
        uint256 last = terms.parties.length - 1;
        if (unpinned) {
            terms.parties[last] = Party({account: address(0), agreementId: 7, version: 0, shareBps: terms.parties[last].shareBps});
            vm.expectRevert(abi.encodeWithSelector(IAgreementRegistry.RegistryNestedAgreementInvalid.selector, 7, 0));
        } else {
            terms.parties[0].version = 1;
            vm.expectRevert(abi.encodeWithSelector(IAgreementRegistry.RegistryAmbiguousParty.selector, 0));
        }
        lib.validate(terms);
    }

    /// @notice The dust party must be one of the parties.
    function testFuzz_validate_rejectsDustPartyOutOfRange(uint256 seed, uint8 index) public {
        Terms memory terms = _validTerms(seed);
        uint256 i = bound(index, terms.parties.length, type(uint8).max);
        terms.dustPartyIndex = uint8(i);
        vm.expectRevert(
            abi.encodeWithSelector(IAgreementRegistry.RegistryDustPartyOutOfRange.selector, i, terms.parties.length)
        );
        lib.validate(terms);
    }

    // ---------------------------------------------------------------- helpers

    /// @dev Valid terms from a seed: 1-8 sorted account parties, sometimes a nested agreement
    /// last (nesting against the registry is the invariant suite's part), shares summing to
    /// 10,000, an order signer or a referrer list, and rates within the caps.
    function _validTerms(uint256 seed) internal pure returns (Terms memory terms) {
        uint256 count = 1 + seed % 8;
        bool nested = count > 1 && (seed >> 120) % 2 == 0;
        terms.parties = new Party[](count);
        uint256 remaining = 10_000;
        uint160 account = uint160(seed >> 100) % 1e30 + 1;
        for (uint256 i; i < count; ++i) {
            account += uint160(1 + uint256(keccak256(abi.encode(seed, "gap", i))) % 1e20);
            uint256 share = i + 1 == count ? remaining : 1 + uint256(keccak256(abi.encode(seed, i))) % (remaining - (count - 1 - i));
            remaining -= share;
            terms.parties[i] = nested && i + 1 == count
                ? Party({account: address(0), agreementId: uint64(1 + (seed >> 130) % 1e6), version: uint32(1 + (seed >> 160) % 9), shareBps: uint16(share)})
                : Party({account: address(account), agreementId: 0, version: 0, shareBps: uint16(share)});
        }
        if ((seed >> 8) % 2 == 0) {
            terms.orderSigner = address(uint160(seed >> 60) | 1);
            if ((seed >> 10) % 2 == 0) terms.referralFeeBps = uint16(1 + (seed >> 16) % 2_000);
        } else if ((seed >> 10) % 2 == 0) {
            terms.referralFeeBps = uint16(1 + (seed >> 16) % 2_000);
            terms.referrers = _pair();
        }
        if ((seed >> 32) % 2 == 0) {
            terms.reserveBps = uint16(1 + (seed >> 40) % 5_000);
            terms.disputeWindow = uint32(1 hours + (seed >> 56) % (365 days - 1 hours));
        }
        terms.refundAuthority = address(uint160(seed >> 90));
        terms.dustPartyIndex = uint8((seed >> 80) % count);
        terms.documentHash = keccak256(abi.encode(seed));
    }

    function _pair() internal pure returns (address[] memory pair) {
        pair = new address[](2);
        pair[0] = address(0xA11);
        pair[1] = address(0xB0B);
    }

    function _gcd(uint256 a, uint256 b) internal pure returns (uint256) {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
