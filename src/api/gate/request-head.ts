/**
 * A request head as the gate (gate.ts) reads it: parsed by RFC 9112's
 * grammar, strictly, and judged before uWebSockets.js sees it.
 *
 * uWS 20.30 (the build on npm that runs here) answers nothing to much of
 * what it cannot parse: it waits for its 10 s idle timeout on HTTP/1.0, on
 * more than 48 header fields, on a bare LF, obs-fold, a space before a colon
 * or a target that is not a path; it closes without a word on a missing Host,
 * an unknown method or a bad Content-Length; and it takes the first of two
 * differing Content-Lengths (request smuggling behind a proxy that takes the
 * other). Here each of those is either made into a request uWS serves
 * (`rewrite`: HTTP/1.0, a chunked body, repeated equal lengths, a target in
 * absolute form) or refused with the status that says why.
 *
 *   parseRequestHead('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n', limits)   // {method: 'GET', ...}
 */

export interface HeadLimits {
  /** Header fields at most (uWS's compile-time limit is 48). */
  maxHeaders: number;
  /** Largest body the gate reads before it forwards (the API's body limit). */
  maxBodyBytes: number;
  /** Requests whose bodies are passed on as they arrive, up to their own limit (artifact uploads): the app reads them as a stream. */
  streamed?: StreamedBodies;
}

export interface StreamedBodies {
  /** Method and path (no query) as `POST /api/v1/artifacts`, matched whole. */
  route: RegExp;
  maxBodyBytes: number;
}

export interface RequestHead {
  method: string;
  target: string;
  /** 10 for HTTP/1.0; 11 for HTTP/1.1 (and later 1.x, read as 1.1: RFC 9110 §6.2). */
  version: 10 | 11;
  /** The fields as sent: [name, value], value trimmed. */
  fields: [string, string][];
  /** The body's length (0 without one); undefined for a chunked body. */
  length: number | undefined;
  chunked: boolean;
  /** A WebSocket (or other) upgrade: after its head, bytes go through as they are. */
  upgrade: boolean;
  /** The connection ends after this request's answer. */
  close: boolean;
  /** `Expect: 100-continue`: the gate says continue itself (it reads the body before forwarding). */
  expectContinue: boolean;
  /** The head must be written anew for uWS (serializeHead) rather than passed on as it came. */
  rewrite: boolean;
  /** Its body is passed on as it arrives (HeadLimits.streamed), a chunked one chunked. */
  streamed: boolean;
  correlationId: string;
}

export interface HeadRefusal {
  refusal: true;
  status: number;
  code: string;
  message: string;
  /** What framing is left cannot be trusted: the connection ends after the answer. */
  close: boolean;
  method: string;
  path: string;
  correlationId: string;
  /** Answer as the router would for this method and path (404, or 405 with Allow): a method uWS does not route. */
  route?: boolean;
}

/** The methods uWS routes; others reach no handler (it closes the connection). */
const UWS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The field names uWS reads; with any other character (`_`, `.`, `!` …) it waits out its timeout. */
const UWS_NAME = /^[0-9A-Za-z-]+$/;
/** A field value: visible characters, spaces, tabs and obs-text; no other control character. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^[\x21-\x7e]+$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const DIGITS = /^\d{1,15}$/;
/** Reserved for the gate's own requests to the app (refusal.ts): never taken from a client. */
export const RESERVED_FIELD = 'x-xyn-gate-refusal';

/**
 * Parses a head: `text` is everything before the blank line that ends it
 * (latin1), lines ending in CRLF. A refusal names what is wrong.
 */
