/**
 * Workflow runs on a node: made from a promoted blueprint by a trigger (an
 * event, a webhook, a cron fire) or by hand, run by actors under `xyn`, and
 * steered from outside (cancel, a gate's approval or rejection).
 *
 *   const runs = new RunEngine({ kernel, drafts, hxo: { engine, baseDir } });
 *   await runs.start();                                     // resumes live runs, starts the triggers
 *   const run = await runs.create({ blueprint_id: 'bp.fix', inputs: { host }, actor: 'ana', trigger: { kind: 'manual' } });
 *   await runs.decide(run.run_id, 'approve', 'approved', 'ana', 'looks right');
 *   await runs.ended(run.run_id);                           // its final record
 *
 * The tree: `xyn → xyn.triggers` (the event router), `xyn → xyn.runs →
 * run:<id>` (each live run's supervisor: a run whose actor crashes is
 * restarted from its last ended step, up to 3 times a minute, then failed)
 * `→ run:<id>.steps`. At most XYN_RUNS_MAX_ACTIVE runs go on at once (a run
 * waiting at a gate does not count); more are kept `created` and started in
 * order of priority as others end or park at a gate.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { XynEvent } from '../../core/event.ts';
import { XynError } from '../../core/errors.ts';
import { uuid7 } from '../../core/uuid7.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import { Supervisor } from '../../kernel/supervisor.ts';
import type { HxoEngine } from '../../hxo/engine.ts';
import type { ActionContext, AnyAction, KnownHostsPort, StepLogPort } from '../actions/action.ts';
import { agentSettings, agentTask } from '../agents/index.ts';
import { RunArtifacts, StepLog, type ArtifactBook } from '../artifacts/index.ts';
import { ContainerEngine, engineAddress } from '../containers/index.ts';
import { compileRun, type Blueprint, type BlueprintIssue } from '../blueprint/index.ts';
import type { BlueprintVersion, DraftBook, Page } from '../drafts/index.ts';
import { RunSecrets, type SecretStore } from '../secrets/index.ts';
import { CronTriggers, EventRouter, type CronFire, type EventTrigger } from '../triggers/index.ts';
import type { FootprintBook } from '../footprints/footprint-book.ts';
import type { ImpressionRule } from '../footprints/impression-rules.ts';
import { ImpressionJudge } from '../footprints/impressions.ts';
import { RunFootprints } from '../footprints/run-footprints.ts';
import { RunActor, RunStateError, type StepLogs } from './run-actor.ts';
import { RunBook, type RunQuery } from './run-book.ts';
import { cancelError, publishRunEvent } from './run-events.ts';
import { ENDED_RUN, runIndexDb, type RunRecord, type RunTrigger, type StepRecord } from './records.ts';

const RUN_MAX_RESTARTS = 3;
const RUN_RESTART_WINDOW_MS = 60_000;

export interface RunEngineOptions {
  kernel: Kernel;
  drafts: DraftBook;
  /** The node's HXO engine, for `hxo.submit`; plan files are read relative to baseDir. */
  hxo?: { engine: HxoEngine; baseDir: string };
  /** The node's known_hosts, for `ssh.run`. */
  knownHosts?: KnownHostsPort;
  clock?: Clock;
  /** Arm a real timer for cron triggers (default true; tests drive `tickCron()` on a manual clock). */
  cronTimers?: boolean;
  /** Where the runs' footprints are kept; without it none are recorded. */
  footprints?: FootprintBook;
  /** The rules that give an ended run its impressions (XYN_IMPRESSION_RULES); none: no impressions. */
  impressionRules?: readonly ImpressionRule[];
  /** Where actions' `*_ref` fields are resolved (the node's chain: environment, then the encrypted file); without it, a step using a secret fails saying so. */
  secrets?: SecretStore;
  /** The node's artifacts: actions put theirs there, and each step's log is kept there (`logs_artifact_id`). */
  artifacts?: ArtifactBook;
}

export interface CreateRunRequest {
  blueprint_id: string;
  /** Default: the active version. */
  version?: number;
  inputs?: Record<string, unknown>;
  /** Default: the blueprint's name. */
  name?: string;
  priority?: number;
  /** Who starts it: a principal, or `system`. */
  actor: string;
  correlation_id?: string;
  trigger: RunTrigger;
  event?: XynEvent;
  /** What made it, when that could happen twice (an event read again, a cron fire retried): one run per key. */
  key?: string;
  chain_depth?: number;
}

