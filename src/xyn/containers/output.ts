/**
 * A container's output as the engine streams it: with no TTY, stdout and
 * stderr come multiplexed in frames (an 8-byte header: the stream, 1 or 2,
 * then the payload's length, big-endian, at bytes 4–7). `OutputFrames` splits
 * chunks into frames whatever their boundaries; `CappedOutput` keeps the
 * first `max` bytes of each stream and says whether more was cut.
 *
 *   for await (const frame of containerOutput(container)) kept.add(frame);
 */
import type Docker from 'dockerode';

export interface OutputFrame {
  stream: 'stdout' | 'stderr';
  payload: Buffer;
}

const HEADER_BYTES = 8;

export class OutputFrames {
  private pending: Buffer = Buffer.alloc(0);

  /** The frames `chunk` completes; an incomplete one waits for the next chunk. */
  push(chunk: Buffer): OutputFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: OutputFrame[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + size) break;
      // Stream 0 (stdin echoed) never comes without a TTY; anything not stderr is read as stdout.
      frames.push({ stream: this.pending[0] === 2 ? 'stderr' : 'stdout', payload: this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size) });
      this.pending = this.pending.subarray(HEADER_BYTES + size);
    }
    return frames;
  }
}

/** The output of an exited container, frame by frame, from its start. */
export async function* containerOutput(container: Docker.Container, signal?: AbortSignal): AsyncGenerator<OutputFrame> {
  const stream = await container.logs({ follow: true, stdout: true, stderr: true, ...(signal ? { abortSignal: signal } : {}) });
  const frames = new OutputFrames();
  for await (const chunk of stream as AsyncIterable<Buffer>) yield* frames.push(chunk);
}

/** The first `max` bytes of each stream. */
export class CappedOutput {
  private readonly kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  private readonly bytes = { stdout: 0, stderr: 0 };
  truncated = false;

  constructor(private readonly max: number) {}

  /** Keeps what of the frame fits; returns that part (empty once the stream's cap is reached). */
  add(frame: OutputFrame): Buffer {
    const room = this.max - this.bytes[frame.stream];
    const part = frame.payload.length <= room ? frame.payload : frame.payload.subarray(0, Math.max(0, room));
    if (part.length < frame.payload.length) this.truncated = true;
    this.kept[frame.stream].push(part);
    this.bytes[frame.stream] += part.length;
    return part;
  }

  text(stream: 'stdout' | 'stderr'): string {
    return Buffer.concat(this.kept[stream]).toString('utf8');
  }
}
