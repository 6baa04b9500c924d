// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgreementRegistry} from "../interfaces/IAgreementRegistry.sol";
import {ISettlementLedger} from "../interfaces/ISettlementLedger.sol";

/// @notice Lets a contract party consent to a version on chain, as a multisig would.
abstract contract ContractParty {
    function approveVersion(IAgreementRegistry registry, uint64 agreementId, uint32 version, uint64 expiry) external {
        registry.approve(agreementId, version, expiry);
    }
}

/// @notice A party whose receive hook always reverts. It can still withdraw to another address.
contract RevertingRecipient is ContractParty {
    ISettlementLedger public immutable LEDGER;

    constructor(ISettlementLedger ledger) {
        LEDGER = ledger;
    }

    receive() external payable {
        revert("RevertingRecipient: no ETH");
    }

    function withdraw(address token, address to, uint256 amount) external {
        LEDGER.withdraw(token, to, amount);
    }
}

/// @notice A party that re-enters the ledger from its receive hook, trying to withdraw twice.
contract ReentrantRecipient is ContractParty {
    ISettlementLedger public immutable LEDGER;
    uint256 public reentryAttempts;
    bool public reentrySucceeded;
    bytes public reentryError;

    constructor(ISettlementLedger ledger) {
        LEDGER = ledger;
    }

    receive() external payable {
        if (reentryAttempts == 0) {
            reentryAttempts = 1;
            try LEDGER.withdraw(address(0), address(this), msg.value) {
                reentrySucceeded = true;
            } catch (bytes memory reason) {
                reentryError = reason;
            }
        }
    }

    function withdraw(address token, uint256 amount) external {
        LEDGER.withdraw(token, address(this), amount);
    }
}
