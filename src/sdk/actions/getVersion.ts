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
  /** Who proposed it (the negotiation hub for negotiated versions). */
  proposer: Address;
  /** Whether this version was ever activated (its distribution unit is set). */
  activated: boolean;
  /** Distribution unit (0 until activated). */
  unit: number;
  /** Merkle root of the parties (zero until activated); see {@link partiesRoot}. */
  partiesRoot: Hex;
  /** 0 for terms of accounts only, else 1 + the deepest pinned child's depth (0 until activated). */
  depth: number;
  /** How many active versions of other agreements pin this one. */
  activePins: number;
  refundAuthority: Address;
  proposedInBlock: bigint;
};
export type GetVersionErrorType = ConcordReadErrorType;

/**
 * The terms of one version from its VersionProposed event, checked against the hash the registry
 * stores: the registry keeps only hashes, the events the full terms.
 */
export async function readProposedTerms(
  context: ConcordContext,
  parameters: GetVersionParameters,
): Promise<{ terms: Terms; termsHash: Hex; proposer: Address; blockNumber: bigint }> {
  const { agreementId, version } = parameters;
  const [termsHash, events] = await Promise.all([
    withConcordErrors(() =>
      context.publicClient.readContract({
        address: context.addresses.registry,
        abi: agreementRegistryAbi,
        functionName: "termsHash",
        args: [agreementId, version],
      }),
    ),
    getConcordEvents(context, {
      fromBlock: parameters.fromBlock,
      events: ["VersionProposed"],
      topics: [pad(toHex(agreementId)), pad(toHex(version))],
    }),
  ]);
  if (BigInt(termsHash) === 0n) throw new InvalidInputError(`agreement ${agreementId} has no version ${version}`);
  const event = events.find((e) => e.args.termsHash === termsHash);
  if (!event) {
    throw new InvalidInputError(
      `no VersionProposed event with the stored hash ${termsHash} for agreement ${agreementId} version ${version} from block ${parameters.fromBlock ?? 0n}`,
    );
  }
  const terms = event.args.terms;
  if (hashTerms(terms) !== termsHash) throw new InvalidInputError(`the event's terms do not hash to the stored ${termsHash}`);
  return { terms, termsHash, proposer: event.args.proposer, blockNumber: event.blockNumber };
}

/**
 * Reads one version of an agreement: its status, the stored terms hash, the full terms from its
 * VersionProposed event (checked against the hash) and what the ledger pays it out with.
 *
 * @param context - Any context.
 * @param parameters - {@link GetVersionParameters}
 * @returns {@link GetVersionReturnType}
 *
 * @example
 * import { getVersion } from "./src/sdk"
 * const { status, terms } = await getVersion(context, { agreementId: 1n, version: 1 })
 * // status: "active"; terms.parties: [{ account, agreementId: 0n, version: 0, shareBps }, …]
 */
export async function getVersion(context: ConcordContext, parameters: GetVersionParameters): Promise<GetVersionReturnType> {
  const read = { address: context.addresses.registry, abi: agreementRegistryAbi } as const;
  const [proposed, payout, agreement] = await Promise.all([
    readProposedTerms(context, parameters),
    withConcordErrors(() =>
      context.publicClient.readContract({ ...read, functionName: "versionPayout", args: [parameters.agreementId, parameters.version] }),
    ),
    withConcordErrors(() => context.publicClient.readContract({ ...read, functionName: "agreement", args: [parameters.agreementId] })),
  ]);
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
    termsHash: proposed.termsHash,
    terms: proposed.terms,
    proposer: proposed.proposer,
    activated: payout.unit !== 0,
    unit: payout.unit,
    partiesRoot: payout.partiesRoot,
    depth: payout.depth,
    activePins: payout.activePins,
    refundAuthority: payout.refundAuthority,
    proposedInBlock: proposed.blockNumber,
  };
}

/**
 * The version in force of an agreement and its terms: the active version of an active agreement,
 * the latest version of a proposed one (what an amendment, a termination or a negotiation starts from).
 */
export async function readTermsInForce(
  context: ConcordContext,
  parameters: { agreementId: bigint; fromBlock?: bigint },
): Promise<{ status: number; version: number; latestVersion: number; activeVersion: number; terms: Terms }> {
  const [status, latestVersion, activeVersion] = await withConcordErrors(() =>
    context.publicClient.readContract({
      address: context.addresses.registry,
      abi: agreementRegistryAbi,
      functionName: "agreement",
      args: [parameters.agreementId],
    }),
  );
  if (status === 0) throw new InvalidInputError(`agreement ${parameters.agreementId} does not exist`);
  const version = activeVersion !== 0 ? activeVersion : latestVersion;
  const { terms } = await readProposedTerms(context, { agreementId: parameters.agreementId, version, fromBlock: parameters.fromBlock });
  return { status, version, latestVersion, activeVersion, terms };
}
