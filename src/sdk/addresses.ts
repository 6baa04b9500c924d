import fs from "node:fs";
import path from "node:path";
import { getAddress, type Address } from "viem";
import { DeploymentNotFoundError } from "./errors/base";

/** Where Concord's contracts live on one chain. */
export type ConcordAddresses = {
  registry: Address;
  ledger: Address;
  /** The registry's negotiation hub (readable from the registry when not given). */
  negotiationHub?: Address;
};

/** The Ignition future ids of the Concord module (deploy/modules/Concord.ts). */
export const IGNITION_KEYS = { registry: "Concord#AgreementRegistry", ledger: "Concord#SettlementLedger" } as const;

/** The folder Ignition records a chain's deployment in. */
export function deploymentDir(chainId: number, root = path.join(__dirname, "..", "..")): string {
  return path.join(root, "deploy", "deployments", `chain-${chainId}`);
}

export type LoadDeploymentParameters = {
  chainId: number;
  /** Repository root that holds deploy/deployments (default: this package's root). */
  root?: string;
  /** An explicit deployment folder (overrides chainId/root). */
  dir?: string;
};

/**
 * Reads the addresses Ignition recorded for a chain from
 * `deploy/deployments/chain-<id>/deployed_addresses.json`.
 *
 * @example
 * const addresses = loadDeployment({ chainId: 31337 })
 * // { registry: "0x5FbD…", ledger: "0xe7f1…" }
 */
export function loadDeployment(parameters: LoadDeploymentParameters): ConcordAddresses {
  const dir = parameters.dir ?? deploymentDir(parameters.chainId, parameters.root);
  const file = path.join(dir, "deployed_addresses.json");
  let recorded: Record<string, string>;
  try {
    recorded = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
  } catch {
    throw new DeploymentNotFoundError(
      `no Concord deployment recorded for chain ${parameters.chainId} (${file} is missing or unreadable)`,
      { details: "deploy with `npx hardhat ignition deploy deploy/modules/Concord.ts --network <name>` or pass the addresses" },
    );
  }
  const registry = recorded[IGNITION_KEYS.registry];
  const ledger = recorded[IGNITION_KEYS.ledger];
  if (!registry || !ledger) {
    throw new DeploymentNotFoundError(`${file} does not name ${IGNITION_KEYS.registry} and ${IGNITION_KEYS.ledger}`);
  }
  return { registry: getAddress(registry), ledger: getAddress(ledger) };
}
