/**
 * The ABIs the auditor decodes and reads with: the SDK's typed const ABIs, generated from the
 * contracts' artifacts by `npm run generate` (src/sdk/abi). This module is the only place in
 * src/audit that knows where they come from.
 */
import type { Abi, AbiEvent } from "viem";
import { agreementRegistryAbi, negotiationHubAbi, settlementLedgerAbi } from "../sdk/abi";

/** The Concord contracts whose events the auditor replays. */
export type ContractRole = "registry" | "ledger" | "negotiationHub";

const ABIS: Record<ContractRole, Abi> = {
  registry: agreementRegistryAbi as Abi,
  ledger: settlementLedgerAbi as Abi,
  negotiationHub: negotiationHubAbi as Abi,
};

/** The ABI of a Concord contract. */
export function abiOf(role: ContractRole): Abi {
  return ABIS[role];
}

/** The ABI of a Concord contract, or null when that contract is not part of this build. */
export function optionalAbiOf(role: ContractRole): Abi | null {
  return ABIS[role] ?? null;
}

/** The events of an ABI. */
export function eventsOf(abi: Abi): AbiEvent[] {
  return abi.filter((item): item is AbiEvent => item.type === "event");
}
