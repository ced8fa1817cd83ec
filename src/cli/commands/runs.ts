/**
 * `xyn runs list|show|start|cancel|approve|reject`: workflow runs on a
 * running node, through its API (`--url`, `--token`; or XYN_URL,
 * XYN_TOKEN). Bad input — a flag, a malformed run id, inputs that are not a
 * JSON object, and whatever the node refuses (an unknown run, a gate that
 * does not wait) — is one line on stderr and exit 2; no node at the URL is
 * exit 1.
 *
 *   xyn runs start ops.restart --input host=web-1 --input force=true
 *   xyn runs list --status running
 *   xyn runs approve 0193… confirm --reason "checked the diff"
 */
import { InvalidArgumentError, type Command } from 'commander';
import { RUN_STATUSES } from '../../xyn/runs/records.ts';
import { RunsClient, type RunInfo, type RunListQuery } from '../../sdk/runs.ts';
import { remoteOf, type RemoteFlags } from '../api-client.ts';
import { runSummary, runTable } from '../run-summary.ts';
import { withNodeFlags } from './plans.ts';

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const client = (flags: RemoteFlags): RunsClient => new RunsClient(remoteOf(flags));
const print = (text: string): void => void process.stdout.write(text);
const printJson = (value: unknown): void => print(`${JSON.stringify(value, null, 2)}\n`);

function runIdArg(value: string): string {
  if (!RUN_ID.test(value)) throw new InvalidArgumentError(`a run id is a UUID (8-4-4-4-12 lowercase hex digits), got ${shown(value)}`);
  return value;
}

function statusArg(value: string): RunInfo['status'] {
  if (!(RUN_STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`--status must be one of ${RUN_STATUSES.join(', ')}, got ${shown(value)}`);
  return value as RunInfo['status'];
}

export function limitArg(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 500) throw new InvalidArgumentError(`--limit must be a whole number from 1 to 500, got ${shown(value)}`);
  return Number(value);
}

/** `--input k=v`, repeatable: the value as JSON when it reads as JSON (3, true, "x", [1]), else as the text it is. */
function inputArg(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError(`--input must be NAME=VALUE, got ${shown(value)}`);
  const raw = value.slice(at + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not JSON: the text itself.
  }
  return { ...previous, [value.slice(0, at)]: parsed };
}

function inputsArg(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`--inputs must be a JSON object: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError(`--inputs must be a JSON object, got ${shown(value)}`);
  return parsed as Record<string, unknown>;
}

export function shown(value: string): string {
  return value.length > 40 ? `"${value.slice(0, 40)}…" (${value.length} characters)` : `"${value}"`;
}

type ListFlags = RemoteFlags & { status?: RunInfo['status']; blueprint?: string; limit?: number; cursor?: string; json?: boolean };
type StartFlags = RemoteFlags & { input?: Record<string, unknown>; inputs?: Record<string, unknown>; name?: string; priority?: number; json?: boolean };
type ReasonFlags = RemoteFlags & { reason?: string; json?: boolean };

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description("workflow runs on a running node (its API: --url, --token)");

  withNodeFlags(runs.command('list'))
    .description('runs, newest first, as a table: run_id, status, blueprint, waiting_on, created_at')
    .option('--status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`, statusArg)
    .option('--blueprint <id>', 'only runs of this blueprint')
    .option('--limit <n>', 'at most this many (1..500, default 50)', limitArg)
    .option('--cursor <run_id>', 'the page after this run (the next page a list printed)', runIdArg)
    .option('--json', 'print the answer: {items, next_cursor}')
    .action(async (flags: ListFlags) => {
      const query: RunListQuery = { ...(flags.status ? { status: flags.status } : {}), ...(flags.blueprint ? { blueprint: flags.blueprint } : {}), ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.cursor ? { cursor: flags.cursor } : {}) };
      const page = await client(flags).list(query);
      if (flags.json) return printJson(page);
      print(runTable(page.items));
      if (page.next_cursor) process.stderr.write(`more: xyn runs list --cursor ${page.next_cursor}\n`);
    });

  withNodeFlags(runs.command('show'))
    .argument('<run_id>', 'the run', runIdArg)
    .description('a run and its steps: status, trigger, inputs, outputs, error, and each step with its gate decision')
    .option('--json', 'print {run, steps}')
    .action(async (runId: string, flags: RemoteFlags & { json?: boolean }) => {
      const node = client(flags);
      const run = await node.get(runId);
      const steps = await node.steps(runId);
      if (flags.json) return printJson({ run, steps });
      print(runSummary(run, steps));
    });

  withNodeFlags(runs.command('start'))
    .argument('<blueprint_ref>', 'a promoted blueprint: ID (its active version) or ID@VERSION')
    .description('start a run of a promoted blueprint; prints its run id')
    .option('--input <name=value>', 'an input (repeatable); VALUE is read as JSON when it is JSON, else as text', inputArg)
    .option('--inputs <json>', 'the inputs as one JSON object (--input values win)', inputsArg)
    .option('--name <name>', "the run's name (default: the blueprint's)")
    .option('--priority <n>', 'higher starts first when runs wait for a slot', (v) => {
      if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`--priority must be a whole number, got ${shown(v)}`);
      return Number(v);
    })
    .option('--json', 'print the run')
    .action(async (ref: string, flags: StartFlags) => {
      const inputs = flags.inputs || flags.input ? { ...flags.inputs, ...flags.input } : undefined;
      const run = await client(flags).start(ref, { ...(inputs ? { inputs } : {}), ...(flags.name ? { name: flags.name } : {}), ...(flags.priority !== undefined ? { priority: flags.priority } : {}) });
      if (flags.json) return printJson(run);
      print(`run ${run.run_id} ${run.status} (blueprint ${run.blueprint_id}@${run.blueprint_version})\n`);
    });

  withNodeFlags(runs.command('cancel'))
    .argument('<run_id>', 'the run', runIdArg)
    .description('cancel a run that has not ended (exit 2 if it has)')
    .option('--reason <text>', 'why: kept on the audit trail')
    .option('--json', 'print the run')
    .action(async (runId: string, flags: ReasonFlags) => {
      const run = await client(flags).cancel(runId, flags.reason);
      if (flags.json) return printJson(run);
      print(`run ${run.run_id} ${run.status}\n`);
    });

  for (const verb of ['approve', 'reject'] as const) {
    withNodeFlags(runs.command(verb))
      .argument('<run_id>', 'the run', runIdArg)
      .argument('<step_id>', 'the gate it waits at')
      .description(`${verb} the gate a run waits at${verb === 'reject' ? ' (the run fails)' : ''}; exit 2 if it does not wait there`)
      .option('--reason <text>', 'why: kept with the step and on the audit trail')
      .option('--json', 'print the step')
      .action(async (runId: string, stepId: string, flags: ReasonFlags) => {
        const node = client(flags);
        const step = await (verb === 'approve' ? node.approve(runId, stepId, flags.reason) : node.reject(runId, stepId, flags.reason));
        if (flags.json) return printJson(step);
        const gate = step.gate && step.gate.decision !== 'waiting' ? step.gate : undefined;
        print(`run ${runId}: gate ${step.step_id} ${gate ? `${gate.decision} by ${gate.by}` : step.status}\n`);
      });
  }
}
