/**
 * Random negotiation scenarios from a seed: parties with risk views, preferences, tactics and
 * reservations; the reservations are scaled so that the acceptable regions overlap (with a
 * margin) or do not, checked exactly with {@link findOverlap}.
 */
import { NegotiationAgent } from "./agent";
import { createRng, type Rng } from "./prng";
import { boulware, conceder, hardliner, linear, titForTat, type Tactic } from "./tactics";
import { defaultIssueSpace, type IssueSpace, type Offer } from "./types";
import { Utility, findOverlap, type Preferences, type RiskView } from "./utility";

export type PartyProfile = { name: string; risk: RiskView; preferences: Preferences; tactic: Tactic };

export type Scenario = {
  seed: number;
  space: IssueSpace;
  parties: PartyProfile[];
  roundLimit: number;
  timeLimitSeconds: number;
  /** A witness offer every party accepts (when the regions overlap). */
  witness: Offer | undefined;
};

export type ScenarioOptions = {
  parties: number;
  /** "overlap": reservations leave an offer with every party >= reservation + margin; "none": no such offer at all. */
  overlap: "overlap" | "none";
  margin?: number;
  roundLimit?: number;
  tactics?: Tactic[];
};

const ALL_TACTICS: Tactic[] = [boulware, linear, conceder, hardliner, titForTat];
const NAMES = ["hotel", "restaurant", "airline", "tour", "spa", "taxi", "museum", "theatre"];

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[rng.int(0, list.length - 1)]!;
}

function randomPreferences(rng: Rng, exposed: boolean): Omit<Preferences, "reservation"> {
  const value = 0.7 + 0.25 * rng.next();
  const rest = [rng.next(), rng.next(), rng.next()];
  const restSum = rest.reduce((a, b) => a + b, 0) || 1;
  const [fee, reserve, window] = rest.map((r) => ((1 - value) * r) / restSum) as [number, number, number];
  return {
    weights: { value, referralFee: fee, reserve, disputeWindow: 1 - value - fee - reserve },
    ideal: {
      referralFeeBps: rng.int(0, 15) * 100,
      reserveBps: rng.int(0, 12) * 250,
      disputeWindowDays: pick(rng, [1, 3, 7, 14, 30, 60]),
    },
    refundExposure: exposed ? 0.5 + 0.5 * rng.next() : 0.2 * rng.next(),
    feeElasticity: 0.5 + 2 * rng.next(),
  };
}

function utilitiesOf(space: IssueSpace, profiles: PartyProfile[]): Utility[] {
  return profiles.map((p, self) => new Utility({ space, self, risk: p.risk, preferences: p.preferences }));
}

/** A scenario from `seed`, deterministic. */
export function randomScenario(seed: number, options: ScenarioOptions): Scenario {
  const rng = createRng(seed);
  const n = options.parties;
  const space = defaultIssueSpace(n);
  const margin = options.margin ?? 0.05;
  const tactics = options.tactics ?? ALL_TACTICS;
  const risk: RiskView = {
    refundRate: 0.1 * rng.next(),
    refundHorizonDays: pick(rng, [7, 14, 30, 45]),
    annualDiscountRate: 0.02 + 0.1 * rng.next(),
    referredShare: 0.2 + 0.6 * rng.next(),
  };
  const exposedParty = rng.int(0, n - 1);
  const base = Array.from({ length: n }, (_, i) => ({
    name: NAMES[i] ?? `party-${i}`,
    risk,
    prefs: randomPreferences(rng, i === exposedParty),
    tactic: pick(rng, tactics),
    weight: 0.3 + 0.7 * rng.next(),
  }));
  const build = (scale: number): PartyProfile[] =>
    base.map((b) => ({
      name: b.name,
      risk: b.risk,
      tactic: b.tactic,
      preferences: { ...b.prefs, reservation: Math.min(1, scale * b.weight) },
    }));
  const overlapsAt = (scale: number, m: number) => findOverlap(utilitiesOf(space, build(scale)), space, m) !== undefined;

  // The largest scale whose reservations (plus the margin) still overlap: bisection (overlap is monotone in scale).
  let lo = 0;
  let hi = 1 / Math.min(...base.map((b) => b.weight));
  for (let k = 0; k < 30; k++) {
    const mid = (lo + hi) / 2;
    if (overlapsAt(mid, margin)) lo = mid;
    else hi = mid;
  }
  let scale: number;
  if (options.overlap === "overlap") {
    scale = lo * (0.5 + 0.45 * rng.next());
    if (!overlapsAt(scale, margin)) throw new Error(`scenario ${seed}: no overlap at scale ${scale}`);
  } else {
    // Above the largest scale that overlaps with no margin at all.
    let lo0 = lo;
    let hi0 = 1 / Math.min(...base.map((b) => b.weight));
    for (let k = 0; k < 30; k++) {
      const mid = (lo0 + hi0) / 2;
      if (overlapsAt(mid, 0)) lo0 = mid;
      else hi0 = mid;
    }
    scale = hi0 * (1.05 + 0.3 * rng.next());
    if (overlapsAt(scale, 0)) throw new Error(`scenario ${seed}: regions still overlap at scale ${scale}`);
  }
  const parties = build(scale);
  return {
    seed,
    space,
    parties,
    roundLimit: options.roundLimit ?? 10 + rng.int(0, 10),
    timeLimitSeconds: 7 * 86_400,
    witness: findOverlap(utilitiesOf(space, parties), space, 0),
  };
}

/** The agents of a scenario, each seeded from the scenario's seed and its index. */
export function agentsFor(scenario: Scenario): NegotiationAgent[] {
  const utilities = utilitiesOf(scenario.space, scenario.parties);
  return scenario.parties.map(
    (p, i) => new NegotiationAgent({ name: p.name, utility: utilities[i]!, tactic: p.tactic, seed: (scenario.seed * 31 + i) | 0 }),
  );
}
