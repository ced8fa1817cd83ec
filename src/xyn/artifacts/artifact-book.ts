/**
 * The node's artifacts (seed 004 §45.5): a record each in LMDB, the bytes in
 * the CAS in chunks (chunk-writer.ts), listed newest first by run or kind,
 * read whole or by byte range — a range reads only the chunks it covers.
 *
 * Limits (§38.1): one artifact at most XYN_ARTIFACT_MAX_BYTES, all of them
 * together at most XYN_ARTIFACTS_QUOTA_BYTES (uploads in flight counted, so
 * two at once cannot pass it together). An upload refused or cut short
 * leaves nothing: no record, and its chunks dropped.
 *
 *   const a = await book.put({ name: 'out.txt', kind: 'file', content_type: 'text/plain', created_by: 'ana' }, bytesOf('hi'));
 *   for await (const piece of book.read(a.artifact_id, { start: 0, end: 0 })) …   // 'h'
 *   book.list({ run_id, kind: 'log', name: 'probe', limit: 50 });
 */
import { systemClock, type Clock } from '../../core/clock.ts';
import { uuid7 } from '../../core/uuid7.ts';
import type { Store } from '../../store/env.ts';
import { Cas, casRefsDb } from '../../store/cas.ts';
import { pageOfIds, type Page } from '../drafts/records.ts';
import { dropChunks, writeChunks } from './chunk-writer.ts';
import { ArtifactLengthError, ArtifactNotFoundError, ArtifactQuotaError, ArtifactStateError, ArtifactTooLargeError } from './errors.ts';
import { artifactIndexDb, artifactsDb, casOwner, CHUNK_BYTES, kindIndexKey, runIndexKey, TOTAL_BYTES_KEY, type ArtifactHeader, type ArtifactRecord } from './records.ts';

export interface ArtifactLimits {
  /** XYN_ARTIFACT_MAX_BYTES */
  maxBytes: number;
  /** XYN_ARTIFACTS_QUOTA_BYTES */
  quotaBytes: number;
}

export interface ArtifactQuery {
  run_id?: string;
  kind?: string;
  /** Only artifacts whose name contains this, ignoring case. */
  name?: string;
  /** The last artifact_id of the page before. */
  cursor?: string;
  limit?: number;
}

/** Inclusive byte offsets. */
export interface ByteRange {
  start: number;
  end: number;
}

