/**
 * A step's `when`: one expression, written bare
 * (`steps.check.outputs.status == 200 && inputs.force`) or as the whole text
 * in one template (`{{ inputs.force }}`). Its truthiness decides whether the
 * step runs; the validator checks its paths as it checks templates'.
 *
 *   evaluateCondition('inputs.retries > 0', { inputs: { retries: 2 } }); // true
 */
import { evaluate, ExpressionError, parseExpression, truthy, type Expr } from './expressions.ts';
import type { TemplateContext } from './template-context.ts';
import { addExpression, type TemplateScan } from './templates.ts';

const WHOLE_RE = /^\s*\{\{\s*([^{}]*?)\s*\}\}\s*$/;

/** The expression of a `when`: the inside of its one template, or the text itself. */
export function conditionSource(text: string): string {
  const whole = WHOLE_RE.exec(text);
  if (whole) return whole[1] ?? '';
  if (text.includes('{{')) throw new ExpressionError('a when is one expression: bare, or the whole text in one {{ }}');
  return text;
}

/** The `when`'s expression, parsed; an ExpressionError when it does not parse. */
export function parseCondition(text: string): Expr {
  return parseExpression(conditionSource(text));
}

/** The paths a `when` reads, as template uses of its text, or the text as invalid. */
export function scanCondition(text: string, at: (string | number)[]): TemplateScan {
  const scan: TemplateScan = { uses: [], invalid: [] };
  try {
    addExpression(scan, text, conditionSource(text), at);
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    scan.invalid.push({ text, at, error: err });
  }
  return scan;
}

/** Whether a step with this `when` runs: its expression's truthiness in `context`. Throws as evaluate does. */
export function evaluateCondition(text: string, context: TemplateContext): boolean {
  return truthy(evaluate(parseCondition(text), context, text));
}
