import { expect } from "chai";
import fc from "fast-check";
import { limiter } from "../../src/audit/reads";

const turns = async (n: number) => {
  for (let i = 0; i < n; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe("limiter (the audit's requests in flight)", function () {
  it("runs at most `max` tasks at once, in the order given, and frees the slot of a failed task", async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ turns: fc.integer({ min: 0, max: 3 }), fails: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        async (max, tasks) => {
          const limit = limiter(max);
          let running = 0;
          let most = 0;
          const started: number[] = [];
          const outcomes = await Promise.all(
            tasks.map((task, i) =>
              limit(async () => {
                started.push(i);
                running += 1;
                most = Math.max(most, running);
                await turns(task.turns);
                running -= 1;
                if (task.fails) throw new Error(`task ${i}`);
                return i;
              }).then(
                (value) => ({ value }),
                (error: Error) => ({ error: error.message }),
              ),
            ),
          );
          expect(most).to.equal(Math.min(max, tasks.length)); // all were queued at once
          expect(started).to.deep.equal(tasks.map((_, i) => i));
          expect(outcomes).to.deep.equal(tasks.map((task, i) => (task.fails ? { error: `task ${i}` } : { value: i })));
          // No slot leaked: a second round still gets `max` at once.
          let again = 0;
          let peak = 0;
          await Promise.all(
            Array.from({ length: max + 1 }, () =>
              limit(async () => {
                again += 1;
                peak = Math.max(peak, again);
                await turns(1);
                again -= 1;
              }),
            ),
          );
          expect(peak).to.equal(max);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("has no limit at Infinity", async function () {
    const limit = limiter(Number.POSITIVE_INFINITY);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        limit(async () => {
          running += 1;
          most = Math.max(most, running);
          await turns(1);
          running -= 1;
        }),
      ),
    );
    expect(most).to.equal(50);
  });
});