/** The inputs given do not fit the blueprint's (issues name each; the API's 400). */
export class RunInputsError extends XynError {
  constructor(
    readonly blueprintId: string,
    readonly issues: BlueprintIssue[],
  ) {
    super(`inputs do not fit blueprint ${blueprintId}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, 'invalid_inputs', { blueprint_id: blueprintId, issues });
  }
}

export class RunNotFoundError extends XynError {
  constructor(runId: string, stepId?: string) {
    super(stepId === undefined ? `no run ${runId}` : `run ${runId} has no step ${stepId}`, 'not_found', { run_id: runId, step_id: stepId ?? null });
  }
}

interface LiveRun {
  actor: RunActor;
  supervisor: Supervisor;
  /** The secrets its actions resolved, scrubbed from all it records; kept while it runs, not after. */
  secrets: RunSecrets | undefined;
}

interface Active {
  record: BlueprintVersion;
  definition: Blueprint;
}

export class RunEngine {
  readonly book: RunBook;
  /** The runs' footprints and impressions, for the API. */
  readonly footprints: FootprintBook | undefined;
  private readonly meter: RunFootprints | undefined;
  private readonly judge: ImpressionJudge | undefined;
  private readonly kernel: Kernel;
  private readonly drafts: DraftBook;
  private readonly clock: Clock;
  private readonly runs: Supervisor;
  private readonly router: EventRouter;
  private readonly cron: CronTriggers;
  private readonly live = new Map<string, LiveRun>();
  /** Runs made and not yet started, highest priority first. */
  private queue: { runId: string; priority: number }[] = [];
  private readonly endWaiters = new Map<string, ((run: RunRecord) => void)[]>();
  private slotWaiters: (() => void)[] = [];
  private creating = 0;
  /** Live runs waiting at a gate: they hold no slot. */
  private readonly parked = new Set<string>();
  private active = new Map<string, Active>();
  private stopped = false;
  private unwatch: () => void = () => undefined;
  /** One client for the node's container engine, for container.exec (it connects at a step's first use). */
  private readonly containers: ContainerEngine;
  /** Runs agent_task steps, routed by the node's configuration. */
  private readonly agent: AnyAction;

  constructor(private readonly options: RunEngineOptions) {
    const { kernel } = options;
    this.kernel = kernel;
    this.drafts = options.drafts;
    this.clock = options.clock ?? systemClock;
    this.book = new RunBook(kernel.store);
    this.footprints = options.footprints;
    this.meter = options.footprints ? new RunFootprints(options.footprints, this.clock) : undefined;
    const rules = options.impressionRules ?? [];
    this.judge = options.footprints && rules.length > 0 ? new ImpressionJudge({ book: options.footprints, rules, bus: kernel.bus, log: kernel.log, clock: this.clock }) : undefined;
    this.containers = new ContainerEngine(engineAddress(kernel.config));
    this.agent = agentTask(agentSettings(kernel.config));
    this.runs = new Supervisor('xyn.runs', { strategy: 'one_for_one', maxRestarts: 5, withinMs: 10_000, notice: kernel.notice }, []);
    this.router = new EventRouter({
      bus: kernel.bus,
      db: runIndexDb(kernel.store),
      clock: this.clock,
      log: kernel.log,
      lagEvents: kernel.config.XYN_TRIGGER_LAG_EVENTS,
      admit: () => this.admit(),
      depthOf: (e) => (e.run_id ? (this.book.get(e.run_id)?.chain_depth ?? 0) : 0),
      start: (t, event, key, depth) => this.startFromEvent(t, event, key, depth),
    });
    this.cron = new CronTriggers({
      store: kernel.store,
      clock: this.clock,
      timers: options.cronTimers ?? true,
      fire: (f) => this.startFromCron(f),
      onError: (err, f) => kernel.log.error({ err, blueprint_id: f?.blueprint_id }, f ? 'a cron trigger could not start its run; it is tried again at the next tick' : 'cron triggers: their state could not be written, or a cron expression not read'),
    });
  }

  /** Loads the active blueprints, resumes the runs a stop left going, starts the triggers. Resolves with the runs resumed. */
  async start(): Promise<string[]> {
    this.refresh();
    this.unwatch = this.drafts.onPromoted(() => this.refresh());
    await this.kernel.xyn.add(this.router);
    await this.kernel.xyn.add(this.runs);
    const resumed = [...this.book.idsIn('running'), ...this.book.idsIn('created')];
    for (const runId of resumed) this.enqueue(runId, this.book.get(runId)?.priority ?? 0);
    this.cron.start();
    return resumed;
  }

  /** Stops the triggers and the runs (they go on at the next start, from their last ended step). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch();
    // A router waiting for a slot is let go first (it starts nothing more once halted).
    for (const wake of this.slotWaiters.splice(0)) wake();
    await this.cron.stop();
    await this.router.stop();
    this.kernel.xyn.remove(this.router);
    await this.runs.stop();
    this.kernel.xyn.remove(this.runs);
  }

  /** Fires the cron triggers due at the clock's now (what the timer does; tests call it on a manual clock). */
  tickCron(): Promise<CronFire[]> {
    return this.cron.tick();
  }

  /** Makes a run of a promoted blueprint (or finds the one its key already made) and starts it when a slot is free. */
  async create(req: CreateRunRequest): Promise<RunRecord> {
    const { record, definition } = this.blueprint(req.blueprint_id, req.version);
    const event = req.event ? { name: req.event.event_name, data: req.event.data } : undefined;
    const compiled = compileRun(definition, req.inputs ?? {}, event, record.digest);
    if (!compiled.ok) throw new RunInputsError(definition.id, compiled.issues);
    const now = new Date(this.clock.now()).toISOString();
    const runId = uuid7(this.clock.now());
    const run: RunRecord = {
      run_id: runId,
      name: req.name ?? definition.name,
      blueprint_id: definition.id,
      blueprint_version: record.version,
      blueprint_digest: compiled.run.digest,
      status: 'created',
      created_at: now,
      started_at: null,
      completed_at: null,
      actor: req.actor,
      correlation_id: req.correlation_id ?? req.event?.correlation_id ?? randomUUID(),
      priority: req.priority ?? 0,
      inputs: compiled.run.inputs,
      outputs: null,
      error: null,
      trigger: req.trigger,
      event: event ?? null,
      output_defs: compiled.run.outputs,
      step_count: compiled.run.steps.length,
      cursor: 0,
      steps_started: 0,
      active_ms: 0,
      waiting_on: null,
      chain_depth: req.chain_depth ?? 0,
    };
    const steps: StepRecord[] = compiled.run.steps.map((def, index) => ({
      run_id: runId,
      step_id: def.id,
      index,
      kind: def.kind,
      status: 'created',
      started_at: null,
      completed_at: null,
      attempts: 0,
      inputs: null,
      outputs: null,
      error: null,
      def,
    }));
    const meter = this.meter;
    const footprints = meter?.runCreated(run) ?? [];
    this.creating++;
    let made;
    try {
      made = await this.book.create(run, steps, req.key, meter ? () => meter.write(footprints) : undefined);
    } finally {
      this.creating--;
    }
    if (!made.created) return made.run;
    this.publish('xyn.run.created', run, { status: 'created', blueprint_version: run.blueprint_version, trigger: run.trigger, name: run.name }, req.actor);
    if (footprints.length > 0) this.publish('xyn.footprint.recorded', run, { step_id: null, footprints }, 'system');
    this.enqueue(runId, run.priority);
    return run;
  }

  get(runId: string): RunRecord {
    const run = this.book.get(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }

  list(q: RunQuery): Page<RunRecord> {
    return this.book.list(q);
  }

  steps(runId: string): StepRecord[] {
    this.get(runId);
    return this.book.stepsOf(runId);
  }

  step(runId: string, stepId: string): StepRecord {
    const step = this.steps(runId).find((s) => s.step_id === stepId);
    if (!step) throw new RunNotFoundError(runId, stepId);
    return step;
  }

  /** Cancels a run that has not ended: a waiting gate or a running action stops (an HXO plan it launched is aborted). */
  async cancel(runId: string, by: string, reason: string | null): Promise<RunRecord> {
    const run = this.get(runId);
    if (ENDED_RUN.has(run.status)) throw new RunStateError(`run ${runId} has already ended ${run.status}`, { run_id: runId, status: run.status });
    const live = this.live.get(runId);
    if (live) {
      await live.actor.cancel(by, reason);
    } else {
      // Not started yet (waiting for a slot): it ends here, and its actor, when it starts, finds it ended.
      this.queue = this.queue.filter((q) => q.runId !== runId);
      const ended: RunRecord = { ...run, status: 'cancelled', completed_at: new Date(this.clock.now()).toISOString(), error: cancelError(by, reason) };
      await this.book.save(ended);
      this.publish('xyn.run.cancelled', ended, { status: 'cancelled', error: ended.error }, by);
      this.wake(ended);
    }
    return this.get(runId);
  }

  /** Approves or rejects the gate a run waits at. */
  async decide(runId: string, stepId: string, decision: 'approved' | 'rejected', by: string, reason: string | null): Promise<StepRecord> {
    const run = this.get(runId);
    const step = this.step(runId, stepId);
    if (step.kind !== 'gate') throw new RunStateError(`step ${stepId} of run ${runId} is a ${step.kind}, not a gate`, { run_id: runId, step_id: stepId, kind: step.kind });
    const live = this.live.get(runId);
    if (!live || live.actor.waitingOn !== stepId) {
      const where = ENDED_RUN.has(run.status) ? `the run has ended ${run.status}` : step.status === 'created' ? 'the run has not reached it yet' : `the gate is ${step.status}${step.gate ? ` (${step.gate.decision} by ${step.gate.by})` : ''}`;
      throw new RunStateError(`step ${stepId} of run ${runId} is not waiting for a decision: ${where}`, { run_id: runId, step_id: stepId, status: step.status });
    }
    return live.actor.decide(stepId, { decision, by, reason, at: new Date(this.clock.now()).toISOString() });
  }

  /** Resolves with the run's record once it has ended. */
  ended(runId: string): Promise<RunRecord> {
    const run = this.get(runId);
    if (ENDED_RUN.has(run.status)) return Promise.resolve(run);
    return new Promise((resolve) => {
      const list = this.endWaiters.get(runId) ?? [];
      list.push(resolve);
      this.endWaiters.set(runId, list);
    });
  }

  /** Live runs and runs waiting for a slot. */
  stats(): { live: number; waiting: number; queued: number; router_seq: number } {
    return { live: this.live.size, waiting: this.parked.size, queued: this.queue.length, router_seq: this.router.position };
  }

  private blueprint(id: string, version?: number): Active {
    const active = this.active.get(id);
    if (active && (version === undefined || version === active.record.version)) return active;
    return this.drafts.getBlueprint(id, version === undefined ? {} : { version });
  }

  /** Reads the active blueprints and gives the triggers theirs. */
  private refresh(): void {
    const active = new Map<string, Active>();
    for (let cursor: string | null | undefined; ; ) {
      const page = this.drafts.listBlueprints({ limit: 500, ...(cursor ? { cursor } : {}) });
      for (const record of page.items) active.set(record.blueprint_id, this.drafts.getBlueprint(record.blueprint_id, { version: record.version }));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    this.active = active;
    const events: EventTrigger[] = [];
    const crons = [];
    for (const { record, definition } of active.values()) {
      const t = definition.trigger;
      if (t.event_type !== undefined) events.push({ blueprint_id: record.blueprint_id, version: record.version, pattern: t.event_type, active_from: record.promoted_at });
      if (t.cron !== undefined) crons.push({ blueprint_id: record.blueprint_id, version: record.version, cron: t.cron, ...(t.timezone ? { timezone: t.timezone } : {}) });
    }
    this.router.set(events);
    this.cron.set(crons);
  }

  private async startFromEvent(t: EventTrigger, event: XynEvent, key: string, depth: number): Promise<void> {
    const hook = event.event_name.startsWith('xyn.hook.');
    try {
      await this.create({
        blueprint_id: t.blueprint_id,
        version: t.version,
        inputs: inputsFrom(event.data, this.active.get(t.blueprint_id)?.definition),
        actor: 'system',
        trigger: { kind: hook ? 'hook' : 'event', event_name: event.event_name, event_seq: event.seq },
        event,
        key,
        chain_depth: depth,
      });
    } catch (err) {
      // The event is handled: a run its data cannot make is said, not retried.
      this.kernel.log.warn({ err, blueprint_id: t.blueprint_id, event_seq: event.seq }, 'an event matched a blueprint but could not start a run of it');
      this.kernel.bus
        .publish('xyn.trigger.failed', { blueprint_id: t.blueprint_id, event_seq: event.seq, event_name: event.event_name, error: { code: (err as XynError).code ?? 'ERROR', message: (err as Error).message } }, { correlation_id: event.correlation_id })
        .catch(() => undefined);
    }
  }

  private async startFromCron(f: CronFire): Promise<void> {
    await this.admit();
    await this.create({
      blueprint_id: f.blueprint_id,
      version: f.version,
      actor: 'system',
      trigger: { kind: 'cron', scheduled_at: new Date(f.scheduled_at).toISOString(), missed: f.missed },
      key: `cron:${f.blueprint_id}:${f.scheduled_at}`,
    });
  }

  /** Runs going on (not waiting at a gate). */
  private get busy(): number {
    return this.live.size - this.parked.size;
  }

  /** Runs going on, waiting for a slot, or being written. */
  private get load(): number {
    return this.busy + this.queue.length + this.creating;
  }

  /** Resolves when fewer than XYN_RUNS_MAX_ACTIVE runs go on, wait or are being made. */
  private admit(): Promise<void> {
    if (this.stopped || this.load < this.kernel.config.XYN_RUNS_MAX_ACTIVE) return Promise.resolve();
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  private enqueue(runId: string, priority: number): void {
    if (this.stopped || this.live.has(runId)) return;
    const at = this.queue.findIndex((q) => q.priority < priority);
    if (at < 0) this.queue.push({ runId, priority });
    else this.queue.splice(at, 0, { runId, priority });
    this.launchQueued();
  }

  private launchQueued(): void {
    while (!this.stopped && this.queue.length > 0 && this.busy < this.kernel.config.XYN_RUNS_MAX_ACTIVE) {
      const { runId } = this.queue.shift() as { runId: string };
      this.launch(runId);
    }
    while (this.slotWaiters.length > 0 && this.load < this.kernel.config.XYN_RUNS_MAX_ACTIVE) this.slotWaiters.shift()?.();
  }

  private launch(runId: string): void {
    const { kernel } = this;
    const secrets = this.options.secrets ? new RunSecrets(this.options.secrets) : undefined;
    const actor = new RunActor(runId, {
      book: this.book,
      bus: kernel.bus,
      clock: this.clock,
      log: kernel.log,
      limits: { maxSteps: kernel.config.XYN_RUN_MAX_STEPS, maxWallMs: kernel.config.XYN_RUN_MAX_WALL_MS },
      actionContext: (run, step, signal, stepLog) => this.actionContext(run, step, signal, stepLog),
      ...(this.meter ? { footprints: this.meter } : {}),
      agent: this.agent,
      scrub: (value) => (secrets ? secrets.scrub(value) : value),
      ...(this.options.artifacts ? { logs: this.stepLogs(this.options.artifacts) } : {}),
      ended: (run) => this.retire(runId, run),
      parked: (waiting) => {
        if (waiting) this.parked.add(runId);
        else this.parked.delete(runId);
        if (waiting) this.launchQueued();
      },
    });
    const supervisor = new Supervisor(`run:${runId}`, { strategy: 'one_for_one', maxRestarts: RUN_MAX_RESTARTS, withinMs: RUN_RESTART_WINDOW_MS, notice: kernel.notice }, [actor]);
    supervisor.onCrash((error) => void this.crashedOut(runId, error));
    this.live.set(runId, { actor, supervisor, secrets });
    this.runs.add(supervisor, { temporary: true }).catch((err: unknown) => this.crashedOut(runId, err as Error));
  }

  /** A run whose actor kept crashing ends failed, with the last crash as its error. */
  private async crashedOut(runId: string, error: Error): Promise<void> {
    const run = this.book.get(runId);
    if (!run || ENDED_RUN.has(run.status)) return;
    const crash = { code: 'RUN_CRASHED', message: `the run's actor kept crashing (${RUN_MAX_RESTARTS} restarts within ${RUN_RESTART_WINDOW_MS / 1000} s): ${error.message}` };
    const secrets = this.live.get(runId)?.secrets;
    const failed: RunRecord = { ...run, status: 'failed', completed_at: new Date(this.clock.now()).toISOString(), waiting_on: null, error: secrets ? secrets.scrub(crash) : crash };
    await this.book.save(failed);
    this.publish('xyn.run.failed', failed, { status: 'failed', error: failed.error }, 'system');
    this.retire(runId, failed);
  }

  private retire(runId: string, run: RunRecord): void {
    const live = this.live.get(runId);
    if (live) {
      this.live.delete(runId);
      this.parked.delete(runId);
      this.runs.remove(live.supervisor);
    }
    this.wake(run);
    this.launchQueued();
  }

  /** Tells who waits for the run's end, and judges its impressions (after: a waiter reads the run, not them). */
  private wake(run: RunRecord): void {
    for (const resolve of this.endWaiters.get(run.run_id) ?? []) resolve(run);
    this.endWaiters.delete(run.run_id);
    this.meter?.runEnded(run.run_id);
    this.judge?.runEnded(run).catch((err: unknown) => this.kernel.log.error({ err, run_id: run.run_id }, 'impressions of an ended run not recorded'));
  }

  private actionContext(run: RunRecord, step: StepRecord, signal: AbortSignal, stepLog?: StepLogPort): ActionContext {
    const { kernel } = this;
    const { hxo, artifacts } = this.options;
    const secrets = this.live.get(run.run_id)?.secrets;
    const ctx: ActionContext = {
      runId: run.run_id,
      stepId: step.step_id,
      correlationId: run.correlation_id,
      signal,
      bus: kernel.bus,
      log: kernel.log,
      drafts: this.drafts,
      ...(this.meter ? { footprints: this.meter.portFor(run, step) } : {}),
      containers: this.containers,
      // Made by the first action that uses it; kept after the run ends, for what its steps left there.
      workspace: join(kernel.config.dataDir, 'workspaces', run.run_id),
      ...(secrets ? { secrets } : {}),
      ...(hxo ? { hxo: { engine: hxo.engine, baseDir: hxo.baseDir, principal: `xyn:run:${run.run_id}` } } : {}),
      ...(this.options.knownHosts ? { knownHosts: this.options.knownHosts } : {}),
      ...(stepLog ? { stepLog } : {}),
    };
    // Made last: what it puts is counted in the step's footprints, when the context has them.
    if (artifacts) ctx.artifacts = new RunArtifacts(artifacts, { runId: run.run_id, stepId: step.step_id, createdBy: `xyn:run:${run.run_id}`, footprints: ctx.footprints });
    return ctx;
  }

  /** Each step's log, kept as an artifact of its run when the step ends. */
  private stepLogs(book: ArtifactBook): StepLogs {
    return {
      // A line is scrubbed of the secrets the run resolved so far (a later one's value cannot be in it yet).
      open: (run) => new StepLog(this.clock, (value) => this.live.get(run.run_id)?.secrets?.scrub(value) ?? value),
      save: async (run, step, log) => {
        try {
          return await log.save(new RunArtifacts(book, { runId: run.run_id, stepId: step.step_id, createdBy: `xyn:run:${run.run_id}` }), `${step.step_id}.log`);
        } catch (err) {
          // The step's end is recorded all the same: a log that cannot be kept (a full disk, the quota) is said here.
          this.kernel.log.warn({ err, run_id: run.run_id, step_id: step.step_id }, "a step's log could not be kept as an artifact");
          return null;
        }
      },
    };
  }

  private publish(name: string, run: RunRecord, data: Record<string, unknown>, actor: string): void {
    publishRunEvent(this.kernel.bus, this.kernel.log, name, run, data, null, actor);
  }
}

/** An event's data as a run's inputs: the fields of it the blueprint declares as inputs (the rest stay in `{{event.data}}`). */
function inputsFrom(data: unknown, definition: Blueprint | undefined): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || !definition) return {};
  const fields = data as Record<string, unknown>;
  return Object.fromEntries(definition.inputs.filter((i) => Object.hasOwn(fields, i.name)).map((i) => [i.name, fields[i.name]]));
}
