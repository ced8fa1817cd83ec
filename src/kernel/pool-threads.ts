/**
 * The shard-worker pool's threads as the supervision tree shows them
 * (`thread:<n>` under `pool`). Piscina numbers no threads and replaces a
 * dead one with a new Worker, so each thread that comes up takes a slot —
 * the first one a dead thread left, else a new one — and the slot keeps its
 * counts across replacements: tasks completed (one per batch, never per
 * shard), times its thread was replaced, and since when the current one runs.
 */
import type { ActorInfo } from './actor.ts';

/** What Piscina's `workerCreate` / `workerDestroy` events hand over (its PiscinaWorker; not exported from its entry). */
export interface PoolThread {
  /** The thread id while it runs (-1 once it has exited). */
  readonly id: number;
  /** Tasks on it now (running or waiting for it). */
  readonly currentUsage: number;
  readonly destroyed: boolean;
}

interface Slot {
  thread: PoolThread | null;
  threadId: number;
  handled: number;
  restarts: number;
  startedAt: number | null;
}

export class PoolThreads {
  private readonly slots: Slot[] = [];
  private readonly byThread = new Map<number, Slot>();

  /** A thread is up: it takes the first slot a dead thread left (one more restart there), else a new slot. */
  created(thread: PoolThread): void {
    let slot = this.slots.find((s) => s.thread === null);
    if (slot) slot.restarts++;
    else this.slots.push((slot = { thread: null, threadId: 0, handled: 0, restarts: 0, startedAt: null }));
    Object.assign(slot, { thread, threadId: thread.id, startedAt: Date.now() });
    this.byThread.set(thread.id, slot);
  }

  /** A thread is gone: its slot waits for the replacement (its id is -1 by now, so the slot is found by its flag). */
  destroyed(): void {
    for (const slot of this.slots) {
      if (!slot.thread?.destroyed) continue;
      this.byThread.delete(slot.threadId);
      Object.assign(slot, { thread: null, threadId: 0, startedAt: null });
    }
  }

  /** A task ended with an answer on thread `threadId` (0: not known, nothing is counted). */
  completed(threadId: number): void {
    const slot = this.byThread.get(threadId);
    if (slot) slot.handled++;
  }

  /** One node per slot: busy with tasks on it, idle, or (between a death and its replacement) restarting. */
  info(closed: boolean): ActorInfo[] {
    return this.slots.map((s, n) => {
      const usage = s.thread?.currentUsage ?? 0;
      const tasks = Number.isFinite(usage) ? usage : 1;
      const state = closed ? 'stopped' : !s.thread ? 'restarting' : tasks > 0 ? 'busy' : 'idle';
      return { name: `thread:${n}`, kind: 'shard-worker', state, mailbox: tasks, handled: s.handled, restarts: s.restarts, started_at: closed ? null : s.startedAt };
    });
  }
}
