import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Deploys Concord: the agreement registry, then the settlement ledger bound to it.
 *
 *   npx hardhat ignition deploy deploy/modules/Concord.ts --network localhost
 *
 * Ignition records the addresses in deploy/deployments/chain-<id>/deployed_addresses.json,
 * where the SDK and CLI find them (keys "Concord#AgreementRegistry", "Concord#SettlementLedger").
 */
const ConcordModule = buildModule("Concord", (m) => {
  const registry = m.contract("AgreementRegistry");
  const ledger = m.contract("SettlementLedger", [registry]);
  return { registry, ledger };
});

export default ConcordModule;
