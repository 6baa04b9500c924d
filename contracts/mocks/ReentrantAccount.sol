// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A hostile party, payer or recipient for adversarial tests: when armed, its ETH receive hook
/// and its ERC-777-style token hooks call `reentryTarget` with `payload` once (re-entering the ledger), and
/// record what happened; when told to, every hook reverts instead.
contract ReentrantAccount {
    address public reentryTarget;
    bytes public payload;
    bool public armed;
    bool public revertHooks;
    uint256 public reentryAttempts;
    bool public lastReentrySucceeded;
    bytes public lastReentryError;

    error ReentrantAccountHookRefused();

    /// @notice Re-enter `target_` with `payload_` from the next hook.
    function arm(address target_, bytes calldata payload_) external {
        reentryTarget = target_;
        payload = payload_;
        armed = true;
    }

    function setRevertHooks(bool revertHooks_) external {
        revertHooks = revertHooks_;
    }

    /// @notice Acts as this account (consent, settle, claim, withdraw); bubbles a revert.
    function execute(address to, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = to.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
    }

    receive() external payable {
        _hook();
    }

    /// @notice ERC-777 `tokensReceived` stand-in, called by {HookToken} after crediting this account.
    function tokensReceived(address, address, uint256) external {
        _hook();
    }

    /// @notice ERC-777 `tokensToSend` stand-in, called by {HookToken} before debiting this account.
    function tokensToSend(address, address, uint256) external {
        _hook();
    }

    function _hook() private {
        if (revertHooks) revert ReentrantAccountHookRefused();
        if (!armed) return;
        armed = false;
        ++reentryAttempts;
        (bool ok, bytes memory result) = reentryTarget.call(payload);
        lastReentrySucceeded = ok;
        lastReentryError = ok ? bytes("") : result;
    }
}
