/**
 * Keeps the auditor's hot object shapes alive between runs in one process.
 *
 * V8 gives every object a hidden class (a "map"). The link from a class to the maps its
 * instances grow into as their fields are set is weak, and so is the link between the maps of
 * objects built field by field (decoded event arguments, parsed JSON). When the last object with
 * a map dies, a full garbage collection frees the map and deoptimizes every function that was
 * optimized for it (V8 logs "marking dependent code ... for deoptimization, reason: weak
 * objects"; nodejs/node#8670). A process that audits again and again (a service that verifies
 * every hour, a benchmark's rounds) then starts every run in the interpreter and compiles its
 * hot path again on V8's helper threads. Measured on the replay benchmark's 20,000 settlements:
 * 57 such deoptimizations in three runs, 6 to 14 with the shapes kept; CPU per run 0.94 against
 * 1.07 s, median of 12 one-process rounds (`keepShapes: false` in `npm run bench:replay:knobs`).
 *
 * {keepShape} keeps one small object of a shape for the life of the process: an empty instance
 * of a class, or the first of many objects built alike. Its map stays alive, so the next run's
 * objects get the same map and the optimized code stays valid. Nothing else depends on it.
 */

/** One object per shape name; null while the exemplar is being made (or when it could not be). */
const kept = new Map<string, object | null>();
let keeping = true;
/** Counts the switches of {setShapeKeeping}: a holder that keeps once compares it to know when to keep again. */
let generation = 0;

/**
 * Keeps `exemplar()` alive for the life of the process, once per `name`. A class may call this
 * from its own constructor with an exemplar that constructs it again: the inner call finds the
 * name taken and returns. An exemplar that throws is not kept and not tried again: keeping a
 * shape only saves time, so it never fails the caller.
 */
export function keepShape(name: string, exemplar: () => object): void {
  if (!keeping || kept.has(name)) return;
  kept.set(name, null);
  try {
    kept.set(name, exemplar());
  } catch {
    // left null: not kept, not retried
  }
}

/**
 * Switches keeping on (the default) or off. Off forgets every shape kept so far and keeps none
 * until switched on again: for measuring what keeping them is worth (`keepShapes: false` in
 * `npm run bench:replay:knobs`) and for tests.
 */
export function setShapeKeeping(on: boolean): void {
  keeping = on;
  generation += 1;
  if (!on) kept.clear();
}

/**
 * Changes whenever keeping is switched: a hot path that offers an exemplar once (the first object
 * it builds) remembers the value it offered under, and offers again when it has changed.
 */
export function shapesGeneration(): number {
  return generation;
}

/** The exemplars kept so far, by shape name (a copy; for tests). */
export function keptShapes(): Map<string, object> {
  const out = new Map<string, object>();
  for (const [name, exemplar] of kept) if (exemplar !== null) out.set(name, exemplar);
  return out;
}
