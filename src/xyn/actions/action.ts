/**
 * The contract every action plugin keeps, so the runner can dispatch on a
 * step's `action` without knowing any one of them: the input it takes (a
 * step's `with`, templates resolved), what it gives (its object keys are the
 * step's output names, for the blueprint validator too), whether re-running it
 * is safe, and what of its input may be recorded.
 *
 *   const input = parseActionInput(httpCall, step.with);           // ActionInputError naming the field
 *   const out = await httpCall.execute(input, ctx);
 *   const retry = idempotentFor(httpCall, input);                   // GET yes, POST no
 */
import type Dockerode from 'dockerode';
import type { z } from 'zod';
import { describeIssue, issuePath } from '../../core/errors.ts';
import type { Bus } from '../../kernel/bus.ts';
import type { Logger } from '../../kernel/log.ts';
import { ActionInputError } from './errors.ts';
import type { HxoEngine } from '../../hxo/engine.ts';

export interface ActionContext {
  runId: string;
  stepId: string;
  correlationId: string;
  /**
   * Aborted when the run is cancelled, passes its wall clock, or the node
   * stops: the action gives up at once. When the node stops, its reason is a
   * RunHalted: the step will be run again at the next start (if idempotent),
   * so work it started that outlives the node (an HXO plan) is left to go on.
   */
  signal: AbortSignal;
  bus: Bus;
  log?: Logger;
  /** The node's HXO engine, for hxo.submit; absent on a node that runs none. */
  hxo?: HxoActionContext;
  /** The node's drafts and blueprints, for drafts.save, blueprints.validate and blueprints.promote; absent on a node that keeps none. */
  drafts?: DraftsPort;
  /** Secrets by reference (`*_ref` fields), for this run: every value resolved is scrubbed from what the run records. */
  secrets?: SecretsPort;
  /** Artifacts of this run and step (a prompt, an answer, a command's full output). */
  artifacts?: ArtifactsPort;
  /** Footprints of this step (bytes in and out, tokens, requests). */
  footprints?: FootprintsPort;
  /** The step's log: JSON lines kept as the step's log artifact (`logs_artifact_id`). */
  stepLog?: StepLogPort;
  /** A directory of this run's own, the only one a container may mount. */
  workspace?: string;
  /** The node's container engine (a Docker-compatible API), for container.exec. */
  containers?: ContainersPort;
  /** The SSH host keys the node trusts (its known_hosts), for ssh.run. */
  knownHosts?: KnownHostsPort;
}

/** The node's container engine: one client for the node, checked to answer before each use. */
export interface ContainersPort {
  /** Where it is, for messages: unix:///var/run/docker.sock, tcp://host:2375. */
  readonly address: string;
  /** The client, once the engine answers; throws CONTAINER_ENGINE_UNAVAILABLE naming the address and how to set it. */
  connect(): Promise<Dockerode>;
}

/** What a host key check found: the key was the one pinned, or none was and it now is. */
export interface HostKeyCheck {
  outcome: 'known' | 'pinned';
  /** `SHA256:…`, as OpenSSH prints it. */
  fingerprint: string;
  key_type: string;
}

/** SSH host keys by trust on first use: a host's first key is pinned, another one refused. */
export interface KnownHostsPort {
  /** Checks the key host:port offers (SSH wire encoding); throws SSH_HOST_KEY_CHANGED, naming both fingerprints and the line to remove, when another is pinned. */
  verify(host: string, port: number, key: Uint8Array): Promise<HostKeyCheck>;
}

/** Secrets by reference: `private_key_ref: deploy-key` names a secret, never holds its value. */
export interface SecretsPort {
  /** The value of the secret `ref`; throws a SECRET_NOT_FOUND error naming the ref and where it was looked for. */
  resolve(ref: string): Promise<string>;
  /** `value` with every secret this run resolved replaced by '[redacted]' (strings, deep in objects and arrays). */
  scrub<T>(value: T): T;
}

/** Bytes kept as an artifact of the run and step the port was made for. */
export interface ArtifactsPort {
  put(input: {
    name: string;
    /** log | prompt | response | report | file … */
    kind: string;
    content_type: string;
    body: string | Uint8Array | AsyncIterable<Uint8Array>;
    metadata?: Record<string, unknown>;
  }): Promise<{ artifact_id: string; sha256: string; byte_length: number }>;
}

