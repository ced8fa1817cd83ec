/**
 * `xyn/client`: a typed client of a running node (package.json `exports`).
 *
 *   import { XynClient, verifyReport } from 'xyn/client';
 *   const node = new XynClient({ url: 'http://127.0.0.1:8000', token });
 *   const { plan_id } = await node.submit(plan);
 *   for await (const e of node.subscribe(['hxo.aggregate.finalized'], { since: 0 })) ...
 *   const report = await node.report(plan_id);
 *   verifyReport(report).ok;   // offline: signature and every sample proof
 *
 * Calls throw ApiRefusedError for a 4xx (its `status` and `apiCode`),
 * NodeError for a 5xx, NodeUnreachableError when no node answers.
 */
import type { XynEvent } from '../core/event.ts';
import type { PlanReport, PlanStatus } from '../hxo/report.ts';
import type { ActorTree, ActorView } from '../api/routes/actors.ts';
import { subscribe, type SubscribeOptions } from './event-stream.ts';
import { callNode, type NodeAddress } from './http.ts';
import { RunsClient, emitEvent } from './runs.ts';
import { NotificationsClient } from './notifications.ts';
import { ArtifactsClient } from './artifacts.ts';

export { verifyReport, type ReportVerification } from '../hxo/certify/verify-report.ts';
export { ApiRefusedError, NodeError, NodeUnreachableError } from './http.ts';
export { StreamRefusedError, StreamTruncatedError, type SubscribeOptions } from './event-stream.ts';
export type { ActorTree, ActorView, PlanReport, PlanStatus, XynEvent };
export { ArtifactsClient, type ArtifactDownload, type ArtifactInfo, type ArtifactListQuery, type UploadOptions } from './artifacts.ts';
export { RunsClient, type HookAnswer, type RunInfo, type RunListQuery, type StartRunOptions, type StepInfo } from './runs.ts';
export { NotificationsClient, type NotificationInfo, type NotificationListQuery } from './notifications.ts';

export interface SubmitOptions {
  /** Carried on every event of the plan (`X-Correlation-Id`). */
  correlationId?: string;
}

/** A token as the node lists it (never the secret). */
export interface TokenInfo {
  token_id: string;
  principal: string;
  role: string;
  created_at: string;
  revoked_at?: string;
}

export class XynClient {
  private readonly node: NodeAddress;
  /** Workflow runs: start, list, read, cancel, approve or reject a gate; webhooks (runs.ts). */
  readonly runs: RunsClient;
  /** Notifications: list, read, acknowledge (notifications.ts). */
  readonly notifications: NotificationsClient;
  /** Artifacts: upload, list, read, download (artifacts.ts). */
  readonly artifacts: ArtifactsClient;

  constructor(options: { url: string; token?: string }) {
    const url = options.url.replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+$/.test(url)) throw new TypeError(`url must be http(s)://host[:port], got ${options.url}`);
    this.node = { url, token: options.token };
    this.runs = new RunsClient(this.node);
    this.notifications = new NotificationsClient(this.node);
    this.artifacts = new ArtifactsClient(this.node);
  }

  /** Emits an event (not in the node's own namespaces): the event as appended. */
  emit(eventName: string, data: Record<string, unknown> = {}): Promise<XynEvent> {
    return emitEvent(this.node, eventName, data);
  }

  /** Validates a plan and starts it: its id (the same plan submitted again has the same id). */
  submit(plan: unknown, options: SubmitOptions = {}): Promise<{ plan_id: string; [key: string]: unknown }> {
    return callNode(this.node, 'POST', '/api/hxo/create-and-submit', plan, options.correlationId ? { 'x-correlation-id': options.correlationId } : {});
  }

  status(planId: string): Promise<PlanStatus> {
    return callNode(this.node, 'GET', `/api/hxo/status/${encodeURIComponent(planId)}`);
  }

  /** The ended plan's report (ApiRefusedError 404 while it runs or when there is none). */
  report(planId: string): Promise<PlanReport> {
    return callNode(this.node, 'GET', `/api/hxo/report/${encodeURIComponent(planId)}`);
  }

  /** A done shard's inclusion proof against the plan's certified root. */
  proof(planId: string, casId: string): Promise<Record<string, unknown>> {
    return callNode(this.node, 'GET', `/api/hxo/proof/${encodeURIComponent(planId)}/${encodeURIComponent(casId)}`);
  }

  abort(planId: string): Promise<{ plan_id: string; aborting: boolean }> {
    return callNode(this.node, 'POST', `/api/hxo/abort/${encodeURIComponent(planId)}`, {});
  }

  /** The node's live supervision tree (what `xyn ps` prints). */
  actors(): Promise<ActorTree> {
    return callNode(this.node, 'GET', '/api/v1/actors');
  }

  readonly tokens = {
    /** A new token: the secret is in this answer only. */
    create: (role: string, principal?: string): Promise<TokenInfo & { token: string }> =>
      callNode(this.node, 'POST', '/api/v1/tokens', { role, ...(principal ? { principal } : {}) }),
    list: (): Promise<{ items: TokenInfo[] }> => callNode(this.node, 'GET', '/api/v1/tokens'),
    revoke: (tokenId: string): Promise<unknown> => callNode(this.node, 'POST', `/api/v1/tokens/${encodeURIComponent(tokenId)}/revoke`, {}),
  };

  /** Events whose names match `patterns` (NATS-style), once each and in order, across dropped connections and node restarts (event-stream.ts). */
  subscribe(patterns: string[], options: SubscribeOptions = {}): AsyncIterableIterator<XynEvent> {
    return subscribe(this.node, patterns, options);
  }
}
