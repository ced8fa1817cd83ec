/**
 * How the gate answers a request it refuses: not by writing to the client
 * itself, but by sending uWS a request of its own that the app answers
 * (http.ts). uWS answers a connection's requests in order, so a refusal
 * never overtakes the answers to the requests before it on the connection,
 * and it is answered like any other error: the standard shape, the
 * correlation id, one log line.
 *
 * The refusal rides in one header, signed with a secret of the process, so
 * that nothing but the gate can make one (uWS listens on a private socket,
 * and the gate refuses the header from clients).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { RESERVED_FIELD, type HeadRefusal } from './request-head.ts';

export interface Refusal {
  status: number;
  code: string;
  message: string;
  method: string;
  path: string;
  /** Answer as the router would (404, 405 with Allow) for `method` and `path`. */
  route?: boolean;
}

export class RefusalCodec {
  /** The gate's thread gets the app's secret (gate-thread.ts). */
  constructor(readonly secret = randomBytes(24).toString('base64url')) {}

  /** The request uWS is sent in place of the refused one. */
  request(refusal: HeadRefusal): string {
    const payload: Refusal = { status: refusal.status, code: refusal.code, message: refusal.message, method: refusal.method, path: refusal.path, ...(refusal.route ? { route: true } : {}) };
    const value = `${this.secret}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    // A field value as parsed (no CR or LF in it); the app keeps it only if it is a sane id.
    const correlation = refusal.correlationId ? `x-correlation-id: ${refusal.correlationId}\r\n` : '';
    // HEAD gets its answer without a body, as it would from the app.
    const method = refusal.method === 'HEAD' ? 'HEAD' : 'GET';
    return `${method} / HTTP/1.1\r\nHost: gate\r\n${RESERVED_FIELD}: ${value}\r\n${correlation}${refusal.close ? 'Connection: close\r\n' : ''}\r\n`;
  }

  /** The refusal a request carries, or undefined when its header is not the gate's. */
  read(header: string): Refusal | undefined {
    const dot = header.indexOf('.');
    const given = Buffer.from(header.slice(0, dot));
    const secret = Buffer.from(this.secret);
    if (dot < 0 || given.length !== secret.length || !timingSafeEqual(given, secret)) return undefined;
    return JSON.parse(Buffer.from(header.slice(dot + 1), 'base64url').toString()) as Refusal;
  }
}
