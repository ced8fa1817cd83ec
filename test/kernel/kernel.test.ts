import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { startKernel, type Kernel } from '../../src/kernel/kernel.ts';
import { loadConfig } from '../../src/kernel/config.ts';
import { publishAudit } from '../../src/kernel/audit.ts';
import { createLogger, withCorrelation } from '../../src/kernel/log.ts';
import { FUNCTIONS_FIXTURE, tempDir, waitFor } from './helpers.ts';

const dirs: ReturnType<typeof tempDir>[] = [];
const kernels: Kernel[] = [];
afterEach(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.stop()));
  for (const d of dirs.splice(0)) d.cleanup();
});

function logSink(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

async function boot(dataDir: string): Promise<{ kernel: Kernel; lines: Record<string, unknown>[] }> {
  const { lines, stream } = logSink();
  const kernel = await startKernel(loadConfig({ env: { XYN_DATA_DIR: dataDir, XYN_WORKERS: '2' } }), { log: createLogger('info', stream) });
  kernels.push(kernel);
  return { kernel, lines };
}

describe('the kernel', () => {
  it('wires lifecycle notices to the bus and the log, including a replaced worker thread', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { kernel, lines } = await boot(dir.path);
    const running = kernel.pool.run(FUNCTIONS_FIXTURE, 'slowDouble', Array.from({ length: 30 }, (_, n) => ({ n, ms: 10 })));
    await waitFor(() => (kernel.pool.info().children ?? []).some((t) => t.state === 'busy'), 5_000, 'the batch on a thread');
    await Promise.all(kernel.pool.threads.map((t) => t.terminate()));
    expect((await running).every((r) => r.ok)).toBe(true);
    await waitFor(() => kernel.bus.queryHistory({ topic: 'xyn.kernel.worker.replaced' }).length > 0, 5_000, 'replaced event');
    const started = kernel.bus.queryHistory({ topic: 'xyn.kernel.started' });
    expect(started[0]?.data).toMatchObject({ data_dir: dir.path, workers: 2 });
    expect(lines.some((l) => l.event === 'xyn.kernel.worker.replaced' && l.level === 30)).toBe(true);
  });

  it('keeps the log and the audit trail across a restart of the node', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = (await boot(dir.path)).kernel;
    await publishAudit(first.bus, { user: 'kyle', role: 'admiral', operation: 'plan.submit', details: { plan_id: 'p1' } });
    await first.audit.caughtUp();
    const lastSeq = first.bus.lastSeq;
    await first.stop();
    kernels.splice(kernels.indexOf(first), 1);

    const second = (await boot(dir.path)).kernel;
    expect(second.bus.lastSeq).toBeGreaterThanOrEqual(lastSeq);
    await publishAudit(second.bus, { user: 'ana', role: 'admiral', operation: 'plan.abort', details: { plan_id: 'p1' } });
    await second.audit.caughtUp();
    expect(second.audit.list().map((r) => r.operation)).toEqual(['plan.submit', 'plan.abort']);
    expect(second.audit.verify()).toEqual({ ok: true, count: 2 });
  });
});

describe('logs', () => {
  it('are JSON with correlation_id when there is one, and redact secrets', () => {
    const { lines, stream } = logSink();
    const log = createLogger('info', stream);
    withCorrelation(log, 'corr-42').info({ request: { token: 'hunter2' } }, 'handled');
    withCorrelation(log, undefined).info('no correlation');
    log.flush();
    expect(lines[0]).toMatchObject({ msg: 'handled', correlation_id: 'corr-42', service: 'xyn', request: { token: '[redacted]' } });
    expect(typeof lines[0]?.time).toBe('string');
    expect(lines[1]).not.toHaveProperty('correlation_id');
  });
});
