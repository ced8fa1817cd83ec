/** events.emit on a real bus over a real event log: what it publishes, and the node's namespaces it refuses. */
import { describe, expect, it } from 'vitest';
import { ActionInputError, eventsEmit, parseActionInput } from '../../../src/xyn/actions/index.ts';
import { busOnLogPerTest } from '../../kernel/helpers.ts';
import { actionContext, refusedField } from './helpers.ts';

const t = busOnLogPerTest();

const refused = (raw: unknown) => refusedField(eventsEmit, raw);

describe('events.emit', () => {
  it("publishes with the run's correlation id and actor, and returns the seq and id the log holds", async () => {
    await t.bus.publish('before.any', {});
    const out = await eventsEmit.execute(parseActionInput(eventsEmit, { name: 'deploy.requested', data: { host: 'db1' } }), actionContext(t.bus));
    expect(eventsEmit.output.parse(out)).toEqual(out);
    expect(out.seq).toBe(2);
    const stored = t.log.get(out.seq);
    expect(stored).toMatchObject({
      event_id: out.event_id,
      event_name: 'deploy.requested',
      data: { host: 'db1' },
      correlation_id: 'corr-1',
      actor: 'xyn:run:run-1',
      run_id: 'run-1',
      step_id: 'step-1',
    });
  });

  it('defaults data to {}', () => {
    expect(parseActionInput(eventsEmit, { name: 'app.ping' })).toEqual({ name: 'app.ping', data: {} });
  });

  it("refuses the node's namespaces in any letter case, control topics too, naming `name`", () => {
    for (const name of ['xyn.kernel.started', 'hxo.plan', 'HXO.shard.done', 'genesis', 'genesis.heal', 'genesis.intent']) {
      expect(refused({ name })).toBe('name');
    }
    expect(() => parseActionInput(eventsEmit, { name: 'hxo.plan' })).toThrow(/node-owned namespace "hxo".*app\.plan/);
    expect(() => parseActionInput(eventsEmit, { name: 'genesis.heal' })).toThrow(/control topic/);
  });

  it('refuses a name that is not a topic, too long, or data that is not an object', () => {
    expect(refused({ name: 'a..b' })).toBe('name');
    expect(refused({ name: 'app.*' })).toBe('name');
    expect(refused({ name: 'a'.repeat(201) })).toBe('name');
    expect(refused({ name: 'app.x', data: [1] })).toBe('data');
  });

  it('publishes nothing when handed a reserved name without parsing', async () => {
    const err = await eventsEmit.execute({ name: 'xyn.kernel.started', data: {} }, actionContext(t.bus)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionInputError);
    expect(err).toMatchObject({ field: 'name' });
    await t.bus.flushed();
    expect(t.bus.lastSeq).toBe(0);
    expect(t.log.lastSeq).toBe(0);
  });
});
