/**
 * The messages between a WorkerActor and its host thread: a `t`-tagged union.
 * `n` is the message's position in the actor's stream; replies carry it back.
 */
import type { SerializedError } from '../core/errors.ts';

export interface ActorHostData {
  actor: string;
  incarnation: number;
  /** Path or file URL of the module whose export builds the actor's logic. */
  module: string;
  export: string;
  args: unknown;
}

export type ToHost =
  /** A message; `r` is 1 when the sender waits for a reply. */
  | { t: 'msg'; n: number; m: unknown; r: 0 | 1 }
  | { t: 'stop' };

export type FromHost =
  | { t: 'ready' }
  | { t: 'start_failed'; e: SerializedError }
  /** Handled: `v` is the reply (also sent for `send`, as an acknowledgement). */
  | { t: 'done'; n: number; v: unknown }
  /** The handler threw: the incarnation has crashed. */
  | { t: 'crash'; n: number; e: SerializedError }
  | { t: 'stopped' };
