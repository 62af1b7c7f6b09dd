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
  exists(key: string): Promise<boolean>;
  /**
   * The object's user metadata (lower-case keys), or `undefined` when there is no object at `key`.
   * An object written without metadata (e.g. by an earlier version) answers `{}`.
   */
  metadataOf(key: string): Promise<Record<string, string> | undefined>;
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
    options: { contentType: string; metadata: Record<string, string> },
  ): Promise<{ bytes: number; checksum?: ObjectChecksum }>;
}
