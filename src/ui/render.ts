/**
 * HTML from Eta templates (src/ui/templates/), which escape everything
 * `<%= %>` writes: a value from a run, an event or an artifact is text on
 * the page, never markup. `<%~ %>` (unescaped) is only for HTML made here.
 *
 * Every page is laid out by `layout.eta` (navigation, who is signed in, the
 * CSRF token htmx sends with each request); an htmx request gets the
 * fragment alone.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Eta } from 'eta';
import type { HtmlResponse, PageRequest } from '../api/pages.ts';
import type { Principal } from '../api/auth.ts';
import { VERSION } from '../core/version.ts';

/**
 * The UI's own files (templates, styles, browser scripts) are read from
 * src/ui/ whether the node runs from source or from dist/ (the package ships
 * them: package.json "files").
 */
export const UI_DIR = uiDir();

function uiDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const fromDist = here.replace(/([/\\])dist[/\\]src[/\\]ui[/\\]$/, '$1src$1ui$1');
  if (!existsSync(join(fromDist, 'templates'))) throw new Error(`the UI's templates are not at ${join(fromDist, 'templates')}: the package is incomplete`);
  return fromDist;
}

const eta = new Eta({ views: join(UI_DIR, 'templates'), cache: true, autoEscape: true, autoTrim: false });

/** The sections of the navigation, in order: [path, label]. */
export const NAV: readonly (readonly [string, string])[] = [
  ['/ui/events', 'Events'],
  ['/ui/runs', 'Runs'],
  ['/ui/blueprints', 'Blueprints'],
  ['/ui/artifacts', 'Artifacts'],
  ['/ui/plans', 'Plans'],
  ['/ui/verify', 'Verify'],
  ['/ui/health', 'Health'],
];

export interface Chrome {
  principal: Principal | undefined;
  csrf: string;
  path: string;
}

/** A template rendered with what every template may use: `it.principal`, `it.csrf`, `it.can(capability)`, the helpers. */
export function renderTemplate(name: string, data: Record<string, unknown>, chrome: Chrome): string {
  const principal = chrome.principal;
  return eta.render(name, {
    ...data,
    principal,
    csrf: chrome.csrf,
    path: chrome.path,
    nav: NAV,
    version: VERSION,
    can: (capability: string) => principal?.capabilities.has(capability as never) ?? false,
    fmt: FORMAT,
  });
}

/** A page: the whole document, or its fragment alone when htmx asks for `fragment`. */
export function view(req: PageRequest, template: string, data: Record<string, unknown>, options: { status?: number; fragment?: string } = {}): HtmlResponse {
  const chrome = { principal: req.principal, csrf: req.csrf, path: req.path };
  const name = req.htmx && options.fragment ? options.fragment : template;
  return { status: options.status ?? 200, html: renderTemplate(name, data, chrome) };
}

/** Formatting the templates share. */
export const FORMAT = {
  /** An ISO time as `2026-12-01 13:45:07` (UTC), or — for none. */
  time(iso: unknown): string {
    if (typeof iso !== 'string' && typeof iso !== 'number') return '—';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '—' : d.toISOString().replace('T', ' ').slice(0, 19);
  },
  /** Milliseconds as `840 ms`, `3.2 s`, `4 min 05 s`. */
  ms(ms: unknown): string {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  },
  /** Bytes as `1.5 MiB`. */
  bytes(n: unknown): string {
    if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = n;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) [v, u] = [v / 1024, u + 1];
    return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
  },
  /** A value as indented JSON, for a <pre>. */
  json(value: unknown): string {
    return JSON.stringify(value, null, 2) ?? 'undefined';
  },
  /** A link's query string from fields, leaving out the empty ones. */
  query(fields: Record<string, unknown>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s === '' ? '' : `?${s}`;
  },
};
