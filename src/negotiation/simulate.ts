/**
 * Plays a negotiation among agents by the hub's rules, without a chain: turns go round the
 * participants starting after the opener; an offer counts as its proposer's acceptance and
 * clears the others'; agreement when all accepted the latest offer; expired past the time limit
 * or after roundLimit * n moves; broken when a participant ends it.
 */
import type { NegotiationAgent, NegotiationView, OfferRecord } from "./agent";
import { assertOfferInSpace, type Outcome, type Transcript, type TranscriptEntry } from "./types";

export type SimulationOptions = {
  agents: NegotiationAgent[];
  roundLimit: number;
  /** Time limit in seconds; moves are `secondsPerMove` apart. */
  timeLimitSeconds: number;
  secondsPerMove?: number;
  /** Participant index of the opener (default 0). */
  opener?: number;
};

/** Runs the negotiation to its end and returns the transcript. */
export function simulate(options: SimulationOptions): Transcript {
  const { agents, roundLimit, timeLimitSeconds } = options;
  const n = agents.length;
  const secondsPerMove = options.secondsPerMove ?? 12;
  const opener = options.opener ?? 0;
  if (n < 2) throw new Error(`a negotiation needs at least 2 participants, got ${n}`);
  if (!Number.isInteger(roundLimit) || roundLimit < 1) throw new Error(`roundLimit must be a positive integer, got ${roundLimit}`);
  if (opener < 0 || opener >= n) throw new Error(`opener ${opener} is not a participant`);
  agents.forEach((a, i) => {
    if (a.self !== i) throw new Error(`agent ${a.name} is participant ${a.self} but sits at index ${i}`);
  });
  const space = agents[0]!.utility.model.space;

  const offers: OfferRecord[] = [];
  const entries: TranscriptEntry[] = [];
  let accepted = Array.from({ length: n }, () => false);
  const viewFor = (self: number, move: number): NegotiationView => ({
    self,
    participants: n,
    move,
    roundLimit,
    elapsedSeconds: (move - 1) * secondsPerMove,
    timeLimitSeconds,
    offers: offers.map((o) => ({ ...o, acceptedBy: [...o.acceptedBy] })),
    accepted: [...accepted],
  });
  const record = (move: number, by: number, kind: TranscriptEntry["kind"], reason?: string) => {
    const offer = offers[offers.length - 1]!.offer;
    entries.push({
      move,
      round: Math.floor((move - 1) / n) + 1,
      by,
      kind,
      offer,
      utilities: agents.map((a) => a.utility.utility(offer)),
      accepted: [...accepted],
      ...(reason === undefined ? {} : { reason }),
    });
  };

  const opening = agents[opener]!.decide(viewFor(opener, 1));
  if (opening.kind !== "offer") throw new Error(`opener ${agents[opener]!.name} must open with an offer, chose ${opening.kind}`);
  assertOfferInSpace(opening.offer, space);
  offers.push({ by: opener, move: 1, offer: opening.offer, acceptedBy: [opener] });
  accepted[opener] = true;
  record(1, opener, "offer");

  let moves = 1;
  let turn = (opener + 1) % n;
  for (;;) {
    const move = moves + 1;
    const elapsed = (move - 1) * secondsPerMove;
    let outcome: Outcome | undefined;
    if (elapsed > timeLimitSeconds) {
      outcome = { status: "expired", moves, reason: `deadline passed: ${elapsed} s > ${timeLimitSeconds} s` };
    } else if (moves >= roundLimit * n) {
      outcome = {
        status: "expired",
        moves,
        reason: `round limit reached: ${roundLimit} rounds x ${n} participants = ${moves} moves without a unanimous acceptance`,
      };
    }
    if (outcome) return { entries, outcome };

    const decision = agents[turn]!.decide(viewFor(turn, move));
    moves = move;
    if (decision.kind === "offer") {
      assertOfferInSpace(decision.offer, space);
      offers.push({ by: turn, move, offer: decision.offer, acceptedBy: [turn] });
      accepted = accepted.map((_, i) => i === turn);
      record(move, turn, "offer");
    } else if (decision.kind === "accept") {
      accepted[turn] = true;
      offers[offers.length - 1]!.acceptedBy.push(turn);
      record(move, turn, "accept");
      if (accepted.every(Boolean)) {
        return { entries, outcome: { status: "agreed", offer: offers[offers.length - 1]!.offer, moves } };
      }
    } else {
      record(move, turn, "end", decision.reason);
      return { entries, outcome: { status: "broken", moves, by: turn, reason: decision.reason } };
    }
    turn = (turn + 1) % n;
  }
}
