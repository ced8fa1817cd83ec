/**
 * A shared-memory board where pool threads say what they are working on, so
 * the main thread can spot a task stuck past its deadline *while* it runs —
 * even a synchronous infinite loop, which no timer inside the thread can stop —
 * and kill exactly the thread that holds it.
 *
 * One slot per task in flight: [started_at_ms, position, thread_id,
 * cancelled]; a started_at of 0 means idle, a thread_id of 0 that no thread
 * has it yet, cancelled 1 that its thread should not start it.
 */
export const SLOT_FIELDS = 4;

export class ProgressBoard {
  private readonly cells: Float64Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
  ) {
    this.cells = new Float64Array(buffer);
  }

  static create(slots: number): ProgressBoard {
    return new ProgressBoard(new SharedArrayBuffer(slots * SLOT_FIELDS * 8));
  }

  get slots(): number {
    return this.cells.length / SLOT_FIELDS;
  }

  /** Worker side: item `position` of the task in `slot` starts now. */
  begin(slot: number, position: number, threadId: number, now: number = Date.now()): void {
    const o = slot * SLOT_FIELDS;
    this.cells[o + 1] = position;
    this.cells[o + 2] = threadId;
    this.cells[o] = now;
  }

  /** Worker side: the task in `slot` arrived on thread `threadId` (no item started yet). */
  assign(slot: number, threadId: number): void {
    this.cells[slot * SLOT_FIELDS + 2] = threadId;
  }

  /** Pool side: the task in `slot` is cancelled (a thread that has not started it yet must not). */
  cancel(slot: number): void {
    this.cells[slot * SLOT_FIELDS + 3] = 1;
  }

  /** Worker side: was the task in `slot` cancelled? */
  cancelled(slot: number): boolean {
    return this.cells[slot * SLOT_FIELDS + 3] === 1;
  }

  /** Pool side: `slot` is given to a new task (no thread, nothing started). */
  reset(slot: number): void {
    this.cells.fill(0, slot * SLOT_FIELDS, (slot + 1) * SLOT_FIELDS);
  }

  /** Worker side: nothing of the task in `slot` is running. */
  end(slot: number): void {
    this.cells[slot * SLOT_FIELDS] = 0;
  }

  read(slot: number): { startedAt: number; position: number; threadId: number } {
    const o = slot * SLOT_FIELDS;
    return { startedAt: this.cells[o] ?? 0, position: this.cells[o + 1] ?? 0, threadId: this.cells[o + 2] ?? 0 };
  }
}
