/**
 * A shared-memory board where pool threads say what they are working on, so
 * the main thread can spot a task stuck past its deadline *while* it runs —
 * even a synchronous infinite loop, which no timer inside the thread can stop —
 * and kill exactly the thread that holds it.
 *
 * One slot per task in flight: [started_at_ms, position, thread_id]; a
 * started_at of 0 means idle.
 */
export const SLOT_FIELDS = 3;

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

  /** Worker side: nothing of the task in `slot` is running. */
  end(slot: number): void {
    this.cells[slot * SLOT_FIELDS] = 0;
  }

  read(slot: number): { startedAt: number; position: number; threadId: number } {
    const o = slot * SLOT_FIELDS;
    return { startedAt: this.cells[o] ?? 0, position: this.cells[o + 1] ?? 0, threadId: this.cells[o + 2] ?? 0 };
  }
}
