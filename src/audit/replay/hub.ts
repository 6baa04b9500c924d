/**
 * Replays the negotiation hub's events: negotiations, their offers and acceptances. What the
 * registry's replay needs from them is who accepted the latest offer when the hub activates it
 * (an offer counts as its proposer's acceptance and clears the others'); the checks here are that
 * only participants move and that an acceptance or an agreement names the latest offer.
 */
import type { Address, Hex } from "viem";
import type { Terms } from "../../sdk/terms";
import type { ConcordLog } from "../types";
import type { NegotiationState, ReplayBook } from "./state";

/** Applies one hub event. */
export function applyHub(book: ReplayBook, log: ConcordLog): void {
  const args = log.args;
  const agreementId = args.agreementId as bigint;
  const negotiationId = Number(args.negotiationId);
  const key = `${agreementId}:${negotiationId}`;
  let n = book.negotiations.get(key);
  if (!n) {
    n = { agreementId, negotiationId, participants: [], status: "open", offers: [] } satisfies NegotiationState;
    book.negotiations.set(key, n);
    if (log.eventName !== "NegotiationOpened") book.violate("consistency", `negotiation ${key}: ${log.eventName} before it opened`, log);
  }
  const mover = (args.proposer ?? args.party) as Address | undefined;
  if (mover && n.participants.length > 0 && !n.participants.includes(mover)) {
    book.violate("consent", `negotiation ${key}: ${mover} moved but is not a participant`, log, undefined, mover);
  }
  const latest = n.offers.at(-1);
  switch (log.eventName) {
    case "NegotiationOpened":
      n.opener = args.opener as Address;
      n.participants = [...(args.participants as readonly Address[])];
      n.roundLimit = Number(args.roundLimit);
      n.deadline = BigInt(args.deadline as bigint);
      n.moveTimeout = Number(args.moveTimeout);
      n.baseVersion = Number(args.baseVersion);
      return;
    case "OfferMade":
      n.offers.push({ move: Number(args.move), proposer: mover!, offerHash: args.offerHash as Hex, terms: args.terms as Terms, acceptedBy: new Set([mover!]) });
      return;
    case "OfferAccepted":
      if (!latest || latest.offerHash !== args.offerHash) book.violate("consistency", `negotiation ${key}: acceptance of an offer that is not the latest`, log);
      else latest.acceptedBy.add(mover!);
      book.hubAcceptance = { transactionHash: log.transactionHash, agreementId };
      return;
    case "AcceptanceWithdrawn":
      latest?.acceptedBy.delete(mover!);
      return;
    case "NegotiationAgreed": {
      const version = Number(args.version);
      n.status = "agreed";
      n.agreedVersion = version;
      const v = book.termsOf(agreementId, version);
      if (!v || v.unit === undefined) book.violate("consistency", `negotiation ${key} agreed on version ${version}, which was not activated before`, log);
      else if (v.termsHash !== args.termsHash || latest?.offerHash !== args.termsHash) book.violate("consistency", `negotiation ${key} agreed on terms other than version ${version}'s`, log);
      return;
    }
    case "NegotiationBroken":
      n.status = "broken";
      return;
    case "NegotiationExpired":
      n.status = "expired";
      return;
    default:
      book.violate("consistency", `unknown hub event ${log.eventName}`, log);
  }
}
