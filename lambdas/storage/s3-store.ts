// The S3 implementation of the store: streaming multipart upload, JSON objects, listing.
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ConfigurationError } from '#common/errors';
import { storeError } from './aws-errors.ts';
import type { ObjectChecksum } from './checksum.ts';
import { uploadStream } from './s3-upload.ts';
import type { BodyInspector, ConditionalJsonStore, ObjectStore, VersionedJson } from './store.ts';

/** Multipart part size and parallel parts: memory stays at about PART_SIZE × (QUEUE_SIZE + 1). */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 3;

/**
 * An S3 client for the destination. With an endpoint (argument or `AWS_ENDPOINT_URL_S3`), e.g.
 * s3rver or MinIO, path-style addressing is used. The SDK adds checksums only where an operation
 * requires them (local endpoints such as s3rver would store aws-chunked framing as part of the
 * object); exports carry their own CRC32 headers, which S3 verifies (see `uploadStream`).
 */
export function createS3Client(
  opts: { endpoint?: string; region?: string; credentials?: S3ClientConfig['credentials'] } = {},
): S3Client {
  const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL_S3;
  return new S3Client({
    ...(endpoint && { endpoint, forcePathStyle: true }),
    region: opts.region ?? (endpoint ? (process.env.AWS_REGION ?? 'us-east-1') : undefined),
    ...(opts.credentials && { credentials: opts.credentials }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * `s3://bucket/optional/prefix` → `{ bucket, prefix }` (prefix without leading/trailing `/`).
 *
 * @throws ConfigurationError
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url.trim());
  const bucket = match?.[1];
  if (!bucket || !BUCKET_NAME.test(bucket)) {
    throw new ConfigurationError(`not an S3 location: "${url}" (expected s3://<bucket>[/<prefix>])`);
  }
  return { bucket, prefix: normalizePrefix(match[2] ?? '') };
}

function normalizePrefix(prefix: string): string {
  return prefix.split('/').filter(Boolean).join('/');
}

/** 412: a conditional request's precondition did not hold (the object exists, or its ETag changed). */
function isPreconditionFailed(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.name === 'PreconditionFailed' || err.$metadata.httpStatusCode === 412)
  );
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
  );
}

/** An `ObjectStore` on an S3 bucket, below an optional key prefix. */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  /**
   * S3's conditional writes (PutObject If-None-Match / If-Match, DeleteObject If-Match), for the item
   * leases. Off for an endpoint that ignores those headers (s3rver does): a lease there would be a
   * racy check-then-put, so none is taken.
   */
  readonly conditional?: ConditionalJsonStore;

  constructor(opts: { client: S3Client; bucket: string; prefix?: string; conditionalWrites?: boolean }) {
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.prefix = normalizePrefix(opts.prefix ?? '');
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    if (opts.conditionalWrites !== false) {
      this.conditional = {
        createJson: (key, value) => this.putJsonIf(key, value, { IfNoneMatch: '*' }),
        replaceJson: (key, value, etag) => this.putJsonIf(key, value, { IfMatch: etag }),
        getJsonVersion: (key) => this.getJsonVersion(key),
        removeIfMatch: (key, etag) => this.removeIfMatch(key, etag),
      };
    }
  }

  /** PutObject with a precondition: `undefined` on 412 (or 404: an If-Match object that is gone). */
  private async putJsonIf(
    key: string,
    value: unknown,
    condition: { IfNoneMatch: '*' } | { IfMatch: string },
  ): Promise<{ etag: string } | undefined> {
    try {
      const res = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: JSON.stringify(value, null, 2),
          ContentType: 'application/json',
          ...condition,
        }),
      );
      return { etag: res.ETag ?? '' };
    } catch (err) {
      if (isPreconditionFailed(err) || ('IfMatch' in condition && isNotFound(err))) return undefined;
      throw storeError(err, 'PutObject (conditional)', this.describe(key));
    }
  }

  private async getJsonVersion(key: string): Promise<VersionedJson | undefined> {
    let text: string;
    let etag: string;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      text = (await res.Body?.transformToString('utf8')) ?? '';
      etag = res.ETag ?? '';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storeError(err, 'GetObject', this.describe(key));
    }
    try {
      return { value: JSON.parse(text), etag };
    } catch (err) {
      throw new Error(`${this.location}/${key} is not valid JSON`, { cause: err });
    }
  }

  private async removeIfMatch(key: string, etag: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), IfMatch: etag }),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return true;
      if (isPreconditionFailed(err)) return false;
      throw storeError(err, 'DeleteObject (conditional)', this.describe(key));
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw storeError(err, 'HeadObject', this.describe(key));
    }
  }

  async metadataOf(key: string): Promise<Record<string, string> | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      return head.Metadata ?? {};
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storeError(err, 'HeadObject', this.describe(key));
    }
  }

  async remove(key: string): Promise<void> {
    // On a versioned bucket this adds a delete marker: the superseded version stays as noncurrent.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
  }

  async getJson(key: string): Promise<unknown | undefined> {
    let text: string;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      text = (await res.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storeError(err, 'GetObject', this.describe(key));
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.location}/${key} is not valid JSON`, { cause: err });
    }
  }

  async putJson(key: string, value: unknown): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: JSON.stringify(value, null, 2),
          ContentType: 'application/json',
        }),
      );
    } catch (err) {
      throw storeError(err, 'PutObject', this.describe(key));
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      const page = await this.client
        .send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.fullKey(prefix),
            ContinuationToken: token,
          }),
        )
        .catch((err: unknown) => {
          throw storeError(err, 'ListObjectsV2', this.describe(`${prefix}*`));
        });
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(strip));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  /** Streams `body` to `key` with a full-object CRC32 that S3 verifies (see `uploadStream`). */
  upload(
    key: string,
    body: Readable,
    options: { contentType: string; metadata: Record<string, string>; inspect?: BodyInspector },
  ): Promise<{ bytes: number; checksum: ObjectChecksum }> {
    return uploadStream(
      this.client,
      {
        Bucket: this.bucket,
        Key: this.fullKey(key),
        ContentType: options.contentType,
        Metadata: options.metadata,
      },
      body,
      { partSize: PART_SIZE, queueSize: QUEUE_SIZE, ...(options.inspect && { inspect: options.inspect }) },
    );
  }

  /** `s3://bucket/prefix/key`, for error messages. */
  private describe(key: string): string {
    return `${this.location}/${key}`;
  }

  private fullKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }
}
