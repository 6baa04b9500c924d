import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import { partyProof } from "../partyTree";
import type { Party, Terms } from "../terms";
import { eventsArgs, planCall, sendPlanned, type EventArgsOf, type PlannedCall, type WriteResult } from "../write";
import { readProposedTerms } from "./getVersion";

export type ClaimParameters = {
  agreementId: bigint;
  /** The version whose pool owes the party. */
  version: number;
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** The party's index in the version's terms. */
  partyIndex: number;
  /** The version's terms (read from its VersionProposed event, checked against the stored hash, when absent). */
  terms?: Terms;
};
/** The typed `Claimed` event of the ledger. */
export type ClaimedEvent = EventArgsOf<typeof settlementLedgerAbi, "Claimed">;
export type ClaimReturnType = WriteResult & {
  party: Party;
  /** What was credited: to the account's balance, or into the pinned child version's pool (0 when nothing new was owed). */
  amount: bigint;
  /** The Claimed event, absent when nothing was owed. */
  claimed?: ClaimedEvent;
};
export type ClaimErrorType = ConcordWriteErrorType;

/** The terms of (agreementId, version): those given, or those its VersionProposed event carries. */
export async function termsOfVersion(context: ConcordContext, agreementId: bigint, version: number, terms?: Terms): Promise<Terms> {
  return terms ?? (await readProposedTerms(context, { agreementId, version })).terms;
}

/**
 * Pays one party what a version's pool owes it: its share of the pool's whole units since it was
 * last paid, to its balance (an account) or into the pinned child version's pool (a nested party).
 * The party proves its place with a Merkle proof from the version's party tree ({@link partyProof}),
 * so the cost does not grow with the number of parties. Anyone may call it; the credit always
 * goes to the party.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link ClaimParameters}
 * @returns The transaction, the party and the amount credited.
 *
 * @example
 * import { claim, withdraw } from "./src/sdk"
 * const { amount } = await claim(context, { agreementId: 1n, version: 1, partyIndex: 2 })
 * await withdraw(restaurantContext)
 */
export async function claim(context: ConcordContext, parameters: ClaimParameters): Promise<ClaimReturnType> {
  const planned = await claimCall(context, parameters);
  const result = await sendPlanned(context, planned);
  const { party } = planned;
  const [claimed] = eventsArgs(result, settlementLedgerAbi, "Claimed");
  return { ...result, party, amount: claimed?.amount ?? 0n, claimed };
}

/** The call {@link claim} sends (terms read and the party's proof built); {@link prepareClaim} returns it encoded. */
export async function claimCall(context: ConcordContext, parameters: ClaimParameters): Promise<PlannedCall & { party: Party }> {
  const terms = await termsOfVersion(context, parameters.agreementId, parameters.version, parameters.terms);
  const index = parameters.partyIndex;
  const party = terms.parties[index];
  if (!Number.isInteger(index) || !party) {
    throw new InvalidInputError(`party index ${index} is out of range for the ${terms.parties.length} parties of agreement ${parameters.agreementId} version ${parameters.version}`);
  }
  const token = parameters.token ?? zeroAddress;
  const planned = planCall(
    {
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "claim",
      args: [parameters.agreementId, parameters.version, token, BigInt(index), party, partyProof(terms.parties, index)],
    },
    `claim the share of party ${index} (${party.account === zeroAddress ? `agreement ${party.agreementId}` : party.account}) in the ${token === zeroAddress ? "ETH" : token} pool of agreement ${parameters.agreementId} version ${parameters.version}`,
  );
  return { ...planned, party };
}
