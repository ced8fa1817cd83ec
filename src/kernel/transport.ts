/**
 * The thread transport: everything posted in one macrotask travels as a single
 * msgpack-encoded batch whose buffer is transferred (moved, not cloned).
 * Per-message postMessage would pay the cross-thread cost per message; a batch
 * pays it once.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { decode, encode } from '../core/codec.ts';

type Port = Pick<MessagePort | Worker, 'postMessage' | 'on'>;

export class BatchingPort<Out, In> {
  private outbox: Out[] = [];
  private scheduled = false;
  private batches = 0;

  constructor(
    private readonly port: Port,
    onBatch: (items: In[]) => void,
  ) {
    port.on('message', (bytes: Uint8Array) => onBatch(decode<In[]>(bytes)));
  }

  post(item: Out): void {
    this.outbox.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is queued now instead of at the end of the macrotask. */
  flush(): void {
    this.scheduled = false;
    if (this.outbox.length === 0) return;
    const bytes = encode(this.outbox);
    this.outbox = [];
    this.batches++;
    this.port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  }

  get batchesSent(): number {
    return this.batches;
  }
}
