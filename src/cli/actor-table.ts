/**
 * The supervision tree as `xyn ps` prints it: one line an actor, its name
 * indented by its depth (as `pstree` draws processes), then kind, state,
 * mailbox depth, messages handled, restarts and uptime (3s, 4m12s, 2h3m;
 * `-` when it is not running), in columns as wide as their widest value.
 */
import type { ActorView } from '../api/routes/actors.ts';

const HEADER = ['NAME', 'KIND', 'STATE', 'MAILBOX', 'HANDLED', 'RESTARTS', 'UPTIME'];
/** The columns aligned to the right (numbers). */
const RIGHT = new Set([3, 4, 5, 6]);

export function actorTable(tree: ActorView): string {
  const rows: string[][] = [HEADER];
  const walk = (a: ActorView, depth: number): void => {
    rows.push(['  '.repeat(depth) + a.name, a.kind, a.state, String(a.mailbox), String(a.handled), String(a.restarts), uptime(a.uptime_ms)]);
    for (const child of a.children ?? []) walk(child, depth + 1);
  };
  walk(tree, 0);
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => r.map((cell, i) => (RIGHT.has(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join('  ');
  return rows.map((r) => line(r).trimEnd() + '\n').join('');
}

/** 3s, 4m12s, 2h3m, 5d4h; `-` for null (not running). */
export function uptime(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}
