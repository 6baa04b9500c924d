// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "./Vm.sol";

/// @notice The cheatcode handle, shared by test contracts and invariant handlers.
abstract contract CheatCodes {
    /// @dev address(uint160(uint256(keccak256("hevm cheat code")))), where forge serves cheatcodes.
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @notice Maps `x` into [min, max] (forge-std's `bound`, without its logging).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        // Cannot overflow: size >= 1, so x % size < size and min + (x % size) <= max.
        unchecked {
            return min + (x % size);
        }
    }
}

/// @notice A minimal Foundry test base: the invariant target lists forge reads, and assertions
/// through the cheatcode assertions (which revert with both values in the message).
abstract contract Test is CheatCodes {
    /// @dev The shape forge reads from `targetSelectors()`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;

    /// @notice forge calls this to learn which contracts an invariant campaign may call.
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    /// @notice forge calls this to learn which functions of a target the campaign may call.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetSelectors.push(selector);
    }

    function assertTrue(bool condition, string memory error) internal pure {
        vm.assertTrue(condition, error);
    }

    function assertEq(uint256 left, uint256 right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }

    function assertEq(address left, address right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }

    function assertEq(bytes32 left, bytes32 right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }

    function assertLe(uint256 left, uint256 right, string memory error) internal pure {
        vm.assertLe(left, right, error);
    }
}
