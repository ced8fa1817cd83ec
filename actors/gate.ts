/**
 * Worker-thread entry of the API's gate (src/api/gate/gate-thread.ts): it
 * listens on the API's port and passes requests to the app's uWS socket,
 * on this thread's event loop, not the app's.
 *
 * Messages: → {type: 'close'}; ← {type: 'listening', port} | {type: 'failed', error} | {type: 'closed'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../src/core/errors.ts';
import { sharedCounters } from '../src/api/gate/connection.ts';
import { startGate, type Gate } from '../src/api/gate/gate.ts';
import { RefusalCodec } from '../src/api/gate/refusal.ts';
import type { GateThreadData } from '../src/api/gate/gate-thread.ts';

const data = workerData as GateThreadData;
if (!parentPort) throw new Error('the gate must run in a worker thread');
const port = parentPort;
let gate: Gate | undefined;
port.on('message', (message: { type: 'close' }) => {
  if (message.type !== 'close') return;
  void (gate?.close() ?? Promise.resolve()).then(() => port.postMessage({ type: 'closed' }));
});
try {
  gate = await startGate({ host: data.host, port: data.port, appPort: data.appPort, limits: data.limits, refusals: new RefusalCodec(data.secret), counters: sharedCounters(data.counters), ...(data.requestTimeoutMs ? { requestTimeoutMs: data.requestTimeoutMs } : {}) });
  port.postMessage({ type: 'listening', port: gate.port });
} catch (err) {
  port.postMessage({ type: 'failed', error: serializeError(err) });
}
