/**
 * What the node keeps of an artifact in LMDB, and the API's view of it (seed
 * 004 §45.5). `xyn_artifacts`: artifact_id → ArtifactRecord, with the
 * ordered CAS hashes of its chunks (the bytes are in the CAS, CHUNK_BYTES
 * each, so a range reads only the chunks it covers). `xyn_artifact_index`:
 * `r:<run_id>:<artifact_id>` and `k:<kind>:<artifact_id>` for filtered
 * lists, and `bytes` → the bytes all ready artifacts hold (the quota's).
 *
 * Artifact ids are UUIDv7: their key order is the order artifacts were made in.
 */
import type { Database } from 'lmdb';
import type { Store } from '../../store/env.ts';

/** Bytes per CAS chunk: a 250 MB upload is 250 writes of this, never held whole. */
export const CHUNK_BYTES = 1024 * 1024;

/** An artifact as the API gives it (seed 004 §45.5, and whether its bytes are there yet). */
export interface Artifact {
  artifact_id: string;
  name: string;
  kind: string;
  content_type: string;
  /** Bytes it holds; for a pending one, what its creator declared (or null). */
  byte_length: number | null;
  created_at: string;
  created_by: string;
  run_id: string | null;
  step_id: string | null;
  /** Of all its bytes; null while pending. */
  sha256: string | null;
  metadata: Record<string, unknown>;
  /** `pending`: made by a two-step upload, its bytes not yet put. */
  status: 'pending' | 'ready';
}

/** What the node keeps: the artifact, and where its bytes are. */
export interface ArtifactRecord extends Artifact {
  /** Bytes per chunk when it was written. */
  chunk_bytes: number;
  /** CAS hashes of its chunks, in order. */
  chunks: string[];
}

/** What its creator says of an artifact (seed 004 §45.5's ArtifactCreateRequest, and who). */
export interface ArtifactHeader {
  name: string;
  kind: string;
  content_type: string;
  run_id?: string | null | undefined;
  step_id?: string | null | undefined;
  metadata?: Record<string, unknown> | undefined;
  created_by: string;
}

/** The record as the API gives it: without where its bytes are. */
export function artifactDto(a: ArtifactRecord): Artifact {
  return {
    artifact_id: a.artifact_id,
    name: a.name,
    kind: a.kind,
    content_type: a.content_type,
    byte_length: a.byte_length,
    created_at: a.created_at,
    created_by: a.created_by,
    run_id: a.run_id,
    step_id: a.step_id,
    sha256: a.sha256,
    metadata: a.metadata,
    status: a.status,
  };
}

export const runIndexKey = (runId: string, artifactId: string): string => `r:${runId}:${artifactId}`;
export const kindIndexKey = (kind: string, artifactId: string): string => `k:${kind}:${artifactId}`;
export const TOTAL_BYTES_KEY = 'bytes';
/** The owner of an artifact's chunks in `cas_refs`. */
export const casOwner = (artifactId: string): string => `artifact:${artifactId}`;

export function artifactsDb(store: Store): Database<ArtifactRecord, string> {
  return store.db<string, ArtifactRecord>('xyn_artifacts');
}

/** Index keys → 1; TOTAL_BYTES_KEY → bytes. */
export function artifactIndexDb(store: Store): Database<number, string> {
  return store.db<string, number>('xyn_artifact_index');
}
