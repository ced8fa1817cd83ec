/**
 * A plan as the engine runs it: its shape checked, the job-kind modules it
 * names loaded, then every stage checked against its kind and its shards
 * counted (plan.ts). Every refusal is a PlanError naming the field.
 *
 *   const plan = await preparePlan(readPlanFile('plan.yaml'), registry, config, '.');
 */
import type { JobKindRegistry } from './job-kinds.ts';
import { checkPlanShape, resolvePlan, type Limits, type ResolvedPlan } from './plan.ts';

/** Validates a plan (shape, then the job-kind contract), loading the job-kind modules it names. */
export async function preparePlan(raw: unknown, registry: JobKindRegistry, limits: Limits, baseDir: string, capabilities?: ReadonlySet<string>): Promise<ResolvedPlan> {
  const shaped = checkPlanShape(raw);
  for (const module of shaped.modules ?? []) await registry.loadModule(module, baseDir);
  return resolvePlan(shaped, registry, limits, baseDir, capabilities);
}