export function parseRequestHead(text: string, limits: HeadLimits): RequestHead | HeadRefusal {
  const lines = text.split('\r\n');
  const requestLine = lines[0] as string;
  const parts = requestLine.split(' ');
  const method = parts[0] ?? '';
  const rawTarget = parts[1] ?? '';
  const path = rawTarget.startsWith('/') ? rawTarget.split('?')[0]!.slice(0, 200) : '/';
  let correlationId = '';
  const refuse = (status: number, code: string, message: string, close = true, extra: Partial<HeadRefusal> = {}): HeadRefusal => ({
    refusal: true,
    status,
    code,
    message,
    close,
    method: TOKEN.test(method) ? method.slice(0, 20) : 'GET',
    path,
    correlationId,
    ...extra,
  });
  if (text.includes('\n') && /[^\r]\n|^\n/.test(text)) return refuse(400, 'bad_request', 'a line of the request head ends in a bare LF: HTTP/1.1 lines end in CRLF');
  if (parts.length !== 3) return refuse(400, 'bad_request', `the request line must be METHOD SP TARGET SP HTTP-VERSION, got ${JSON.stringify(requestLine.slice(0, 120))}`);
  if (!TOKEN.test(method)) return refuse(400, 'bad_request', `the method ${JSON.stringify(method.slice(0, 40))} is not a token`);
  const version = VERSION.exec(parts[2] as string);
  if (!version) return refuse(400, 'bad_request', `${JSON.stringify((parts[2] as string).slice(0, 40))} is not an HTTP version (HTTP/1.1 or HTTP/1.0)`);
  if (version[1] !== '1') return refuse(400, 'bad_request', `HTTP/${version[1]}.${version[2]} is not spoken here: send HTTP/1.1 (or HTTP/1.0) requests`);
  const v10 = version[2] === '0';
  if (!TARGET.test(rawTarget)) return refuse(400, 'bad_request', 'the request target has characters a URL cannot hold (spaces, controls, or bytes above 0x7e): percent-encode them');
  let target = rawTarget;
  let rewrite = v10 || version[2] !== '1';
  if (!target.startsWith('/')) {
    // Absolute form (RFC 9112 §3.2.2): an origin server must take it; uWS takes only paths.
    const absolute = /^https?:\/\/[^/?#]*([^#]*)$/i.exec(target);
    if (!absolute) return refuse(400, 'bad_request', `the request target must be a path (/api/...), got ${JSON.stringify(target.slice(0, 80))}`);
    target = absolute[1]!.startsWith('/') ? absolute[1]! : `/${absolute[1]!}`;
    rewrite = true;
  }

  const fields: [string, string][] = [];
  let host = 0;
  const lengths: string[] = [];
  const encodings: string[] = [];
  let connection = '';
  let upgrade = false;
  let expect = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith(' ') || line.startsWith('\t')) return refuse(400, 'bad_request', 'a header field is folded over lines (obs-fold): send each field on one line');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) return refuse(400, 'bad_request', `the header line ${JSON.stringify(line.slice(0, 60))} is not NAME: VALUE (no space before the colon)`);
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) return refuse(400, 'bad_request', `the header ${name.slice(0, 60)} has a control character in its value`);
    if (!UWS_NAME.test(name)) {
      // A valid name uWS cannot read: dropped, as nginx does (ignore_invalid_headers); no field the API reads is named so.
      rewrite = true;
      continue;
    }
    fields.push([name, value]);
    switch (name.toLowerCase()) {
      case 'host':
        host++;
        break;
      case 'content-length':
        lengths.push(...value.split(',').map((v) => v.trim()));
        break;
      case 'transfer-encoding':
        encodings.push(value);
        break;
      case 'connection':
        connection += `,${value.toLowerCase()}`;
        break;
      case 'upgrade':
        upgrade = true;
        break;
      case 'expect':
        expect = value.toLowerCase();
        break;
      case 'x-correlation-id':
        correlationId = value;
        break;
      case RESERVED_FIELD:
        return refuse(400, 'bad_request', `the header ${RESERVED_FIELD} is reserved for the node itself`);
    }
  }
  if (lines.length - 1 > limits.maxHeaders) {
    return refuse(431, 'header_fields_too_large', `the request has ${lines.length - 1} header fields; at most ${limits.maxHeaders} are read`, true);
  }
  if (host > 1) return refuse(400, 'bad_request', `the request has ${host} Host headers: it must have one`);
  if (host === 0 && !v10) return refuse(400, 'bad_request', 'an HTTP/1.1 request must have a Host header (RFC 9112 §3.2)');
  // Framing. Refused ones leave the connection's next bytes unreadable: it is closed after the answer.
  if (lengths.length > 0 && encodings.length > 0) return refuse(400, 'bad_request', 'the request has both Content-Length and Transfer-Encoding: send one of them');
  let length: number | undefined = 0;
  if (lengths.length > 0) {
    if (!lengths.every((l) => DIGITS.test(l))) return refuse(400, 'bad_request', `Content-Length must be a number of bytes, got ${JSON.stringify(lengths.join(', ').slice(0, 40))}`);
    if (new Set(lengths.map(Number)).size > 1) return refuse(400, 'bad_request', `the request has differing Content-Lengths (${lengths.slice(0, 4).join(', ')}): it must have one`);
    length = Number(lengths[0]);
    if (lengths.length > 1) rewrite = true;
  }
  const chunked = encodings.length > 0;
  if (chunked) {
    if (v10) return refuse(400, 'bad_request', 'an HTTP/1.0 request cannot have Transfer-Encoding (RFC 9112 §6.1)');
    if (encodings.length > 1 || encodings[0]!.toLowerCase() !== 'chunked') return refuse(400, 'bad_request', `Transfer-Encoding ${JSON.stringify(encodings.join(', ').slice(0, 60))} is not read here: send chunked, or a Content-Length`);
    length = undefined;
    rewrite = true;
  }
  const streamed = limits.streamed !== undefined && limits.streamed.route.test(`${method} ${path}`);
  const maxBodyBytes = streamed ? (limits.streamed as StreamedBodies).maxBodyBytes : limits.maxBodyBytes;
  if (length !== undefined && length > maxBodyBytes) {
    return refuse(413, 'payload_too_large', `the body is ${length} bytes; the limit is ${maxBodyBytes}`, true);
  }
  const upgrading = upgrade && /(^|,)\s*upgrade\s*(,|$)/.test(connection);
  if (upgrading && (v10 || length !== 0)) return refuse(400, 'bad_request', 'an upgrade is an HTTP/1.1 request without a body');
  // HTTP/1.0 connections end after one answer (persistence there needs Keep-Alive, which is not worth it).
  const close = v10 || /(^|,)\s*close\s*(,|$)/.test(connection);
  if (!UWS_METHODS.has(method)) return refuse(405, 'method_not_allowed', `${method} is not a method of this API`, close || length !== 0, { route: true });
  const expectContinue = expect === '100-continue';
  return {
    method,
    target,
    version: v10 ? 10 : 11,
    fields,
    length,
    chunked,
    upgrade: upgrading,
    close,
    expectContinue,
    rewrite: rewrite || expectContinue,
    streamed,
    correlationId,
  };
}

