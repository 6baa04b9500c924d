import { pad, toHex, type Address, type Hex } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import type { Terms } from "../terms";
import { hashTerms } from "../typedData";
import { getConcordEvents } from "./getConcordEvents";

export type GetVersionParameters = {
  agreementId: bigint;
  version: number;
  /** Where to start looking for the VersionProposed event (default 0). */
  fromBlock?: bigint;
};
/**
 * Where a version stands: "proposed" (awaiting consent), "active" (in force), "superseded" (a
 * later version is in force, or was activated past it), "terminated" (it was in force when the
 * agreement ended).
 */
export type VersionStatus = "proposed" | "active" | "superseded" | "terminated";
export type GetVersionReturnType = {
  agreementId: bigint;
  version: number;
  status: VersionStatus;
  termsHash: Hex;
  /** The full terms, from the VersionProposed event, checked against the stored hash. */
  terms: Terms;
  /** Whether this version was ever activated (its distribution unit is set). */
  activated: boolean;
  /** Distribution unit (0 until activated). */
  unit: number;
  refundAuthority: Address;
  proposedInBlock: bigint;
};
export type GetVersionErrorType = ConcordReadErrorType;

/**
 * Reads one version of an agreement: its status, the stored terms hash, and the full terms from
 * its VersionProposed event (checked against the hash).
 *
 * @param context - Any context.
 * @param parameters - {@link GetVersionParameters}
 * @returns {@link GetVersionReturnType}
 *
 * @example
 * import { getVersion } from "./src/sdk"
 * const { status, terms } = await getVersion(context, { agreementId: 1n, version: 1 })
 * // status: "active"; terms.parties: [{ account, agreementId: 0n, shareBps }, …]
 */
export async function getVersion(context: ConcordContext, parameters: GetVersionParameters): Promise<GetVersionReturnType> {
  const { termsHash, refundAuthority, unit, agreement } = await withConcordErrors(async () => {
    const read = { address: context.addresses.registry, abi: agreementRegistryAbi } as const;
    const [termsHash, [refundAuthority, unit], agreement] = await Promise.all([
      context.publicClient.readContract({ ...read, functionName: "termsHash", args: [parameters.agreementId, parameters.version] }),
      context.publicClient.readContract({ ...read, functionName: "versionPayout", args: [parameters.agreementId, parameters.version] }),
      context.publicClient.readContract({ ...read, functionName: "agreement", args: [parameters.agreementId] }),
    ]);
    return { termsHash, refundAuthority, unit, agreement };
  });
  if (BigInt(termsHash) === 0n) {
    throw new InvalidInputError(`agreement ${parameters.agreementId} has no version ${parameters.version}`);
  }
  const [event] = await getConcordEvents(context, {
    fromBlock: parameters.fromBlock,
    events: ["VersionProposed"],
    topics: [pad(toHex(parameters.agreementId)), pad(toHex(parameters.version))],
  });
  if (!event) {
    throw new InvalidInputError(
      `no VersionProposed event for agreement ${parameters.agreementId} version ${parameters.version} from block ${parameters.fromBlock ?? 0n}`,
    );
  }
  const terms = event.args.terms;
  if (hashTerms(terms) !== termsHash) throw new InvalidInputError(`the event's terms do not hash to the stored ${termsHash}`);
  const [agreementStatus, , activeVersion] = agreement;
  const status: VersionStatus =
    parameters.version === activeVersion
      ? agreementStatus === 3
        ? "terminated"
        : "active"
      : parameters.version < activeVersion
        ? "superseded"
        : "proposed";
  return {
    agreementId: parameters.agreementId,
    version: parameters.version,
    status,
    termsHash,
    terms,
    activated: unit !== 0,
    unit,
    refundAuthority,
    proposedInBlock: event.blockNumber,
  };
}
