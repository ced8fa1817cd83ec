/**
 * Blueprints: the workflow file format (docs/blueprints.md). This slice reads
 * and validates them and compiles a run's plan; running them is not built yet.
 */
export { ACTIONS, ACTION_NAMES, AGENT_OUTPUTS, type ActionName } from './actions.ts';
export { blueprintDigest, compileRun, type CompiledRun, type CompileResult } from './compile.ts';
export { DURATION_RULE, durationMs } from './duration.ts';
export { TEMPLATE_FIELDS, stepOutputs, type BlueprintIssue } from './references.ts';
export { blueprintSchema, type Blueprint, type BlueprintInput, type BlueprintStep } from './shape.ts';
export { resolveTemplates, templatesIn, TemplateError, type TemplateContext, type TemplateUse } from './templates.ts';
export { parseBlueprintText, validateBlueprint, type BlueprintResult, type ParsedText } from './validate.ts';
