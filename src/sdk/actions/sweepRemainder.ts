import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import { partyProof } from "../partyTree";
import type { Party, Terms } from "../terms";
import { eventsArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";
import { termsOfVersion } from "./claim";

export type SweepRemainderParameters = {
  agreementId: bigint;
  version: number;
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** The version's terms (read from its VersionProposed event when absent). */
  terms?: Terms;
};
export type SweepRemainderReturnType = WriteResult & {
  /** The dust party credited. */
  dustParty: Party;
  /** The pool's final remainder credited to it (0 when there was none). */
  amount: bigint;
};
export type SweepRemainderErrorType = ConcordWriteErrorType;

/**
 * Credits a closed pool's final remainder (what is left under one distribution unit) to the
 * version's dust party, proving the party with a Merkle proof. A pool is closed when its version
 * can no longer settle (superseded or terminated), holds no reserve and no active version of
 * another agreement pins it; before that the ledger refuses (LedgerPoolStillOpen), since later
 * credits may still complete the unit. Anyone may call it; distribute or claim the whole units first.
 *
 * @param context - Any context with a wallet client.
 * @param parameters - {@link SweepRemainderParameters}
 * @returns The transaction, the dust party and the amount swept.
 *
 * @example
 * import { sweepRemainder } from "./src/sdk"
 * const { amount, dustParty } = await sweepRemainder(context, { agreementId: 1n, version: 1 })
 */
export async function sweepRemainder(context: ConcordContext, parameters: SweepRemainderParameters): Promise<SweepRemainderReturnType> {
  const planned = await sweepRemainderCall(context, parameters);
  const { dustParty } = planned;
  const result = await sendPlanned(context, planned);
  const [swept] = eventsArgs(result, settlementLedgerAbi, "RemainderSwept");
  return { ...result, dustParty, amount: swept?.amount ?? 0n };
}

/** The call {@link sweepRemainder} sends (terms read, the dust party's proof built); {@link prepareSweepRemainder} returns it encoded. */
export async function sweepRemainderCall(context: ConcordContext, parameters: SweepRemainderParameters): Promise<PlannedCall & { dustParty: Party }> {
  const terms = await termsOfVersion(context, parameters.agreementId, parameters.version, parameters.terms);
  const dustParty = terms.parties[terms.dustPartyIndex];
  if (!dustParty) throw new InvalidInputError(`dust party index ${terms.dustPartyIndex} is out of range for ${terms.parties.length} parties`);
  const token = parameters.token ?? zeroAddress;
  const planned = planCall(
    {
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "sweepRemainder",
      args: [parameters.agreementId, parameters.version, token, dustParty, partyProof(terms.parties, terms.dustPartyIndex)],
    },
    `sweep the final remainder of the ${token === zeroAddress ? "ETH" : token} pool of agreement ${parameters.agreementId} version ${parameters.version} to its dust party`,
  );
  return { ...planned, dustParty };
}
