/**
 * The plan page's live parts: the leaf map (painted by a worker,
 * leaf-map-worker.ts, on the canvas this hands over; this only shows the
 * counts it reports), a click on the map that shows that shard (through
 * the "Shard #" form, so keyboard and mouse take one path), the shards/s
 * chart (uPlot, from the map's done count over time), the plan's
 * alerts as the stream brings them, and — once the summary says the plan is
 * certified — its report checked in this browser (verify-panel.ts).
 */
import uPlot from 'uplot';
import { liveEvents } from './live.ts';
import type { LeafMapReport, LeafMapStart } from './leaf-map-worker.ts';
import { verifyPanel } from './verify-panel.ts';

/** How often the map asks for a frame while the plan runs. */
const POLL_MS = 300;
/** The chart is redrawn at most this often. */
const CHART_MS = 500;
/** Points kept on the chart (at one a frame, ~10 minutes). */
const CHART_POINTS = 2000;

const canvas = document.getElementById('leaf-map') as HTMLCanvasElement | null;
const statusLine = document.getElementById('leaf-map-status') as HTMLElement;
const form = document.querySelector<HTMLFormElement>('[data-testid="shard-form"]');
const slotInput = document.getElementById('slot') as HTMLInputElement | null;

if (canvas && form && slotInput) {
  const planId = canvas.dataset.plan as string;
  const chart = rateChart(document.getElementById('rate-chart') as HTMLElement, document.getElementById('rate-now') as HTMLElement);
  let slots = 0;
  let width = 1;
  let frames = 0;
  let deltas = 0;
  let bytes = 0;
  if (!('transferControlToOffscreen' in canvas)) {
    statusLine.textContent = 'This browser cannot draw the map off its main thread (no OffscreenCanvas): use a current Chromium, Firefox or Safari.';
  } else {
    const offscreen = canvas.transferControlToOffscreen();
    const worker = new Worker('/ui/assets/leaf-map-worker.js', { type: 'module' });
    worker.onmessage = (e: MessageEvent<LeafMapReport>) => {
      const m = e.data;
      if (m.type === 'error') {
        statusLine.textContent = m.message;
        canvas.dataset.error = m.message;
        return;
      }
      [slots, width] = [m.slots, m.width];
      frames++;
      if (m.delta) deltas++;
      bytes += m.bytes;
      for (const [key, n] of Object.entries(m.counts)) {
        const cell = document.querySelector(`[data-testid="count-${key}"]`);
        if (cell) cell.textContent = n.toLocaleString('en');
      }
      slotInput.max = String(slots - 1);
      Object.assign(canvas.dataset, { slots: String(slots), frames: String(frames), deltas: String(deltas), bytes: String(bytes), done: String(m.counts.done), ended: String(m.ended), applyMs: m.applyMs.toFixed(2) });
      statusLine.textContent = `${m.counts.done.toLocaleString('en')} of ${slots.toLocaleString('en')} shards done${m.ended ? '; the plan has ended' : ''} · ${frames} frames (${deltas} deltas), ${(bytes / 1024).toFixed(0)} KiB`;
      chart.add(m.counts.done, m.ended);
    };
    const start: LeafMapStart = { canvas: offscreen, url: `/ui/plans/${planId}/_leaves`, intervalMs: POLL_MS };
    worker.postMessage(start, [offscreen]);
  }

  // A click on a pixel asks for its shard, as the form would.
  canvas.addEventListener('click', (e) => {
    if (slots === 0) return;
    const rect = canvas.getBoundingClientRect();
    const height = Math.ceil(slots / width);
    const x = Math.min(width - 1, Math.floor(((e.clientX - rect.left) / rect.width) * width));
    const y = Math.min(height - 1, Math.floor(((e.clientY - rect.top) / rect.height) * height));
    const slot = y * width + x;
    if (slot >= slots) return;
    slotInput.value = String(slot);
    form.requestSubmit();
  });

  liveEvents(['hxo.alert'], (event) => {
    const alert = event.data as { plan_id?: string; alert_type?: string; severity?: string; message?: string };
    if (alert.plan_id !== planId) return;
    const item = document.createElement('li');
    item.dataset.testid = 'plan-alert';
    const badge = document.createElement('span');
    badge.className = `status status-${alert.severity === 'error' ? 'failed' : 'waiting'}`;
    badge.textContent = alert.alert_type ?? 'alert';
    item.append(badge, ` ${event.occurred_at.replace('T', ' ').slice(0, 19)}: ${alert.message ?? ''}`);
    document.getElementById('plan-alerts')?.prepend(item);
    document.getElementById('no-alerts')?.setAttribute('hidden', '');
  });
}

/** The shards/s chart: a point per frame, the rate over the last second or so. */
function rateChart(host: HTMLElement, caption: HTMLElement): { add(done: number, ended: boolean): void } {
  const times: number[] = [];
  const rates: number[] = [];
  const seen: [number, number][] = [];
  const plot = new uPlot(
    {
      width: Math.max(300, host.clientWidth),
      height: 200,
      scales: { x: { time: true } },
      series: [{}, { label: 'shards/s', stroke: '#0969da', fill: 'rgba(9,105,218,0.12)', width: 2 }],
      axes: [{}, { size: 70 }],
      legend: { show: false },
    },
    [[], []],
    host,
  );
  let drawn = 0;
  return {
    add(done, ended) {
      const now = performance.now();
      seen.push([now, done]);
      while (seen.length > 2 && now - (seen[1] as [number, number])[0] >= 1000) seen.shift();
      const [t0, d0] = seen[0] as [number, number];
      if (now === t0) return;
      const rate = Math.max(0, Math.round(((done - d0) * 1000) / (now - t0)));
      times.push(Date.now() / 1000);
      rates.push(rate);
      if (times.length > CHART_POINTS) {
        times.shift();
        rates.shift();
      }
      caption.textContent = ended ? `The plan has ended; it ran at up to ${Math.max(0, ...rates).toLocaleString('en')} shards/s.` : `Now: ${rate.toLocaleString('en')} shards/s.`;
      if (ended || now - drawn >= CHART_MS) {
        drawn = now;
        plot.setData([times, rates]);
      }
    },
  };
}

/** Checks the plan's report in this browser once its summary (refreshed by htmx) shows it certified: once. */
function verifyWhenCertified(): void {
  const section = document.getElementById('plan-verify');
  if (!section) return;
  let started = false;
  const look = (): void => {
    if (started || !document.querySelector('[data-testid="certified-badge"]')) return;
    started = true;
    section.hidden = false;
    const panel = verifyPanel(document.getElementById('verify-verdict') as HTMLElement, document.getElementById('verify-checks') as HTMLOListElement);
    panel.fetchReport(section.dataset.reportUrl as string).catch((err: unknown) => panel.say('error', `Cannot check the report: ${(err as Error).message}`));
  };
  document.body.addEventListener('htmx:afterSettle', look);
  look();
}

verifyWhenCertified();
