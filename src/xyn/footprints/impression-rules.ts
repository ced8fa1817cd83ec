/**
 * Impression rules (seed 004 §5.3.1, §5.3.4): the labels a run is given when
 * it ends — billable, severity, anomaly — from its outcome and footprints,
 * by rules in a YAML or JSON file (XYN_IMPRESSION_RULES). A rule's `when` is
 * an expression of the blueprint language (docs/blueprints.md), read over
 * `run`, `footprints` (sums by metric) and `blueprint` (its earlier runs);
 * for each label, the first rule in the file that holds gives its value.
 * A file with a mistake stops the node's start naming the rule and field.
 *
 *   impressions:
 *     - { label: severity, value: high, when: 'run.error_code == "RUN_WALL_CLOCK"' }
 *     - { label: severity, value: low, when: 'run.status == "failed"' }
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeIssue } from '../../core/errors.ts';
import { ConfigError } from '../../kernel/config.ts';
import { parseCondition } from '../blueprint/conditions.ts';
import { evaluate, expressionPaths, truthy, type Expr } from '../blueprint/expressions.ts';
import { IDENTIFIER_PATTERN } from '../blueprint/shape.ts';
import type { Impression } from './records.ts';

/** What a rule may read of `run` and of `blueprint`; `footprints.<metric>` may be any metric. */
export const RUN_FIELDS = ['status', 'blueprint_id', 'blueprint_version', 'trigger', 'wall_ms', 'active_ms', 'error_code', 'failed_step', 'step_count'] as const;
export const BLUEPRINT_FIELDS = ['runs', 'p95_wall_ms'] as const;
const FIELDS: Record<string, readonly string[] | undefined> = { run: RUN_FIELDS, blueprint: BLUEPRINT_FIELDS, footprints: undefined };
const VARIABLE = 'XYN_IMPRESSION_RULES';
const MAX_RULES = 200;

export interface ImpressionRule {
  label: string;
  value: string | number | boolean;
  when: string;
  expr: Expr;
}

/** What rules are evaluated over when a run ends. */
export type ImpressionScope = {
  run: Record<(typeof RUN_FIELDS)[number], unknown>;
  footprints: Record<string, number>;
  blueprint: Record<(typeof BLUEPRINT_FIELDS)[number], number | null>;
};

const ruleSchema = z.strictObject({
  label: z.string().max(64).regex(IDENTIFIER_PATTERN, { error: 'must be an identifier: a letter or _, then letters, digits or _' }),
  value: z.union([z.string().max(200).refine((s) => !s.includes('{{'), { error: 'is a literal, not a template: give each value its own rule' }), z.number(), z.boolean()]).default(true),
  when: z.string().min(1, { error: 'must be an expression (e.g. run.status == "failed")' }),
});
const fileSchema = z.strictObject({ impressions: z.array(ruleSchema).max(MAX_RULES) });

/** The rules of the file at `path`; a ConfigError (XYN_IMPRESSION_RULES) naming the rule and field when one is wrong. */
export function loadImpressionRules(path: string): ImpressionRule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(VARIABLE, `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseImpressionRules(text, path);
}

/** The rules in `text` (YAML or JSON), `source` naming where it came from in errors. */
export function parseImpressionRules(text: string, source: string): ImpressionRule[] {
  const refuse = (problem: string): never => {
    throw new ConfigError(VARIABLE, `${source}: ${problem}`);
  };
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    return refuse(`not valid YAML or JSON: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    return refuse(`${describeIssue('', issue, 'the file')}${ruleName(raw, issue.path)}`);
  }
  return parsed.data.impressions.map((rule, i) => {
    const at = `impressions[${i}].when (rule ${rule.label})`;
    let expr: Expr;
    try {
      expr = parseCondition(rule.when);
    } catch (err) {
      return refuse(`${at}: ${(err as Error).message}`);
    }
    for (const path of expressionPaths(expr)) {
      const [root = '', field] = path;
      if (!Object.hasOwn(FIELDS, root)) refuse(`${at}: "${path.join('.')}" starts with "${root}": a rule reads run, footprints or blueprint`);
      const fields = FIELDS[root];
      if (field === undefined) refuse(`${at}: "${root}" alone is not a value: name one of its fields (${fields ? fields.join(', ') : 'a metric'})`);
      if (fields && !fields.includes(field as string)) refuse(`${at}: "${path.join('.')}": ${root} has no field "${field}" (it has ${fields.join(', ')})`);
      // Every value a rule reads is a number, string or null: a longer path is a dotted metric name misread.
      if (path.length > 2) refuse(`${at}: "${path.join('.')}" reads into ${root}.${field}, which holds no fields${fields ? '' : `: a metric with dots in its name is read as footprints["${path.slice(1).join('.')}"]`}`);
    }
    return { ...rule, expr };
  });
}

/**
 * The labels the rules give in `scope`: per label, the value of the first
 * rule that holds. A rule whose expression fails on this run (a number
 * compared with null) gives nothing, and is named with why.
 */
export function evaluateImpressions(rules: readonly ImpressionRule[], scope: ImpressionScope): { impressions: Impression[]; errors: { rule: number; message: string }[] } {
  const impressions: Impression[] = [];
  const errors: { rule: number; message: string }[] = [];
  const given = new Set<string>();
  for (const [i, rule] of rules.entries()) {
    if (given.has(rule.label)) continue;
    try {
      if (!truthy(evaluate(rule.expr, scope, rule.when))) continue;
    } catch (err) {
      errors.push({ rule: i, message: (err as Error).message });
      continue;
    }
    given.add(rule.label);
    impressions.push({ label: rule.label, value: rule.value, rule: i });
  }
  return { impressions, errors };
}

/** ` (rule <label>)` when the issue is inside a rule that has a label. */
function ruleName(raw: unknown, path: readonly PropertyKey[]): string {
  if (path[0] !== 'impressions' || typeof path[1] !== 'number') return '';
  const rules = (raw as { impressions?: unknown }).impressions;
  const label = Array.isArray(rules) ? (rules[path[1]] as { label?: unknown } | null)?.label : undefined;
  return typeof label === 'string' ? ` (rule ${label})` : '';
}
