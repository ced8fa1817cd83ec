/** The HXO engine: plans, job kinds, shards, Merkle certification, reports. */
export { HxoEngine, preparePlan, storedReport, storedStatus, type PlanRecord, type ReplaySelection, type ResumeOptions, type SubmitOptions, type Submitted } from './engine.ts';
export { PLANS_DB } from './checkpoints/plan-records.ts';
export { readPlanFile, parsePlanText, checkPlanShape, resolvePlan, planIdFor, type PlanInput, type ResolvedPlan, type ResolvedStage } from './plan/plan.ts';
export { JobKindRegistry, type JobKind, type SafetyPolicy } from './plan/job-kinds.ts';
export { CheckpointFormatError, NodeStoppingError, PlanChangedError, PlanCollectedError, PlanError, PlanInUseError, PlanNotEndedError, PlanNotFoundError, PlanNotResumableError, ShardTimeoutError } from './engine-errors.ts';
export type { PlanReport, PlanStatus, StageStats } from './report.ts';
export { verifyReport, type ReportVerification } from './certify/verify-report.ts';
export { shardAddress } from './plan/address.ts';
export type { ExecutorModule, ShardContext } from './plan/executor-loader.ts';
export { HXO_POOL_TASKS } from './pool-tasks.ts';
export { newestFirst, storedPlans, type PlanListState, type PlanSummary } from './plan-list.ts';
export { type OutputPage, type OutputRow, type OutputQuery } from './plan-outputs.ts';
export { fromOutputJson, toOutputJson } from './executors/output-json.ts';
export { storedOutputPages, storedRecord } from './stored-plan.ts';
export { checkResumable, checkUnchanged } from './checkpoints/plan-resume.ts';
