/**
 * One step's footprints while it runs (seed 004 §5.3.3): records of the same
 * (source_kind, source_ref, metric) are summed into one row — a step calling
 * a model three times leaves one tokens_in row, not three — and the rows are
 * made once, when the step ends, to be written with the step's end.
 *
 *   const tally = new FootprintTally({ run_id, step_id: 'fetch', blueprint_id });
 *   tally.port('action', 'http.call').record({ metric: 'bytes_in', quantity: 512, unit: 'bytes' });
 *   tally.close(clock.now()); // [{ metric: 'bytes_in', quantity: 512, … }]
 */
import { NonRetryableError } from '../../core/errors.ts';
import { uuid7 } from '../../core/uuid7.ts';
import type { FootprintInput, FootprintsPort } from '../actions/action.ts';
import { METRIC_PATTERN, type FootprintRow, type Measure, type SourceKind } from './records.ts';

/** Dimensions are for grouping (provider, model, action): few keys, short values (§5.3.3). */
const MAX_DIMS = 8;
const MAX_DIM_VALUE = 128;
const UNIT_PATTERN = /^[A-Za-z][A-Za-z0-9_/.-]{0,31}$/;

export interface TallyScope {
  run_id: string;
  step_id: string | null;
  blueprint_id: string;
}

/** A footprint an action cannot record as given: what is wrong with it (a plugin's bug, not worth a retry). */
export class FootprintError extends NonRetryableError {
  constructor(message: string, details: Record<string, unknown>) {
    super(message, 'FOOTPRINT_INVALID', details);
  }
}

export class FootprintTally {
  private readonly entries = new Map<string, Measure>();
  private closed = false;

  constructor(private readonly scope: TallyScope) {}

  /** What an action (or agent, or artifact write) of the step records through. */
  port(sourceKind: SourceKind, sourceRef: string): FootprintsPort {
    return { record: (footprint) => this.add(sourceKind, sourceRef, footprint) };
  }

  /**
   * Adds one record to its row. Dimensions that differ between the records
   * of one row are dropped from it: the row keeps only what all of them share.
   * After the step has ended (an action that outlived its timeout), ignored.
   */
  add(sourceKind: SourceKind, sourceRef: string, footprint: FootprintInput): void {
    checkFootprint(footprint, sourceRef);
    if (this.closed) return;
    const dims = { ...(footprint.dims ?? {}) };
    const key = JSON.stringify([sourceKind, sourceRef, footprint.metric]);
    const entry = this.entries.get(key);
    if (!entry) {
      this.entries.set(key, { source_kind: sourceKind, source_ref: sourceRef, metric: footprint.metric, quantity: footprint.quantity, unit: footprint.unit, dims });
      return;
    }
    if (entry.unit !== footprint.unit) {
      throw new FootprintError(`${sourceRef}: footprint ${footprint.metric} was recorded in ${entry.unit}, now in ${footprint.unit}: one metric has one unit (convert before recording)`, { metric: footprint.metric, unit: footprint.unit, was: entry.unit });
    }
    entry.quantity += footprint.quantity;
    for (const [k, v] of Object.entries(entry.dims)) if (dims[k] !== v) delete entry.dims[k];
  }

  /** The step's rows, one per (source_kind, source_ref, metric); later records are ignored. */
  close(now: number): FootprintRow[] {
    this.closed = true;
    const recorded_at = new Date(now).toISOString();
    return [...this.entries.values()].map((e) => ({ footprint_id: uuid7(now), ...this.scope, ...e, recorded_at }));
  }
}

function checkFootprint(f: FootprintInput, sourceRef: string): void {
  const refuse = (field: string, problem: string): never => {
    throw new FootprintError(`${sourceRef}: footprint ${field} ${problem}`, { field, metric: f.metric });
  };
  if (typeof f.metric !== 'string' || !METRIC_PATTERN.test(f.metric)) refuse('metric', `must be a lowercase name (letters, digits, _ and .; at most 64), got ${JSON.stringify(f.metric)}`);
  if (typeof f.quantity !== 'number' || !Number.isFinite(f.quantity) || f.quantity < 0) refuse('quantity', `must be a finite number of at least 0, got ${String(f.quantity)}`);
  if (typeof f.unit !== 'string' || !UNIT_PATTERN.test(f.unit)) refuse('unit', `must be a short unit name (ms, bytes, tokens, count), got ${JSON.stringify(f.unit)}`);
  const dims = Object.entries(f.dims ?? {});
  if (dims.length > MAX_DIMS) refuse('dims', `has ${dims.length} keys: at most ${MAX_DIMS} (dimensions are for grouping, not detail)`);
  for (const [k, v] of dims) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) refuse(`dims.${k}`, 'must be a string, number or boolean');
    if (typeof v === 'string' && v.length > MAX_DIM_VALUE) refuse(`dims.${k}`, `is ${v.length} characters long: at most ${MAX_DIM_VALUE}`);
  }
}
