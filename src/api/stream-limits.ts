/**
 * The stream's limits — what one connection and the whole node may hold —
 * and how a client over one is told: an error frame naming the limit and
 * what to do, then a close code that says the same to a program (RFC 6455
 * §7.4.1: 1007 invalid data, 1008 policy, 1009 too big, 1013 try again
 * later). docs/stream.md lists them with the memory they bound.
 *
 *   const limits = streamLimits(config);
 *   client.refuse(tooManyPatterns(10_000));   // → error frame, then close 1008
 */
import type { Config } from '../kernel/config.ts';

export interface StreamLimits {
  /** Connections the node serves at once (XYN_STREAM_MAX_CLIENTS). */
  maxClients: number;
  /** Subscriptions one connection may hold (XYN_STREAM_MAX_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** Bytes of encoded events the node keeps for all its clients (XYN_STREAM_CACHE_BYTES). */
  cacheBytes: number;
}

export function streamLimits(config: Pick<Config, 'XYN_STREAM_MAX_CLIENTS' | 'XYN_STREAM_MAX_SUBSCRIPTIONS' | 'XYN_STREAM_CACHE_BYTES'>): StreamLimits {
  return { maxClients: config.XYN_STREAM_MAX_CLIENTS, maxSubscriptions: config.XYN_STREAM_MAX_SUBSCRIPTIONS, cacheBytes: config.XYN_STREAM_CACHE_BYTES };
}

/** Where the stream is upgraded from HTTP: the one route a `?token=` is accepted on. */
export const STREAM_PATH = '/api/v1/stream';

/** Events go to a socket only while it holds less than this: the most a client that does not read costs, besides one event. */
export const HIGH_WATER = 256 * 1024;
/** Answers (subscribed, errors) that may pile up in a socket that is not read, past HIGH_WATER. */
export const ANSWER_ROOM = 64 * 1024;
/** Largest client frame the stream takes: a subscribe of 32 patterns of 256 characters is about 9 KiB. */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Largest frame the node reads at all, to answer it with 1009; a bigger one has its connection cut by uWS, unread. */
export const READ_LIMIT_BYTES = 1024 * 1024;
/** Topic patterns in one subscribe. */
export const MAX_PATTERNS = 32;

export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** Why a client is closed: the error frame it is sent, and the close code and reason that follow it. */
export interface Refusal {
  code: string;
  message: string;
  details: Record<string, unknown>;
  close: number;
  /** The close frame's reason (at most 123 bytes). */
  reason: string;
}

export const tooManyClients = (max: number): Refusal => ({
  code: 'too_many_clients',
  message: `the node serves at most ${max} stream connections at once (XYN_STREAM_MAX_CLIENTS); connect again later, or raise XYN_STREAM_MAX_CLIENTS on the node`,
  details: { limit: 'XYN_STREAM_MAX_CLIENTS', max },
  close: CLOSE_TRY_AGAIN_LATER,
  reason: 'too many stream connections',
});

export const tooManySubscriptions = (max: number): Refusal => ({
  code: 'too_many_subscriptions',
  message: `a connection holds at most ${max} subscriptions (XYN_STREAM_MAX_SUBSCRIPTIONS); give one subscribe several patterns (up to ${MAX_PATTERNS}), unsubscribe what you no longer need first, or open another connection`,
  details: { limit: 'XYN_STREAM_MAX_SUBSCRIPTIONS', max },
  close: CLOSE_POLICY,
  reason: 'too many subscriptions',
});

export const tooManyPatterns = (got: number): Refusal => ({
  code: 'too_many_patterns',
  message: `a subscribe takes at most ${MAX_PATTERNS} topic patterns, got ${got}; use wider patterns ("hxo.shard.*", "hxo.>") or spread them over several subscriptions`,
  details: { limit: 'patterns per subscribe', max: MAX_PATTERNS, got },
  close: CLOSE_POLICY,
  reason: 'too many topic patterns',
});

export const frameTooLarge = (got: number): Refusal => ({
  code: 'frame_too_large',
  message: `a client frame may be at most ${MAX_FRAME_BYTES} bytes, got ${got}; send smaller frames (subscribe with at most ${MAX_PATTERNS} patterns of at most 256 characters)`,
  details: { limit: 'frame bytes', max: MAX_FRAME_BYTES, got },
  close: CLOSE_TOO_BIG,
  reason: 'frame too large',
});

export const invalidUtf8 = (): Refusal => ({
  code: 'invalid_utf8',
  message: 'a JSON frame must be UTF-8 text; this one is not valid UTF-8',
  details: { limit: 'UTF-8 frames' },
  close: CLOSE_INVALID_DATA,
  reason: 'invalid UTF-8',
});

export const notReading = (unread: number): Refusal => ({
  code: 'not_reading',
  message: `the client sends requests but does not read the answers (${unread} bytes of answers unread past the ${HIGH_WATER}-byte buffer); read what the node sends`,
  details: { limit: 'unread answers', max: ANSWER_ROOM, got: unread },
  close: CLOSE_POLICY,
  reason: 'answers not read',
});
