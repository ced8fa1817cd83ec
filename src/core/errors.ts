/**
 * Typed errors that survive thread hops.
 *
 * Every error the runtime raises on purpose is a subclass of `XynError` with a
 * stable `code` and a `details` object holding its data fields. Across a thread
 * (or, later, a node) boundary an error travels as `{name, message, code,
 * details}` and is rebuilt on the other side as an instance of its own class,
 * found by name in a registry, so `instanceof` and the data fields keep working:
 *
 *   const wire = serializeError(new ActorTimeoutError('plan', 5000));
 *   const back = deserializeError(wire); // back instanceof ActorTimeoutError
 */

export interface SerializedError {
  name: string;
  message: string;
  code: string;
  details: Record<string, unknown>;
  stack?: string;
}

export class XynError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(message: string, code: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** An error from the other side whose class this side does not know. */
export class RemoteError extends XynError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, 'REMOTE_ERROR', details);
  }
}

/** Configuration or input that breaks a rule; `field` names what is wrong. */
export class ValidationError extends XynError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, 'VALIDATION', { field });
  }
}

/**
 * The field a validation issue points at, `root.a.b[2]`-style, from its path
 * (e.g. a zod issue's `path`); '' when both are empty.
 */
export function issuePath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}

/** A validation issue as one line: `root.a.b[2]: message` (`ifEmpty` names the value itself when there is no path). */
export function describeIssue(root: string, issue: { path: readonly PropertyKey[]; message: string }, ifEmpty = root): string {
  return `${issuePath(root, issue.path) || ifEmpty}: ${issue.message}`;
}

/**
 * A failure that trying again cannot mend — bad input, a file changed since
 * the plan was made: a shard that throws it fails at once, whatever attempts
 * it has left. An error of any class with `retryable: false` counts the same
 * (a job kind's own classes, or one that cannot import this).
 *
 *   throw new NonRetryableError(`row ${id} has no price`, 'NO_PRICE');
 */
export class NonRetryableError extends XynError {
  readonly retryable = false;

  constructor(message: string, code = 'NON_RETRYABLE', details: Record<string, unknown> = {}) {
    super(message, code, details);
  }
}

/** Whether trying again might succeed: false for a NonRetryableError, or any error that says `retryable: false`. */
export function isRetryable(err: unknown): boolean {
  return !(err instanceof NonRetryableError) && (err as { retryable?: unknown } | null | undefined)?.retryable !== false;
}

type ErrorClass = abstract new (...args: never[]) => Error;
const registry = new Map<string, ErrorClass>();

/** Makes a class rebuildable by name on the receiving side of a thread hop. */
export function registerErrorClass(cls: ErrorClass, name: string = cls.name): void {
  registry.set(name, cls);
}

for (const cls of [Error, TypeError, RangeError, SyntaxError, ReferenceError, XynError, RemoteError, ValidationError, NonRetryableError]) {
  registerErrorClass(cls);
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof XynError) {
    return { name: err.name, message: err.message, code: err.code, details: err.details, stack: err.stack };
  }
  if (err instanceof Error) {
    const raw = (err as Error & { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : 'ERROR';
    return { name: err.name, message: err.message, code, details: {}, stack: err.stack };
  }
  return { name: 'Error', message: String(err), code: 'NON_ERROR_THROWN', details: { value: String(err) } };
}

/**
 * Rebuilds an error as its own class without calling its constructor (whose
 * parameters differ per class): the prototype gives `instanceof`, and the
 * detail fields are copied onto the instance as the constructor would have.
 */
export function deserializeError(wire: SerializedError): Error {
  const cls = registry.get(wire.name);
  if (!cls) {
    const err = new RemoteError(wire.message, { ...wire.details, remote_name: wire.name, remote_code: wire.code });
    if (wire.stack) err.stack = wire.stack;
    return err;
  }
  const err = Object.create(cls.prototype as object) as Error & Record<string, unknown>;
  Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true });
  Object.defineProperty(err, 'stack', { value: wire.stack ?? `${wire.name}: ${wire.message}`, writable: true, configurable: true });
  if (err instanceof XynError) {
    Object.assign(err, wire.details);
    Object.assign(err, { name: wire.name, code: wire.code, details: wire.details });
  } else if (wire.code !== 'ERROR') {
    err.code = wire.code;
  }
  return err;
}
