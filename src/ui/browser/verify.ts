/**
 * The verify page (`/ui/verify`): reads a report from a file (chosen or
 * dropped), from pasted JSON, or — with `?plan=ID` — from this node, and
 * shows every check the worker (verify-worker.ts, through comlink) made,
 * one line each. A file or pasted text never leaves the browser.
 */
import { wrap } from 'comlink';
import type { CheckLine, Verdict, Verifier } from './verify-worker.ts';

const form = document.getElementById('verify-form') as HTMLFormElement;
const file = document.getElementById('verify-file') as HTMLInputElement;
const drop = document.getElementById('verify-drop') as HTMLElement;
const pasted = document.getElementById('verify-text') as HTMLTextAreaElement;
const expectedKey = document.getElementById('verify-key') as HTMLInputElement;
const verdict = document.getElementById('verify-verdict') as HTMLElement;
const list = document.getElementById('verify-checks') as HTMLOListElement;

const verifier = wrap<Verifier>(new Worker('/ui/assets/verify-worker.js', { type: 'module' }));

/** The report last read and where it came from, checked again when the expected key changes. */
let current: { text: string; source: string } | undefined;

function say(state: string, text: string): void {
  verdict.dataset.state = state;
  verdict.textContent = text;
}

function line(check: CheckLine): HTMLLIElement {
  const li = document.createElement('li');
  li.className = check.ok ? 'check-pass' : 'check-fail';
  li.dataset.testid = 'check';
  li.dataset.field = check.field;
  li.dataset.ok = String(check.ok);
  const mark = document.createElement('span');
  mark.className = 'mark';
  mark.textContent = check.ok ? 'pass' : 'FAIL';
  const what = document.createElement('span');
  const field = document.createElement('code');
  field.textContent = check.field;
  what.append(field, ` — ${check.claim}`);
  for (const problem of check.problems) {
    const why = document.createElement('span');
    why.className = 'problem';
    why.dataset.testid = 'check-problem';
    why.textContent = `${check.field}: ${problem}`;
    what.append(why);
  }
  li.append(mark, what);
  return li;
}

function show(result: Verdict, source: string): void {
  list.replaceChildren(...result.lines.map(line));
  const failing = result.lines.filter((l) => !l.ok);
  const first = failing[0];
  if (!first) say('ok', `Verified: all ${result.lines.length} checks of ${source} pass.`);
  else say('rejected', `Rejected: ${failing.length} of ${result.lines.length} checks of ${source} fail (first: ${first.field}: ${first.problems[0] ?? ''}).`);
}

async function check(text: string, source: string): Promise<void> {
  current = { text, source };
  say('checking', `Checking ${source}…`);
  show(await verifier.verify(text, expectedKey.value.trim()), source);
}

/** The message of the node's error page, or its status when there is none. */
function refusal(status: number, html: string): string {
  const message = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-testid="error"]')?.textContent?.trim();
  return message || `the node answered ${status}`;
}

async function fetchReport(url: string): Promise<void> {
  say('checking', 'Fetching the report from this node…');
  const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual' });
  if (res.type === 'opaqueredirect') {
    say('error', 'Sign in to fetch this plan\'s report from the node (your session ended).');
    return;
  }
  if (!res.ok) {
    say('error', `Cannot fetch the report: ${refusal(res.status, await res.text())}`);
    return;
  }
  await check(await res.text(), 'the report from this node');
}

function failed(err: unknown): void {
  say('error', `Cannot check the report: ${(err as Error).message}`);
}

file.addEventListener('change', () => {
  const chosen = file.files?.[0];
  if (chosen) chosen.text().then((text) => check(text, chosen.name)).catch(failed);
});

drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const dropped = e.dataTransfer?.files[0];
  if (dropped) dropped.text().then((text) => check(text, dropped.name)).catch(failed);
});

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (pasted.value.trim() !== '') check(pasted.value, 'the pasted report').catch(failed);
  else if (current) check(current.text, current.source).catch(failed);
  else say('idle', 'Choose a report file, drop one, or paste its JSON first.');
});

expectedKey.addEventListener('change', () => {
  if (current) check(current.text, current.source).catch(failed);
});

verifier
  .ready()
  .then(async () => {
    document.body.dataset.verifierReady = 'true';
    const url = form.dataset.reportUrl;
    if (url) await fetchReport(url);
    else say('idle', 'No report yet: choose a file, drop one, or paste its JSON.');
  })
  .catch(failed);
