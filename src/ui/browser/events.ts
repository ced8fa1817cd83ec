/**
 * The event console's live list (/ui/events): new events from the node's
 * stream, filtered by the page's pattern, added at the top; the list keeps
 * its newest `data-max-rows` rows. **Pause** holds new events back (their
 * count is shown) and **Resume** adds them. The page rendered the rows up to
 * `data-newest` and subscribes after `data-since`, so an event appended
 * while the page loaded is neither missed nor shown twice.
 */
import { liveEvents, type LiveEvent } from './live.ts';

const bar = document.getElementById('events-live');
if (bar) startConsole(bar);

function startConsole(bar: HTMLElement): void {
  const maxRows = Number(bar.dataset.maxRows);
  const pattern = bar.dataset.pattern ?? '';
  const state = element('events-live-state');
  const pause = element('events-pause') as HTMLButtonElement;
  const heldNote = element('events-held');
  let newest = Number(bar.dataset.newest);
  let paused = false;
  // While paused: the newest maxRows events (more could not be shown), and how many came in all.
  let held: LiveEvent[] = [];
  let heldCount = 0;

  const show = (events: LiveEvent[]): void => {
    const rows = element('events-rows');
    for (const e of events) rows.prepend(row(e));
    document.getElementById('events-empty')?.remove();
    while (rows.children.length > maxRows) rows.lastElementChild?.remove();
    // Rows dropped at the bottom are reached again through "Older events", from the oldest row still shown.
    const oldest = rows.lastElementChild as HTMLElement | null;
    const older = document.getElementById('events-older') as HTMLAnchorElement | null;
    if (older && oldest?.dataset.seq && rows.children.length === maxRows) {
      older.href = `/ui/events?${new URLSearchParams({ ...(pattern ? { pattern } : {}), cursor: oldest.dataset.seq }).toString()}`;
      older.hidden = false;
    }
  };

  const setPaused = (on: boolean): void => {
    paused = on;
    pause.textContent = on ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(on));
    bar.dataset.paused = String(on);
    if (!on) {
      show(held);
      held = [];
      heldCount = 0;
    }
    heldNote.textContent = on ? `Paused: ${heldCount} new event${heldCount === 1 ? '' : 's'} held.` : '';
  };

  pause.hidden = false;
  pause.addEventListener('click', () => setPaused(!paused));

  liveEvents(
    [pattern || '>'],
    (e) => {
      if (e.seq <= newest) return;
      newest = e.seq;
      if (!paused) return show([e]);
      held.push(e);
      if (held.length > maxRows) held.shift();
      heldCount++;
      heldNote.textContent = `Paused: ${heldCount} new event${heldCount === 1 ? '' : 's'} held.`;
    },
    {
      since: Number(bar.dataset.since),
      onState(connected) {
        bar.dataset.state = connected ? 'live' : 'reconnecting';
        state.textContent = connected ? 'Live: new events appear at the top.' : 'Connection lost: reconnecting…';
      },
      onGap(frame) {
        state.textContent = frame.type === 'truncated' ? 'Some events were trimmed by retention before this page saw them.' : `The stream skipped ${frame.skipped ?? 'some'} events: reload to see them.`;
      },
    },
  );
}

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the event console has no #${id}`);
  return found;
}

/** A row as the server renders it (templates/_event_row.eta). */
function row(e: LiveEvent): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.testid = 'event-row';
  tr.dataset.seq = String(e.seq);
  tr.dataset.name = e.event_name;
  tr.className = 'fresh';
  const time = document.createElement('time');
  time.dateTime = e.occurred_at;
  time.textContent = e.occurred_at.replace('T', ' ').slice(0, 19);
  tr.append(cell(time, 'mono'), cell(link(`/ui/events/${e.event_id}`, e.event_name, 'event-link')), cell(String(e.actor ?? '')), cell(e.correlation_id, 'mono'));
  const refs = cell('');
  if (e.run_id) refs.append(link(`/ui/runs/${e.run_id}`, `run ${e.run_id.slice(0, 8)}`, 'event-run'));
  const planId = (e.data as { plan_id?: unknown } | undefined)?.plan_id;
  if (typeof planId === 'string') refs.append(' ', link(`/ui/plans/${planId}`, `plan ${planId.slice(0, 12)}`, 'event-plan'));
  tr.append(refs);
  return tr;
}

function cell(content: Node | string, className = ''): HTMLTableCellElement {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.append(content);
  return td;
}

function link(href: string, text: string, testid: string): HTMLAnchorElement {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.dataset.testid = testid;
  return a;
}
