/**
 * Who may do what (DESIGN.md §6; seed 001 "Capabilities (RBAC)").
 *
 * A bearer token maps to a principal and a role; a role to capabilities.
 * Tokens are kept in the data dir's `tokens` database by the sha256 of the
 * token, never the token itself: a copy of the store gives no one access.
 * A token is `xyn_` + 32 random bytes (base64url); it is shown once, when
 * made.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from 'lmdb';
import type { Store } from '../store/env.ts';
import type { XynEvent } from '../core/event.ts';
import type { ControlTopic } from '../kernel/namespaces.ts';

export const CAPABILITIES = [
  'hxo:plan',
  'hxo:submit',
  'hxo:abort',
  'hxo:replay',
  'hxo:view',
  'hxo:audit',
  'hxo:force-merge',
  'xyn:events:read',
  'xyn:events:emit',
  'xyn:tokens',
  'xyn:blueprints:read',
  'xyn:blueprints:write',
  'xyn:blueprints:promote',
  'xyn:runs:read',
  'xyn:runs:write',
  'xyn:runs:approve',
  'xyn:notifications:read',
  'xyn:notifications:ack',
  'xyn:secrets:read',
  'xyn:secrets:write',
  'xyn:artifacts:read',
  'xyn:artifacts:write',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export const ROLES = ['admiral', 'captain', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The seed's table: admirals do everything; captains view status (when
 * HXO_ALLOW_CAPTAIN_VIEW) and audit logs. Xyn's own roles: operators emit
 * and read events and view plans (emitting a control topic needs more:
 * CONTROL_CAPABILITIES); viewers read events. Every role that reads events
 * reads blueprints and runs; operators save and validate drafts; only
 * admirals promote one (make a version active). Operators (and admirals)
 * start and cancel runs and approve or reject their gates; viewers and
 * captains only read them. Notifications likewise: every role reads them,
 * operators (and admirals), who act on failures, acknowledge them. Every
 * role reads artifacts (a run's step logs); operators upload them. Secrets:
 * only admirals set or remove them (`xyn:secrets:write`) or list their names
 * (`xyn:secrets:read`) — no role reads a value over the API: runs resolve
 * them on the node.
 */
export function roleCapabilities(role: Role, options: { captainView: boolean }): ReadonlySet<Capability> {
  switch (role) {
    case 'admiral':
      return new Set(CAPABILITIES);
    case 'captain':
      return new Set<Capability>([...(options.captainView ? (['hxo:view'] as const) : []), 'hxo:audit', 'xyn:events:read', 'xyn:blueprints:read', 'xyn:runs:read', 'xyn:notifications:read', 'xyn:artifacts:read']);
    case 'operator':
      return new Set<Capability>(['hxo:view', 'xyn:events:read', 'xyn:events:emit', 'xyn:blueprints:read', 'xyn:blueprints:write', 'xyn:runs:read', 'xyn:runs:write', 'xyn:runs:approve', 'xyn:notifications:read', 'xyn:notifications:ack', 'xyn:artifacts:read', 'xyn:artifacts:write']);
    case 'viewer':
      return new Set<Capability>(['xyn:events:read', 'xyn:blueprints:read', 'xyn:runs:read', 'xyn:notifications:read', 'xyn:artifacts:read']);
  }
}

/**
 * What emitting a control topic (kernel/namespaces.ts) needs on top of
 * `xyn:events:emit`: the capability of what it makes the node do. Splitting
 * a running plan's shard changes that plan, and the auto-tuning policy
 * decides how every plan (or one) is split: both shape plans, which is
 * `hxo:plan` (seed 001: admirals). An operator's emit right is for its own
 * events, not a side door into the engine. Capabilities hold node-wide:
 * DESIGN.md gives plans no owner, so a holder may heal any plan, as
 * `hxo:abort` aborts any.
 */
export const CONTROL_CAPABILITIES: Readonly<Record<ControlTopic, { capability: Capability; does: string }>> = {
  'genesis.heal': { capability: 'hxo:plan', does: "it splits a running plan's shard" },
  'genesis.intent': { capability: 'hxo:plan', does: "it changes the engine's auto-tuning policy" },
};

export interface Principal {
  /** Who: the token's name (its principal), or `local` when auth is open. */
  id: string;
  role: Role;
  capabilities: ReadonlySet<Capability>;
  /** The token's id (not the token), for audit and revocation. */
  token_id?: string;
}

/** Who calls a public route (or a page, unsigned): nobody in particular, allowed nothing. */
export const ANONYMOUS: Principal = { id: 'anonymous', role: 'viewer', capabilities: new Set() };

/** May this principal see this event? */
export function visibleTo(principal: Principal): (e: XynEvent) => boolean {
  const audit = principal.capabilities.has('hxo:audit');
  return (e) => audit || (e.event_name !== 'hxo.audit' && !e.event_name.startsWith('xyn.audit.'));
}

export interface TokenRecord {
  token_id: string;
  principal: string;
  role: Role;
  created_at: string;
  revoked_at?: string;
}

const TOKEN_PREFIX = 'xyn_';

export class TokenStore {
  private readonly db: Database<TokenRecord, string>;

  constructor(private readonly store: Store) {
    this.db = store.db<string, TokenRecord>('tokens');
  }

  /** Makes a token; returns it (shown once) and its record. */
  async create(principal: string, role: Role): Promise<{ token: string; record: TokenRecord }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const record: TokenRecord = { token_id: randomBytes(8).toString('hex'), principal, role, created_at: new Date().toISOString() };
    await this.store.write(() => void this.db.put(hashToken(token), record));
    return { token, record };
  }

  /** The live record of a token, or undefined (unknown, malformed or revoked). */
  lookup(token: string): TokenRecord | undefined {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return undefined;
    // Looked up by hash: how long it takes says nothing about how close a guess was.
    const record = this.db.get(hashToken(token));
    return record && !record.revoked_at ? record : undefined;
  }

  /** Revokes by token id; false if there is no live token with that id. */
  async revoke(tokenId: string): Promise<TokenRecord | undefined> {
    for (const { key, value } of this.db.getRange({})) {
      if (value.token_id !== tokenId || value.revoked_at) continue;
      const revoked = { ...value, revoked_at: new Date().toISOString() };
      await this.store.write(() => void this.db.put(key, revoked));
      return revoked;
    }
    return undefined;
  }

  list(): TokenRecord[] {
    return [...this.db.getRange({})].map((e) => e.value);
  }

  /** True when no token was ever made (a first `serve` makes the admiral's). */
  get empty(): boolean {
    return this.db.getKeysCount({ limit: 1 }) === 0;
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
