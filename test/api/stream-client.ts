/**
 * WebSocket clients of the stream for the API suites (ws, a real socket).
 *
 * A `Client` keeps every frame it gets, parsed; a counting one (`count:
 * true`) parses only the rare non-event frames and counts event frames and
 * bytes, so that a test can run many clients that read hundreds of
 * megabytes without the test process itself being the bottleneck.
 */
import { unpack } from 'msgpackr';
import WebSocket from 'ws';

export type Frame = Record<string, unknown> & { type: string };
export interface StreamEvent {
  seq: number;
  event_id: string;
  event_name: string;
  data: Record<string, unknown>;
}

const EVENT_PREFIX = Buffer.from('{"type":"event"');

export class Client {
  readonly frames: Frame[] = [];
  /** Event frames received (all of them, also when they are not kept). */
  eventFrames = 0;
  bytes = 0;
  closed?: { code: number; reason: string };
  private waiters: (() => void)[] = [];
  private readonly marks: { needle: Buffer; seen: boolean }[] = [];

  constructor(
    readonly ws: WebSocket,
    private readonly count = false,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.bytes += data.length;
      const isEvent = !isBinary && data.subarray(0, EVENT_PREFIX.length).equals(EVENT_PREFIX);
      if (isEvent) this.eventFrames++;
      for (const m of this.marks) if (!m.seen && isEvent && data.includes(m.needle)) m.seen = true;
      if (!this.count || !isEvent) this.frames.push((isBinary ? unpack(data) : JSON.parse(data.toString())) as Frame);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Stops reading from the socket (the server's side of it fills up); sending still works. */
  pause(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resume(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  /** Watches event frames for `text` (cheap: no parsing); `seen(text)` says whether one came. */
  watch(text: string): void {
    this.marks.push({ needle: Buffer.from(text), seen: false });
  }

  seen(text: string): boolean {
    return this.marks.some((m) => m.seen && m.needle.toString() === text);
  }

  events(sub?: number): StreamEvent[] {
    return this.frames.filter((f) => f.type === 'event' && (sub === undefined || f.sub === sub)).map((f) => f.event as StreamEvent);
  }

  /** Resolves once `done()` holds, checked on every frame and at close; rejects once `timeoutMs` has passed. */
  async until(done: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = AbortSignal.timeout(timeoutMs);
    while (!done()) {
      if (deadline.aborted) throw new Error(`timed out; closed: ${JSON.stringify(this.closed)}; last frames: ${JSON.stringify(this.frames.slice(-3)).slice(0, 400)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        deadline.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export function connect(port: number, query = '', headers: Record<string, string> = {}, options: { count?: boolean } = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream${query}`, { headers });
    const client = new Client(ws, options.count);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
