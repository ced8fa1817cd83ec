/**
 * A workflow run as an actor of the supervision tree: `xyn → xyn.runs →
 * run:<id>` (its own supervisor) `→ run:<id>.steps` (this). Each incarnation
 * reads the run from LMDB and goes on from its cursor — the first step not
 * ended — so a restart, after a crash or a SIGKILL, is the same as going on:
 *
 * - a step that was `running` runs again only if it may (a transform; an
 *   agent_task; an action idempotent for its input, or a step that says
 *   `idempotent: true`), else it fails saying why;
 * - a gate that was waiting waits again (its decision is what ends it);
 * - every change is written (step and run in one transaction) before its
 *   event is published, so what the events say a run did, it did;
 * - what is written and published (step inputs, outputs, errors, the run's
 *   outputs and error, events) is scrubbed first of every secret the run's
 *   actions resolved: those values live only in memory, in the step using them.
 *
 * The rails (seed 004 §38.2): at most XYN_RUN_MAX_STEPS steps started, at
 * most XYN_RUN_MAX_WALL_MS of wall clock spent in steps (waiting at a gate is
 * not counted: a person may take a night to approve). Passing either fails
 * the run with the limit named.
 *
 *   const actor = new RunActor(runId, deps);
 *   await supervisor.add(new Supervisor(`run:${runId}`, intensity, [actor]), { temporary: true });
 *   await actor.decide('approve', { decision: 'approved', by: 'ana', reason: null });
 */
import type { ActorInfo, Supervisable } from '../../kernel/actor.ts';
import type { Bus } from '../../kernel/bus.ts';
import type { Logger } from '../../kernel/log.ts';
import type { Clock } from '../../core/clock.ts';
import { XynError } from '../../core/errors.ts';
import { RunHalted, type ActionContext, type AnyAction, type StepLogPort } from '../actions/action.ts';
import type { StepLog } from '../artifacts/index.ts';
import { durationMs, evaluateCondition, resolveTemplates, type TemplateContext } from '../blueprint/index.ts';
import type { FootprintRow } from '../footprints/records.ts';
import type { RunFootprints } from '../footprints/run-footprints.ts';

import type { RunBook } from './run-book.ts';
import { ENDED_RUN, type GateDecision, type RunError, type RunRecord, type StepRecord } from './records.ts';
import { cancelError, publishRunEvent } from './run-events.ts';
import { runActionStep, runAgentStep, runError, transformOutputs, type ActionRun } from './step-runner.ts';

export interface RunLimits {
  maxSteps: number;
  maxWallMs: number;
}

export interface RunActorDeps {
  book: RunBook;
  bus: Bus;
  clock: Clock;
  log: Logger;
  limits: RunLimits;
  /** The context an action (or an agent_task) of this run runs with (with the step's log, when logs are kept). */
  actionContext(run: RunRecord, step: StepRecord, signal: AbortSignal, stepLog?: StepLogPort): ActionContext;
  /** What runs agent_task steps: the node's agent action (src/xyn/agents), made from its configuration. */
  agent: AnyAction;
  /** What is written or published with the secrets the run's actions resolved taken out (its RunSecrets' scrub). */
  scrub<T>(value: T): T;
  /** Where each step's log is kept; without it, steps have none. */
  logs?: StepLogs;
  /** Told once the run has ended (its record and its event written). */
  ended(run: RunRecord): void;
  /** Told when the run starts and stops waiting at a gate (a waiting run holds no slot of XYN_RUNS_MAX_ACTIVE). */
  parked(waiting: boolean): void;
  /** The node's footprints: each ended step's rows are written with its end. */
  footprints?: RunFootprints;
}

/** Step logs: one opened when a step begins, saved (as an artifact: its id, or null if it could not be) when it ends. */
export interface StepLogs {
  open(run: RunRecord, step: StepRecord): StepLog;
  save(run: RunRecord, step: StepRecord, log: StepLog): Promise<string | null>;
}

/** Why the run's signal was aborted. */
type Stop = { kind: 'halt' } | { kind: 'cancel'; by: string; reason: string | null } | { kind: 'wall' };

/** The run is not where a request needs it: a gate not waiting, a run already ended (the API's 409). */
export class RunStateError extends XynError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, 'conflict', details);
  }
}

