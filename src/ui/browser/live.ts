/**
 * The node's live stream (`/api/v1/stream`) for a page: one WebSocket,
 * signed in by the page's session cookie (same origin), subscribed to
 * `topics`. Each event goes to `onEvent`; a `lagged` or `truncated` frame
 * to `onGap` (the page says it missed some and may reload its list). The
 * socket reconnects after a drop, going on from the last seq it saw, so
 * nothing is missed or shown twice across a reconnect.
 *
 *   const live = liveEvents(['xyn.run.*'], (e) => addRow(e));
 *   live.close();
 */

/** An event as the stream gives it: the envelope of src/core/event.ts (not imported: it is Node code) with its seq. */
export interface LiveEvent {
  seq: number;
  event_id: string;
  event_name: string;
  occurred_at: string;
  actor: string;
  correlation_id: string;
  run_id: string | null;
  step_id: string | null;
  data: Record<string, unknown>;
}

export interface LiveOptions {
  /** The last seq the page already has: the events after it (history, then live), as the stream's `since`. */
  since?: number;
  onGap?: (frame: { type: 'lagged' | 'truncated'; skipped?: number; oldest_seq?: number }) => void;
  /** Connected (true) or lost (false): for a page's indicator. */
  onState?: (connected: boolean) => void;
}

export interface Live {
  close(): void;
}

const RECONNECT_MS = [250, 1000, 3000];

export function liveEvents(topics: string[], onEvent: (e: LiveEvent) => void, options: LiveOptions = {}): Live {
  let last = options.since;
  let closed = false;
  let socket: WebSocket | undefined;
  let failures = 0;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/stream`;

  const connect = (): void => {
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      failures = 0;
      ws.send(JSON.stringify({ op: 'subscribe', topics, ...(last !== undefined ? { since: last } : {}) }));
      options.onState?.(true);
    };
    ws.onmessage = (m: MessageEvent<string>) => {
      const frame = JSON.parse(m.data) as { type: string; event?: LiveEvent; skipped?: number; oldest_seq?: number };
      if (frame.type === 'event' && frame.event) {
        last = frame.event.seq;
        onEvent(frame.event);
      } else if (frame.type === 'lagged' || frame.type === 'truncated') {
        options.onGap?.({ type: frame.type, ...(frame.skipped !== undefined ? { skipped: frame.skipped } : {}), ...(frame.oldest_seq !== undefined ? { oldest_seq: frame.oldest_seq } : {}) });
      }
    };
    ws.onclose = () => {
      options.onState?.(false);
      if (closed) return;
      const wait = RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)] as number;
      setTimeout(connect, wait);
    };
  };
  connect();
  return {
    close() {
      closed = true;
      socket?.close();
    },
  };
}
