// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice The hooks an account registers with {HookToken}, as with ERC-777 through ERC-1820.
interface ITokenHooks {
    function tokensToSend(address from, address to, uint256 amount) external;
    function tokensReceived(address from, address to, uint256 amount) external;
}

/// @notice An ERC-20 with ERC-777-style hooks: a registered sender is called before its balance moves
/// and a registered recipient after, so a transfer hands control to an account mid-operation (the
/// pattern behind the imBTC/Uniswap v1 and Lendf.Me reentrancy losses).
contract HookToken is ERC20 {
    mapping(address account => bool) public hooksRegistered;

    constructor() ERC20("Hook Token", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The caller asks to be called on every transfer from or to it.
    function registerHooks() external {
        hooksRegistered[msg.sender] = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && hooksRegistered[from]) ITokenHooks(from).tokensToSend(from, to, value);
        super._update(from, to, value);
        if (to != address(0) && hooksRegistered[to]) ITokenHooks(to).tokensReceived(from, to, value);
    }
}
