// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A contract wallet whose signature check writes state (it counts checks, as a wallet with
/// rate limits or a hostile one re-entering would). The registry verifies ERC-1271 signatures
/// through a static call, so such a wallet can never consent by signature.
/// @dev Deliberately not `view` and not inheriting IERC1271 (whose `isValidSignature` is view).
contract StatefulERC1271Wallet {
    address public immutable OWNER;
    uint256 public checks;

    constructor(address owner_) {
        OWNER = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external returns (bytes4) {
        ++checks;
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == OWNER ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}
