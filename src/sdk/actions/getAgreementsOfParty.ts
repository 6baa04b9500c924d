import { getAddress, type Address, type Hex } from "viem";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { getConcordEvents } from "./getConcordEvents";

export type GetAgreementsOfPartyParameters = {
  /** An account (EOA or contract wallet). */
  account: Address;
  fromBlock?: bigint;
  toBlock?: bigint;
  /** Blocks per eth_getLogs request (see {@link getConcordEvents}). */
  chunkSize?: bigint;
};
/** One version of one agreement in which the account is a party. */
export type AgreementMembership = { agreementId: bigint; version: number; partyIndex: number; shareBps: number; termsHash: Hex };
export type GetAgreementsOfPartyReturnType = AgreementMembership[];
export type GetAgreementsOfPartyErrorType = ConcordReadErrorType;

/**
 * Every version of every agreement in which `account` is a party, from the VersionProposed
 * events (the registry stores only hashes; the terms are in the events), in chain order.
 *
 * @param context - Any context.
 * @param parameters - {@link GetAgreementsOfPartyParameters}
 * @returns One membership per (agreement, version) naming the account.
 *
 * @example
 * import { getAgreementsOfParty } from "./src/sdk"
 * const memberships = await getAgreementsOfParty(context, { account: hotel })
 * // [{ agreementId: 1n, version: 1, partyIndex: 0, shareBps: 5000, termsHash: "0x…" }, …]
 */
export async function getAgreementsOfParty(
  context: ConcordContext,
  parameters: GetAgreementsOfPartyParameters,
): Promise<GetAgreementsOfPartyReturnType> {
  let account: Address;
  try {
    account = getAddress(parameters.account);
  } catch (error) {
    throw new InvalidInputError(`account "${parameters.account}" is not an address`, { cause: error });
  }
  const events = await getConcordEvents(context, {
    fromBlock: parameters.fromBlock,
    toBlock: parameters.toBlock,
    chunkSize: parameters.chunkSize,
    events: ["VersionProposed"],
  });
  const out: AgreementMembership[] = [];
  for (const event of events) {
    const { terms, agreementId, version, termsHash } = event.args;
    const partyIndex = terms.parties.findIndex((p) => p.agreementId === 0n && getAddress(p.account) === account);
    if (partyIndex < 0) continue;
    out.push({ agreementId, version, partyIndex, shareBps: terms.parties[partyIndex]!.shareBps, termsHash });
  }
  return out;
}
