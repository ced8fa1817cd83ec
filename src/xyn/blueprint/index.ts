/**
 * Blueprints: the workflow file format (docs/blueprints.md). This slice reads
 * and validates them and compiles a run's plan; src/xyn/runs/ runs them.
 */
export { ACTIONS, ACTION_NAMES, AGENT_OUTPUTS, type ActionName } from './actions.ts';
export { blueprintDigest, compileRun, resolveStepFields, type CompiledRun, type CompileResult } from './compile.ts';
export { conditionSource, evaluateCondition, parseCondition } from './conditions.ts';
export { DURATION_RULE, durationMs } from './duration.ts';
export { TEMPLATE_FIELDS, stepOutputs, type BlueprintIssue } from './references.ts';
export { blueprintSchema, type Blueprint, type BlueprintInput, type BlueprintStep } from './shape.ts';
export {
  evaluate,
  expressionPaths,
  ExpressionError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  MAX_SPLIT_ENTRIES,
  MAX_STRING_LENGTH,
  parseExpression,
  truthy,
  type Expr,
} from './expressions.ts';
export {
  resolveTemplates,
  scanTemplates,
  templatesIn,
  TemplateError,
  type InvalidTemplate,
  type TemplateContext,
  type TemplateFilter,
  type TemplateScan,
  type TemplateUse,
} from './templates.ts';
export { parseBlueprintText, validateBlueprint, type BlueprintResult, type ParsedText } from './validate.ts';
