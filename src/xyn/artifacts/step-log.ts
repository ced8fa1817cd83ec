/**
 * A step's log (seed 004 §32.1): JSON lines (`{ts, level, msg, …}`) written
 * by the run actor (started, each attempt, how it ended) and by the step's
 * action (ActionContext.stepLog), kept in memory while the step runs and
 * stored as one artifact of kind `log` when it ends — its id is the step's
 * `logs_artifact_id`. Every line goes through the run's secret scrubber
 * before it is kept, so no resolved secret reaches the artifact.
 *
 *   const log = new StepLog(clock, secrets.scrub);
 *   log.write({ msg: 'attempt 1', attempt: 1 });
 *   const id = await log.save(artifacts);              // application/x-ndjson
 */
import type { Clock } from '../../core/clock.ts';
import type { ArtifactsPort, StepLogPort } from '../actions/action.ts';

type Entry = Parameters<StepLogPort['write']>[0];

export const STEP_LOG_CONTENT_TYPE = 'application/x-ndjson';

export class StepLog implements StepLogPort {
  private readonly lines: string[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly scrub: <T>(value: T) => T = (value) => value,
  ) {}

  write(entry: Entry): void {
    const { msg, level, ...fields } = entry;
    const line = this.scrub({ ts: new Date(this.clock.now()).toISOString(), level: level ?? 'info', msg, ...fields });
    this.lines.push(JSON.stringify(line));
  }

  /** Stores the lines as the step's log artifact; resolves with its id. */
  async save(artifacts: ArtifactsPort, name: string): Promise<string> {
    const body = this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
    const { artifact_id } = await artifacts.put({ name, kind: 'log', content_type: STEP_LOG_CONTENT_TYPE, body });
    return artifact_id;
  }
}
