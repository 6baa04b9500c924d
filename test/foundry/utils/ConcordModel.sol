// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Party, Terms} from "../../../contracts/interfaces/IConcordTypes.sol";
import {LotEntry, Payment, ReserveLot} from "../../../contracts/interfaces/ISettlementLedger.sol";

/// @notice The encodings of docs/contracts.md written out independently of the contracts
/// (TermsLib, PartyTree, the registry's and the ledger's EIP-712 code), so that the suites check
/// the documented rules rather than the implementation's own definitions.
library ConcordModel {
    uint256 internal constant TOTAL_BPS = 10_000;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant PARTY_TYPEHASH =
        keccak256("Party(address account,uint64 agreementId,uint32 version,uint16 shareBps)");
    bytes32 internal constant TERMS_TYPEHASH = keccak256(
        "Terms(Party[] parties,uint16 referralFeeBps,address[] referrers,uint16 reserveBps,uint32 disputeWindow,"
        "address refundAuthority,address orderSigner,uint8 dustPartyIndex,bytes32 documentHash)"
        "Party(address account,uint64 agreementId,uint32 version,uint16 shareBps)"
    );
    bytes32 internal constant CONSENT_TYPEHASH = keccak256(
        "Consent(uint256 agreementId,uint32 version,Terms terms,address signer,uint256 nonce,uint256 deadline)"
        "Party(address account,uint64 agreementId,uint32 version,uint16 shareBps)"
        "Terms(Party[] parties,uint16 referralFeeBps,address[] referrers,uint16 reserveBps,uint32 disputeWindow,"
        "address refundAuthority,address orderSigner,uint8 dustPartyIndex,bytes32 documentHash)"
    );
    bytes32 internal constant TERMINATION_TYPEHASH =
        keccak256("Termination(uint256 agreementId,uint32 version,address signer,uint256 nonce,uint256 deadline)");
    bytes32 internal constant INTENT_TYPEHASH = keccak256(
        "PaymentIntent(uint64 agreementId,uint32 version,address token,uint256 gross,address referrer,"
        "bytes32 orderRef,address refundBeneficiary,uint256 deadline)"
    );

    // ---------------------------------------------------------------- EIP-712

    /// @notice EIP-712 struct hash of terms: arrays hash the concatenation of their members' encodings.
    function hashTerms(Terms memory terms) internal pure returns (bytes32) {
        bytes memory parties;
        for (uint256 i; i < terms.parties.length; ++i) {
            Party memory p = terms.parties[i];
            parties = bytes.concat(
                parties, keccak256(abi.encode(PARTY_TYPEHASH, p.account, p.agreementId, p.version, p.shareBps))
            );
        }
        bytes memory referrers;
        for (uint256 i; i < terms.referrers.length; ++i) {
            referrers = bytes.concat(referrers, abi.encode(terms.referrers[i]));
        }
        return keccak256(
            abi.encode(
                TERMS_TYPEHASH,
                keccak256(parties),
                terms.referralFeeBps,
                keccak256(referrers),
                terms.reserveBps,
                terms.disputeWindow,
                terms.refundAuthority,
                terms.orderSigner,
                terms.dustPartyIndex,
                terms.documentHash
            )
        );
    }

    function domainSeparator(string memory name, string memory version, address verifyingContract)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256(bytes(version)), block.chainid, verifyingContract)
        );
    }

    function typedDigest(bytes32 domain, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", domain, structHash));
    }

    /// @notice The digest a consenter signs for (agreementId, version) with these terms.
    function consentDigest(
        address registry,
        uint64 agreementId,
        uint32 version,
        bytes32 termsHash,
        address signer,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(CONSENT_TYPEHASH, uint256(agreementId), version, termsHash, signer, nonce, deadline)
        );
        return typedDigest(domainSeparator("Concord", "2", registry), structHash);
    }

    /// @notice The digest a consenter signs to end an agreement at `version`.
    function terminationDigest(
        address registry,
        uint64 agreementId,
        uint32 version,
        address signer,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash =
            keccak256(abi.encode(TERMINATION_TYPEHASH, uint256(agreementId), version, signer, nonce, deadline));
        return typedDigest(domainSeparator("Concord", "2", registry), structHash);
    }

    /// @notice The digest an order signer signs for a payment intent.
    function intentDigest(address ledger, Payment memory p) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                INTENT_TYPEHASH,
                p.agreementId,
                p.version,
                p.token,
                p.gross,
                p.referrer,
                p.orderRef,
                p.refundBeneficiary,
                p.deadline
            )
        );
        return typedDigest(domainSeparator("Concord Ledger", "1", ledger), structHash);
    }

    // ---------------------------------------------------------------- party tree

    function partyLeaf(uint256 index, Party memory p) internal pure returns (bytes32) {
        return keccak256(abi.encode(index, p.account, p.agreementId, p.version, p.shareBps));
    }

    /// @dev OpenZeppelin's commutative keccak: the pair hashed in ascending order.
    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    /// @notice The proof of leaf `index`: each level pairs (2j, 2j+1), an odd last node goes up unchanged.
    function partyProof(Party[] memory parties, uint256 index) internal pure returns (bytes32[] memory proof) {
        uint256 count = parties.length;
        bytes32[] memory level = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            level[i] = partyLeaf(i, parties[i]);
        }
        bytes32[] memory path = new bytes32[](8);
        uint256 depth;
        while (count > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < count) path[depth++] = level[sibling];
            uint256 next;
            for (uint256 i; i < count; i += 2) {
                level[next++] = i + 1 < count ? hashPair(level[i], level[i + 1]) : level[i];
            }
            count = next;
            index >>= 1;
        }
        proof = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            proof[i] = path[i];
        }
    }

    // ---------------------------------------------------------------- split and lots

    /// @notice 10,000 / gcd(shares): the whole unit a pool pays out in.
    function unitOf(Terms memory terms) internal pure returns (uint256) {
        uint256 g;
        for (uint256 i; i < terms.parties.length; ++i) {
            uint256 a = g;
            uint256 b = terms.parties[i].shareBps;
            while (b != 0) (a, b) = (b, a % b);
            g = a;
        }
        return TOTAL_BPS / g;
    }

    function lotId(address scope, bytes32 orderRef) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(scope, orderRef)));
    }

    function chainEntry(bytes32 chain, LotEntry memory entry) internal pure returns (bytes32) {
        return keccak256(abi.encode(chain, entry));
    }

    function hashLot(ReserveLot memory lot) internal pure returns (bytes32) {
        return keccak256(abi.encode(lot));
    }
}