export class ArtifactBook {
  private readonly records;
  private readonly index;
  private readonly cas: Cas;
  private readonly clock: Clock;
  /** Bytes of uploads going on now, by artifact id (a pending one's PUT, or a direct upload's new id). */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly store: Store,
    readonly limits: ArtifactLimits,
    clock: Clock = systemClock,
  ) {
    this.records = artifactsDb(store);
    this.index = artifactIndexDb(store);
    this.cas = new Cas(store);
    this.clock = clock;
  }

  /** Bytes the ready artifacts hold. */
  usedBytes(): number {
    return this.index.get(TOTAL_BYTES_KEY) ?? 0;
  }

  /** Stores an artifact from its bytes, streamed; resolves with its record once it is durable. */
  async put(header: ArtifactHeader, body: AsyncIterable<Uint8Array>): Promise<ArtifactRecord> {
    const record = this.newRecord(header, null, 'pending');
    return this.fill(record, body);
  }

  /** Makes a pending artifact (a two-step upload's first step): its bytes come with `upload`. */
  async create(header: ArtifactHeader, byteLength: number | null): Promise<ArtifactRecord> {
    if (byteLength !== null && byteLength > this.limits.maxBytes) throw new ArtifactTooLargeError(this.limits.maxBytes);
    const record = this.newRecord(header, byteLength, 'pending');
    await this.store.write(() => {
      void this.records.put(record.artifact_id, record);
      this.indexPut(record);
    });
    return record;
  }

  /** Puts the bytes of a pending artifact (byte_length checked if it was declared). */
  async upload(artifactId: string, body: AsyncIterable<Uint8Array>): Promise<ArtifactRecord> {
    const record = this.get(artifactId);
    if (record.status !== 'pending' || this.inFlight.has(artifactId)) {
      throw new ArtifactStateError(`artifact ${artifactId} ${record.status === 'ready' ? 'already has its bytes' : 'is being uploaded now'}: an artifact's bytes are put once`, artifactId);
    }
    return this.fill(record, body);
  }

  get(artifactId: string): ArtifactRecord {
    const record = this.records.get(artifactId);
    if (!record) throw new ArtifactNotFoundError(artifactId);
    return record;
  }

  /** A page of artifacts, newest first, filtered by run, kind and/or a part of their name (no index: the records in run or kind order are looked at until the page is full). */
  list(q: ArtifactQuery = {}): Page<ArtifactRecord> {
    const name = q.name?.toLowerCase();
    return pageOfIds(this.newestFirst(q), q.limit, (id) => {
      const record = this.records.get(id);
      if (!record || (q.kind !== undefined && record.kind !== q.kind)) return undefined;
      if (name !== undefined && !record.name.toLowerCase().includes(name)) return undefined;
      return record;
    });
  }

  /** The bytes of a ready artifact, or of a range of them, a chunk at a time (each checked against its hash). */
  async *read(artifactId: string, range?: ByteRange): AsyncGenerator<Uint8Array> {
    const record = this.ready(artifactId);
    const length = record.byte_length ?? 0;
    const { start, end } = range ?? { start: 0, end: length - 1 };
    const size = record.chunk_bytes;
    for (let i = Math.floor(start / size); i * size <= end && i < record.chunks.length; i++) {
      const bytes = this.cas.get(record.chunks[i] as string);
      if (!bytes) throw new ArtifactStateError(`artifact ${artifactId} lost chunk ${i} of its bytes`, artifactId);
      const from = Math.max(0, start - i * size);
      const to = Math.min(bytes.length, end - i * size + 1);
      yield bytes.subarray(from, to);
    }
  }

  /** The record of an artifact whose bytes are there. */
  ready(artifactId: string): ArtifactRecord {
    const record = this.get(artifactId);
    if (record.status !== 'ready') throw new ArtifactStateError(`artifact ${artifactId} is pending: its bytes have not been uploaded yet (PUT them to its upload_url)`, artifactId);
    return record;
  }

  /**
   * Drops what uploads a stop cut short: chunks held by an artifact that has
   * no ready record (no upload goes on at start). Resolves with how many.
   */
  async sweep(): Promise<number> {
    const owners = new Set<string>();
    const prefix = `o:${casOwner('')}`;
    for (const key of casRefsDb(this.store).getKeys({ start: prefix, end: `${prefix}\uffff` })) {
      const id = key.slice(prefix.length, key.indexOf(':', prefix.length));
      if (this.records.get(id)?.status !== 'ready' && !this.inFlight.has(id)) owners.add(id);
    }
    for (const id of owners) await dropChunks(this.store, casOwner(id));
    return owners.size;
  }

  private newRecord(header: ArtifactHeader, byteLength: number | null, status: ArtifactRecord['status']): ArtifactRecord {
    const now = this.clock.now();
    return {
      artifact_id: uuid7(now),
      name: header.name,
      kind: header.kind,
      content_type: header.content_type,
      byte_length: byteLength,
      created_at: new Date(now).toISOString(),
      created_by: header.created_by,
      run_id: header.run_id ?? null,
      step_id: header.step_id ?? null,
      sha256: null,
      metadata: header.metadata ?? {},
      status,
      chunk_bytes: CHUNK_BYTES,
      chunks: [],
    };
  }

  /** Streams the bytes into chunks, then writes the record ready, its indexes and the quota's total in one transaction. */
  private async fill(record: ArtifactRecord, body: AsyncIterable<Uint8Array>): Promise<ArtifactRecord> {
    const id = record.artifact_id;
    const { maxBytes, quotaBytes } = this.limits;
    this.inFlight.set(id, 0);
    try {
      const written = await writeChunks(this.store, casOwner(id), body, {
        maxBytes,
        tooLarge: () => new ArtifactTooLargeError(maxBytes),
        admit: (total) => {
          this.inFlight.set(id, total);
          const used = this.usedBytes() + this.inFlightBytes();
          if (used > quotaBytes) throw new ArtifactQuotaError(quotaBytes, used - total);
        },
      });
      const declared = record.status === 'pending' ? record.byte_length : null;
      if (declared !== null && declared !== written.byte_length) {
        await dropChunks(this.store, casOwner(id));
        throw new ArtifactLengthError(declared, written.byte_length);
      }
      const ready: ArtifactRecord = { ...record, status: 'ready', byte_length: written.byte_length, sha256: written.sha256, chunks: written.chunks };
      await this.store.write(() => {
        void this.records.put(id, ready);
        this.indexPut(ready);
        void this.index.put(TOTAL_BYTES_KEY, (this.index.get(TOTAL_BYTES_KEY) ?? 0) + written.byte_length);
      });
      return ready;
    } finally {
      this.inFlight.delete(id);
    }
  }

  private inFlightBytes(): number {
    let sum = 0;
    for (const n of this.inFlight.values()) sum += n;
    return sum;
  }

  /** Inside a write. */
  private indexPut(record: ArtifactRecord): void {
    if (record.run_id !== null) void this.index.put(runIndexKey(record.run_id, record.artifact_id), 1);
    void this.index.put(kindIndexKey(record.kind, record.artifact_id), 1);
  }

  private *newestFirst(q: ArtifactQuery): Generator<string> {
    const prefix = q.run_id !== undefined ? runIndexKey(q.run_id, '') : q.kind !== undefined ? kindIndexKey(q.kind, '') : undefined;
    if (prefix === undefined) {
      for (const key of this.records.getKeys({ start: q.cursor ?? '\uffff', end: '', reverse: true })) if (key !== q.cursor) yield key;
      return;
    }
    const start = q.cursor !== undefined ? `${prefix}${q.cursor}` : `${prefix}\uffff`;
    for (const key of this.index.getKeys({ start, end: prefix, reverse: true })) {
      const id = key.slice(prefix.length);
      if (id !== q.cursor) yield id;
    }
  }
}
