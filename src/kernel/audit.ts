/**
 * The audit trail: every privileged operation, append-only and hash-chained.
 *
 * Like Oxios's `attach_audit_trail`, it is a bus subscriber — to `hxo.audit`
 * and `xyn.audit.>` — but it cannot lose what it records: it subscribes with
 * `lag: 'replay'` and, on every (re)start, from the seq of the last event it
 * recorded, so a crash or a burst never leaves a gap. Each record carries the
 * sha256 of its predecessor's hash and its own content; `verify()` walks the
 * chain and names the first record that does not fit.
 *
 *   await publishAudit(bus, { user: 'kyle', role: 'admiral', operation: 'plan.submit', details: { plan_id } });
 */
import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import type { Bus } from './bus.ts';
import { TopicActor } from './topic-actor.ts';
import { compilePattern } from './topic.ts';
import type { EventMeta, XynEvent } from '../core/event.ts';
import type { ActorInfo, Supervisable } from './actor.ts';
import { canonicalEncode } from '../core/canonical.ts';
import type { Store } from '../store/env.ts';

export interface AuditEntry {
  user: string;
  role: string;
  operation: string;
  details: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  /** Position in the trail, from 1. */
  n: number;
  event_seq: number;
  event_id: string;
  event_name: string;
  timestamp: string;
  correlation_id: string;
  prev_hash: string;
  hash: string;
}

/**
 * Privileged operations (`hxo.audit`, `xyn.audit.>`: who did what, as they
 * said it), and every change of a workflow run and its steps (`xyn.run.>`,
 * `xyn.step.>`: the record's details are what changed — CHANGE_FIELDS of the
 * event's data; its outputs stay in the event log and the run's record).
 */
export const AUDIT_TOPICS = ['hxo.audit', 'xyn.audit.>', 'xyn.run.>', 'xyn.step.>'];
const OPERATION_TOPICS = new Set(['hxo.audit']);
const CHANGE_FIELDS = ['run_id', 'blueprint_id', 'step_id', 'kind', 'status', 'decision', 'by', 'reason', 'trigger', 'blueprint_version'] as const;

/** What a workflow event changed, for its audit record: who decided what, and why; an error's code and message. */
function changeOf(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of CHANGE_FIELDS) if (data[f] !== undefined) out[f] = data[f];
  const error = data.error as { code?: unknown; message?: unknown } | undefined;
  if (error) out.error = { code: error.code, message: error.message };
  return out;
}
const GENESIS_HASH = '0'.repeat(64);

function compileAuditMatcher(): (e: XynEvent) => boolean {
  const matchers = AUDIT_TOPICS.map(compilePattern);
  return (e) => matchers.some((m) => m(e.event_name));
}

/** Publishes a privileged operation on `hxo.audit` (seed 000 flow 5). */
export function publishAudit(bus: Bus, entry: AuditEntry, meta: EventMeta = {}): Promise<XynEvent> {
  return bus.publish(
    'hxo.audit',
    { ...entry, timestamp: new Date().toISOString() },
    { actor: entry.user, ...meta },
  );
}

function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(record.prev_hash).update(canonicalEncode(record)).digest('hex');
}

export class AuditTrail implements Supervisable {
  readonly id = 'audit';
  private readonly records: Database<AuditRecord, number>;
  private readonly matches = compileAuditMatcher();
  private readonly actor: TopicActor;
  private last: AuditRecord | undefined;

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    /** How a write that finds the disk full waits for room (the node's StoreSpace); without it, it fails (and the actor restarts). */
    private readonly whenRoom: <T>(write: () => Promise<T>) => Promise<T> = (write) => write(),
  ) {
    this.records = store.db<number, AuditRecord>('audit');
    // Every (re)start goes on from the last event recorded: nothing is skipped.
    this.actor = new TopicActor('audit', bus, AUDIT_TOPICS, (events) => this.append(events), { since: () => this.loadLast(), batch: 1000 });
  }

  start(): Promise<void> {
    return this.actor.start();
  }

  halt(): Promise<void> {
    return this.actor.halt();
  }

  stop(): Promise<void> {
    return this.actor.stop();
  }

  onCrash(listener: (error: Error) => void): void {
    this.actor.onCrash(listener);
  }

  info(): ActorInfo {
    return this.actor.info();
  }

  /** The seq of the last event recorded (0 for none), read from the trail. */
  private loadLast(): number {
    for (const { value } of this.records.getRange({ reverse: true, limit: 1 })) this.last = value;
    return this.last?.event_seq ?? 0;
  }

  /** Records in trail order, optionally filtered. */
  list(q: { user?: string; operation?: string; since?: number; limit?: number } = {}): AuditRecord[] {
    const out: AuditRecord[] = [];
    for (const { value } of this.records.getRange({ start: (q.since ?? 0) + 1 })) {
      if (out.length >= (q.limit ?? 1000)) break;
      if (q.user !== undefined && value.user !== q.user) continue;
      if (q.operation !== undefined && value.operation !== q.operation) continue;
      out.push(value);
    }
    return out;
  }

  /** Walks the chain; `broken_at` is the first record whose hash or link is wrong. */
  verify(): { ok: boolean; count: number; broken_at?: number } {
    let prev = GENESIS_HASH;
    let count = 0;
    for (const { value } of this.records.getRange({})) {
      const { hash, ...rest } = value;
      if (rest.prev_hash !== prev || recordHash(rest) !== hash) return { ok: false, count, broken_at: value.n };
      prev = hash;
      count++;
    }
    return { ok: true, count };
  }

  /** Resolves once every audit event published so far is recorded. */
  async caughtUp(timeoutMs = 5_000): Promise<void> {
    await this.bus.flushed();
    const pending = this.bus.queryHistory({ since: this.last?.event_seq ?? 0, limit: Number.MAX_SAFE_INTEGER });
    const target = pending.filter((e) => this.matches(e)).at(-1)?.seq ?? 0;
    const deadline = Date.now() + timeoutMs;
    while ((this.last?.event_seq ?? 0) < target) {
      if (Date.now() > deadline) throw new Error(`audit trail did not reach seq ${target} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async append(events: XynEvent[]): Promise<void> {
    const records: AuditRecord[] = [];
    let prev = this.last;
    for (const event of events) {
      if (prev && event.seq <= prev.event_seq) continue; // already recorded before a restart
      const said = OPERATION_TOPICS.has(event.event_name) || event.event_name.startsWith('xyn.audit.');
      const data = (said ? event.data : { details: changeOf(event.data) }) as Partial<AuditEntry> & { timestamp?: string };
      const base: Omit<AuditRecord, 'hash'> = {
        n: (prev?.n ?? 0) + 1,
        event_seq: event.seq,
        event_id: event.event_id,
        event_name: event.event_name,
        user: String(data.user ?? event.actor),
        role: String(data.role ?? 'system'),
        operation: String(data.operation ?? event.event_name),
        details: data.details ?? {},
        timestamp: data.timestamp ?? event.occurred_at,
        correlation_id: event.correlation_id,
        prev_hash: prev?.hash ?? GENESIS_HASH,
      };
      const record = { ...base, hash: recordHash(base) };
      records.push(record);
      prev = record;
    }
    if (records.length === 0) return;
    // A full disk holds the trail back (in order) rather than crash it until its supervisor gives up.
    await this.whenRoom(() =>
      this.store.write(() => {
        for (const r of records) void this.records.put(r.n, r);
      }),
    );
    this.last = prev;
  }
}
