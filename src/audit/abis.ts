/**
 * The ABIs the auditor decodes and reads with: the SDK's typed const ABIs, generated from the
 * contracts' artifacts by `npm run generate` (src/sdk/abi). This module is the only place in
 * src/audit that knows where they come from.
 */
import type { Abi, AbiEvent } from "viem";
import { agreementRegistryAbi, negotiationHubAbi, settlementLedgerAbi } from "../sdk/abi";
import type { ContractRole } from "./types";

export { agreementRegistryAbi, negotiationHubAbi, settlementLedgerAbi };

const ABIS: Record<ContractRole, Abi> = {
  registry: agreementRegistryAbi,
  ledger: settlementLedgerAbi,
  negotiationHub: negotiationHubAbi,
};

/** The ABI of a Concord contract. */
export function abiOf(role: ContractRole): Abi {
  return ABIS[role];
}

/** The events of an ABI. */
export function eventsOf(abi: Abi): AbiEvent[] {
  return abi.filter((item): item is AbiEvent => item.type === "event");
}
