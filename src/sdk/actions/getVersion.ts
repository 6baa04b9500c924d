import { pad, toHex, type Hex } from "viem";
import { agreementRegistryAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
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
export type GetVersionReturnType = {
  agreementId: bigint;
  version: number;
  termsHash: Hex;
  /** The full terms, from the VersionProposed event, checked against the stored hash. */
  terms: Terms;
  /** Whether this version was ever activated (its distribution unit is set). */
  activated: boolean;
  unit: number;
  refundAuthority: Hex;
  proposedInBlock: bigint;
};

/**
 * Reads one version of an agreement: the stored hash, and the full terms from its event.
 *
 * @example
 * const { terms } = await getVersion(context, { agreementId: 1n, version: 1 })
 */
export async function getVersion(context: ConcordContext, parameters: GetVersionParameters): Promise<GetVersionReturnType> {
  return withConcordErrors(async () => {
    const read = { address: context.addresses.registry, abi: agreementRegistryAbi } as const;
    const [termsHash, [refundAuthority, unit]] = await Promise.all([
      context.publicClient.readContract({ ...read, functionName: "termsHash", args: [parameters.agreementId, parameters.version] }),
      context.publicClient.readContract({ ...read, functionName: "versionPayout", args: [parameters.agreementId, parameters.version] }),
    ]);
    if (BigInt(termsHash) === 0n) {
      throw new InvalidInputError(`agreement ${parameters.agreementId} has no version ${parameters.version}`);
    }
    const [event] = await getConcordEvents(context, {
      fromBlock: parameters.fromBlock,
      contracts: ["registry"],
      eventNames: ["VersionProposed"],
      topics: [pad(toHex(parameters.agreementId)), pad(toHex(parameters.version))],
    });
    if (!event) throw new InvalidInputError(`no VersionProposed event for agreement ${parameters.agreementId} version ${parameters.version}`);
    const terms = event.args.terms as Terms;
    if (hashTerms(terms) !== termsHash) {
      throw new InvalidInputError(`the event's terms do not hash to the stored ${termsHash}`);
    }
    return {
      agreementId: parameters.agreementId,
      version: parameters.version,
      termsHash,
      terms,
      activated: unit !== 0,
      unit,
      refundAuthority,
      proposedInBlock: event.blockNumber,
    };
  });
}
