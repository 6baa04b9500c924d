// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Party} from "../interfaces/IConcordTypes.sol";

/// @title The Merkle tree of a version's parties
/// @notice Commits a version's parties in one word so that one party proves its share without
/// the others (claims cost the same at 2 and at 255 parties). The TypeScript twin is src/sdk/partyTree.ts.
/// @dev Leaf i = keccak256(abi.encode(i, account, agreementId, version, shareBps)); each level
/// hashes pairs (2j, 2j+1) with OpenZeppelin's commutative keccak and carries an odd last node up
/// unchanged. Leaves are 160-byte preimages and inner nodes 64-byte ones, so neither can pass for the other.
/// `distribute`, which pays every party, takes the parties packed one word each ({pack}) and checks
/// them against the registry's hash of the whole packed list ({listHash}): one keccak over the list
/// instead of a tree, and a quarter of the calldata.
library PartyTree {
    /// @dev Bit 255 of a packed party: a nested agreement's pinned version rather than an account.
    uint256 internal constant NESTED = 1 << 255;

    /// @notice `party` in one word: its share in bits 160-175 above its account, or, for a nested
    /// party, bit 255 set, the share in bits 160-175 and (agreementId << 32 | version) below.
    /// @dev Unambiguous for validated terms (TermsLib): an account party has agreementId and
    /// version zero, a nested one a zero account.
    function pack(Party calldata party) internal pure returns (uint256) {
        uint256 share = uint256(party.shareBps) << 160;
        if (party.agreementId == 0) return share | uint160(party.account);
        return NESTED | share | (uint256(party.agreementId) << 32) | party.version;
    }

    /// @notice keccak256 of the parties packed ({pack}), in order: what the registry records at activation.
    function listHash(Party[] calldata parties) internal pure returns (bytes32) {
        uint256 count = parties.length;
        uint256[] memory words = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            words[i] = pack(parties[i]);
        }
        return keccak256(abi.encodePacked(words));
    }

    /// @notice keccak256 of packed parties as given in calldata: equals {listHash} of the parties they pack.
    /// @dev Hashes a copy in scratch memory past the free memory pointer, without allocating.
    function listHash(uint256[] calldata packed) internal pure returns (bytes32 hash_) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let size := shl(5, packed.length)
            calldatacopy(ptr, packed.offset, size)
            hash_ := keccak256(ptr, size)
        }
    }

    /// @notice The leaf of party `index`: keccak256(abi.encode(index, account, agreementId, version, shareBps)).
    /// @dev Hashes the party's four calldata words in scratch memory, without allocating. Calldata
    /// with dirty high bits hashes differently from the clean encoding, so it can only fail a check.
    function leaf(uint256 index, Party calldata party) internal pure returns (bytes32 hash_) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, index)
            calldatacopy(add(ptr, 0x20), party, 0x80)
            hash_ := keccak256(ptr, 0xa0)
        }
    }

    /// @notice The root of the tree of `parties`.
    function root(Party[] calldata parties) internal pure returns (bytes32) {
        uint256 count = parties.length;
        bytes32[] memory level = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            level[i] = leaf(i, parties[i]);
        }
        while (count > 1) {
            uint256 next;
            for (uint256 i; i < count; i += 2) {
                level[next++] = i + 1 < count ? Hashes.commutativeKeccak256(level[i], level[i + 1]) : level[i];
            }
            count = next;
        }
        return level[0];
    }

    /// @notice Whether `party` is party `index` of the tree with root `root_`.
    function verify(bytes32 root_, uint256 index, Party calldata party, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, root_, leaf(index, party));
    }
}
