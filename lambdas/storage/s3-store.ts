// The S3 implementation of the store: streaming multipart upload, JSON objects, listing.
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ConfigurationError } from '#common/errors';
import { storeError } from './aws-errors.ts';
import type { ObjectChecksum } from './checksum.ts';
import { uploadStream } from './s3-upload.ts';
import type { ConditionalJsonStore, ObjectStore, UploadOptions, VersionedJson } from './store.ts';

/** Multipart part size and parallel parts: memory stays at about PART_SIZE × (QUEUE_SIZE + 1). */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 3;

/**
 * An S3 client for the destination. With an endpoint (argument or `AWS_ENDPOINT_URL_S3`), e.g.
 * s3rver or MinIO, path-style addressing is used. The SDK adds checksums only where an operation
 * requires them (local endpoints such as s3rver would store aws-chunked framing as part of the
 * object); exports carry their own CRC32 headers, which S3 verifies (see `uploadStream`).
 *
 * No `Expect: 100-continue`: the SDK adds it to every body of 2 MiB or more, and sends each such
 * request on a fresh connection of its own (a non-keep-alive agent, in @smithy/node-http-handler),
 * so every 8 MiB part paid a TCP and TLS handshake and a round trip before its first byte. Without
 * it, parts reuse the client's keep-alive connections; a refused request (403, a wrong region) is
 * learned after its part's bytes instead of before, once per request in flight.
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
    expectContinueHeader: false,
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

function isAccessDenied(err: unknown): boolean {
  return (
    err instanceof S3ServiceException && (err.name === 'AccessDenied' || err.$metadata.httpStatusCode === 403)
  );
}

/** Tags as S3's `x-amz-tagging` header wants them: URL-encoded `key=value&…`. */
function taggingHeader(tags: Record<string, string>): string | undefined {
  const entries = Object.entries(tags);
  return entries.length > 0 ? new URLSearchParams(entries).toString() : undefined;
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
  /** Whether an upload's tags are set again with PutObjectTagging once it is complete (see constructor). */
  private readonly retagAfterUpload: boolean;

  /**
   * @param opts.conditionalWrites S3's conditional writes. @default true (false for an endpoint that ignores them)
   * @param opts.tagsOnCreate Whether the endpoint applies the `x-amz-tagging` header of PutObject and
   *   CreateMultipartUpload, as S3 does (atomically with the object). An endpoint that ignores it
   *   (s3rver) gets a PutObjectTagging once the object is complete instead. @default true
   */
  constructor(opts: {
    client: S3Client;
    bucket: string;
    prefix?: string;
    conditionalWrites?: boolean;
    tagsOnCreate?: boolean;
  }) {
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.prefix = normalizePrefix(opts.prefix ?? '');
    this.retagAfterUpload = opts.tagsOnCreate === false;
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
      if (isPreconditionFailed(err)) return undefined;
      if ('IfMatch' in condition && (await this.isMissing(err, key))) return undefined;
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
      if (await this.isMissing(err, key)) return undefined;
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
      if (isPreconditionFailed(err)) return false;
      if (await this.isMissing(err, key)) return true;
      throw storeError(err, 'DeleteObject (conditional)', this.describe(key));
    }
  }

  /**
   * Whether an object is at `key`, by listing (ListObjectsV2, `Prefix` = the key, `MaxKeys` 1: a key
   * sorts before every longer key it prefixes). It needs s3:ListBucket under the key's prefix, never
   * s3:GetObject: a function that only asks whether an export exists cannot read it.
   */
  async exists(key: string): Promise<boolean> {
    const full = this.fullKey(key);
    const page = await this.client
      .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, MaxKeys: 1 }))
      .catch((err: unknown) => {
        throw storeError(err, 'ListObjectsV2', this.describe(key));
      });
    return page.Contents?.[0]?.Key === full;
  }

  /**
   * Whether a failed request means "no object at `key`". S3 answers 404 only when the caller may list
   * the key; a GET carries no s3:prefix, so with s3:ListBucket granted under a prefix condition (as
   * every function's is) a missing key answers 403. A listing then tells a missing key from a real
   * AccessDenied, which is thrown as it came.
   */
  private async isMissing(err: unknown, key: string): Promise<boolean> {
    if (isNotFound(err)) return true;
    if (!isAccessDenied(err)) return false;
    return !(await this.exists(key).catch(() => true));
  }

  /**
   * The object's tags (GetObjectTagging: s3:GetObjectTagging, which reads no content), or `undefined`
   * when there is no object at `key`. An object written without tags answers `{}`.
   */
  async tagsOf(key: string): Promise<Record<string, string> | undefined> {
    try {
      const res = await this.client.send(
        new GetObjectTaggingCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      const tags: Record<string, string> = {};
      for (const tag of res.TagSet ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
      return tags;
    } catch (err) {
      if (await this.isMissing(err, key)) return undefined;
      throw storeError(err, 'GetObjectTagging', this.describe(key));
    }
  }

  async remove(key: string): Promise<void> {
    // On a versioned bucket this adds a delete marker: the superseded version stays as noncurrent.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
  }

  async getJson(key: string): Promise<unknown | undefined> {
    return (await this.getJsonVersion(key))?.value;
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

  /**
   * Streams `body` to `key` with a full-object CRC32 that S3 verifies (see `uploadStream`); `tags`
   * are set with the object (`x-amz-tagging`), so an object never exists without them on S3.
   */
  async upload(
    key: string,
    body: Readable,
    options: UploadOptions,
  ): Promise<{ bytes: number; checksum: ObjectChecksum }> {
    const tagging = taggingHeader(options.tags ?? {});
    const uploaded = await uploadStream(
      this.client,
      {
        Bucket: this.bucket,
        Key: this.fullKey(key),
        ContentType: options.contentType,
        Metadata: options.metadata,
        ...(tagging && { Tagging: tagging }),
      },
      body,
      { partSize: PART_SIZE, queueSize: QUEUE_SIZE, ...(options.inspect && { inspect: options.inspect }) },
    );
    if (this.retagAfterUpload && options.tags) {
      const TagSet = Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value }));
      await this.client
        .send(
          new PutObjectTaggingCommand({ Bucket: this.bucket, Key: this.fullKey(key), Tagging: { TagSet } }),
        )
        .catch((err: unknown) => {
          throw storeError(err, 'PutObjectTagging', this.describe(key));
        });
    }
    return uploaded;
  }

  /** `s3://bucket/prefix/key`, for error messages. */
  private describe(key: string): string {
    return `${this.location}/${key}`;
  }

  private fullKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }
}
