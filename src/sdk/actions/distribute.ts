import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import { packParties } from "../partyTree";
import type { Terms } from "../terms";
import { eventsArgs, planCall, sendPlanned, type EventArgsOf, type PlannedCall, type WriteResult } from "../write";
import { termsOfVersion } from "./claim";

export type DistributeParameters = {
  agreementId: bigint;
  version: number;
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** The version's terms (read from its VersionProposed event when absent): every party is passed. */
  terms?: Terms;
};
/** The typed `Distributed` event of the ledger. */
export type DistributedEvent = EventArgsOf<typeof settlementLedgerAbi, "Distributed">;
export type DistributeReturnType = WriteResult & {
  /** The pool's whole units paid out, from `fromTotal` to `toTotal`; absent when nothing new was distributable. */
  distributed?: DistributedEvent;
};
export type DistributeErrorType = ConcordWriteErrorType;

/**
 * Pays every party of a version what its pool owes it, in one transaction and one event: each
 * party's share of the whole units since the last distribution (a party that claimed since, from
 * where its claim left it), to balances and to nested parties' pinned child pools. The remainder
 * under one unit waits in the pool for later credits. Anyone may call it.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link DistributeParameters}
 * @returns The transaction and its Distributed event.
 *
 * @example
 * import { distribute } from "./src/sdk"
 * const { distributed } = await distribute(context, { agreementId: 1n, version: 1 })
 * // distributed.toTotal - distributed.fromTotal: the whole units paid out now
 */
export async function distribute(context: ConcordContext, parameters: DistributeParameters): Promise<DistributeReturnType> {
  const result = await sendPlanned(context, await distributeCall(context, parameters));
  return { ...result, distributed: eventsArgs(result, settlementLedgerAbi, "Distributed")[0] };
}

/** The call {@link distribute} sends (terms read when not given); {@link prepareDistribute} returns it encoded. */
export async function distributeCall(context: ConcordContext, parameters: DistributeParameters): Promise<PlannedCall> {
  const terms = await termsOfVersion(context, parameters.agreementId, parameters.version, parameters.terms);
  const token = parameters.token ?? zeroAddress;
  return planCall(
    {
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "distribute",
      args: [parameters.agreementId, parameters.version, token, packParties(terms.parties)],
    },
    `distribute the ${token === zeroAddress ? "ETH" : token} pool of agreement ${parameters.agreementId} version ${parameters.version} to its ${terms.parties.length} parties`,
  );
}
