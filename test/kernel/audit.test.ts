import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/env.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { Bus } from '../../src/kernel/bus.ts';
import { AuditTrail, publishAudit, type AuditRecord } from '../../src/kernel/audit.ts';
import { tempDir } from './helpers.ts';

let dir: ReturnType<typeof tempDir>;
let store: Store;
let bus: Bus;
let audit: AuditTrail;

beforeEach(async () => {
  dir = tempDir();
  store = openStore({ path: dir.path });
  bus = new Bus({ log: new EventLog(store) });
  audit = new AuditTrail(store, bus);
  await audit.start();
});

afterEach(async () => {
  await audit.stop();
  await bus.close();
  await store.close();
  dir.cleanup();
});

describe('audit trail', () => {
  it('records every privileged operation from the bus, and nothing else', async () => {
    await publishAudit(bus, { user: 'kyle', role: 'admiral', operation: 'plan.submit', details: { plan_id: 'p1' } }, { correlation_id: 'corr-1' });
    await bus.publish('hxo.shard.done', { plan_id: 'p1' });
    await publishAudit(bus, { user: 'ana', role: 'captain', operation: 'plan.abort', details: { plan_id: 'p1' } });
    await bus.publish('xyn.audit.token.created', { user: 'kyle', role: 'admiral', operation: 'token.create', details: { role: 'captain' } });
    await audit.caughtUp();

    const records = audit.list();
    expect(records.map((r) => [r.n, r.user, r.operation])).toEqual([
      [1, 'kyle', 'plan.submit'],
      [2, 'ana', 'plan.abort'],
      [3, 'kyle', 'token.create'],
    ]);
    expect(records[0]).toMatchObject({ role: 'admiral', details: { plan_id: 'p1' }, correlation_id: 'corr-1', event_name: 'hxo.audit' });
    expect(audit.list({ user: 'kyle' }).map((r) => r.operation)).toEqual(['plan.submit', 'token.create']);
    expect(audit.verify()).toEqual({ ok: true, count: 3 });
  });

  it('detects a record changed behind its back, naming the first bad record', async () => {
    for (const user of ['a', 'b', 'c', 'd']) {
      await publishAudit(bus, { user, role: 'admiral', operation: 'plan.submit', details: {} });
    }
    await audit.caughtUp();
    const db = store.db<number, AuditRecord>('audit');
    const second = db.get(2) as AuditRecord;
    await store.write(() => void db.put(2, { ...second, user: 'mallory' }));
    expect(audit.verify()).toEqual({ ok: false, count: 1, broken_at: 2 });
  });

  it('resumes after a stop from the last recorded event: no gap, no duplicate', async () => {
    for (let i = 0; i < 50; i++) await publishAudit(bus, { user: 'u', role: 'admiral', operation: 'op', details: { i } });
    await audit.caughtUp();
    await audit.stop();
    // Operations that happen while the trail is down...
    const writes = Array.from({ length: 500 }, (_, i) => publishAudit(bus, { user: 'u', role: 'admiral', operation: 'op', details: { i: 50 + i } }));
    await Promise.all(writes);
    audit = new AuditTrail(store, bus);
    await audit.start();
    // ...and while it catches up.
    for (let i = 550; i < 600; i++) await publishAudit(bus, { user: 'u', role: 'admiral', operation: 'op', details: { i } });
    await audit.caughtUp();
    const records = audit.list({ limit: 10_000 });
    expect(records.map((r) => r.details.i)).toEqual([...Array(600).keys()]);
    expect(records.map((r) => r.n)).toEqual([...Array(600).keys()].map((i) => i + 1));
    expect(audit.verify()).toEqual({ ok: true, count: 600 });
  });
});
