import { getAddress, type Address } from "viem";
import type { ConcordContext } from "../client";
import type { Terms } from "../terms";
import { getConcordEvents } from "./getConcordEvents";

export type GetAgreementsOfPartyParameters = { account: Address; fromBlock?: bigint; toBlock?: bigint };
export type AgreementMembership = { agreementId: bigint; version: number; partyIndex: number; shareBps: number; termsHash: `0x${string}` };
export type GetAgreementsOfPartyReturnType = AgreementMembership[];

/**
 * Every version of every agreement in which `account` is a party (from VersionProposed events).
 *
 * @example
 * const memberships = await getAgreementsOfParty(context, { account: hotel })
 */
export async function getAgreementsOfParty(
  context: ConcordContext,
  parameters: GetAgreementsOfPartyParameters,
): Promise<GetAgreementsOfPartyReturnType> {
  const account = getAddress(parameters.account);
  const events = await getConcordEvents(context, {
    fromBlock: parameters.fromBlock,
    toBlock: parameters.toBlock,
    contracts: ["registry"],
    eventNames: ["VersionProposed"],
  });
  const out: AgreementMembership[] = [];
  for (const event of events) {
    const terms = event.args.terms as Terms;
    const partyIndex = terms.parties.findIndex((p) => p.agreementId === 0n && getAddress(p.account) === account);
    if (partyIndex < 0) continue;
    out.push({
      agreementId: event.args.agreementId as bigint,
      version: Number(event.args.version),
      partyIndex,
      shareBps: terms.parties[partyIndex]!.shareBps,
      termsHash: event.args.termsHash as `0x${string}`,
    });
  }
  return out;
}
