/** Errors of the HXO engine. */
import { XynError, registerErrorClass } from '../core/errors.ts';

/** A plan breaks a rule; `field` is the path of what is wrong (e.g. `stages[0].partitioner`). */
export class PlanError extends XynError {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`, 'INVALID_PLAN', { field, rule });
  }
}

/** A shard ran past its timeout. */
export class ShardTimeoutError extends XynError {
  constructor(
    readonly casId: string,
    readonly ms: number,
  ) {
    super(`timeout after ${ms / 1000}s`, 'SHARD_TIMEOUT', { casId, ms });
  }
}

export class PlanNotFoundError extends XynError {
  constructor(readonly planId: string) {
    super(`no plan ${planId} in this data directory`, 'PLAN_NOT_FOUND', { planId });
  }
}

/** A plan asked for what it has only once it has ended (its report). */
export class PlanNotEndedError extends XynError {
  constructor(
    readonly planId: string,
    why: string,
  ) {
    super(`plan ${planId} has not ended: ${why}`, 'PLAN_NOT_ENDED', { planId });
  }
}

/**
 * A plan `resume` cannot continue: it is running, already certified, or
 * failed (its failed shards are replayed, not resumed). `state` is the plan's.
 */
export class PlanNotResumableError extends XynError {
  constructor(
    readonly planId: string,
    readonly state: string,
    why: string,
  ) {
    super(`plan ${planId} cannot be resumed: ${why}`, 'PLAN_NOT_RESUMABLE', { planId, state });
  }
}

/**
 * The plan prepared again from its record is not the plan that started: its
 * digest differs (its code or inputs changed), so its checkpoints are not
 * outputs of it and it cannot be continued.
 */
export class PlanChangedError extends XynError {
  constructor(
    readonly planId: string,
    readonly recordedDigest: string,
    readonly digest: string,
  ) {
    super(
      `plan ${planId} changed since it started (its digest was ${recordedDigest.slice(0, 12)}…, prepared again it is ${digest.slice(0, 12)}…: its code or inputs changed); it cannot be resumed: submit it as a new plan`,
      'PLAN_CHANGED',
      { planId, recordedDigest, digest },
    );
  }
}

/** The data dir holds checkpoints in a layout this xyn does not read: refused, never misread. */
export class CheckpointFormatError extends XynError {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly expected: number,
  ) {
    super(
      `the store at ${path} holds checkpoints in format ${found}, this xyn reads format ${expected}: finish its plans with the xyn that wrote them, or start with another data dir (--data)`,
      'CHECKPOINT_FORMAT',
      { path, found, expected },
    );
  }
}

/** Retention collected the plan's checkpoints: its report stands, its shards are gone. */
export class PlanCollectedError extends XynError {
  constructor(
    readonly planId: string,
    readonly collectedAt: string | undefined,
  ) {
    super(
      `plan ${planId}'s checkpoints, outputs and artifacts were collected by retention${collectedAt ? ` on ${collectedAt}` : ''}; its report and certificate remain (xyn report, xyn verify)`,
      'PLAN_COLLECTED',
      { planId, collected_at: collectedAt ?? null },
    );
  }
}

/** A plan that running plans depend on (they reuse its outputs) cannot be collected now. */
export class PlanInUseError extends XynError {
  constructor(
    readonly planId: string,
    readonly users: string[],
  ) {
    super(`plan ${planId} is where running plan(s) ${users.join(', ')} reuse outputs from: collect it once they have ended`, 'PLAN_IN_USE', { planId, users });
  }
}

/** A plan's run was stopped with its node: it is unfinished, and resumes when the node starts again. */
export class NodeStoppingError extends XynError {
  constructor(
    readonly planId: string,
    /** How far it got: shards done (or reused) and in all. */
    readonly progress: { done: number; total: number },
  ) {
    super(`plan ${planId} was not finished: its node stopped (it resumes from its checkpoints when the node starts again)`, 'NODE_STOPPING', { planId, ...progress });
  }
}

/** `xyn run` stopped a plan because its store's disk is full: nothing failed, and the same command goes on once there is room. */
export class StoppedForSpaceError extends XynError {
  constructor(
    readonly planId: string,
    readonly path: string,
    readonly freeBytes: number,
    readonly neededBytes: number,
    progress: { done: number; total: number },
  ) {
    super(
      `storage full at ${path}: plan ${planId} stopped with ${progress.done} of ${progress.total} shards done and about ${mib(neededBytes)} more needed (${mib(freeBytes)} free); free space on that file system and run the same command again: it goes on where it stopped`,
      'STORAGE_FULL',
      { planId, path, free_bytes: freeBytes, needed_bytes: neededBytes },
    );
  }
}

/** `xyn run` (or `resume`) stopped its plan on Ctrl-C: nothing failed, and `resume` (a command) goes on from the checkpoints. */
export class RunInterruptedError extends XynError {
  constructor(
    readonly planId: string,
    progress: { done: number; total: number },
    resume: string,
  ) {
    super(`interrupted: plan ${planId} stopped with ${progress.done} of ${progress.total} shards done; ${resume} to go on from its checkpoints`, 'INTERRUPTED', { planId, ...progress });
  }
}

/** Bytes as MiB, for messages. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

registerErrorClass(NodeStoppingError);
registerErrorClass(StoppedForSpaceError);
registerErrorClass(RunInterruptedError);
registerErrorClass(PlanInUseError);
registerErrorClass(CheckpointFormatError);
registerErrorClass(PlanCollectedError);
registerErrorClass(PlanError);
registerErrorClass(PlanNotResumableError);
registerErrorClass(PlanChangedError);
registerErrorClass(PlanNotEndedError);
registerErrorClass(ShardTimeoutError);
registerErrorClass(PlanNotFoundError);
