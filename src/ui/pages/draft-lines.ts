/**
 * A draft's text as numbered lines with its validation issues placed on
 * them, for the draft page. The validator names a field (`plan[1].with.url`)
 * rather than a line, so the field is looked up in the text's own YAML
 * document; a field that is missing ("required") lands on the nearest
 * ancestor that is there. A syntax error names its line in its message. An
 * issue that finds no line (about the whole blueprint, or a text that does
 * not parse) is listed apart, with its field path.
 *
 *   const { lines, unplaced } = placeIssues(text, report.issues);
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { BlueprintIssue } from '../../xyn/blueprint/index.ts';

export interface DraftLine {
  number: number;
  text: string;
  /** The issues this line is the place of (most often none). */
  issues: BlueprintIssue[];
}

export interface PlacedIssues {
  lines: DraftLine[];
  /** Issues no line could be found for. */
  unplaced: BlueprintIssue[];
}

export function placeIssues(text: string, issues: readonly BlueprintIssue[]): PlacedIssues {
  const lines: DraftLine[] = text.replace(/\r?\n$/, '').split(/\r?\n/).map((line, i) => ({ number: i + 1, text: line, issues: [] }));
  const locate = locator(text);
  const unplaced: BlueprintIssue[] = [];
  for (const issue of issues) {
    const at = locate(issue);
    // A syntax error at the end of the text (an unclosed bracket) names the line after its last.
    const line = at === undefined ? undefined : lines[Math.min(at, lines.length) - 1];
    if (line) line.issues.push(issue);
    else unplaced.push(issue);
  }
  return { lines, unplaced };
}

/** The line (1-based) an issue is about, or undefined. */
function locator(text: string): (issue: BlueprintIssue) => number | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: false });
  const parsed = doc.errors.length === 0;
  return (issue) => {
    const stated = /at line (\d+)/.exec(issue.message);
    if (issue.path === '(file)') return stated ? Number(stated[1]) : undefined;
    if (!parsed) return undefined;
    const offset = fieldOffset(doc.contents, pathSegments(issue.path));
    return offset === undefined ? undefined : counter.linePos(offset).line;
  };
}

/** `plan[2].with.host` as ['plan', 2, 'with', 'host']. */
function pathSegments(path: string): (string | number)[] {
  return [...path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : (m[2] as string)));
}

/** Where the deepest part of `path` present in the document starts: its key, or its item; undefined for none. */
function fieldOffset(root: unknown, path: readonly (string | number)[]): number | undefined {
  let node = root;
  let offset: number | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}
