/**
 * How deep values from outside may nest (HTTP bodies, plan files).
 *
 * The encoders and hashes every value meets later (msgpackr, the canonical
 * encoding that plan digests hash) recurse once per level: an event's `data`
 * nested ~1,400 levels, or a plan config 1,500, overflows the stack there,
 * far from the caller who sent it. So depth is checked where a value enters,
 * with a walk that does not recurse itself, and refused with the path to
 * where the limit was crossed.
 *
 *   nestedTooDeep({ a: { b: [[]] } }, 2)   // → ['a', 'b']  (the container at level 3)
 */
import { issuePath } from './errors.ts';

/** Objects and arrays nest at most this many levels (the value itself is level 1). */
export const MAX_NESTING = 64;

interface Frame {
  value: unknown;
  depth: number;
  key: string | number | undefined;
  parent: Frame | undefined;
}

/**
 * The path to the first object or array deeper than `limit` levels, or
 * undefined when none is. Iterative (a stack of its own), so it cannot
 * overflow on the values it guards against; it stops at the first find.
 */
export function nestedTooDeep(value: unknown, limit = MAX_NESTING): (string | number)[] | undefined {
  const stack: Frame[] = [{ value, depth: 1, key: undefined, parent: undefined }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const v = frame.value;
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof Date) continue;
    if (frame.depth > limit) return pathOf(frame);
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth: frame.depth + 1, key: i, parent: frame });
    } else {
      for (const [k, child] of Object.entries(v)) stack.push({ value: child, depth: frame.depth + 1, key: k, parent: frame });
    }
  }
  return undefined;
}

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) path.push(f.key);
  return path.reverse();
}

/**
 * A path as a field name short enough for one line: `data.a.a.a.a.a.a…` (its
 * first `keep` steps), `root` in front.
 */
export function deepFieldName(root: string, path: readonly (string | number)[], keep = 8): string {
  const shown = issuePath(root, path.slice(0, keep));
  return path.length > keep ? `${shown}…` : shown;
}

/** The rule a value nested too deep breaks, for `field: rule` refusals. */
export function tooDeepRule(limit = MAX_NESTING): string {
  return `nested more than ${limit} levels deep (objects and arrays count); the limit is ${limit} levels: flatten it`;
}
