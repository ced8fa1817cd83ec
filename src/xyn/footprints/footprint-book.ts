/**
 * The footprints' rows in LMDB (records.ts): written in the caller's
 * transaction (a step's end, a run's creation), each with its index entries
 * and its blueprint's daily rollup moved on in the same write; read back by
 * run, or newest first filtered by metric, blueprint and time, with the
 * rollups of the selection summed from the days, not the rows.
 *
 *   await store.write(() => book.put(rows));
 *   book.list({ metric: 'wall_ms', blueprint_id: 'ops.fix', since: '2026-12-01T00:00:00Z' });
 *   book.rollups({ metric: 'wall_ms' }); // [{ blueprint_id, metric, unit, sum, count }]
 */
import type { Store } from '../../store/env.ts';
import { newestIds, pageLimit, type Page } from '../drafts/records.ts';
import {
  blueprintKey,
  footprintIndexDb,
  footprintsDb,
  impressionsDb,
  metricKey,
  rollupKey,
  rollupPrefix,
  runKey,
  wallSamplesKey,
  type FootprintRow,
  type ImpressionRecord,
  type Rollup,
} from './records.ts';

/** Ended runs' wall_ms kept per blueprint, the latest: enough for a p95 that follows the blueprint as it changes. */
export const WALL_SAMPLES = 100;

export interface FootprintQuery {
  metric?: string;
  blueprint_id?: string;
  /** ISO time: rows recorded at or after it. */
  since?: string;
  /** The last footprint_id of the page before. */
  cursor?: string;
  limit?: number;
}

export interface RollupTotal extends Rollup {
  blueprint_id: string;
  metric: string;
}

export class FootprintBook {
  private readonly rows;
  private readonly index;
  private readonly impressions;

  constructor(private readonly store: Store) {
    this.rows = footprintsDb(store);
    this.index = footprintIndexDb(store);
    this.impressions = impressionsDb(store);
  }

  /** Puts rows with their index entries and rollups. Synchronous: call it inside a `store.write`. */
  put(rows: readonly FootprintRow[]): void {
    for (const row of rows) {
      void this.rows.put(row.footprint_id, row);
      void this.index.put(runKey(row.run_id, row.footprint_id), 1);
      void this.index.put(metricKey(row.metric, row.footprint_id), 1);
      void this.index.put(blueprintKey(row.blueprint_id, row.footprint_id), 1);
      // Reads in a write transaction see its own writes: rows of one day and metric add up.
      const key = rollupKey(row.blueprint_id, row.metric, row.recorded_at.slice(0, 10));
      const was = this.index.get(key) as Rollup | undefined;
      void this.index.put(key, { sum: (was?.sum ?? 0) + row.quantity, count: (was?.count ?? 0) + 1, unit: was?.unit ?? row.unit });
    }
  }

  /** A run's rows, in the order recorded. */
  ofRun(runId: string): FootprintRow[] {
    const prefix = runKey(runId, '');
    const ids = this.index.getKeys({ start: prefix, end: `${prefix}\uffff` });
    return [...ids].flatMap((key) => this.rows.get(key.slice(prefix.length)) ?? []);
  }

  /** A page of rows, newest first. */
  list(q: FootprintQuery = {}): Page<FootprintRow> {
    const limit = pageLimit(q.limit);
    const items: FootprintRow[] = [];
    let more = false;
    for (const id of this.newestFirst(q)) {
      const row = this.rows.get(id);
      if (!row) continue;
      // Ids are in the order rows were recorded: past `since`, every row after is older still.
      if (q.since !== undefined && row.recorded_at < q.since) break;
      if (q.metric !== undefined && row.metric !== q.metric) continue;
      if (q.blueprint_id !== undefined && row.blueprint_id !== q.blueprint_id) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(row);
    }
    return { items, next_cursor: more ? (items.at(-1)?.footprint_id ?? null) : null };
  }

  /**
   * Sum and count per blueprint and metric, from the UTC day of `since` on
   * (whole days: rollups are kept by day), filtered as the rows are.
   */
  rollups(q: Pick<FootprintQuery, 'metric' | 'blueprint_id' | 'since'> = {}): RollupTotal[] {
    const prefix = rollupPrefix(q.blueprint_id);
    const fromDay = q.since?.slice(0, 10);
    const totals = new Map<string, RollupTotal>();
    for (const { key, value } of this.index.getRange({ start: prefix, end: `${prefix}\uffff` })) {
      const [, blueprintId, metric, day] = key.split(':') as [string, string, string, string];
      if (q.metric !== undefined && metric !== q.metric) continue;
      if (fromDay !== undefined && day < fromDay) continue;
      const rollup = value as Rollup;
      const id = `${blueprintId}:${metric}`;
      const total = totals.get(id) ?? { blueprint_id: blueprintId, metric, unit: rollup.unit, sum: 0, count: 0 };
      total.sum += rollup.sum;
      total.count += rollup.count;
      totals.set(id, total);
    }
    return [...totals.values()];
  }

  /** The latest ended runs' wall_ms of a blueprint (at most WALL_SAMPLES), oldest first. */
  wallSamples(blueprintId: string): number[] {
    return (this.index.get(wallSamplesKey(blueprintId)) as number[] | undefined) ?? [];
  }

  impressionsOf(runId: string): ImpressionRecord | undefined {
    return this.impressions.get(runId);
  }

  /**
   * Stores a run's impressions and adds its wall_ms to its blueprint's
   * samples, in one write — unless the run has them already (a run's end
   * told twice): then nothing is written and it answers false.
   */
  async saveImpressions(record: ImpressionRecord, wallMs: number): Promise<boolean> {
    return this.store.write(() => {
      if (this.impressions.get(record.run_id)) return false;
      void this.impressions.put(record.run_id, record);
      const key = wallSamplesKey(record.blueprint_id);
      void this.index.put(key, [...this.wallSamples(record.blueprint_id), wallMs].slice(-WALL_SAMPLES));
      return true;
    });
  }

  private newestFirst(q: FootprintQuery): Generator<string> {
    const prefix = q.metric !== undefined ? metricKey(q.metric, '') : q.blueprint_id !== undefined ? blueprintKey(q.blueprint_id, '') : undefined;
    return newestIds(this.rows, this.index, prefix, q.cursor);
  }
}
