// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AgreementRegistry} from "../../../contracts/AgreementRegistry.sol";
import {SettlementLedger} from "../../../contracts/SettlementLedger.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {RevertingRecipient} from "../../../contracts/mocks/MockRecipients.sol";
import {ISettlementLedger} from "../../../contracts/interfaces/ISettlementLedger.sol";
import {AgreementActions} from "./AgreementActions.sol";
import {HandlerBase} from "./HandlerBase.sol";
import {PayoutActions} from "./PayoutActions.sol";

/// @notice The invariant campaign's one target: every action of the registry and the ledger
/// (AgreementActions, SettlementActions, PayoutActions) over one ghost model (HandlerBase, LedgerModel).
contract ConcordHandler is AgreementActions, PayoutActions {
    constructor(AgreementRegistry registry_, SettlementLedger ledger_, MockERC20 token_)
        HandlerBase(registry_, ledger_, token_)
    {
        _reverting = new RevertingRecipient(ISettlementLedger(address(ledger_)));
    }
}
