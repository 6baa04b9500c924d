/**
 * The ABIs the auditor decodes and reads with. They come from the Hardhat artifacts of the
 * contracts (artifacts/contracts/<Name>.sol/<Name>.json) until the SDK's generated const ABIs
 * (src/sdk/abi/<Name>.ts) exist; this module is the only place that knows where they live.
 */
import fs from "node:fs";
import path from "node:path";
import type { Abi, AbiEvent } from "viem";

/** The Concord contracts whose events the auditor replays. */
export type ContractRole = "registry" | "ledger" | "negotiationHub";

const ARTIFACT_NAMES: Record<ContractRole, string> = {
  registry: "AgreementRegistry",
  ledger: "SettlementLedger",
  negotiationHub: "NegotiationHub",
};

const ROOT = path.join(__dirname, "..", "..");
const cache = new Map<ContractRole, Abi | null>();

/** Thrown when a contract's ABI cannot be found (run `npx hardhat compile` or `npm run generate`). */
export class AbiNotFoundError extends Error {
  override name = "AbiNotFoundError";
}

function loadAbi(role: ContractRole): Abi | null {
  if (cache.has(role)) return cache.get(role) ?? null;
  const name = ARTIFACT_NAMES[role];
  let abi: Abi | null = null;
  // The SDK's generated const ABI wins when present (src/sdk/abi/<Name>.ts exports `<name>Abi` or `abi`).
  const generated = path.join(ROOT, "src", "sdk", "abi", `${name}.ts`);
  if (fs.existsSync(generated)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module_ = require(generated) as Record<string, unknown>;
    const found = Object.values(module_).find((value) => Array.isArray(value));
    if (found) abi = found as Abi;
  }
  if (!abi) {
    const artifact = path.join(ROOT, "artifacts", "contracts", `${name}.sol`, `${name}.json`);
    if (fs.existsSync(artifact)) abi = (JSON.parse(fs.readFileSync(artifact, "utf8")) as { abi: Abi }).abi;
  }
  cache.set(role, abi);
  return abi;
}

/** The ABI of a Concord contract; throws when it is not built. */
export function abiOf(role: ContractRole): Abi {
  const abi = loadAbi(role);
  if (!abi) throw new AbiNotFoundError(`no ABI for ${ARTIFACT_NAMES[role]}: run \`npx hardhat compile\``);
  return abi;
}

/** The ABI of a Concord contract, or null when that contract is not part of this build. */
export function optionalAbiOf(role: ContractRole): Abi | null {
  return loadAbi(role);
}

/** The events of an ABI. */
export function eventsOf(abi: Abi): AbiEvent[] {
  return abi.filter((item): item is AbiEvent => item.type === "event");
}
