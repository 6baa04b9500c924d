/**
 * Concession tactics: the utility a negotiator aims for at relative time t in [0, 1].
 *
 * Time-dependent (Faratin, Sierra and Jennings 1998): p(t) = Pmin + (Pmax - Pmin) * (1 - t^(1/e)).
 * Boulware (e = 0.2) holds out and concedes late, linear (e = 1), conceder (e = 2) concedes early,
 * hardliner (e = 0) never concedes before the deadline (t^(1/0) is taken as 0 for t < 1, 1 at t = 1).
 *
 * Tit-for-tat mirrors the others: its concession since its last offer equals the average concession
 * the others made since theirs, measured in its own utility (never less than a small nudge, so two
 * mirrors do not wait for each other forever), and at t = 1 it falls to its reservation like the rest.
 */

export type TimeDependentTactic = { kind: "time"; name: string; e: number };
export type TitForTatTactic = { kind: "tit-for-tat"; name: string; nudge: number };
export type Tactic = TimeDependentTactic | TitForTatTactic;

export const boulware: TimeDependentTactic = { kind: "time", name: "boulware", e: 0.2 };
export const linear: TimeDependentTactic = { kind: "time", name: "linear", e: 1 };
export const conceder: TimeDependentTactic = { kind: "time", name: "conceder", e: 2 };
export const hardliner: TimeDependentTactic = { kind: "time", name: "hardliner", e: 0 };
export const titForTat: TitForTatTactic = { kind: "tit-for-tat", name: "tit-for-tat", nudge: 0.02 };

export const TACTICS: Record<string, Tactic> = {
  boulware,
  linear,
  conceder,
  hardliner,
  "tit-for-tat": titForTat,
};

/** Looks a tactic up by name, naming the bad value. */
export function tacticByName(name: string): Tactic {
  const tactic = TACTICS[name];
  if (!tactic) throw new Error(`unknown tactic "${name}" (known: ${Object.keys(TACTICS).join(", ")})`);
  return tactic;
}

/** p(t) for a time-dependent tactic; t is clamped to [0, 1]. */
export function timeDependentTarget(e: number, t: number, pMin: number, pMax: number): number {
  if (!(e >= 0)) throw new Error(`concession exponent must be >= 0, got ${e}`);
  const tc = Math.min(1, Math.max(0, t));
  const f = e === 0 ? (tc < 1 ? 0 : 1) : Math.pow(tc, 1 / e);
  return pMin + (pMax - pMin) * (1 - f);
}

/**
 * Relative time: the larger of the rounds used and the time used. Rounds count up to one round
 * before the last move at which an offer can still collect every other participant's acceptance
 * (move roundLimit * n - (n - 1)): t = 1 for the whole last round of offers, so that every
 * participant states an offer at its reservation while others can still accept it.
 */
export function relativeTime(args: {
  move: number;
  participants: number;
  roundLimit: number;
  elapsedSeconds: number;
  timeLimitSeconds: number;
}): number {
  const { move, participants: n, roundLimit, elapsedSeconds, timeLimitSeconds } = args;
  const lastOfferMove = roundLimit * n - (n - 1);
  const fullConcessionMove = lastOfferMove - n;
  const byRounds = fullConcessionMove <= 1 ? 1 : (move - 1) / (fullConcessionMove - 1);
  const byTime = timeLimitSeconds <= 0 ? 1 : elapsedSeconds / timeLimitSeconds;
  return Math.min(1, Math.max(0, byRounds, byTime));
}

/**
 * Target of a tit-for-tat negotiator: its previous target minus the others' average concession
 * (in its own utility), at least `nudge`; clamped to [pMin, pMax]; pMin at t = 1.
 */
export function titForTatTarget(args: {
  previousTarget: number | undefined;
  othersConcessions: number[];
  nudge: number;
  t: number;
  pMin: number;
  pMax: number;
}): number {
  const { previousTarget, othersConcessions, nudge, t, pMin, pMax } = args;
  if (t >= 1) return pMin;
  if (previousTarget === undefined) return pMax;
  const mean = othersConcessions.length === 0 ? 0 : othersConcessions.reduce((a, b) => a + b, 0) / othersConcessions.length;
  return Math.min(pMax, Math.max(pMin, previousTarget - Math.max(nudge, mean)));
}
