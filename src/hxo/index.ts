/** The HXO engine: plans, job kinds, shards, Merkle certification, reports. */
export { HxoEngine, preparePlan, storedReport, storedStatus, type PlanRecord, type ReplaySelection, type ResumeOptions, type SubmitOptions, type Submitted } from './engine.ts';
export { PLANS_DB } from './plan-records.ts';
export { readPlanFile, parsePlanText, checkPlanShape, resolvePlan, planIdFor, type PlanInput, type ResolvedPlan, type ResolvedStage } from './plan.ts';
export { JobKindRegistry, type JobKind, type SafetyPolicy } from './job-kinds.ts';
export { CheckpointFormatError, NodeStoppingError, PlanChangedError, PlanCollectedError, PlanError, PlanInUseError, PlanNotEndedError, PlanNotFoundError, PlanNotResumableError, ShardTimeoutError } from './engine-errors.ts';
export type { PlanReport, PlanStatus, StageStats } from './report.ts';
export { verifyReport, type ReportVerification } from './verify-report.ts';
export { shardAddress } from './address.ts';
export type { ExecutorModule, ShardContext } from './executor-loader.ts';
export { HXO_POOL_TASKS } from './pool-tasks.ts';
export { newestFirst, storedPlans, type PlanListState, type PlanSummary } from './plan-list.ts';
export { type OutputPage, type OutputRow, type OutputQuery } from './plan-outputs.ts';
export { fromOutputJson, toOutputJson } from './output-json.ts';
export { storedOutputPages, storedRecord } from './stored-plan.ts';
export { checkResumable, checkUnchanged } from './plan-resume.ts';
