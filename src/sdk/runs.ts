/**
 * Workflow runs through a node's API (`/api/v1/runs`, `/api/v1/hooks`): the
 * `runs` of XynClient, and what `xyn runs` and `xyn emit` call.
 *
 *   const run = await node.runs.start('ops.restart@2', { inputs: { host: 'web-1' } });
 *   const { items } = await node.runs.list({ status: 'running' });
 *   await node.runs.approve(run.run_id, 'confirm', 'checked the diff');
 */
import type { XynEvent } from '../core/event.ts';
import { callNode, withQuery, type NodeAddress } from './http.ts';

/** A run as the node gives it (seed 004 §45.4). */
export interface RunInfo {
  run_id: string;
  name: string;
  status: 'created' | 'running' | 'completed' | 'failed' | 'cancelled';
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  actor: string;
  correlation_id: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: { code: string; message: string; step_id?: string; details?: Record<string, unknown> | null } | null;
  blueprint_id: string;
  blueprint_version: number;
  blueprint_digest: string;
  priority: number;
  trigger: { kind: 'event' | 'hook' | 'manual' | 'cron'; event_name?: string; event_seq?: number; scheduled_at?: string; missed?: number };
  step_count: number;
  steps_ended: number;
  /** The gate the run waits at, if it waits. */
  waiting_on: string | null;
}

/** One step of a run (seed 004 §45.4). */
export interface StepInfo {
  step_id: string;
  run_id: string;
  name: string;
  kind: 'agent_task' | 'action_task' | 'gate' | 'transform';
  index: number;
  status: 'created' | 'running' | 'completed' | 'failed' | 'skipped';
  started_at: string | null;
  completed_at: string | null;
  inputs: Record<string, unknown> | null;
  outputs: Record<string, unknown> | null;
  error: RunInfo['error'];
  attempts: number;
  /** A gate's: waiting, or the decision with who and why. */
  gate?: { decision: 'waiting' } | { decision: 'approved' | 'rejected'; by: string; reason: string | null; at: string } | null;
  action?: string | null;
}

export interface RunListQuery {
  status?: RunInfo['status'];
  blueprint?: string;
  cursor?: string;
  limit?: number;
}

export interface StartRunOptions {
  inputs?: Record<string, unknown>;
  name?: string;
  priority?: number;
}

/** What a hook answers: the event it published. */
export interface HookAnswer {
  event_name: string;
  seq: number;
  event_id: string;
  correlation_id: string;
}

const id = encodeURIComponent;

export class RunsClient {
  constructor(private readonly node: NodeAddress) {}

  /** Starts a run of a promoted blueprint: `blueprintRef` is its id (the active version) or `id@version`. */
  start(blueprintRef: string, options: StartRunOptions = {}): Promise<RunInfo> {
    return callNode(this.node, 'POST', '/api/v1/runs', { blueprint_ref: blueprintRef, ...options });
  }

  /** A page of runs, newest first; pass `next_cursor` as `cursor` for the next. */
  list(query: RunListQuery = {}): Promise<{ items: RunInfo[]; next_cursor: string | null }> {
    return callNode(this.node, 'GET', withQuery('/api/v1/runs', query));
  }

  get(runId: string): Promise<RunInfo> {
    return callNode(this.node, 'GET', `/api/v1/runs/${id(runId)}`);
  }

  async steps(runId: string): Promise<StepInfo[]> {
    return (await callNode<{ items: StepInfo[] }>(this.node, 'GET', `/api/v1/runs/${id(runId)}/steps`)).items;
  }

  step(runId: string, stepId: string): Promise<StepInfo> {
    return callNode(this.node, 'GET', `/api/v1/runs/${id(runId)}/steps/${id(stepId)}`);
  }

  cancel(runId: string, reason?: string): Promise<RunInfo> {
    return callNode(this.node, 'POST', `/api/v1/runs/${id(runId)}/cancel`, reason !== undefined ? { reason } : {});
  }

  /** Approves the gate `stepId` the run waits at (ApiRefusedError 409 if it does not wait there). */
  approve(runId: string, stepId: string, reason?: string): Promise<StepInfo> {
    return this.decide(runId, stepId, 'approve', reason);
  }

  /** Rejects the gate: the run fails (GATE_REJECTED). */
  reject(runId: string, stepId: string, reason?: string): Promise<StepInfo> {
    return this.decide(runId, stepId, 'reject', reason);
  }

  /** Publishes `xyn.hook.<name>` with `data`: blueprints triggered by it start runs. */
  hook(name: string, data: Record<string, unknown> = {}): Promise<HookAnswer> {
    return callNode(this.node, 'POST', `/api/v1/hooks/${id(name)}`, data);
  }

  private decide(runId: string, stepId: string, verb: 'approve' | 'reject', reason: string | undefined): Promise<StepInfo> {
    return callNode(this.node, 'POST', `/api/v1/runs/${id(runId)}/steps/${id(stepId)}/${verb}`, reason !== undefined ? { reason } : {});
  }
}

/** Emits an event onto the node's bus (`POST /api/v1/events`): the event as appended. */
export function emitEvent(node: NodeAddress, eventName: string, data: Record<string, unknown> = {}): Promise<XynEvent> {
  return callNode(node, 'POST', '/api/v1/events', { event_name: eventName, data });
}
