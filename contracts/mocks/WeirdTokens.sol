// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Minimal ERC-20 storage and bookkeeping shared by the misbehaving tokens below.
abstract contract WeirdTokenBase {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public totalSupply;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
        totalSupply += amount;
        emit Transfer(address(0), to, amount);
    }

    function _approve(address spender, uint256 amount) internal {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
    }

    /// @dev Moves `amount` from `from`, delivers `amount - fee` to `to`, burns `fee`.
    function _move(address from, address to, uint256 amount, uint256 fee) internal {
        require(balanceOf[from] >= amount, "balance");
        balanceOf[from] -= amount;
        balanceOf[to] += amount - fee;
        totalSupply -= fee;
        emit Transfer(from, to, amount - fee);
    }

    function _spend(address from, uint256 amount) internal {
        require(allowance[from][msg.sender] >= amount, "allowance");
        allowance[from][msg.sender] -= amount;
    }
}

/// @notice Like mainnet USDT: transfer, transferFrom and approve return nothing.
contract NoReturnToken is WeirdTokenBase {
    function approve(address spender, uint256 amount) external {
        _approve(spender, amount);
    }

    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount, 0);
    }

    function transferFrom(address from, address to, uint256 amount) external {
        _spend(from, amount);
        _move(from, to, amount, 0);
    }
}

/// @notice Returns false instead of reverting when a transfer cannot happen, and when told to fail.
contract FalseReturnToken is WeirdTokenBase {
    bool public failTransfers;

    function setFailTransfers(bool fail) external {
        failTransfers = fail;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        if (failTransfers || balanceOf[msg.sender] < amount) return false;
        _move(msg.sender, to, amount, 0);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (failTransfers || balanceOf[from] < amount || allowance[from][msg.sender] < amount) return false;
        _spend(from, amount);
        _move(from, to, amount, 0);
        return true;
    }
}

/// @notice Burns 1% of every transfer: the recipient receives less than was sent.
contract FeeOnTransferToken is WeirdTokenBase {
    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount, amount / 100);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spend(from, amount);
        _move(from, to, amount, amount / 100);
        return true;
    }
}

/// @notice Reverts on transfers of zero.
contract RevertOnZeroToken is WeirdTokenBase {
    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        require(amount != 0, "zero transfer");
        _move(msg.sender, to, amount, 0);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        require(amount != 0, "zero transfer");
        _spend(from, amount);
        _move(from, to, amount, 0);
        return true;
    }
}
