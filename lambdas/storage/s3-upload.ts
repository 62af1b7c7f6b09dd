// Streams a body into one S3 object as a multipart upload, with a CRC32 that S3 verifies.
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { logger } from '#common/powertools';
import { storeError } from './aws-errors.ts';
import { crc32Base64, crc32Combine, type ObjectChecksum } from './checksum.ts';
import type { BodyInspector } from './store.ts';

export interface StreamUploadTarget {
  Bucket: string;
  Key: string;
  ContentType: string;
  Metadata: Record<string, string>;
  /** Object tags, URL-encoded (`x-amz-tagging`); S3 sets them atomically with the object. */
  Tagging?: string;
}

export interface StreamUploadOptions {
  /** Bytes per part (S3: at least 5 MiB but for the last one). */
  partSize: number;
  /** Parts uploading at once; memory is about partSize × (queueSize + 1), whatever the object's size. */
  queueSize: number;
  /** Sees each chunk before it is stored, and the end before the object is completed (see `ObjectStore.upload`). */
  inspect?: BodyInspector;
}

/**
 * Uploads `body` to one object in constant memory: parts are filled in a few reused buffers (no
 * concatenation, no temp file) and uploaded `queueSize` at a time; a body that fits in one part is
 * one PutObject. Integrity: every part carries its CRC32 (S3 rejects a part whose bytes differ) and
 * the completed object its full-object CRC32 and size, which S3 checks against the parts. The
 * checksums are signed headers, so the payload itself is sent UNSIGNED-PAYLOAD (no SHA-256 pass
 * over every byte); the connection is TLS on AWS. Plain headers, no aws-chunked trailers, so
 * S3-compatible stores that ignore checksums (s3rver) work unchanged.
 *
 * On any failure the error of the body (or of S3, or of `inspect`) is thrown as is, after the multipart upload is
 * aborted (best effort; a lifecycle rule removes what an abort could not).
 */
export async function uploadStream(
  client: S3Client,
  target: StreamUploadTarget,
  body: Readable,
  options: StreamUploadOptions,
): Promise<{ bytes: number; checksum: ObjectChecksum }> {
  const { Bucket, Key } = target;
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let uploadId: string | undefined;
  let failure: unknown;
  let crc = 0;
  let bytes = 0;
  let buffer: Buffer | undefined;
  let filled = 0;
  /** CRC32 of the bytes in `buffer` so far. */
  let partCrc = 0;
  let partNumber = 0;

  // Every S3 call of the upload: a transient S3 fault is thrown as AwsTransientError (retried by the
  // state machine); a failure of the body itself (the download) keeps its own name.
  const s3 = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw storeError(err, operation, `s3://${Bucket}/${Key}`);
    }
  };

  const sendPart = async (part: Buffer, partNumber: number, checksum: string): Promise<void> => {
    if (uploadId === undefined) throw new Error('multipart upload not created');
    const result = await s3('UploadPart', () =>
      client.send(
        unsignedPayload(
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: part,
            ContentLength: part.length,
            ChecksumCRC32: checksum,
          }),
        ),
      ),
    );
    if (!result.ETag) throw new Error(`S3 answered part ${partNumber} of ${Key} without an ETag`);
    parts.push({ PartNumber: partNumber, ETag: result.ETag, ChecksumCRC32: checksum });
  };

  const dispatch = async (full: Buffer, length: number, partCrc: number): Promise<void> => {
    const part = full.subarray(0, length);
    crc = crc32Combine(crc, partCrc, length);
    bytes += length;
    if (uploadId === undefined) {
      const created = await s3('CreateMultipartUpload', () =>
        client.send(
          new CreateMultipartUploadCommand({
            Bucket,
            Key,
            ContentType: target.ContentType,
            Metadata: target.Metadata,
            Tagging: target.Tagging,
            ChecksumAlgorithm: 'CRC32',
            ChecksumType: 'FULL_OBJECT',
          }),
        ),
      );
      if (!created.UploadId) throw new Error(`S3 created no multipart upload for ${Key}`);
      uploadId = created.UploadId;
    }
    const sent = sendPart(part, ++partNumber, crc32Base64(partCrc))
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        inFlight.delete(sent);
        free.push(full);
      });
    inFlight.add(sent);
    while (inFlight.size >= options.queueSize) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  };

  const inspect = options.inspect;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      inspect?.chunk(chunk);
      let at = 0;
      while (at < chunk.length) {
        buffer ??= free.pop() ?? Buffer.allocUnsafeSlow(options.partSize);
        const n = Math.min(chunk.length - at, options.partSize - filled);
        // The part's CRC32 is taken here, from the chunk just received (in cache), not from the part later.
        partCrc = crc32(at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n), partCrc);
        chunk.copy(buffer, filled, at, at + n);
        filled += n;
        at += n;
        if (filled === options.partSize) {
          const full = buffer;
          const fullCrc = partCrc;
          buffer = undefined;
          filled = 0;
          partCrc = 0;
          await dispatch(full, options.partSize, fullCrc);
        }
      }
    }
    inspect?.end();
    if (uploadId === undefined) {
      // The whole body fits in one part: a single PutObject.
      const last = (buffer ?? Buffer.alloc(0)).subarray(0, filled);
      const checksum = crc32Base64(partCrc);
      await s3('PutObject', () =>
        client.send(
          unsignedPayload(
            new PutObjectCommand({
              Bucket,
              Key,
              Body: last,
              ContentLength: last.length,
              ContentType: target.ContentType,
              Metadata: target.Metadata,
              Tagging: target.Tagging,
              ChecksumCRC32: checksum,
            }),
          ),
        ),
      );
      return { bytes: last.length, checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: checksum } };
    }
    if (filled > 0 && buffer) await dispatch(buffer, filled, partCrc);
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const checksum = crc32Base64(crc);
    const completed = await s3('CompleteMultipartUpload', () =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ChecksumCRC32: checksum,
          ChecksumType: 'FULL_OBJECT',
          MpuObjectSize: bytes,
        }),
      ),
    );
    // S3 has checked it already; a store that answers another value is not to be trusted either.
    if (completed.ChecksumCRC32 && completed.ChecksumCRC32 !== checksum) {
      throw new Error(`S3 stored ${Key} with CRC32 ${completed.ChecksumCRC32}, but ${checksum} was sent`);
    }
    return { bytes, checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: checksum } };
  } catch (err) {
    body.destroy();
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) await abort(client, Bucket, Key, uploadId);
    throw err;
  }
}

/** Signs the request without hashing its body: its signed CRC32 header is what S3 verifies it by. */
function unsignedPayload<C extends UploadPartCommand | PutObjectCommand>(command: C): C {
  // Both commands have the same stack; typed as one of them so that `add` resolves to one overload.
  (command as UploadPartCommand).middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'unsignedPayloadWithCrc32' },
  );
  return command;
}

async function abort(client: S3Client, Bucket: string, Key: string, UploadId: string): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  } catch (err) {
    logger.warn('could not abort multipart upload; a lifecycle rule must clean it up', {
      bucket: Bucket,
      key: Key,
      error: err instanceof Error ? err.name : String(err),
    });
  }
}
