import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordWriteErrorType } from "../errors/base";
import type { Terms } from "../terms";
import { writeConcord } from "../write";
import { claim, creditsOf, type ClaimReturnType } from "./claim";
import { getVersion } from "./getVersion";

export type DistributeParameters = {
  agreementId: bigint;
  version: number;
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** The version's terms (read from its VersionProposed event when absent). */
  terms?: Terms;
  /** Only this party (the same as {@link claim}); default every party. */
  partyIndex?: number;
};
export type DistributeReturnType = ClaimReturnType;
export type DistributeErrorType = ConcordWriteErrorType;

/**
 * Moves what a version's pool owes every party into their balances (nested agreements' shares
 * into their own pools), in one transaction. Anyone may call it; credits go to the parties.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link DistributeParameters}
 * @returns The transaction and one credit per party that was owed something.
 *
 * @example
 * import { distribute } from "./src/sdk"
 * const { credits } = await distribute(context, { agreementId: 1n, version: 1 })
 */
export async function distribute(context: ConcordContext, parameters: DistributeParameters): Promise<DistributeReturnType> {
  if (parameters.partyIndex !== undefined) return claim(context, { ...parameters, partyIndex: parameters.partyIndex });
  const terms = parameters.terms ?? (await getVersion(context, { agreementId: parameters.agreementId, version: parameters.version })).terms;
  const result = await writeConcord(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "distribute",
    args: [parameters.agreementId, parameters.version, parameters.token ?? zeroAddress, terms],
  });
  return { ...result, credits: creditsOf(result) };
}
