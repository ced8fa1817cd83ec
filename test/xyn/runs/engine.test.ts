import { describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { serve } from '../../helpers/test-server.ts';
import { waitFor } from '../../kernel/helpers.ts';
import { workflowNodes } from './helpers.ts';

const start = workflowNodes();

const transformBp = {
  id: 'bp.t.shape',
  name: 'Shape',
  trigger: { event_type: 'app.order.placed' },
  inputs: [{ name: 'qty' }, { name: 'sku', required: false, default: 'x' }],
  plan: [
    { kind: 'transform', id: 'a', outputs: { qty: '{{inputs.qty}}', label: 'sku {{inputs.sku}}' } },
    { kind: 'transform', id: 'b', outputs: { both: ['{{steps.a.outputs.qty}}', '{{steps.a.outputs.label}}'] } },
    { kind: 'transform', id: 'c', outputs: { event: '{{event.name}}' } },
  ],
  outputs: [{ name: 'result', value: '{{steps.b.outputs.both}}' }],
};

describe('runs', () => {
  it('an event starts a run of the matching blueprint, which completes with outputs', async () => {
    const n = await start();
    await n.promote(transformBp);
    const ev = await n.node.kernel.bus.publish('app.order.placed', { qty: 3, extra: true });
    let runId: string | undefined;
    for await (const d of n.node.kernel.bus.subscribe('xyn.run.completed', { since: ev.seq })) {
      if (d.type === 'event') {
        runId = d.event.run_id ?? undefined;
        break;
      }
    }
    const run = await n.runs.ended(runId as string);
    expect(run.status).toBe('completed');
    expect(run.outputs).toEqual({ result: [3, 'sku x'] });
    expect(run.correlation_id).toBe(ev.correlation_id);
    const steps = n.runs.steps(run.run_id);
    expect(steps.map((s) => [s.step_id, s.status])).toEqual([['a', 'completed'], ['b', 'completed'], ['c', 'completed']]);
    expect(steps[2]?.outputs).toEqual({ event: 'app.order.placed' });
  });

  it('a gate waits until approved, a rejected gate fails the run', async () => {
    const n = await start();
    await n.promote({ ...transformBp, id: 'bp.t.gate', plan: [{ kind: 'gate', id: 'ok', mode: 'manual' }, { kind: 'transform', id: 'after', outputs: { by: '{{steps.ok.outputs.by}}' } }], outputs: [] });
    const a = await n.runs.create({ blueprint_id: 'bp.t.gate', inputs: { qty: 1 }, actor: 'ana', trigger: { kind: 'manual' } });
    const b = await n.runs.create({ blueprint_id: 'bp.t.gate', inputs: { qty: 2 }, actor: 'ana', trigger: { kind: 'manual' } });
    const waiting = async (id: string) => {
      for (;;) {
        const r = n.runs.get(id);
        if (r.waiting_on) return r;
        await new Promise((res) => setImmediate(res));
      }
    };
    await waiting(a.run_id);
    await waiting(b.run_id);
    const step = await n.runs.decide(a.run_id, 'ok', 'approved', 'bob', 'fine');
    expect(step.status).toBe('completed');
    expect((await n.runs.ended(a.run_id)).status).toBe('completed');
    expect(n.runs.step(a.run_id, 'after').outputs).toEqual({ by: 'bob' });
    // Every change of the run is in the hash-chained audit trail; the decision with who and why.
    const audit = n.node.kernel.audit;
    await audit.caughtUp();
    const trail = audit.list({}).filter((r) => (r.details as { run_id?: string }).run_id === a.run_id);
    expect(trail.map((r) => r.operation)).toEqual(['xyn.run.created', 'xyn.run.started', 'xyn.step.waiting', 'xyn.step.completed', 'xyn.step.completed', 'xyn.run.completed']);
    expect(trail[3]).toMatchObject({ user: 'bob', details: { step_id: 'ok', decision: 'approved', by: 'bob', reason: 'fine' } });
    expect(audit.verify().ok).toBe(true);
    await n.runs.decide(b.run_id, 'ok', 'rejected', 'bob', 'no');
    const rb = await n.runs.ended(b.run_id);
    expect(rb.status).toBe('failed');
    expect(rb.error?.code).toBe('GATE_REJECTED');
  });
});

describe('backpressure', () => {
  it('past XYN_RUNS_MAX_ACTIVE the router waits, says xyn.trigger.lagged, and makes every run once slots free up', async () => {
    const held: ServerResponse[] = [];
    const server = await serve((_req, res) => held.push(res));
    try {
      const n = await start({ XYN_RUNS_MAX_ACTIVE: '2', XYN_TRIGGER_LAG_EVENTS: '5' });
      await n.promote({ id: 'bp.t.busy', name: 'Busy', trigger: { event_type: 'app.busy.go' }, plan: [{ kind: 'action_task', id: 'call', action: 'http.call', with: { url: server.url } }] });
      const bus = n.node.kernel.bus;
      const first = await bus.publish('app.busy.go', {});
      for (let i = 1; i < 20; i++) await bus.publish('app.busy.go', {});
      let lagged: Record<string, unknown> | undefined;
      for await (const d of bus.subscribe('xyn.trigger.lagged', { since: first.seq })) {
        if (d.type === 'event') {
          lagged = d.event.data;
          break;
        }
      }
      expect(lagged?.behind as number).toBeGreaterThanOrEqual(5);
      // Two runs call out; no third is made while they do.
      await waitFor(() => held.length === 2, 5_000, 'two calls in flight');
      const made = () => n.runs.list({ blueprint_id: 'bp.t.busy', limit: 100 }).items;
      expect(made()).toHaveLength(2);
      // Each answer frees a slot: all twenty are made and end, one run per event.
      await waitFor(
        () => {
          for (const res of held.splice(0)) res.writeHead(200).end('ok');
          return made().filter((r) => r.status === 'completed').length === 20;
        },
        20_000,
        'twenty runs completed',
      );
      expect(new Set(made().map((r) => r.trigger.event_seq)).size).toBe(20);
    } finally {
      await server.close();
    }
  });

  it('a run waiting at a gate holds no slot', async () => {
    const n = await start({ XYN_RUNS_MAX_ACTIVE: '1' });
    await n.promote({ id: 'bp.t.parked', name: 'Parked', trigger: { event_type: 'app.parked.go' }, plan: [{ kind: 'gate', id: 'ok', mode: 'manual' }] });
    for (let i = 0; i < 3; i++) await n.node.kernel.bus.publish('app.parked.go', {});
    await waitFor(() => n.runs.list({ blueprint_id: 'bp.t.parked' }).items.filter((r) => r.waiting_on === 'ok').length === 3, 5_000, 'three runs at their gates');
    expect(n.runs.stats()).toMatchObject({ live: 3, waiting: 3, queued: 0 });
  });
});

describe('runs started by runs', () => {
  it("a run's end starts a run of a blueprint triggered by it, one level deeper; a loop stops at 8 levels", async () => {
    const n = await start();
    // Each run of it ends with xyn.run.completed, which starts the next: a loop the chain depth must stop.
    await n.promote({ id: 'bp.t.loop', name: 'Loop', trigger: { event_type: 'xyn.run.completed' }, plan: [{ kind: 'transform', id: 'x', outputs: { ok: true } }] });
    const first = await n.runs.create({ blueprint_id: 'bp.t.loop', actor: 'ana', trigger: { kind: 'manual' } });
    const bus = n.node.kernel.bus;
    let refused: { data: Record<string, unknown>; correlation_id: string } | undefined;
    for await (const d of bus.subscribe('xyn.trigger.refused', { since: 0 })) {
      if (d.type === 'event') {
        refused = d.event;
        break;
      }
    }
    const chain = n.runs.list({ blueprint_id: 'bp.t.loop', limit: 100 }).items;
    expect(chain).toHaveLength(9);
    expect(chain.map((r) => r.chain_depth).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(chain.map((r) => r.correlation_id))).toEqual(new Set([first.correlation_id]));
    expect(refused?.correlation_id).toBe(first.correlation_id);
    expect(refused?.data.reason).toMatch(/8 deep/);
  });
});

describe('cron', () => {
  it('a cron blueprint fires at its time on a manual clock, and once after a node was down over several', async () => {
    const { ManualClock } = await import('../../../src/core/clock.ts');
    const clock = new ManualClock(Date.parse('2026-12-01T10:00:30Z'));
    const n = await start({}, { clock });
    await n.promote({ id: 'bp.t.cron', name: 'Every minute', trigger: { cron: '* * * * *' }, plan: [{ kind: 'transform', id: 'x', outputs: { ok: true } }] });
    expect(await n.runs.tickCron()).toEqual([]);
    clock.advance(30_000);
    const fired = await n.runs.tickCron();
    expect(fired).toEqual([{ blueprint_id: 'bp.t.cron', version: 1, scheduled_at: Date.parse('2026-12-01T10:01:00Z'), missed: 0 }]);
    const first = n.runs.list({ blueprint_id: 'bp.t.cron' }).items;
    expect(first).toHaveLength(1);
    expect(first[0]?.trigger).toEqual({ kind: 'cron', scheduled_at: '2026-12-01T10:01:00.000Z', missed: 0 });
    await n.runs.ended(first[0]?.run_id as string);
    await n.stop();
    clock.advance(5 * 60_000);
    const again = await start({}, { dir: n.dir, clock });
    const caught = await again.runs.tickCron();
    expect(caught).toEqual([]);
    const runs = again.runs.list({ blueprint_id: 'bp.t.cron' }).items;
    expect(runs).toHaveLength(2);
    expect(runs[0]?.trigger).toEqual({ kind: 'cron', scheduled_at: '2026-12-01T10:06:00.000Z', missed: 4 });
  });
});
