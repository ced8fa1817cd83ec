/** Exit codes: 2 for bad input (flags, config, validation, a data dir another process holds), 1 for anything else. */
import { ConfigError, ValidationError } from '../kernel/index.ts';
import { CheckpointFormatError, PlanChangedError, PlanCollectedError, PlanError, PlanNotEndedError, PlanNotFoundError, PlanNotResumableError } from '../hxo/index.ts';
import { DataDirLockedError } from '../store/index.ts';
import { InvalidArgumentError } from 'commander';

export function exitCodeFor(err: unknown): number {
  const badInput = [ConfigError, ValidationError, InvalidArgumentError, PlanError, PlanNotFoundError, PlanNotEndedError, PlanCollectedError, CheckpointFormatError, DataDirLockedError, PlanNotResumableError, PlanChangedError];
  return badInput.some((cls) => err instanceof cls) ? 2 : 1;
}

export function messageFor(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Parses a flag value as a non-negative integer, or fails with exit code 2. */
export function nonNegativeInt(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got "${value}"`);
    return Number(value);
  };
}
