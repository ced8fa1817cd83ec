/**
 * Validating a blueprint: read it (YAML or JSON), check its shape, then its
 * references. Every issue is collected, not only the first, each naming the
 * field it is about (`plan[2].with.host`), so one run of `xyn blueprint
 * validate` lists all there is to fix.
 *
 *   const r = validateBlueprint(parseBlueprintText(text, 'fix.yaml'));
 *   if (!r.ok) for (const i of r.issues) console.log(`${i.path}: ${i.message}`);
 */
import { parseDocument } from 'yaml';
import { issuePath } from '../../core/errors.ts';
import { MAX_NESTING, nestedTooDeep } from '../../core/nesting.ts';
import { shapeIssues } from './issues.ts';
import { referenceIssues, type BlueprintIssue } from './references.ts';
import { blueprintSchema, type Blueprint } from './shape.ts';

export type BlueprintResult = { ok: true; blueprint: Blueprint } | { ok: false; issues: BlueprintIssue[] };

export type ParsedText = { ok: true; value: unknown } | { ok: false; issues: BlueprintIssue[] };

/** Parses a blueprint file's text: JSON when the name ends in .json, YAML otherwise. A syntax error is an issue naming its line and column. */
export function parseBlueprintText(text: string, fileName: string): ParsedText {
  if (fileName.toLowerCase().endsWith('.json')) {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (err) {
      return { ok: false, issues: [{ path: '(file)', message: `not valid JSON: ${(err as Error).message}` }] };
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: '(file)', message: `not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${(e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    };
  }
  return { ok: true, value: doc.toJS() as unknown };
}

export function validateBlueprint(raw: unknown): BlueprintResult {
  const deep = nestedTooDeep(raw);
  if (deep) return { ok: false, issues: [{ path: issuePath('', deep), message: `nests more than ${MAX_NESTING} levels deep` }] };
  const parsed = blueprintSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) return { ok: false, issues: shapeIssues(parsed.error.issues) };
  const issues = referenceIssues(parsed.data);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, blueprint: parsed.data };
}
