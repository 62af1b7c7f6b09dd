import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsTransientError, DownloadIncompleteError } from '#common/errors';
import { isTransientAwsError, storeError } from '#storage/aws-errors';
import { S3ObjectStore } from '#storage/s3-store';

/** An S3 error as the SDK throws it once its own retries are spent. */
const s3Error = (name: string, status: number, fault: 'client' | 'server' = 'server') =>
  new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status }, message: name });
/** A socket failure: a plain Node error with a code, no $metadata. */
const socketError = (code: string) => Object.assign(new Error(`socket ${code}`), { code });

const TRANSIENT: [string, unknown][] = [
  ['SlowDown 503', s3Error('SlowDown', 503)],
  ['InternalError 500', s3Error('InternalError', 500)],
  ['ServiceUnavailable 503', s3Error('ServiceUnavailable', 503)],
  ['RequestTimeout 400', s3Error('RequestTimeout', 400, 'client')],
  ['an unnamed 502', s3Error('Unknown', 502)],
  ['ConditionalRequestConflict 409', s3Error('ConditionalRequestConflict', 409, 'client')],
  ['TimeoutError', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ['ECONNRESET', socketError('ECONNRESET')],
  ['EPIPE', socketError('EPIPE')],
  ['ETIMEDOUT', socketError('ETIMEDOUT')],
];
const PERMANENT: [string, unknown][] = [
  ['AccessDenied 403', s3Error('AccessDenied', 403, 'client')],
  ['NoSuchBucket 404', s3Error('NoSuchBucket', 404, 'client')],
  ['PreconditionFailed 412', s3Error('PreconditionFailed', 412, 'client')],
  ['a download that broke', new DownloadIncompleteError('body ended early')],
  ['a plain bug', new TypeError('x is undefined')],
];

describe('isTransientAwsError / storeError', () => {
  it.each(TRANSIENT)('maps %s to AwsTransientError, naming the operation and the S3 error', (_, err) => {
    expect(isTransientAwsError(err)).toBe(true);
    const mapped = storeError(err, 'PutObject', 's3://b/k.json');
    expect(mapped).toBeInstanceOf(AwsTransientError);
    expect((mapped as Error).name).toBe('AwsTransientError');
    expect((mapped as Error).message).toMatch(/^S3 PutObject s3:\/\/b\/k\.json failed transiently \(.+\)$/);
    expect((mapped as Error).cause).toBe(err);
  });

  it.each(PERMANENT)('leaves %s as it is', (_, err) => {
    expect(isTransientAwsError(err)).toBe(false);
    expect(storeError(err, 'PutObject', 's3://b/k')).toBe(err);
  });
});

describe('S3ObjectStore: transient S3 faults surface as AwsTransientError (the name the state machines retry)', () => {
  const s3 = mockClient(S3Client);
  const store = new S3ObjectStore({
    client: new S3Client({ region: 'us-east-1' }),
    bucket: 'b',
    prefix: 'p',
  });
  beforeEach(() => s3.reset());

  it.each([
    [
      'putJson',
      () => s3.on(PutObjectCommand).rejects(s3Error('SlowDown', 503)),
      () => store.putJson('manifests/r/items/x.json', {}),
    ],
    [
      'getJson',
      () => s3.on(GetObjectCommand).rejects(s3Error('InternalError', 500)),
      () => store.getJson('manifests/r/plan.json'),
    ],
    [
      'exists',
      () => s3.on(ListObjectsV2Command).rejects(socketError('ECONNRESET')),
      () => store.exists('sales-navigator/x.csv'),
    ],
    [
      'tagsOf',
      () => s3.on(GetObjectTaggingCommand).rejects(s3Error('ServiceUnavailable', 503)),
      () => store.tagsOf('sales-navigator/x.csv'),
    ],
    [
      'list',
      () => s3.on(ListObjectsV2Command).rejects(socketError('EPIPE')),
      () => store.list('manifests/r/items/'),
    ],
  ])('%s', async (_, arrange, act) => {
    arrange();
    await expect(act()).rejects.toSatisfy(
      (err: Error) => err instanceof AwsTransientError && err.message.includes('s3://b/p/'),
    );
  });

  it('keeps a permanent S3 error as it is (not retried)', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403, 'client'));
    await expect(store.putJson('manifests/x.json', {})).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('upload: a part that meets InternalError aborts the upload and throws AwsTransientError', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).rejects(s3Error('InternalError', 500));
    s3.on(AbortMultipartUploadCommand).resolves({});
    const body = Readable.from([Buffer.alloc(9 * 1024 * 1024, 1)]);
    await expect(
      store.upload('sales-navigator/x.csv', body, { contentType: 'text/csv', metadata: {} }),
    ).rejects.toBeInstanceOf(AwsTransientError);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it('upload: a small body whose PutObject meets a socket reset throws AwsTransientError', async () => {
    s3.on(PutObjectCommand).rejects(socketError('ECONNRESET'));
    await expect(
      store.upload('sales-navigator/x.csv', Readable.from([Buffer.from('a,b\n')]), {
        contentType: 'text/csv',
        metadata: {},
      }),
    ).rejects.toBeInstanceOf(AwsTransientError);
  });

  it('upload: a body that breaks keeps its own error name', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"e"' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    const body = new Readable({
      read() {
        this.destroy(new DownloadIncompleteError('download ended early'));
      },
    });
    await expect(
      store.upload('sales-navigator/x.csv', body, { contentType: 'text/csv', metadata: {} }),
    ).rejects.toBeInstanceOf(DownloadIncompleteError);
  });
});
