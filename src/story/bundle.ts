/**
 * Steps 2 and 3 of the story: the hotel, the restaurant and the airline negotiate the evening
 * bundle on chain through their agents (reserves asked from measured risk), the travel site named
 * in every offer as the merchant of record whose intents attest the referrer; the agreed offer
 * becomes the active version.
 */
import {
  describeOutcome,
  formatRound,
  roundHeader,
  runOnchainNegotiation,
  type FixedTerms,
  type RunOnchainNegotiationReturnType,
} from "../negotiation";
import { buildTerms, getAgreement, getVersion, hashTerms, proposeAgreement, type Terms } from "../sdk";
import { bundleAgents, type PartnerName, type PartnerRisk } from "./agents";
import { heading, percent, table } from "./format";
import type { StoryStage } from "./stage";
import { StoryReconciliationError } from "./errors";

const DAY = 86_400;

export type Bundle = { agreementId: bigint; version: number; terms: Terms; negotiation: RunOnchainNegotiationReturnType };

export async function negotiateBundle(stage: StoryStage, risks: Record<PartnerName, PartnerRisk>, seed: number): Promise<Bundle> {
  const { cast, log } = stage;
  log(heading(2, "The hotel, the restaurant and the airline negotiate the evening bundle on chain"));
  const partners = [cast.hotel, cast.restaurant, cast.airline];
  const participants = partners.map((w) => w.account.address).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const partnerNames = participants.map((a) => stage.nameOf(a) as PartnerName);
  const agents = bundleAgents(partnerNames, risks, seed);
  log(
    table(
      ["agent", "tactic", "reservation", "walk-away share", "ideal fee", "asks reserve", "ideal window"],
      agents.map((a) => [a.name, a.stance.tactic.name, a.reservation.toFixed(3), percent(a.stance.walkAwayShareBps), percent(a.stance.idealReferralFeeBps), percent(a.risk.reserveBps), `${a.stance.idealDisputeWindowDays}d`]),
    ),
  );
  const travelSite = cast.travelSite.account.address;
  const fixed: FixedTerms = {
    refundAuthority: cast.hotel.account.address,
    orderSigner: travelSite,
    documentHash: stage.documentHash("evening bundle: room, dinner, flight change"),
  };
  const opening = buildTerms({
    parties: participants.map((account, i) => ({ account, shareBps: i === 0 ? 3_334 : 3_333 })),
    referralFeeBps: 500,
    reserveBps: 1_000,
    disputeWindow: 7 * DAY,
    refundAuthority: fixed.refundAuthority,
    orderSigner: fixed.orderSigner,
    documentHash: fixed.documentHash,
  });
  const hotel = await stage.as(cast.hotel);
  const { agreementId } = await proposeAgreement(hotel, { terms: opening });
  const roundLimit = 8;
  log(
    `agreement #${agreementId} proposed by the hotel as a placeholder (even split); the travel site is the merchant of record in every offer; ` +
      `${roundLimit} rounds, 7 days, a day per move at most`,
  );
  log(roundHeader(partnerNames));
  const negotiation = await runOnchainNegotiation({
    contexts: await Promise.all(partners.map((w) => stage.as(w))),
    agreementId,
    agents: agents.map((a) => a.agent),
    currentTerms: opening,
    fixed,
    roundLimit,
    duration: 7 * DAY,
    moveTimeout: DAY,
    onRound: (round) => log(formatRound(round, partnerNames, round.gasUsed)),
  });
  log(describeOutcome(negotiation.transcript.outcome, partnerNames));
  if (negotiation.transcript.outcome.status !== "agreed" || negotiation.version === undefined) {
    throw new StoryReconciliationError([`the negotiation did not agree: ${describeOutcome(negotiation.transcript.outcome, partnerNames)}`]);
  }

  log(heading(3, "The agreed terms are the active version"));
  const agreement = await getAgreement(hotel, { agreementId });
  const { terms, termsHash } = await getVersion(hotel, { agreementId, version: agreement.activeVersion });
  if (agreement.status !== "active" || agreement.activeVersion !== negotiation.version || termsHash !== negotiation.termsHash || hashTerms(terms) !== termsHash) {
    throw new StoryReconciliationError([
      `agreement #${agreementId} is ${agreement.status} at version ${agreement.activeVersion} (hash ${termsHash}); the negotiation agreed version ${negotiation.version} (hash ${negotiation.termsHash})`,
    ]);
  }
  log(`agreement #${agreementId} is active at version ${agreement.activeVersion}, terms hash ${termsHash}`);
  log(
    `shares ${terms.parties.map((p) => `${stage.nameOf(p.account)} ${percent(p.shareBps)}`).join(", ")}; referral fee ${percent(terms.referralFeeBps)} ` +
      `to the referrer the travel site attests; reserve ${percent(terms.reserveBps)} held ${terms.disputeWindow / DAY} days; refunds by the ${stage.nameOf(terms.refundAuthority)}`,
  );
  return { agreementId, version: agreement.activeVersion, terms, negotiation };
}