/** One measured consumption (seed 004 §5.3): `{metric: 'tokens_in', quantity: 812, unit: 'tokens', dims: {provider, model}}`. */
export interface FootprintInput {
  metric: string;
  quantity: number;
  unit: string;
  /** Low-cardinality dimensions only (provider, model, action), per §5.3.3. */
  dims?: Record<string, string | number | boolean>;
}

export interface FootprintsPort {
  record(footprint: FootprintInput): void;
}

export interface StepLogPort {
  /** One JSON line of the step's log; secrets the run resolved are scrubbed from it. */
  write(entry: { msg: string; level?: 'debug' | 'info' | 'warn' | 'error' } & Record<string, unknown>): void;
}

/** What the runner gives an action that runs plans: the node's engine, and whom the plans are submitted as. */
export interface HxoActionContext {
  engine: HxoEngine;
  /** Where `file` and a plan's relative module paths are resolved against. */
  baseDir: string;
  /** Who submits (audit, `submitted_by`); default `xyn:run:<runId>`. */
  principal?: string;
  role?: string;
  /** The submitter's capabilities, checked by the plan's safety policy; none given: not restricted. */
  capabilities?: ReadonlySet<string>;
}

/**
 * What the drafts actions need of the node's drafts — the node's DraftBook
 * (src/xyn/drafts/) has it. Said here, not imported from there, so actions
 * do not depend on drafts, which depend on blueprints, which list actions.
 */
export interface DraftsPort {
  save(input: { draft_id?: string | undefined; text: string; file_name?: string | undefined; by: string }): Promise<{ draft_id: string; revision: number; definition_sha256: string }>;
  validate(draftId: string, opts?: { revision?: number | undefined }): Promise<{ report: { draft_id: string; revision: number; is_valid: boolean; issues: { path: string; message: string }[] }; report_sha256: string }>;
  promote(draftId: string, opts: { revision: number; by: string }): Promise<{ blueprint_id: string; version: number; definition_sha256: string }>;
}

export interface Action<I, O> {
  /** As a blueprint names it: 'http.call'. */
  name: string;
  /** Checks a step's `with` once templates are resolved. */
  input: z.ZodType<I>;
  /** What it returns: an object schema, whose keys are the step's output names. */
  output: z.ZodObject & z.ZodType<O>;
  /** May it be retried / re-run after a restart, whatever its input (see isIdempotent). */
  idempotent: boolean;
  /** A finer answer for one input (an HTTP GET is safe to repeat, a POST is not); without it, `idempotent`. */
  isIdempotent?: (input: I) => boolean;
  /** Its input as it may be recorded (audit, logs): secrets replaced by '[redacted]'. */
  redact?: (input: I) => I;
  execute(input: I, ctx: ActionContext): Promise<O>;
}

/** The abort reason of a run halted because its node stops (not cancelled: its step goes on at the next start). */
export class RunHalted extends Error {
  constructor() {
    super('the node is stopping');
    this.name = 'RunHalted';
  }
}

/** Whether `signal` was aborted because the node stops, not because the run must end. */
export function haltedOnly(signal: AbortSignal): boolean {
  return signal.reason instanceof RunHalted;
}

/** An action of any input and output, as a registry holds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry's entries differ in I and O; callers go through parseActionInput
export type AnyAction = Action<any, Record<string, unknown>>;

/** A step's resolved `with` as the action's input; throws ActionInputError naming the first field it refuses. */
export function parseActionInput<I>(action: Action<I, unknown>, raw: unknown): I {
  const parsed = action.input.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  throw new ActionInputError(`${action.name}: ${describeIssue('', issue, 'with')}`, issuePath('', issue.path) || 'with');
}

/** Whether re-running the action with this input is safe. */
export function idempotentFor<I>(action: Action<I, unknown>, input: I): boolean {
  return action.isIdempotent ? action.isIdempotent(input) : action.idempotent;
}

/** Its input as it may be recorded. */
export function redactedInput<I>(action: Action<I, unknown>, input: I): I {
  return action.redact ? action.redact(input) : input;
}

/** The step output names the action gives: its output schema's keys. */
export function outputNames(action: Pick<Action<unknown, unknown>, 'output'>): string[] {
  return Object.keys(action.output.shape);
}
