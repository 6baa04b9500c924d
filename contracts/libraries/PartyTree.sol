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
library PartyTree {
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
