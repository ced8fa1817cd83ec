/** TEMPORARY until the expression language lands: a `when` that is one template, truthy. */
import { resolveTemplates, type TemplateContext } from '../blueprint/index.ts';

export function evaluateCondition(text: string, context: TemplateContext): boolean {
  const t = text.trim();
  const v = resolveTemplates(t.startsWith('{{') ? t : `{{${t}}}`, context);
  return !(v === false || v === null || v === undefined || v === 0 || v === '' || (Array.isArray(v) && v.length === 0));
}
