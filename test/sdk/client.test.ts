/**
 * `xyn/client` against a real node (`xyn serve` in a child process): it
 * submits a plan and subscribes to its events from seq 0; the node is
 * stopped and started again on the same port and data dir while the plan
 * runs (it resumes the plan). The subscription reconnects by itself and
 * delivers every matching event of the log exactly once, in order — the
 * same seqs the node's log holds — and the report it reads back verifies
 * offline.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiRefusedError, XynClient, verifyReport, type XynEvent } from '../../src/sdk/client.ts';
import { tempDir, waitFor } from '../kernel/helpers.ts';
import { startServe, type Serving } from '../helpers/cli.ts';
import { computeHashPlan, specComputeHashRoot } from '../hxo/helpers.ts';

const SHARDS = 20_000;
const ROUNDS = 100;
const TOPICS = ['hxo.shard.done', 'hxo.aggregate.>'];

const dir = tempDir();
const data = join(dir.path, 'data');
let serve: Serving;
let token = '';

beforeAll(async () => {
  serve = await startServe(data);
  token = (/\n(xyn_[A-Za-z0-9_-]{43})\n/.exec(serve.stderr()) as RegExpExecArray)[1] as string;
}, 60_000);
afterAll(async () => {
  if (serve?.child.exitCode === null) await serve.stop();
  dir.cleanup();
});

it('a subscription since 0 survives a node restart mid-plan: every event once, in order, as the log has them', async () => {
  const client = new XynClient({ url: serve.url, token });
  const { plan_id: planId } = await client.submit(computeHashPlan('client-restart', SHARDS, { config: { total: SHARDS, per_shard: 1, rounds: ROUNDS } }));
  const abort = new AbortController();
  const got: XynEvent[] = [];
  const reading = (async () => {
    for await (const e of client.subscribe(TOPICS, { since: 0, signal: abort.signal, retryMs: { min: 50, max: 500 } })) {
      if ((e.data as { plan_id?: string }).plan_id !== planId) continue;
      got.push(e);
      if (e.event_name === 'hxo.aggregate.finalized') break;
    }
  })();

  await waitFor(() => got.some((e) => e.event_name === 'hxo.shard.done'), 60_000, 'the first done events');
  const port = serve.port;
  expect(await serve.stop()).toBe(0);
  const before = got.length;
  serve = await startServe(data, port);
  await Promise.race([reading, new Promise((_, reject) => AbortSignal.timeout(240_000).addEventListener('abort', () => reject(new Error('the plan did not finish'))))]);
  abort.abort();
  expect(got.length).toBeGreaterThan(before);

  // The node's own log, read over HTTP: the same events, by seq.
  const logged: XynEvent[] = [];
  for (let cursor = 0; ; ) {
    const page = await fetch(`${serve.url}/api/genesis/events?since=${cursor}&limit=1000&plan_id=${planId}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<{ items: XynEvent[]; next_cursor: string | null }>);
    logged.push(...page.items.filter((e) => e.event_name === 'hxo.shard.done' || e.event_name.startsWith('hxo.aggregate.')));
    if (page.next_cursor === null) break;
    cursor = Number(page.next_cursor);
  }
  expect(got.map((e) => e.seq)).toEqual(logged.map((e) => e.seq));
  const doneItems = got.filter((e) => e.event_name === 'hxo.shard.done').reduce((n, e) => n + (e.data as { count: number }).count, 0);
  expect(doneItems).toBe(SHARDS);

  const report = await client.report(planId);
  expect(report).toMatchObject({ state: 'certified', merkle_root: specComputeHashRoot(SHARDS, ROUNDS) });
  expect(verifyReport(report).ok).toBe(true);
  expect(await client.status(planId)).toMatchObject({ state: 'certified', done_shards: SHARDS });
  await expect(client.report('no-such-plan')).rejects.toBeInstanceOf(ApiRefusedError);
}, 300_000);