/**
 * The head as uWS gets it when `rewrite` is set: HTTP/1.1, the path only,
 * one Content-Length for the body as read (chunked is decoded) — or, for a
 * streamed chunked body, `Transfer-Encoding: chunked` (the gate frames it
 * anew) — a Host, `Connection: close` for HTTP/1.0, no Expect (the gate
 * answered it).
 */
export function serializeHead(head: RequestHead, bodyLength: number | 'chunked'): string {
  const drop = new Set(['content-length', 'transfer-encoding', 'expect', ...(head.version === 10 ? ['connection', 'keep-alive'] : [])]);
  let out = `${head.method} ${head.target} HTTP/1.1\r\n`;
  let host = false;
  for (const [name, value] of head.fields) {
    const lower = name.toLowerCase();
    if (drop.has(lower)) continue;
    if (lower === 'host') host = true;
    out += `${name}: ${value}\r\n`;
  }
  if (!host) out += 'Host: localhost\r\n';
  if (head.version === 10) out += 'Connection: close\r\n';
  if (bodyLength === 'chunked') out += 'Transfer-Encoding: chunked\r\n';
  else if (bodyLength > 0 || head.chunked || head.length !== 0) out += `Content-Length: ${bodyLength}\r\n`;
  return out + '\r\n';
}
