/**
 * Event items kept as raw bytes until someone reads them.
 *
 * A million-shard plan publishes three shard events per shard (created,
 * claimed, done), each item a 16-hex cas_id or `{cas_id, output_digest}`.
 * Made as strings and objects and msgpack-encoded one by one, they cost the
 * plan actor about a fifth of the run. HexItems keeps them as columns of raw
 * bytes — one column per field, a fixed number of bytes per item — that the
 * event log stores as one msgpack extension (~40 bytes a shard instead of
 * ~140), and turns them into items only for a reader: the log's decoder, or
 * the bus for live subscribers (`readableEvent`). Readers never see a
 * HexItems: they see the array it stands for.
 *
 * An item is either the hex string of the one unnamed column, or an object
 * of hex fields plus flag fields that are present (as `true`) only on the
 * items whose flag byte is 1.
 *
 *   new HexItems(n, [{ name: 'cas_id', bytes: 8, data: cas }]).toArray()
 *   // → [{ cas_id: '3f1a…' }, …]
 */
import { addExtension } from 'msgpackr';
import type { XynEvent } from './event.ts';

export interface HexColumn {
  /** Field name; '' for the single column of string items. */
  name: string;
  /** Raw bytes per item (the hex string has twice as many characters). */
  bytes: number;
  /** length × bytes. */
  data: Uint8Array;
}

export interface FlagColumn {
  name: string;
  /** One byte per item: 1 sets the flag. */
  data: Uint8Array;
}

export class HexItems {
  constructor(
    readonly length: number,
    readonly columns: readonly HexColumn[],
    readonly flags: readonly FlagColumn[] = [],
  ) {
    for (const c of columns) {
      if (c.data.length !== length * c.bytes) throw new RangeError(`column ${c.name || '(value)'}: ${c.data.length} bytes for ${length} items of ${c.bytes}`);
    }
    for (const f of flags) if (f.data.length !== length) throw new RangeError(`flag ${f.name}: ${f.data.length} bytes for ${length} items`);
    if (columns.length === 0 || (columns.length > 1 || flags.length > 0) !== columns.every((c) => c.name !== '')) {
      throw new RangeError('HexItems: one unnamed column (string items) or named columns (object items)');
    }
  }

  /** Items [from, to): views on the same bytes. */
  slice(from: number, to: number): HexItems {
    const end = Math.min(to, this.length);
    return new HexItems(
      end - from,
      this.columns.map((c) => ({ ...c, data: c.data.subarray(from * c.bytes, end * c.bytes) })),
      this.flags.map((f) => ({ ...f, data: f.data.subarray(from, end) })),
    );
  }

  /** These items then `other`'s, when both have the same shape; undefined otherwise. */
  concat(other: HexItems): HexItems | undefined {
    const same =
      other.columns.length === this.columns.length &&
      other.flags.length === this.flags.length &&
      this.columns.every((c, i) => c.name === other.columns[i]?.name && c.bytes === other.columns[i]?.bytes) &&
      this.flags.every((f, i) => f.name === other.flags[i]?.name);
    if (!same) return undefined;
    const join = (a: Uint8Array, b: Uint8Array): Uint8Array => {
      const out = new Uint8Array(a.length + b.length);
      out.set(a);
      out.set(b, a.length);
      return out;
    };
    return new HexItems(
      this.length + other.length,
      this.columns.map((c, i) => ({ ...c, data: join(c.data, (other.columns[i] as HexColumn).data) })),
      this.flags.map((f, i) => ({ ...f, data: join(f.data, (other.flags[i] as FlagColumn).data) })),
    );
  }

  /** The items themselves. */
  toArray(): unknown[] {
    const hex = this.columns.map((c) => Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength).toString('hex'));
    const out = new Array<unknown>(this.length);
    const only = this.columns[0] as HexColumn;
    if (only.name === '') {
      const w = only.bytes * 2;
      for (let i = 0; i < this.length; i++) out[i] = (hex[0] as string).slice(i * w, i * w + w);
      return out;
    }
    for (let i = 0; i < this.length; i++) {
      const item: Record<string, unknown> = {};
      this.columns.forEach((c, k) => (item[c.name] = (hex[k] as string).slice(i * c.bytes * 2, (i + 1) * c.bytes * 2)));
      for (const f of this.flags) if (f.data[i] === 1) item[f.name] = true;
      out[i] = item;
    }
    return out;
  }

  toJSON(): unknown[] {
    return this.toArray();
  }
}

/** The event as readers see it: `data.items` an array even when it was published packed. */
export function readableEvent(event: XynEvent): XynEvent {
  const items = event.data.items;
  return items instanceof HexItems ? { ...event, data: { ...event.data, items: items.toArray() } } : event;
}

// msgpack: a HexItems is written as an extension around its columns and read
// back as the array it stands for, by every Packr of this process (thread
// messages and the event log).
const HEX_ITEMS_EXT = 0x18;
type Wire = [length: number, columns: [string, number, Uint8Array][], flags: [string, Uint8Array][]];
addExtension({
  Class: HexItems,
  type: HEX_ITEMS_EXT,
  write: (items: HexItems): Wire => [items.length, items.columns.map((c) => [c.name, c.bytes, c.data]), items.flags.map((f) => [f.name, f.data])],
  read: ([length, columns, flags]: Wire): unknown[] =>
    new HexItems(
      length,
      columns.map(([name, bytes, data]) => ({ name, bytes, data })),
      flags.map(([name, data]) => ({ name, data })),
    ).toArray(),
});
