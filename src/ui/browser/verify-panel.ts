/**
 * A report checked in this browser and shown one line per check: what the
 * verify page (verify.ts) and a certified plan's page (plan.ts) both show.
 * The checks run in a Web Worker (verify-worker.ts, through comlink); the
 * report never leaves the browser once it is here.
 *
 *   const panel = verifyPanel(verdictElement, checksList);
 *   await panel.fetchReport('/ui/plans/ID/report.json');   // or panel.check(text, 'report.json')
 */
import { wrap } from 'comlink';
import type { CheckLine, Verdict, Verifier } from './verify-worker.ts';

export interface VerifyPanel {
  /** Resolves once the worker answers (its scripts loaded). */
  ready(): Promise<void>;
  /** Checks a report's text; `expectedKey` ('' for none) is the public key the certificate must be signed by. */
  check(text: string, source: string, expectedKey?: string): Promise<void>;
  /** Fetches a report from this node (same origin), then checks it; its text, or undefined when it could not be fetched (said on the verdict line). */
  fetchReport(url: string, expectedKey?: string): Promise<string | undefined>;
  /** Says something on the verdict line (state: idle, checking, ok, rejected, error). */
  say(state: string, text: string): void;
}

/** How a report fetched from the node is named on the verdict line. */
export const FROM_NODE = 'the report from this node';

export function verifyPanel(verdict: HTMLElement, list: HTMLOListElement): VerifyPanel {
  const verifier = wrap<Verifier>(new Worker('/ui/assets/verify-worker.js', { type: 'module' }));

  const say = (state: string, text: string): void => {
    verdict.dataset.state = state;
    verdict.textContent = text;
  };

  const show = (result: Verdict, source: string): void => {
    list.replaceChildren(...result.lines.map(line));
    const failing = result.lines.filter((l) => !l.ok);
    const first = failing[0];
    if (!first) say('ok', `Verified: all ${result.lines.length} checks of ${source} pass.`);
    else say('rejected', `Rejected: ${failing.length} of ${result.lines.length} checks of ${source} fail (first: ${first.field}: ${first.problems[0] ?? ''}).`);
  };

  const check = async (text: string, source: string, expectedKey = ''): Promise<void> => {
    say('checking', `Checking ${source}…`);
    show(await verifier.verify(text, expectedKey), source);
  };

  return {
    ready: async () => void (await verifier.ready()),
    check,
    say,
    async fetchReport(url, expectedKey = '') {
      say('checking', 'Fetching the report from this node…');
      const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual' });
      if (res.type === 'opaqueredirect') return void say('error', "Sign in to fetch this plan's report from the node (your session ended).");
      if (!res.ok) return void say('error', `Cannot fetch the report: ${refusal(res.status, await res.text())}`);
      const text = await res.text();
      await check(text, FROM_NODE, expectedKey);
      return text;
    },
  };
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

/** The message of the node's error page, or its status when there is none. */
function refusal(status: number, html: string): string {
  const message = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-testid="error"]')?.textContent?.trim();
  return message || `the node answered ${status}`;
}
