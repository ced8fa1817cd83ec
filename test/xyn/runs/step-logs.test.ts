/**
 * Every step that ran has a log: JSON lines the run actor writes (started,
 * each attempt, how it ended), kept as an artifact of kind `log` whose id is
 * the step's `logs_artifact_id`. And the ports an action gets: what it puts
 * is an artifact of its run and step, counted as a footprint; what it logs
 * goes through the run's scrubber.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.ts';
import type { FootprintInput } from '../../../src/xyn/actions/action.ts';
import { RunArtifacts, StepLog, type ArtifactBook } from '../../../src/xyn/artifacts/index.ts';
import { stepDto } from '../../../src/xyn/runs/records.ts';
import { workflowNodes, type WorkflowNode } from './helpers.ts';

const start = workflowNodes();
let n: WorkflowNode;
const server = createServer((_req, res) => res.end('{"ok":true}'));
let url = '';
beforeAll(async () => {
  n = await start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function text(book: ArtifactBook, id: string): Promise<string> {
  const pieces: Uint8Array[] = [];
  for await (const piece of book.read(id)) pieces.push(piece);
  return Buffer.concat(pieces).toString('utf8');
}

const lines = (ndjson: string): Record<string, unknown>[] =>
  ndjson
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('step logs', () => {
  it("a run's steps that ran each have a log artifact of JSON lines; a skipped one and a transform have none", async () => {
    await n.promote({
      id: 'bp.logs',
      name: 'Logs',
      trigger: { event_type: 'app.logs.never' },
      inputs: [{ name: 'url' }],
      plan: [
        { kind: 'transform', id: 'shape', outputs: { n: 1 } },
        { kind: 'action_task', id: 'probe', action: 'http.call', with: { url: '{{inputs.url}}/status' } },
        { kind: 'transform', id: 'never', when: 'false', outputs: {} },
      ],
    });
    const run = await n.runs.create({ blueprint_id: 'bp.logs', inputs: { url }, actor: 'ana', trigger: { kind: 'manual' } });
    const ended = await n.runs.ended(run.run_id);
    expect(ended.status, JSON.stringify(ended.error)).toBe('completed');
    const [shape, probe, never] = n.runs.steps(run.run_id).map(stepDto);
    expect(never?.logs_artifact_id).toBeNull();
    expect(shape?.logs_artifact_id).toBeNull();

    const book = n.node.artifacts;
    const record = book.get(probe?.logs_artifact_id as string);
    expect(record).toMatchObject({ kind: 'log', content_type: 'application/x-ndjson', run_id: run.run_id, step_id: 'probe', created_by: `xyn:run:${run.run_id}`, status: 'ready' });
    const probeLog = lines(await text(book, record.artifact_id));
    expect(probeLog.map((l) => l.msg)).toEqual(['step started', 'attempt 1', 'step completed']);
    expect(probeLog[0]).toMatchObject({ level: 'info', kind: 'action_task', action: 'http.call' });
    for (const line of probeLog) expect(Number.isNaN(Date.parse(line.ts as string))).toBe(false);

    expect(book.list({ run_id: run.run_id, kind: 'log' }).items.map((a) => a.step_id)).toEqual(['probe']);
  });

  it("a failed step's log ends with its error, at level error", async () => {
    await n.promote({
      id: 'bp.logs.fail',
      name: 'Logs fail',
      trigger: { event_type: 'app.logs.never' },
      plan: [{ kind: 'action_task', id: 'nothing', action: 'http.call', with: { url: 'http://127.0.0.1:1/refused' } }],
    });
    const run = await n.runs.create({ blueprint_id: 'bp.logs.fail', actor: 'ana', trigger: { kind: 'manual' } });
    expect((await n.runs.ended(run.run_id)).status).toBe('failed');
    const step = stepDto(n.runs.step(run.run_id, 'nothing'));
    const log = lines(await text(n.node.artifacts, step.logs_artifact_id as string));
    expect(log.at(-1)).toMatchObject({ msg: 'step failed', level: 'error', status: 'failed', error: { code: (step.error as { code: string }).code } });
  });
});

describe('the ports an action gets', () => {
  it('what an action puts is an artifact of its run and step, counted as artifact_bytes_written', async () => {
    const recorded: FootprintInput[] = [];
    const port = new RunArtifacts(n.node.artifacts, { runId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', stepId: 'emit', createdBy: 'xyn:run:x', footprints: { record: (f) => recorded.push(f) } });
    async function* pieces(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('abc');
      yield Buffer.from('def');
    }
    const put = await port.put({ name: 'out', kind: 'file', content_type: 'text/plain', body: pieces(), metadata: { from: 'test' } });
    expect(put.byte_length).toBe(6);
    expect(await text(n.node.artifacts, put.artifact_id)).toBe('abcdef');
    expect(n.node.artifacts.get(put.artifact_id)).toMatchObject({ run_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', step_id: 'emit', metadata: { from: 'test' } });
    expect(recorded).toEqual([{ metric: 'artifact_bytes_written', quantity: 6, unit: 'bytes', dims: { kind: 'file' } }]);
  });

  it("a step log's lines go through the run's scrubber before they are kept", async () => {
    const scrub = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('hunter2', '[redacted]')) as T;
    const log = new StepLog(systemClock, scrub);
    log.write({ msg: 'connecting with hunter2', level: 'debug', detail: { password: 'hunter2' } });
    const id = await log.save(new RunArtifacts(n.node.artifacts, { runId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', stepId: 'ssh', createdBy: 'xyn:run:x' }), 'ssh.log');
    const kept = await text(n.node.artifacts, id);
    expect(kept).not.toContain('hunter2');
    expect(lines(kept)).toEqual([expect.objectContaining({ msg: 'connecting with [redacted]', level: 'debug', detail: { password: '[redacted]' } })]);
  });
});