/** An event to publish once what it reports is written: name, run, data, step id, actor. */
type PendingEvent = [string, RunRecord, Record<string, unknown>, string | null, string];

type GateOutcome = { decision: GateDecision } | { stop: Stop } | { expired: number };

interface GateWait {
  stepId: string;
  settle(outcome: GateOutcome): void;
}

export class RunActor implements Supervisable {
  readonly id: string;
  private controller = new AbortController();
  private stopReason: Stop | undefined;
  private gate: GateWait | undefined;
  private loop: Promise<void> | undefined;
  private state: 'new' | 'running' | 'waiting' | 'halted' | 'ended' = 'new';
  private incarnations = 0;
  private startedAt: number | null = null;
  private stepsHandled = 0;
  private readonly crashListeners: ((error: Error) => void)[] = [];
  private readonly decided = new Map<string, (step: StepRecord) => void>();
  /** Changes recorded and not yet written (record()): the run as it is now, its steps by index, their events. */
  private latest: RunRecord | undefined;
  private readonly unwritten = new Map<number, StepRecord>();
  private readonly unpublished: PendingEvent[] = [];
  private readonly unwrittenFootprints: FootprintRow[] = [];
  /** The run's status as the store has it (for its status index). */
  private writtenStatus: RunRecord['status'] | undefined;
  /** The logs of the steps going on, by step id (a gate's and an action's). */
  private readonly stepLogs = new Map<string, StepLog>();

  constructor(
    readonly runId: string,
    private readonly deps: RunActorDeps,
  ) {
    this.id = `run:${runId}.steps`;
  }

  async start(): Promise<void> {
    if (this.loop || this.state === 'ended') return;
    this.incarnations++;
    this.controller = new AbortController();
    this.stopReason = undefined;
    // What the last incarnation did lazily and never wrote is done again from the store's state.
    this.latest = undefined;
    this.unwritten.clear();
    this.unpublished.length = 0;
    this.unwrittenFootprints.length = 0;
    this.stepLogs.clear();
    this.state = 'running';
    this.startedAt = Date.now();
    const loop = this.go().catch((err: unknown) => {
      if (this.stopReason?.kind === 'halt') return;
      this.state = 'halted';
      for (const listener of this.crashListeners) listener(err instanceof Error ? err : new Error(String(err)));
    });
    this.loop = loop;
    void loop.finally(() => {
      if (this.loop === loop) this.loop = undefined;
    });
  }

  async halt(): Promise<void> {
    await this.interrupt({ kind: 'halt' });
    if (this.state !== 'ended') this.state = 'halted';
  }

  async stop(): Promise<void> {
    await this.halt();
  }

  onCrash(listener: (error: Error) => void): void {
    this.crashListeners.push(listener);
  }

  info(): ActorInfo {
    const state = this.state === 'new' && this.incarnations > 0 ? 'halted' : this.state;
    return { name: this.id, kind: 'run', state, mailbox: 0, handled: this.stepsHandled, restarts: Math.max(0, this.incarnations - 1), started_at: this.state === 'running' || this.state === 'waiting' ? this.startedAt : null };
  }

  /** Cancels the run: a waiting gate or a running action stops, the run ends `cancelled`. Resolves once that is recorded. */
  async cancel(by: string, reason: string | null): Promise<void> {
    await this.interrupt({ kind: 'cancel', by, reason });
  }

  /** Approves or rejects the gate the run waits at; resolves with the gate's step once recorded. */
  decide(stepId: string, decision: GateDecision): Promise<StepRecord> {
    const gate = this.gate;
    if (!gate || gate.stepId !== stepId) {
      throw new RunStateError(`run ${this.runId} does not wait at step ${stepId}${gate ? ` (it waits at ${gate.stepId})` : ''}`, { run_id: this.runId, step_id: stepId, waiting_on: gate?.stepId ?? null });
    }
    this.gate = undefined;
    const recorded = new Promise<StepRecord>((resolve) => this.decided.set(stepId, resolve));
    gate.settle({ decision });
    return recorded;
  }

  /** The gate the run waits at now. */
  get waitingOn(): string | undefined {
    return this.gate?.stepId;
  }

