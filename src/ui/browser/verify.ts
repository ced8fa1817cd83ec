/**
 * The verify page (`/ui/verify`): reads a report from a file (chosen or
 * dropped), from pasted JSON, or — with `?plan=ID` — from this node, and
 * shows every check (verify-panel.ts), one line each. A file or pasted text
 * never leaves the browser.
 */
import { FROM_NODE, verifyPanel } from './verify-panel.ts';

const form = document.getElementById('verify-form') as HTMLFormElement;
const file = document.getElementById('verify-file') as HTMLInputElement;
const drop = document.getElementById('verify-drop') as HTMLElement;
const pasted = document.getElementById('verify-text') as HTMLTextAreaElement;
const expectedKey = document.getElementById('verify-key') as HTMLInputElement;
const panel = verifyPanel(document.getElementById('verify-verdict') as HTMLElement, document.getElementById('verify-checks') as HTMLOListElement);

/** The report last read and where it came from, checked again when the expected key changes. */
let current: { text: string; source: string } | undefined;

function check(text: string, source: string): Promise<void> {
  current = { text, source };
  return panel.check(text, source, expectedKey.value.trim());
}

function failed(err: unknown): void {
  panel.say('error', `Cannot check the report: ${(err as Error).message}`);
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
  else panel.say('idle', 'Choose a report file, drop one, or paste its JSON first.');
});

expectedKey.addEventListener('change', () => {
  if (current) check(current.text, current.source).catch(failed);
});

panel
  .ready()
  .then(async () => {
    document.body.dataset.verifierReady = 'true';
    const url = form.dataset.reportUrl;
    if (!url) return panel.say('idle', 'No report yet: choose a file, drop one, or paste its JSON.');
    const text = await panel.fetchReport(url, expectedKey.value.trim());
    // Checked again when the expected key changes.
    if (text !== undefined) current = { text, source: FROM_NODE };
  })
  .catch(failed);
