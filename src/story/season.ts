/**
 * Step 1 of the story: last season. Two agreements among the partners, each activated with its
 * parties' signed consent; the earlier guests pay their orders directly (each agreement's eight
 * orders in one batch, so their reserves make one lot, their references one bitmap word), the
 * airline refunds three flight orders in full; and the ledger's own counters measure each
 * partner's refund risk by volume.
 */
import { parseEther, zeroAddress, type Hex } from "viem";
import { measuredRisk, type Membership } from "../negotiation";
import {
  activateAgreement,
  buildTerms,
  getRiskCounters,
  makeOrderRefs,
  proposeAgreement,
  randomSalt,
  refund,
  settleBatch,
  signConsent,
  type GetRiskCountersReturnType,
  type Terms,
} from "../sdk";
import type { PartnerName, PartnerRisk } from "./agents";
import { amount, heading, table } from "./format";
import { ETH_UNIT, type StoryStage, type StoryWallet } from "./stage";

const DAY = 86_400;

export type Season = {
  dinnerAndStay: bigint;
  flightAndStay: bigint;
  terms: { dinnerAndStay: Terms; flightAndStay: Terms };
  counters: { dinner: GetRiskCountersReturnType; flight: GetRiskCountersReturnType };
  risks: Record<PartnerName, PartnerRisk>;
  /** Lots holding last season's reserves, to release later. */
  lots: bigint[];
  paidIn: bigint;
};

/** Proposes `terms` from `proposer`, has every party sign its consent, activates: returns the agreement id. */
export async function activateWithConsent(stage: StoryStage, proposer: StoryWallet, terms: Terms): Promise<bigint> {
  const { agreementId } = await proposeAgreement(await stage.as(proposer), { terms });
  const signers = terms.parties.map((p) => stage.walletOf(p.account));
  const signatures = await Promise.all(signers.map(async (s) => signConsent(await stage.as(s), { agreementId, version: 1, terms })));
  await activateAgreement(await stage.as(proposer), { agreementId, terms, signatures });
  return agreementId;
}

export async function lastSeason(stage: StoryStage): Promise<Season> {
  const { cast, log } = stage;
  const hotel = cast.hotel.account.address;
  const restaurant = cast.restaurant.account.address;
  const airline = cast.airline.account.address;
  const eth = (v: bigint) => amount(v, ETH_UNIT);
  log(heading(1, "Last season: the ledger's own history measures each partner's refund risk"));

  const lots: bigint[] = [];
  let paidIn = 0n;
  const season = async (terms: Terms, gross: bigint, refunded: number[], desk: StoryWallet): Promise<bigint> => {
    const agreementId = await activateWithConsent(stage, desk, terms);
    // The guests' orders are numbered under one salt: eight references in one bitmap word.
    const orderRefs: Hex[] = makeOrderRefs({ salt: randomSalt(), count: 8 });
    const guests = await stage.as(cast.earlierGuests);
    const batch = await settleBatch(guests, { payments: orderRefs.map((orderRef) => ({ agreementId, version: 1, gross, orderRef })) });
    paidIn += gross * BigInt(orderRefs.length);
    lots.push(...batch.lots.map((l) => l.lotId));
    for (const i of refunded) {
      const settled = batch.settled[i]!;
      await refund(await stage.as(desk), { scope: settled.scope, orderRef: settled.orderRef, amount: settled.reserve });
    }
    return agreementId;
  };
  const dinnerTerms = buildTerms({
    parties: [{ account: hotel, shareBps: 6_000 }, { account: restaurant, shareBps: 4_000 }],
    reserveBps: 1_000,
    disputeWindow: 3 * DAY,
    refundAuthority: hotel,
    documentHash: stage.documentHash("last season, dinner and stay"),
  });
  const flightTerms = buildTerms({
    parties: [{ account: hotel, shareBps: 5_000 }, { account: airline, shareBps: 5_000 }],
    reserveBps: 2_000,
    disputeWindow: 7 * DAY,
    refundAuthority: airline,
    documentHash: stage.documentHash("last season, flight and stay"),
  });
  const dinnerAndStay = await season(dinnerTerms, parseEther("0.2"), [], cast.hotel);
  const flightAndStay = await season(flightTerms, parseEther("0.5"), [1, 4, 6], cast.airline);

  const reader = await stage.as(cast.hotel);
  const counters = {
    dinner: await getRiskCounters(reader, { agreementId: dinnerAndStay, token: zeroAddress }),
    flight: await getRiskCounters(reader, { agreementId: flightAndStay, token: zeroAddress }),
  };
  log(
    table(
      ["agreement", "parties", "settled", "orders", "refunds", "refunded"],
      [
        [`#${dinnerAndStay} dinner & stay`, "hotel 60%, restaurant 40%", eth(counters.dinner.settledVolume), `${counters.dinner.settledCount}`, `${counters.dinner.refundCount}`, eth(counters.dinner.refundedVolume)],
        [`#${flightAndStay} flight & stay`, "hotel 50%, airline 50%", eth(counters.flight.settledVolume), `${counters.flight.settledCount}`, `${counters.flight.refundCount}`, eth(counters.flight.refundedVolume)],
      ],
    ),
  );
  log("each agreement's eight orders were one batch: one transaction, one reserve lot, one word of order references");
  const memberships: Record<PartnerName, Membership[]> = {
    hotel: [
      { agreementId: dinnerAndStay, shareBps: 6_000, counters: counters.dinner },
      { agreementId: flightAndStay, shareBps: 5_000, counters: counters.flight },
    ],
    restaurant: [{ agreementId: dinnerAndStay, shareBps: 4_000, counters: counters.dinner }],
    airline: [{ agreementId: flightAndStay, shareBps: 5_000, counters: counters.flight }],
  };
  const risks = {} as Record<PartnerName, PartnerRisk>;
  for (const partner of ["hotel", "restaurant", "airline"] as const) risks[partner] = measuredRisk(memberships[partner]);
  log(
    "Refund rate by volume per partner: a Beta posterior (prior 2.5% of the value refunded, weight 20 orders of 0.1 ETH), " +
      "each agreement's volumes weighted by the partner's share; an order weighs its gross, so dust weighs nothing:",
  );
  log(
    table(
      ["partner", "evidence", "observed", "refund rate", "90% upper", "asks reserve"],
      (["hotel", "restaurant", "airline"] as const).map((p) => [
        p,
        `${risks[p].estimate.evidence.toFixed(1)} x 0.1 ETH`,
        risks[p].estimate.observedRefundRate === null ? "-" : `${(risks[p].estimate.observedRefundRate! * 100).toFixed(2)}%`,
        `${(risks[p].estimate.refundRate * 100).toFixed(2)}%`,
        `${(risks[p].estimate.interval.upper * 100).toFixed(2)}%`,
        `${(risks[p].reserveBps / 100).toString()}%`,
      ]),
    ),
  );
  log("Each agent's utility counts refunds at its measured rate and prefers the reserve it asks for.");
  return { dinnerAndStay, flightAndStay, terms: { dinnerAndStay: dinnerTerms, flightAndStay: flightTerms }, counters, risks, lots, paidIn };
}
