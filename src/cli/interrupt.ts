/**
 * Ctrl-C while a plan runs in this process (`xyn run`, `xyn resume`): the
 * plan halts as it does when its node stops — no more shards are claimed,
 * running batches end and are checkpointed — and the command fails with one
 * line saying how far it got and how to go on, exit code 130 (128 + SIGINT,
 * exit.ts). A second Ctrl-C kills the process at once: the handler is gone
 * after the first, so the default is back.
 */
import { NodeStoppingError, RunInterruptedError } from '../hxo/engine-errors.ts';

/** `finished`, or a RunInterruptedError naming `resume` (how to go on) when Ctrl-C halted the plan meanwhile. */
export async function haltOnInterrupt<T>(halt: () => void, finished: Promise<T>, resume: string): Promise<T> {
  let interrupted = false;
  const onInterrupt = (): void => {
    interrupted = true;
    halt();
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await finished;
  } catch (err) {
    if (interrupted && err instanceof NodeStoppingError) throw new RunInterruptedError(err.planId, err.progress, resume);
    throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
