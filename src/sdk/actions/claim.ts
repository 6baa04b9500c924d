import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import type { Terms } from "../terms";
import { eventsArgs, writeConcord, type WriteResult } from "../write";
import { getVersion } from "./getVersion";

export type ClaimParameters = {
  agreementId: bigint;
  /** The version whose pool owes the party. */
  version: number;
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** The version's terms (read from its VersionProposed event when absent). */
  terms?: Terms;
  /** The party's index in the terms. */
  partyIndex: number;
};
/** One credit from a pool: to an account's balance, or into a nested agreement's pool. */
export type PartyCredit = { partyIndex: number; account: Address; childAgreementId: bigint; amount: bigint };
export type ClaimReturnType = WriteResult & {
  /** What was credited (empty when nothing was owed). */
  credits: PartyCredit[];
};
export type ClaimErrorType = ConcordWriteErrorType;

/**
 * Moves what a version's pool owes one party into its withdrawable balance (or, for a nested
 * agreement, into that agreement's pool). Pools are lazy: settlements credit the pool, and a
 * party's share reaches its balance only through claim or {@link distribute}, before
 * {@link withdraw}. Anyone may call it; the credit always goes to the party.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link ClaimParameters}
 * @returns The transaction and the credits made.
 *
 * @example
 * import { claim, getBalance } from "./src/sdk"
 * const { shares } = await getBalance(context, { account: hotel })
 * for (const s of shares) await claim(context, { agreementId: s.agreementId, version: s.version, partyIndex: s.partyIndex, terms: s.terms })
 */
export async function claim(context: ConcordContext, parameters: ClaimParameters): Promise<ClaimReturnType> {
  if (!Number.isInteger(parameters.partyIndex) || parameters.partyIndex < 0) {
    throw new InvalidInputError(`party index ${parameters.partyIndex} is not a whole number from 0`);
  }
  const terms = parameters.terms ?? (await getVersion(context, { agreementId: parameters.agreementId, version: parameters.version })).terms;
  const result = await writeConcord(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "claim",
    args: [parameters.agreementId, parameters.version, parameters.token ?? zeroAddress, terms, BigInt(parameters.partyIndex)],
  });
  return { ...result, credits: creditsOf(result) };
}

/** The PartyCredited events of a claim or distribute transaction, typed. */
export function creditsOf(result: WriteResult): PartyCredit[] {
  return eventsArgs(result, settlementLedgerAbi, "PartyCredited").map((e) => ({
    partyIndex: Number(e.partyIndex),
    account: e.account,
    childAgreementId: e.childAgreementId,
    amount: e.amount,
  }));
}
