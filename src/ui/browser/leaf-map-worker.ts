/**
 * The leaf map's painter, off the page's main thread: a Web Worker that
 * owns the map's canvas (an OffscreenCanvas the page handed over), asks
 * the node for frames (`/ui/plans/:plan_id/_leaves`, src/hxo/leaves/leaf-frame.ts)
 * — the whole map first, then deltas since the version it holds — applies
 * them, repaints only the rows they touched, and tells the page what it
 * counts. The page's main thread never decodes a frame or touches a pixel,
 * so a million shards changing a few hundred thousand times a second cannot
 * make it miss a frame.
 */
import { REUSED_BIT, SPLIT_BIT, SlotState, applyFrame, decodeFrame } from '../../hxo/leaves/leaf-frame.ts';

/** What the page sends to start: the canvas, the frames' URL, how often to ask while the plan runs. */
export interface LeafMapStart {
  canvas: OffscreenCanvas;
  url: string;
  intervalMs: number;
}

/** What the worker tells the page after each frame (or a failure). */
export type LeafMapReport =
  | {
      type: 'frame';
      slots: number;
      width: number;
      counts: { pending: number; running: number; done: number; failed: number; reused: number; split: number };
      delta: boolean;
      bytes: number;
      ended: boolean;
      /** Milliseconds the worker spent applying and painting this frame. */
      applyMs: number;
    }
  | { type: 'error'; message: string };

/** ABGR (ImageData's bytes as a little-endian u32) per colour code: pending, running, done, failed, reused, split. */
const COLOURS = Uint32Array.from(['d0d7de', '0969da', '1a7f37', 'cf222e', '8250df', 'bf8700'].map((hex) => 0xff000000 | (parseInt(hex.slice(4, 6), 16) << 16) | (parseInt(hex.slice(2, 4), 16) << 8) | parseInt(hex.slice(0, 2), 16)));

const scope = self as unknown as { onmessage: ((e: MessageEvent<LeafMapStart>) => void) | null; postMessage(m: LeafMapReport): void };

scope.onmessage = (e) => {
  scope.onmessage = null;
  new Painter(e.data).poll().catch((err: unknown) => scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
};

class Painter {
  private map = new Uint8Array(0);
  private width = 0;
  private image: ImageData | undefined;
  private pixels = new Uint32Array(0);
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  private version: number | undefined;

  constructor(private readonly start: LeafMapStart) {
    const ctx = start.canvas.getContext('2d');
    if (!ctx) throw new Error('this browser gives no 2D context to the map');
    this.ctx = ctx;
  }

  async poll(): Promise<void> {
    const res = await fetch(this.version === undefined ? this.start.url : `${this.start.url}?since=${this.version}`, { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) {
      scope.postMessage({ type: 'error', message: `the node answered ${res.status} for the map: ${(await res.text()).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300)}` });
      return;
    }
    const bytes = await res.arrayBuffer();
    const t0 = performance.now();
    const frame = decodeFrame(bytes);
    if (frame.slots !== this.map.length) this.resize(frame.slots);
    let top = Number.POSITIVE_INFINITY;
    let bottom = -1;
    applyFrame(this.map, frame, (start, count) => {
      this.paint(start, count);
      top = Math.min(top, Math.floor(start / this.width));
      bottom = Math.max(bottom, Math.floor((start + count - 1) / this.width));
    });
    if (bottom >= 0 && this.image) this.ctx.putImageData(this.image, 0, 0, 0, top, this.width, bottom - top + 1);
    this.version = frame.version;
    scope.postMessage({ type: 'frame', slots: frame.slots, width: this.width, counts: this.count(), delta: frame.delta, bytes: bytes.byteLength, ended: frame.ended, applyMs: performance.now() - t0 });
    if (!frame.ended) setTimeout(() => void this.poll().catch((err: unknown) => scope.postMessage({ type: 'error', message: String(err) })), this.start.intervalMs);
  }

  /** A square-ish grid: a million shards is 1000 × 1000. */
  private resize(slots: number): void {
    this.map = new Uint8Array(slots);
    this.width = Math.max(1, Math.ceil(Math.sqrt(slots)));
    const height = Math.max(1, Math.ceil(slots / this.width));
    this.start.canvas.width = this.width;
    this.start.canvas.height = height;
    this.image = new ImageData(this.width, height);
    this.pixels = new Uint32Array(this.image.data.buffer);
    this.pixels.fill(COLOURS[SlotState.pending] as number, 0, slots);
  }

  private paint(start: number, count: number): void {
    const { map, pixels } = this;
    for (let s = start, end = start + count; s < end; s++) {
      const b = map[s] as number;
      const code = b & SPLIT_BIT ? 5 : b & REUSED_BIT && (b & 3) === SlotState.done ? 4 : b & 3;
      pixels[s] = COLOURS[code] as number;
    }
  }

  private count(): Extract<LeafMapReport, { type: 'frame' }>['counts'] {
    const n = [0, 0, 0, 0];
    let reused = 0;
    let split = 0;
    for (const b of this.map) {
      (n[b & 3] as number)++;
      if (b & REUSED_BIT) reused++;
      if (b & SPLIT_BIT) split++;
    }
    return { pending: n[0] as number, running: n[1] as number, done: n[2] as number, failed: n[3] as number, reused, split };
  }
}
