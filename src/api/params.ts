/**
 * The shapes of the ids routes take in their paths (`/api/hxo/status/:id`).
 *
 * Checked at the edge, before a handler runs: an id is a key in LMDB, whose
 * keys hold at most a few KiB — a 4,093-character plan id overflowed one (a
 * 500). Every `:name` of a route must have a shape (the router refuses a
 * route without one), so a new route cannot forget it. A wrong one is a 400
 * naming the parameter and the shape it must have.
 */
import { PLAN_ID_PATTERN, PLAN_ID_SHAPE } from '../hxo/plan/plan-id.ts';
import { BLUEPRINT_ID_MAX, BLUEPRINT_ID_PATTERN, IDENTIFIER_PATTERN } from '../xyn/blueprint/shape.ts';
import { EMIT_NAME_MAX } from '../kernel/topic.ts';
import { badRequest } from './errors.ts';

export interface ParamShape {
  pattern: RegExp;
  /** What a good value looks like, for the refusal and the docs. */
  expected: string;
  /** A value of that shape, for the docs. */
  example: string;
}

const hex = (digits: number, what: string): ParamShape => ({
  pattern: new RegExp(`^[0-9a-f]{${digits}}$`),
  expected: `${what}: ${digits} lowercase hex digits`,
  example: '0123456789abcdef'.repeat(4).slice(0, digits),
});

const UUID = '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b';
const STEP_ID_MAX = 256;

export const PLAN_ID: ParamShape = { pattern: PLAN_ID_PATTERN, expected: `a plan id: ${PLAN_ID_SHAPE} (the plan_id a submit answered)`, example: UUID };
export const CAS_ID = hex(16, 'a cas_id');
export const TOKEN_ID = hex(16, 'a token id (as GET /api/v1/tokens lists it)');
/** Any case: artifact names are compared lowercased. */
export const SHA256: ParamShape = { pattern: /^[0-9a-fA-F]{64}$/, expected: "an artifact's sha256: 64 hex digits", example: hex(64, '').example };
export const EVENT_ID: ParamShape = { pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, expected: 'an event id: a UUID (8-4-4-4-12 lowercase hex digits)', example: UUID };

export const DRAFT_ID: ParamShape = { pattern: /^draft_[0-9a-f]{16}$/, expected: 'a draft id: draft_ and 16 lowercase hex digits (the draft_id a save answered)', example: 'draft_0123456789abcdef' };
/** The blueprint format's id rule (xyn/blueprint/shape.ts), its length included. */
export const BLUEPRINT_ID: ParamShape = {
  pattern: new RegExp(`^(?=.{1,${BLUEPRINT_ID_MAX}}$)${BLUEPRINT_ID_PATTERN.source.slice(1)}`),
  expected: `a blueprint id: at most ${BLUEPRINT_ID_MAX} lowercase letters, digits, _ . - starting with a letter`,
  example: 'nightly-health',
};

/** Run ids are UUIDv7 (the run_id a create answered). */
export const RUN_ID: ParamShape = { pattern: EVENT_ID.pattern, expected: 'a run id: a UUID (8-4-4-4-12 lowercase hex digits, the run_id a create answered)', example: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' };
/** Notification ids are UUIDv7 (the notification_id a list answered). */
export const NOTIFICATION_ID: ParamShape = { pattern: EVENT_ID.pattern, expected: 'a notification id: a UUID (8-4-4-4-12 lowercase hex digits, the notification_id a list answered)', example: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' };
/** A blueprint step's id (the format's identifier rule), within a bound. */
export const STEP_ID: ParamShape = {
  pattern: new RegExp(`^(?=.{1,${STEP_ID_MAX}}$)${IDENTIFIER_PATTERN.source.slice(1)}`),
  expected: `a step id: a letter or _, then letters, digits or _ (at most ${STEP_ID_MAX} characters)`,
  example: 'approve',
};

/** The hook prefix: `POST /api/v1/hooks/{name}` publishes `xyn.hook.<name>`. */
export const HOOK_PREFIX = 'xyn.hook.';
/** A hook's name: topic tokens (letters, digits, _ - :) separated by single dots, so that `xyn.hook.<name>` is an event name. */
export const HOOK_NAME: ParamShape = {
  pattern: new RegExp(`^(?=.{1,${EMIT_NAME_MAX - HOOK_PREFIX.length}}$)[A-Za-z0-9_:-]+(\\.[A-Za-z0-9_:-]+)*$`),
  expected: `a hook name: topic tokens (letters, digits, _ - :) separated by single dots, at most ${EMIT_NAME_MAX - HOOK_PREFIX.length} characters`,
  example: 'deploy.done',
};

/** Throws the 400 for the first parameter whose value does not have its shape. */
export function checkParams(params: Record<string, string>, shapes: Record<string, ParamShape>): void {
  for (const [name, value] of Object.entries(params)) {
    const shape = shapes[name] as ParamShape;
    if (shape.pattern.test(value)) continue;
    const shown = value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}… (${value.length} characters)` : JSON.stringify(value);
    throw badRequest(`path parameter ${name}: expected ${shape.expected}, got ${shown}`, { field: `path.${name}`, expected: shape.expected });
  }
}
