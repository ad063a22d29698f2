// Runs the member's work items in order when any of them may finish later (a failpoint stalls it)
// or never (a failpoint crashes the member), without growing the stack when they finish at once.

/** One work item: it calls `next` exactly once when done, or never if the member died. */
export type Step = (next: () => void) => void;

/**
 * Runs `steps` in order, then `done`. Steps that call `next` synchronously run in a loop (a Ready
 * may carry thousands of committed entries); a step that calls it later resumes the loop from
 * there; a step that never calls it ends the run, and `done` never runs.
 */
export function runSteps(steps: readonly Step[], done: () => void): void {
  let at = 0;
  let looping = false;
  let calledBack = false;
  const next = (): void => {
    at++;
    if (looping) calledBack = true;
    else loop();
  };
  const loop = (): void => {
    looping = true;
    while (at < steps.length) {
      calledBack = false;
      (steps[at] as Step)(next);
      if (!calledBack) {
        looping = false;
        return;
      }
    }
    looping = false;
    done();
  };
  loop();
}
