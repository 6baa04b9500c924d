// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A contract wallet (multisig stand-in) whose owner's ECDSA signature is its signature.
/// @dev `mode` selects misbehaviour for adversarial tests.
contract MockERC1271Wallet is IERC1271 {
    enum Mode {
        Approve,
        Reject,
        Revert,
        ShortData,
        WrongMagic
    }

    address public immutable OWNER;
    Mode public mode;

    constructor(address owner_, Mode mode_) {
        OWNER = owner_;
        mode = mode_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @notice Executes a call as the wallet (for on-chain approvals and withdrawals); owner only.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        require(msg.sender == OWNER, "not owner");
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        if (mode == Mode.Revert) revert("wallet reverts");
        if (mode == Mode.ShortData) {
            assembly ("memory-safe") {
                mstore(0, 0x1626ba7e00000000000000000000000000000000000000000000000000000000)
                return(0, 2)
            }
        }
        if (mode == Mode.WrongMagic) return 0xdeadbeef;
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        bool valid = err == ECDSA.RecoverError.NoError && recovered == OWNER && mode == Mode.Approve;
        return valid ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    receive() external payable {}
}
