/**
 * The gate (gate.ts) on a thread of its own: the app's thread — uWS, the
 * routes, the bus — does none of its reading and copying, and the second
 * core does. The thread says when it listens (or why it cannot: a port in
 * use is the ConfigError it would be here), counts in shared memory, and
 * closes when told, after its connections have.
 *
 *   const gate = await startGateThread({ host, port, appPort, limits, secret }, onCrash);
 */
import { Worker } from 'node:worker_threads';
import { deserializeError, type SerializedError } from '../../core/errors.ts';
import { workerEntry } from '../../kernel/worker-entry.ts';
import { sharedCounters } from './connection.ts';
import type { Gate } from './gate.ts';
import type { HeadLimits } from './request-head.ts';

export interface GateThreadData {
  host: string;
  port: number;
  /** The loopback port uWS listens on. */
  appPort: number;
  limits: HeadLimits;
  /** The refusal codec's secret (refusal.ts): the app reads what the gate signs. */
  secret: string;
  counters: SharedArrayBuffer;
  requestTimeoutMs?: number;
}

type FromGate = { type: 'listening'; port: number } | { type: 'failed'; error: SerializedError } | { type: 'closed' };

export async function startGateThread(options: Omit<GateThreadData, 'counters'>, onCrash: (err: Error) => void): Promise<Gate> {
  const entry = workerEntry('gate');
  const counters = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const worker = new Worker(entry.filename, { workerData: { ...options, counters, ...entry.workerData } satisfies GateThreadData & typeof entry.workerData });
  const next = () =>
    new Promise<FromGate>((resolve, reject) => {
      const onMessage = (m: FromGate) => {
        worker.off('error', onError);
        resolve(m);
      };
      const onError = (err: Error) => {
        worker.off('message', onMessage);
        reject(err);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
    });
  const first = await next();
  if (first.type !== 'listening') {
    await worker.terminate();
    throw first.type === 'failed' ? deserializeError(first.error) : new Error('the gate thread did not start');
  }
  // Later, a thread that dies is the port that stops answering: said, not thrown at whoever is running.
  worker.on('error', onCrash);
  return {
    port: first.port,
    counters: sharedCounters(counters),
    async close() {
      const closed = next();
      worker.postMessage({ type: 'close' });
      await closed;
      await worker.terminate();
    },
  };
}
