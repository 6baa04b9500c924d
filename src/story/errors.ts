/** Thrown when any figure of the story does not reconcile; `failures` names each one. */
export class StoryReconciliationError extends Error {
  constructor(readonly failures: readonly string[]) {
    super(`the story does not reconcile:\n  - ${failures.join("\n  - ")}`);
    this.name = "StoryReconciliationError";
  }
}
