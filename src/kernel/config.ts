/**
 * The node's configuration: one zod-validated object built from environment
 * variables (every HXO_* of seed 001, the XYN_* of DESIGN.md §7, provider keys)
 * over an optional YAML/JSON file (XYN_CONFIG), over the defaults.
 *
 * A wrong value stops the start with a ConfigError naming the variable:
 *   loadConfig({ env: { HXO_MAX_SHARDS: 'lots' } })
 *   // ConfigError: HXO_MAX_SHARDS: expected an integer, got "lots"
 */
import { dataPaths, type DataPaths } from './data-paths.ts';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { XynError, registerErrorClass } from '../core/errors.ts';

export class ConfigError extends XynError {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`, 'CONFIG', { variable, problem });
  }
}
registerErrorClass(ConfigError);

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: 'expected an integer' })
    .int({ error: 'expected an integer' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });
const bool = z.preprocess(
  (v) => (typeof v === 'string' ? { true: true, '1': true, yes: true, false: false, '0': false, no: false }[v.toLowerCase()] ?? v : v),
  z.boolean({ error: 'expected true or false' }),
);
const rate = z.coerce.number({ error: 'expected a number' }).min(0).max(1, { error: 'must be between 0 and 1' });
const url = z.url({ error: 'expected a URL' });

/**
 * Event-log size cap by default: a million-shard plan's events take about
 * 65 MiB of log (measured on compute.hash), so this keeps the last thirty or
 * so of them, a tenth of the artifact quota.
 */
export const DEFAULT_EVENTS_MAX_BYTES = 2 * 1024 ** 3;
/** Below a MiB a cap would trim the log down to a few hundred events. */
const MIN_EVENTS_BYTES = 1024 ** 2;

/** Below a MiB the stream's cache would not hold one page of a busy plan's events (api/event-frames.ts). */
const MIN_STREAM_CACHE_BYTES = 1024 ** 2;

/** Variables that were renamed: setting the old name is an error saying the new one, never silently ignored. */
const RENAMED: Record<string, string> = { XYN_EVENT_RETENTION_DAYS: 'XYN_EVENTS_RETAIN_DAYS' };

/** Every variable with its default; the names are the contract (seed 001, DESIGN.md §7). */
export const configSchema = z.object({
  // HXO (seed 001)
  HXO_ENABLED: bool.default(true),
  HXO_DEFAULT_SLO_MS: int(1).default(120_000),
  HXO_SHARD_TIMEOUT_MS: int(1).default(15_000),
  HXO_MAX_CONCURRENCY: int(1).default(64),
  HXO_MAX_SHARDS: int(1).default(1_000_000),
  HXO_AUTOSPLIT_P95_MS: int(1).default(8_000),
  HXO_AUTOSPLIT_FACTOR: int(2, 64).default(4),
  HXO_DB_PATH: z.string().min(1).optional(),
  HXO_ARTIFACTS_DIR: z.string().min(1).optional(),
  HXO_ALLOW_CAPTAIN_VIEW: bool.default(true),
  HXO_EVENT_BATCH_SIZE: int(1).default(100),
  HXO_EVENT_MAX_RATE: int(1).default(1_000),
  HXO_AUTOTUNE_SAMPLE_RATE: rate.default(0.1),
  /** A plan actor that crashes more than this many times within HXO_PLAN_RESTART_WINDOW_MS ends failed (src/hxo/run/plan-actor.ts). */
  HXO_PLAN_MAX_RESTARTS: int(0, 1_000).default(3),
  HXO_PLAN_RESTART_WINDOW_MS: int(1).default(60_000),
  /** Job-kind modules every plan may use (comma-separated paths, relative to the working dir). */
  HXO_JOB_KIND_MODULES: z
    .string()
    .transform((v) => v.split(',').map((m) => m.trim()).filter(Boolean))
    .default([]),
  /**
   * Directories (comma-separated, relative to the working dir) that plans
   * submitted over HTTP may load job-kind modules from, besides the node's
   * plan directory (src/hxo/plan/plan-modules.ts).
   */
  XYN_MODULE_DIRS: z
    .string()
    .transform((v) => v.split(',').map((m) => m.trim()).filter(Boolean))
    .default([]),
  /**
   * Directories (comma-separated, relative to the working dir) that plans
   * submitted over HTTP may read files from (a stage's `config.root`),
   * besides the node's plan directory (src/hxo/plan/plan-inputs.ts).
   */
  XYN_INPUT_DIRS: z
    .string()
    .transform((v) => v.split(',').map((m) => m.trim()).filter(Boolean))
    .default([]),
  // Xyn node (DESIGN.md §7)
  XYN_DATA_DIR: z.string().min(1).default('./.xyn'),
  XYN_HOST: z.string().min(1).default('127.0.0.1'),
  XYN_PORT: int(0, 65_535).default(8000),
  XYN_AUTH: z.enum(['token', 'open'], { error: 'expected "token" or "open"' }).default('token'),
  /**
   * 'on': the API's port is the gate's (src/api/gate/), which answers every
   * request; 'off': uWS listens on it itself — faster, for a node behind a
   * proxy that already answers malformed requests (uWS alone leaves some
   * unanswered: README, "What a request may be"). On by default: every
   * request is answered, at the cost of throughput.
   */
  XYN_API_GATE: z.enum(['on', 'off'], { error: 'expected "on" or "off"' }).default('on'),
  XYN_WORKERS: int(1, 256).default(availableParallelism()),
  /**
   * How shard threads give way to the main thread, so the API stays responsive
   * while plans use every core: 'idle' (Linux SCHED_IDLE: they use only CPU nothing
   * else wants — background batch work), 'low' (nice +5: a fair share even next to
   * other busy programs), 'normal'.
   */
  XYN_WORKER_PRIORITY: z.enum(['idle', 'low', 'normal'], { error: 'expected "idle", "low" or "normal"' }).default('idle'),
  XYN_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  XYN_ENV_ID: z.string().min(1).default('local'),
  /** LMDB map size in bytes (default 32 GiB of address space; the map grows on demand). */
  XYN_STORE_MAP_SIZE: int(1 << 20).optional(),
  /** Bytes kept free in a reserve file beside the store, released when the disk fills so what is under way can land (0: none). */
  XYN_STORE_RESERVE_BYTES: int(0).default(8 * 1024 * 1024),
  /** While the store's disk is full, how often its free space is looked at (ms). */
  XYN_STORE_SPACE_PROBE_MS: int(10, 60_000).default(1000),
  /** Retention: keep the data of the last N ended plans (0: no limit by count). */
  XYN_RETAIN_PLANS: int(0).default(10),
  /** Retention: keep the data of plans created in the last N days (0: no limit by age). */
  XYN_RETAIN_DAYS: int(0).default(30),
  /** How often a node applies retention (ms; 0: never on its own). */
  XYN_GC_INTERVAL_MS: int(0).default(60 * 60 * 1000),
  // Resource limits and safety rails (seed 004 §38)
  XYN_MAX_CONCURRENT_WORKCELLS: int(1).default(3),
  XYN_MAX_CONCURRENT_CI_WORKCELLS: int(1).default(1),
  XYN_WORKCELL_TTL_MS: int(1).default(2 * 60 * 60 * 1000),
  XYN_ARTIFACT_QUOTA_BYTES: int(1).default(20 * 1024 ** 3),
  XYN_MAX_ARTIFACT_BYTES: int(1).default(250 * 1024 ** 2),
  /** Events older than this many days are trimmed from the event log; 0 keeps them whatever their age. */
  XYN_EVENTS_RETAIN_DAYS: int(0, 36_500).default(7),
  /** The event log's size cap: over it, its oldest events are trimmed; 0 for no cap. */
  XYN_EVENTS_MAX_BYTES: int(0)
    .refine((v) => v === 0 || v >= MIN_EVENTS_BYTES, { error: `must be 0 (no cap) or at least ${MIN_EVENTS_BYTES} (1 MiB)` })
    .default(DEFAULT_EVENTS_MAX_BYTES),
  /** Stream connections (WebSocket /api/v1/stream) the node serves at once; one more is closed with 1013. */
  XYN_STREAM_MAX_CLIENTS: int(1).default(1000),
  /** Subscriptions one stream connection may hold; one more closes it with 1008. */
  XYN_STREAM_MAX_SUBSCRIPTIONS: int(1, 1024).default(32),
  /** Bytes of encoded events the stream keeps for all its clients (each event encoded once, shared). */
  XYN_STREAM_CACHE_BYTES: int(MIN_STREAM_CACHE_BYTES).default(32 * 1024 ** 2),
  /** Steps a workflow run may start (skipped ones included); the next fails the run (src/xyn/runs). */
  XYN_RUN_MAX_STEPS: int(1).default(200),
  /** A run's wall clock, time waiting at a gate not counted: past it the run fails. */
  XYN_RUN_MAX_WALL_MS: int(1).default(60 * 60 * 1000),
  /** Runs that go on at once (not counting runs waiting at a gate); triggers past it wait (their events stay in the log) and `xyn.trigger.lagged` says so. */
  XYN_RUNS_MAX_ACTIVE: int(1).default(256),
  /** Events the trigger router may be behind the log before it reports `xyn.trigger.lagged`. */
  XYN_TRIGGER_LAG_EVENTS: int(1).default(10_000),
  /** A YAML/JSON file of impression rules (src/xyn/footprints): the labels an ended run is given. */
  XYN_IMPRESSION_RULES: z.string().min(1).optional(),
  /** Where container.exec finds a Docker-compatible API: unix:///path/to/socket or tcp://host:port; unset: DOCKER_HOST, then unix:///var/run/docker.sock. */
  XYN_DOCKER_HOST: z.string().regex(/^(unix:\/\/\/|tcp:\/\/)\S+$/, { error: 'expected unix:///path/to/docker.sock or tcp://host:port' }).optional(),
  /** Docker's own variable, read when XYN_DOCKER_HOST is unset. */
  DOCKER_HOST: z.string().min(1).optional(),
  /** Where each new notification is POSTed as JSON (src/xyn/notifications); unset: notifications stay in the node. */
  XYN_NOTIFY_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
  /** Signs each webhook body: X-Xyn-Signature: sha256=<hex HMAC-SHA256>. */
  XYN_NOTIFY_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** A webhook attempt that takes longer is given up and tried again. */
  XYN_NOTIFY_WEBHOOK_TIMEOUT_MS: int(1).default(10_000),
  /** Attempts per notification before its delivery is `failed`. */
  XYN_NOTIFY_WEBHOOK_ATTEMPTS: int(1, 1000).default(10),
  /** Wait before the second attempt, doubling each time after (at most 5 minutes). */
  XYN_NOTIFY_WEBHOOK_BACKOFF_MS: int(1).default(1000),
  /** Like failures within this long of the last one count into its open notification instead of raising another. */
  XYN_NOTIFY_COLLAPSE_MS: int(0).default(10 * 60 * 1000),
  /** The key of DATA_DIR/secrets.enc: 32 bytes as 64 hex digits or base64, or a passphrase (src/xyn/secrets/secrets-key.ts). */
  XYN_SECRETS_KEY: z.string().min(1).optional(),
  /** Largest single artifact in bytes (seed 004 §38.1: 250 MB); an upload past it is refused 413 as it streams. */
  XYN_ARTIFACT_MAX_BYTES: int(1).default(250 * 1024 ** 2),
  /** Bytes all of the node's artifacts may hold together (seed 004 §38.1: 20 GB); an upload that would pass it is refused 413. */
  XYN_ARTIFACTS_QUOTA_BYTES: int(1).default(20 * 1024 ** 3),
  // LLM providers
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: url.optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: url.optional(),
  /** The API keys as secret refs (resolved through the run's secrets), instead of OPENAI_API_KEY / ANTHROPIC_API_KEY. */
  XYN_OPENAI_API_KEY_REF: z.string().min(1).optional(),
  XYN_ANTHROPIC_API_KEY_REF: z.string().min(1).optional(),
  /** agent_task routing (src/xyn/agents): the provider and model every step uses, over what its blueprint says. */
  XYN_AGENT_PROVIDER: z.enum(['openai', 'anthropic'], { error: 'expected "openai" or "anthropic"' }).optional(),
  XYN_AGENT_MODEL: z.string().min(1).optional(),
  /** Each provider's model when a step is routed to it without one of its own (fallback, or XYN_AGENT_PROVIDER naming the other provider). */
  XYN_OPENAI_MODEL: z.string().min(1).default('gpt-4.1-mini'),
  XYN_ANTHROPIC_MODEL: z.string().min(1).default('claude-sonnet-4-5'),
  /** One model request's time limit (ms), its streamed answer included: past it the provider counts as down and the other is tried. */
  XYN_AGENT_REQUEST_TIMEOUT_MS: int(1).default(120_000),
  /** Times a provider answering 429 is waited out and asked again before the other is tried. */
  XYN_AGENT_RATE_LIMIT_RETRIES: int(0, 10).default(2),
  /** The longest `retry-after` waited out (ms); a provider asking for longer counts as down. */
  XYN_AGENT_MAX_RETRY_AFTER_MS: int(0).default(60_000),
});

export type ConfigValues = z.infer<typeof configSchema>;

/** The effective configuration, with derived paths resolved. */
export interface Config extends ConfigValues, DataPaths {
  /** Where each value came from: 'env', 'file' or 'default'. */
  sources: Record<keyof ConfigValues, 'env' | 'file' | 'default'>;
}

export const SECRET_KEYS = new Set<keyof ConfigValues>(['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'XYN_NOTIFY_WEBHOOK_URL', 'XYN_NOTIFY_WEBHOOK_SECRET', 'XYN_SECRETS_KEY']);

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides (e.g. from CLI flags) that win over env and file. */
  overrides?: Partial<Record<keyof ConfigValues, string | number | boolean>>;
  cwd?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const keys = Object.keys(configSchema.shape) as (keyof ConfigValues)[];
  const file = env.XYN_CONFIG ? readConfigFile(resolve(cwd, env.XYN_CONFIG)) : {};

  const raw: Record<string, unknown> = {};
  const sources = {} as Config['sources'];
  for (const key of keys) {
    const fromOverride = options.overrides?.[key];
    const fromEnv = env[key];
    if (fromOverride !== undefined) [raw[key], sources[key]] = [fromOverride, 'env'];
    else if (fromEnv !== undefined && fromEnv !== '') [raw[key], sources[key]] = [fromEnv, 'env'];
    else if (file[key] !== undefined) [raw[key], sources[key]] = [file[key], 'file'];
    else sources[key] = 'default';
  }
  for (const key of Object.keys(file)) {
    if (!keys.includes(key as keyof ConfigValues)) {
      throw new ConfigError(key, RENAMED[key] ? `renamed to ${RENAMED[key]} (in ${env.XYN_CONFIG})` : `unknown setting in ${env.XYN_CONFIG}`);
    }
  }
  for (const [old, now] of Object.entries(RENAMED)) {
    if (env[old] !== undefined && env[old] !== '') throw new ConfigError(old, `renamed to ${now}`);
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'config');
    const given = raw[variable];
    throw new ConfigError(variable, `${issue?.message ?? 'invalid'}${given !== undefined ? `, got ${JSON.stringify(given)}` : ''}`);
  }
  const values = parsed.data;
  if (values.XYN_AUTH === 'open' && !isLoopback(values.XYN_HOST)) {
    throw new ConfigError('XYN_AUTH', `"open" is allowed only when XYN_HOST is a loopback address, got ${values.XYN_HOST}`);
  }
  return {
    ...values,
    ...dataPaths(values, cwd),
    sources,
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('XYN_CONFIG', `cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new ConfigError('XYN_CONFIG', `${path} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('XYN_CONFIG', `${path} must hold a mapping of setting names to values`);
  }
  return parsed as Record<string, unknown>;
}
