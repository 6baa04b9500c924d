import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { Terms } from "../terms";
import { simulateAndWrite, type WriteResult } from "../write";
import { getVersion } from "./getVersion";

export type DistributeParameters = {
  agreementId: bigint;
  version: number;
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** The version's terms (read from its event when absent). */
  terms?: Terms;
  /** Only this party (index in the terms); default every party. */
  partyIndex?: number;
};

/**
 * Moves what a version's pool owes its parties into their balances (claim for one party,
 * distribute for all). Anyone may call it; credits go to the parties.
 *
 * @example
 * await distribute(context, { agreementId: 1n, version: 1 })
 */
export async function distribute(context: ConcordContext, parameters: DistributeParameters): Promise<WriteResult> {
  const terms = parameters.terms ?? (await getVersion(context, { agreementId: parameters.agreementId, version: parameters.version })).terms;
  const token = parameters.token ?? zeroAddress;
  return parameters.partyIndex === undefined
    ? simulateAndWrite(context, {
        address: context.addresses.ledger,
        abi: settlementLedgerAbi,
        functionName: "distribute",
        args: [parameters.agreementId, parameters.version, token, terms],
      })
    : simulateAndWrite(context, {
        address: context.addresses.ledger,
        abi: settlementLedgerAbi,
        functionName: "claim",
        args: [parameters.agreementId, parameters.version, token, terms, BigInt(parameters.partyIndex)],
      });
}