  private async interrupt(stop: Stop): Promise<void> {
    if (!this.loop) return;
    this.stopReason ??= stop;
    this.controller.abort(this.stopReason.kind === 'halt' ? new RunHalted() : undefined);
    const gate = this.gate;
    this.gate = undefined;
    gate?.settle({ stop: this.stopReason });
    await this.loop;
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /**
   * Records a change of the run (and maybe of one step) and its event. A
   * `durable` change is written at once — with whatever lazy changes came
   * before it, in one transaction — and its events are published after. A
   * lazy one (what a pure step did: a transform, a skip, the run's start)
   * waits for the next durable one: a crash loses only work that is done the
   * same way again. A step's footprints go with it, said in one event after
   * its own (one per step, not per row: one message to a listener however
   * many metrics the step's action measured).
   */
  private async record(run: RunRecord, step: StepRecord | undefined, event: PendingEvent | undefined, durable: boolean, footprints: FootprintRow[] = []): Promise<void> {
    if (step) this.unwritten.set(step.index, step);
    if (event) this.unpublished.push(event);
    if (step && footprints.length > 0) {
      this.unwrittenFootprints.push(...footprints);
      this.unpublished.push(['xyn.footprint.recorded', run, { step_id: step.step_id, footprints }, step.step_id, 'system']);
    }
    this.latest = run;
    if (!durable) return;
    await this.flush();
  }

  /** Writes what is recorded and not yet written, then publishes its events in order. */
  private async flush(): Promise<void> {
    const run = this.latest;
    if (!run) return;
    const steps = [...this.unwritten.values()];
    const events = this.unpublished.splice(0);
    const rows = this.unwrittenFootprints.splice(0);
    this.unwritten.clear();
    this.latest = undefined;
    const { scrub } = this.deps;
    const meter = this.deps.footprints;
    await this.deps.book.save(scrub(run), steps.map((step) => scrub(step)), this.writtenStatus, meter && rows.length > 0 ? () => meter.write(scrub(rows)) : undefined);
    this.writtenStatus = run.status;
    for (const [name, r, data, stepId, actor] of events) publishRunEvent(this.deps.bus, this.deps.log, name, scrub(r), scrub(data), stepId, actor);
  }

  private async go(): Promise<void> {
    const { book } = this.deps;
    let run = book.get(this.runId);
    if (!run) throw new RunStateError(`run ${this.runId} is not in the store`);
    if (ENDED_RUN.has(run.status)) return this.done(run);
    this.writtenStatus = run.status;
    if (run.status === 'created') {
      run = { ...run, status: 'running', started_at: this.now() };
      await this.record(run, undefined, ['xyn.run.started', run, { status: 'running' }, null, 'system'], false);
    }
    const steps = book.stepsOf(this.runId);
    const context: TemplateContext & { steps: Record<string, { outputs: Record<string, unknown> }> } = {
      inputs: run.inputs,
      steps: {},
      ...(run.event ? { event: run.event } : {}),
    };
    for (const s of steps) if (s.status === 'completed' && s.outputs) context.steps[s.step_id] = { outputs: s.outputs };

    for (let i = run.cursor; i < steps.length; i++) {
      const step = steps[i] as StepRecord;
      const stop = this.stopReason;
      if (stop?.kind === 'halt') return;
      if (stop?.kind === 'cancel') return this.end(run, 'cancelled', cancelError(stop.by, stop.reason), stop.by);
      if (stop?.kind === 'wall') return this.end(run, 'failed', this.wallError(step));
      const result = await this.runStep(run, step, context);
      if (result === 'halted') return;
      run = result.run;
      this.stepsHandled++;
      const ended = result.step;
      // Later steps see its outputs scrubbed, as they would after a restart (read from the store): a secret reaches a step only through its ref.
      if (ended.status === 'completed' && ended.outputs) context.steps[ended.step_id] = { outputs: this.deps.scrub(ended.outputs) };
      if (result.stop) return this.end(run, result.stop.status, result.stop.error, result.stop.actor);
    }
    let outputs: Record<string, unknown>;
    try {
      outputs = Object.fromEntries(run.output_defs.map((o) => [o.name, resolveTemplates(o.value ?? null, context)]));
    } catch (err) {
      return this.end(run, 'failed', { ...runError(err), code: 'RUN_OUTPUTS' });
    }
    return this.end({ ...run, outputs }, 'completed', null);
  }

  /**
   * One step from wherever it stands to its end, recorded. Answers the run as
   * it is after, the step, and — when the run must end now — how.
   */
  private async runStep(
    run: RunRecord,
    step: StepRecord,
    context: TemplateContext,
  ): Promise<'halted' | { run: RunRecord; step: StepRecord; stop?: { status: 'failed' | 'cancelled'; error: RunError | null; actor?: string } }> {
    const { limits } = this.deps;
    const def = step.def;
    const fail = async (error: RunError, status: 'failed' | 'skipped' = 'failed') => this.finishStep(run, step, status, null, error);
    const resumed = step.status === 'running';

    if (!resumed) {
      if (run.steps_started >= limits.maxSteps) {
        const error: RunError = { code: 'RUN_STEP_LIMIT', message: `the run reached its limit of ${limits.maxSteps} steps (XYN_RUN_MAX_STEPS) before step ${step.step_id}`, details: { max_steps: limits.maxSteps }, step_id: step.step_id };
        return { run, step, stop: { status: 'failed', error } };
      }
      run = { ...run, steps_started: run.steps_started + 1 };
      if (def.when !== undefined) {
        let holds: boolean;
        try {
          holds = evaluateCondition(def.when, context);
        } catch (err) {
          const ended = await fail(runError(err, step.step_id));
          return this.afterStep(ended.run, ended.step, def.on_failure);
        }
        if (!holds) {
          const ended = await this.finishStep(run, step, 'skipped', null, null);
          return { run: ended.run, step: ended.step };
        }
      }
    } else if (def.kind === 'action_task' && !step.rerunnable) {
      const error: RunError = {
        code: 'STEP_NOT_RERUNNABLE',
        message: `step ${step.step_id} (${def.action}) was running when the node stopped, and neither its action (for this input) nor the step (idempotent: true) says it may be repeated: it is not run again (it may have done its work once)`,
        details: { action: def.action, attempts: step.attempts },
        step_id: step.step_id,
      };
      const ended = await this.finishStep(run, step, 'failed', null, error);
      return this.afterStep(ended.run, ended.step, def.on_failure);
    }

    this.logLine(run, step, { msg: resumed ? 'step resumed: the node stopped while it ran' : 'step started', kind: def.kind, ...(def.kind === 'action_task' ? { action: def.action } : {}) });
    if (def.kind === 'gate') return this.waitAtGate(run, step, resumed);

    const remaining = limits.maxWallMs - run.active_ms;
    if (remaining <= 0) return { run, step, stop: { status: 'failed', error: this.wallError(step) } };
    const began = this.deps.clock.now();
    const wall = setTimeout(() => {
      this.stopReason ??= { kind: 'wall' };
      this.controller.abort();
    }, remaining);
    let current = { run, step };
    try {
      if (def.kind === 'transform') {
        const outputs = transformOutputs(def, context);
        current.step = { ...step, status: 'running', attempts: step.attempts + 1, started_at: step.started_at ?? this.now() };
        return await this.completeOrFail(current.run, current.step, 'completed', outputs, null, began, def.on_failure);
      }
      const what = def.kind === 'agent_task' ? { provider: def.provider, model: def.model } : { action: def.action };
      const stepRun: ActionRun = {
        signal: this.controller.signal,
        context,
        firstAttempt: step.attempts + 1,
        beginAttempt: async (a) => {
          const first = current.step.status !== 'running';
          current = {
            run: { ...current.run, active_ms: current.run.active_ms },
            step: { ...current.step, status: 'running', attempts: a.attempt, inputs: a.inputs, rerunnable: a.rerunnable, started_at: current.step.started_at ?? this.now(), error: null },
          };
          this.logLine(current.run, current.step, { msg: `attempt ${a.attempt}`, attempt: a.attempt });
          const event: PendingEvent = ['xyn.step.started', current.run, { step_id: step.step_id, kind: def.kind, ...what, attempt: a.attempt }, step.step_id, 'system'];
          await this.record(current.run, current.step, first || a.attempt > 1 ? event : undefined, true);
        },
        actionContext: (signal) => this.deps.actionContext(current.run, current.step, signal, this.stepLogs.get(step.step_id)),
      };
      const outputs = def.kind === 'agent_task' ? await runAgentStep(def, this.deps.agent, stepRun) : await runActionStep(def, stepRun);
      return await this.completeOrFail(current.run, current.step, 'completed', outputs, null, began, def.on_failure);
    } catch (err) {
      const stop = this.stopReason;
      if (stop?.kind === 'halt') return 'halted';
      if (stop?.kind === 'cancel') {
        const error = cancelError(stop.by, stop.reason, step.step_id);
        const ended = await this.finishStep(current.run, current.step, 'failed', null, error, began);
        return { run: ended.run, step: ended.step, stop: { status: 'cancelled', error, actor: stop.by } };
      }
      if (stop?.kind === 'wall') {
        const ended = await this.finishStep(current.run, current.step, 'failed', null, this.wallError(step), began);
        return { run: ended.run, step: ended.step, stop: { status: 'failed', error: this.wallError(step) } };
      }
      return await this.completeOrFail(current.run, current.step, 'failed', null, runError(err, step.step_id), began, def.on_failure);
    } finally {
      clearTimeout(wall);
    }
  }

  private wallError(step: StepRecord): RunError {
    const { maxWallMs } = this.deps.limits;
    return { code: 'RUN_WALL_CLOCK', message: `the run passed its wall-clock limit of ${maxWallMs} ms (XYN_RUN_MAX_WALL_MS) in step ${step.step_id}`, details: { max_wall_ms: maxWallMs }, step_id: step.step_id };
  }

  private async completeOrFail(run: RunRecord, step: StepRecord, status: 'completed' | 'failed', outputs: Record<string, unknown> | null, error: RunError | null, began: number, onFailure: 'fail' | 'continue' | undefined) {
    const ended = await this.finishStep(run, step, status, outputs, error, began);
    return this.afterStep(ended.run, ended.step, onFailure);
  }

  /** A failed step ends the run unless the step says `on_failure: continue`. */
  private afterStep(run: RunRecord, step: StepRecord, onFailure: 'fail' | 'continue' | undefined) {
    if (step.status !== 'failed' || onFailure === 'continue') return { run, step };
    return { run, step, stop: { status: 'failed' as const, error: step.error } };
  }

  /** Records a step's end and moves the run's cursor past it, in one write; then says so. */
  private async finishStep(run: RunRecord, step: StepRecord, status: 'completed' | 'failed' | 'skipped', outputs: Record<string, unknown> | null, error: RunError | null, began?: number, actor = 'system', gate?: GateDecision) {
    const now = this.now();
    const logsArtifactId = status === 'skipped' || step.kind === 'transform' ? null : await this.saveLog(run, step, status, error);
    const ended: StepRecord = { ...step, status, outputs, error, started_at: step.started_at ?? (status === 'skipped' ? null : now), completed_at: now, ...(gate ? { gate } : {}), ...(logsArtifactId ? { logs_artifact_id: logsArtifactId } : {}) };
    delete ended.rerunnable;
    const after: RunRecord = { ...run, cursor: step.index + 1, waiting_on: null, active_ms: run.active_ms + (began === undefined ? 0 : Math.max(0, this.deps.clock.now() - began)) };
    const data: Record<string, unknown> = { step_id: step.step_id, kind: step.kind, status, ...(error ? { error } : {}), ...(gate ? { decision: gate.decision, by: gate.by, reason: gate.reason } : {}) };
    // What a transform or a skip did is done again the same way after a crash: it waits for the next write.
    const pure = step.kind === 'transform' || status === 'skipped';
    await this.record(after, ended, [`xyn.step.${status}`, after, data, step.step_id, actor], !pure, this.deps.footprints?.stepEnded(after, ended));
    return { run: after, step: ended };
  }

  /** A line of the step's log (opened by its first line), when logs are kept. */
  private logLine(run: RunRecord, step: StepRecord, entry: Parameters<StepLogPort['write']>[0]): void {
    const { logs } = this.deps;
    // A transform keeps none: it is pure, its record holds all it did (outputs or error), and a log would
    // cost each one a write of its own — the runs of transforms alone would go at half the speed.
    if (!logs || step.kind === 'transform') return;
    let log = this.stepLogs.get(step.step_id);
    if (!log) {
      log = logs.open(run, step);
      this.stepLogs.set(step.step_id, log);
    }
    log.write(entry);
  }

  /** Ends the step's log with how the step ended and keeps it: its artifact id (null without logs). */
  private async saveLog(run: RunRecord, step: StepRecord, status: 'completed' | 'failed', error: RunError | null): Promise<string | null> {
    const { logs } = this.deps;
    if (!logs) return null;
    this.logLine(run, step, { msg: `step ${status}`, level: status === 'failed' ? 'error' : 'info', status, ...(error ? { error } : {}) });
    const log = this.stepLogs.get(step.step_id) as StepLog;
    this.stepLogs.delete(step.step_id);
    return logs.save(run, step, log);
  }

  private async waitAtGate(run: RunRecord, step: StepRecord, resumed: boolean) {
    if (!resumed) {
      step = { ...step, status: 'running', started_at: this.now(), attempts: 1 };
      run = { ...run, waiting_on: step.step_id };
    }
    // A gate's `timeout` counts from when it began to wait, across restarts.
    const timeoutMs = step.def.timeout === undefined ? undefined : durationMs(step.def.timeout);
    const began = Date.parse(step.started_at ?? this.now());
    let expiry: NodeJS.Timeout | undefined;
    // Open to decisions before anything says the run waits: a decision that comes first is taken once the wait is written.
    const outcome = new Promise<GateOutcome>((settle) => {
      if (this.stopReason) return settle({ stop: this.stopReason });
      this.gate = { stepId: step.step_id, settle };
      this.state = 'waiting';
      this.deps.parked(true);
      if (timeoutMs !== undefined) {
        expiry = setTimeout(() => {
          if (this.gate?.stepId !== step.step_id) return;
          this.gate = undefined;
          settle({ expired: timeoutMs });
        }, Math.max(0, began + timeoutMs - this.deps.clock.now()));
      }
    });
    if (!resumed) await this.record(run, step, ['xyn.step.waiting', run, { step_id: step.step_id, kind: 'gate' }, step.step_id, 'system'], true);
    const settled = await outcome;
    clearTimeout(expiry);
    if (this.state === 'waiting') this.deps.parked(false);
    this.state = 'running';
    if ('expired' in settled) {
      const error: RunError = { code: 'GATE_TIMEOUT', message: `no decision within the gate's timeout (${step.def.timeout})`, details: { timeout_ms: settled.expired }, step_id: step.step_id };
      const ended = await this.finishStep(run, step, 'failed', null, error);
      return this.afterStep(ended.run, ended.step, step.def.on_failure);
    }
    if ('stop' in settled) {
      if (settled.stop.kind === 'halt') return 'halted' as const;
      const stop = settled.stop.kind === 'cancel' ? settled.stop : { kind: 'cancel' as const, by: 'system', reason: null };
      const error = cancelError(stop.by, stop.reason, step.step_id, ' while waiting for approval');
      const ended = await this.finishStep(run, step, 'failed', null, error);
      return { run: ended.run, step: ended.step, stop: { status: 'cancelled' as const, error, actor: stop.by } };
    }
    const { decision } = settled;
    const approved = decision.decision === 'approved';
    const ended = await this.finishStep(
      run,
      step,
      approved ? 'completed' : 'failed',
      approved ? { approved: true, by: decision.by, reason: decision.reason, decided_at: decision.at } : null,
      approved ? null : { code: 'GATE_REJECTED', message: `rejected by ${decision.by}${decision.reason ? `: ${decision.reason}` : ''}`, details: { by: decision.by, reason: decision.reason }, step_id: step.step_id },
      undefined,
      decision.by,
      decision,
    );
    this.decided.get(step.step_id)?.(this.deps.scrub(ended.step));
    this.decided.delete(step.step_id);
    return this.afterStep(ended.run, ended.step, step.def.on_failure);
  }

  private async end(run: RunRecord, status: 'completed' | 'failed' | 'cancelled', error: RunError | null, actor = 'system'): Promise<void> {
    const ended: RunRecord = { ...run, status, error, completed_at: this.now(), waiting_on: null };
    await this.record(ended, undefined, [`xyn.run.${status}`, ended, { status, ...(error ? { error } : {}), ...(status === 'completed' ? { outputs: ended.outputs } : {}) }, null, actor], true);
    // Those waiting on the run's end get it as it was written.
    this.done(this.deps.scrub(ended));
  }

  private done(run: RunRecord): void {
    this.state = 'ended';
    this.deps.ended(run);
  }
}
