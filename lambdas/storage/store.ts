// Where exports land, as a port: the object store the steps write to (S3 or a folder).
import type { Readable } from 'node:stream';
import type { ObjectChecksum } from './checksum.ts';

/**
 * Where exports land: an S3 bucket (+ optional prefix) in AWS or on any S3 endpoint, or a local
 * folder. Keys are relative to the destination root and always use `/`.
 */
export interface ObjectStore {
  /** Human-readable location of the root, e.g. `s3://bucket/prefix` or `/home/me/exports`. */
  readonly location: string;
  /** Whether an object is at `key` (S3: by listing, so it needs no read access to the object). */
  exists(key: string): Promise<boolean>;
  /**
   * The object's tags (S3 object tagging: readable without s3:GetObject; the folder store keeps them
   * in the object's sidecar with its metadata), or `undefined` when there is no object at `key`. An
   * object written without tags (e.g. by an earlier version) answers `{}`.
   */
  tagsOf(key: string): Promise<Record<string, string> | undefined>;
  getJson(key: string): Promise<unknown | undefined>;
  putJson(key: string, value: unknown): Promise<void>;
  /**
   * Removes the object at `key` (and its metadata); no error when there is none. Only FinishRun uses
   * it, for objects a forced run superseded (see finish.ts `removeSuperseded`).
   */
  remove(key: string): Promise<void>;
  /** Keys (relative to the root) under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Streams `body` to `key` in constant memory. The object appears under `key` only when whole:
   * if `body` errors, nothing is left at `key` (multipart upload aborted / temp file removed).
   * `checksum`: the object's checksum as the store verified it (S3), when the store keeps one.
   */
  upload(
    key: string,
    body: Readable,
    options: UploadOptions,
  ): Promise<{ bytes: number; checksum?: ObjectChecksum }>;
  /**
   * Compare-and-swap writes of small JSON objects (the item leases, see lease.ts). Absent on a store
   * that cannot make them atomic: the steps then run without leases (no protection, never a racy
   * check-then-put).
   */
  readonly conditional?: ConditionalJsonStore;
}

/** What an upload stores besides the body (every store takes the same). */
export interface UploadOptions {
  contentType: string;
  /** The object's user metadata (S3 `x-amz-meta-*`). */
  metadata: Record<string, string>;
  /** The object's tags (`tagsOf`). */
  tags?: Record<string, string>;
  /** Sees the body as it is stored, and can refuse it (see `BodyInspector`). */
  inspect?: BodyInspector;
}

/**
 * Looks at every chunk of an upload's body, in order, as the store takes it (a hook, not a stream
 * stage: no extra buffering or copy), and has the last word: an error thrown by `chunk` or `end`
 * fails the upload like an error of the body, and nothing is left at the key. `end` runs after the
 * last chunk, before the object is completed.
 */
export interface BodyInspector {
  chunk(bytes: Buffer): void;
  end(): void;
}

/** A JSON object with its version tag (S3's ETag; the folder store's own tag). */
export interface VersionedJson {
  value: unknown;
  etag: string;
}

/**
 * Atomic conditional writes, as S3 makes them (PutObject `If-None-Match: *` / `If-Match: <ETag>`,
 * DeleteObject `If-Match`): each answers whether the precondition held instead of throwing for it.
 * A write racing another one on S3 (409 ConditionalRequestConflict) throws AwsTransientError.
 */
export interface ConditionalJsonStore {
  /** Writes `value` at `key` only if there is no object there; `undefined` when there is one. */
  createJson(key: string, value: unknown): Promise<{ etag: string } | undefined>;
  /** The object at `key` with its tag, or `undefined`. */
  getJsonVersion(key: string): Promise<VersionedJson | undefined>;
  /** Replaces the object at `key` only if its tag is still `etag`; `undefined` when it is not (or it is gone). */
  replaceJson(key: string, value: unknown, etag: string): Promise<{ etag: string } | undefined>;
  /** Removes the object at `key` only if its tag is still `etag`; false when it is not (gone counts as removed). */
  removeIfMatch(key: string, etag: string): Promise<boolean>;
}
