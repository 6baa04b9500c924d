/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence on every platform,
 * so negotiations, scenarios and benchmarks replay exactly.
 */
export type Rng = {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], inclusive. */
  int(min: number, max: number): number;
  /** A child generator whose sequence depends only on this seed and `label`. */
  fork(label: string): Rng;
};

function hashLabel(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}

/** A generator seeded with a 32-bit integer. */
export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int(min: number, max: number): number {
      if (max < min) throw new Error(`empty range [${min}, ${max}]`);
      return min + Math.floor(next() * (max - min + 1));
    },
    fork(label: string): Rng {
      return createRng(hashLabel(seed, label));
    },
  };
}
