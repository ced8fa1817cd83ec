/**
 * An event's name read from its stored bytes without decoding the event.
 *
 * A reader catching up on the log for a few topics (the audit trail after a
 * restart, a client subscribing `since` an old seq) would otherwise decode
 * every event in between: after a million-shard plan, thousands of shard
 * events of thousands of packed items each, about a second of work for
 * nothing. The envelope is a msgpack map whose first fields are `event_id`
 * then `event_name` (core/event.ts makeEvent); its name is read from there.
 * Bytes laid out any other way give undefined, and the caller decodes them.
 *
 *   eventNameOf(encode(makeEvent(1, 'hxo.plan', {}, {}, 'local', now)))  // 'hxo.plan'
 */

/** Fields looked at, at most: the name is the second one. */
const FIELDS = 2;

export function eventNameOf(bytes: Uint8Array): string | undefined {
  let at = 0;
  const head = bytes[at++];
  let fields: number;
  if (head === undefined) return undefined;
  if ((head & 0xf0) === 0x80) fields = head & 0x0f;
  else if (head === 0xde) {
    fields = ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
    at += 2;
  } else return undefined;
  const str = (): string | undefined => {
    const t = bytes[at];
    let length: number;
    if (t === undefined) return undefined;
    if (t >= 0xa0 && t <= 0xbf) [length, at] = [t & 0x1f, at + 1];
    else if (t === 0xd9) [length, at] = [bytes[at + 1] ?? 0, at + 2];
    else if (t === 0xda) [length, at] = [((bytes[at + 1] ?? 0) << 8) | (bytes[at + 2] ?? 0), at + 3];
    else return undefined;
    if (at + length > bytes.length) return undefined;
    const s = ascii(bytes, at, length) ?? Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString('utf8');
    at += length;
    return s;
  };
  for (let f = 0; f < Math.min(fields, FIELDS); f++) {
    const key = str();
    const value = key === undefined ? undefined : str();
    if (value === undefined) return undefined;
    if (key === 'event_name') return value;
  }
  return undefined;
}

/** Short ASCII text without a Buffer (names and keys are): undefined for anything else. */
function ascii(bytes: Uint8Array, at: number, length: number): string | undefined {
  if (length > 64) return undefined;
  let s = '';
  for (let k = at; k < at + length; k++) {
    const c = bytes[k] as number;
    if (c > 0x7f) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}
