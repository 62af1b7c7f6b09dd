import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type S3Sink, startS3Sink } from '#bench/copy/s3-sink';
import { ConfigurationError } from '#common/errors';
import { crc32Base64 } from '#storage/checksum';
import { createS3Client, parseS3Url, S3ObjectStore } from '#storage/s3-store';
import { type LocalS3, startS3rver } from '#test/support/s3rver';

const MiB = 1024 * 1024;
const meta = { $metadata: {} };

describe('parseS3Url', () => {
  it.each([
    ['s3://my-bucket', { bucket: 'my-bucket', prefix: '' }],
    ['s3://my-bucket/', { bucket: 'my-bucket', prefix: '' }],
    ['s3://my.bucket-1/exports/daily/', { bucket: 'my.bucket-1', prefix: 'exports/daily' }],
    ['s3://b12//a//b', { bucket: 'b12', prefix: 'a/b' }],
  ])('parses %s', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });

  it.each(['my-bucket', 'https://my-bucket/x', 's3://', 's3:///x', 's3://My_Bucket/x', 's3://ab'])(
    'rejects %s',
    (url) => {
      expect(() => parseS3Url(url)).toThrow(ConfigurationError);
      expect(() => parseS3Url(url)).toThrow(/expected s3:\/\/<bucket>/);
    },
  );
});

describe('createS3Client', () => {
  it('uses path-style addressing for an explicit endpoint and computes checksums only when required', async () => {
    const client = createS3Client({ endpoint: 'http://127.0.0.1:4568', region: 'eu-west-1' });
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.region()).toBe('eu-west-1');
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
  });

  it('uses virtual-hosted addressing against AWS', async () => {
    const client = createS3Client({ region: 'eu-west-1' });
    expect(client.config.forcePathStyle).toBeFalsy();
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
  });
});

describe('S3ObjectStore (mocked S3)', () => {
  const client = new S3Client({ region: 'us-east-1' });
  const s3 = mockClient(client);
  const store = new S3ObjectStore({ client, bucket: 'bkt', prefix: '/exports//daily/' });

  beforeEach(() => {
    s3.reset();
  });

  it('normalises the prefix', () => {
    expect(store.location).toBe('s3://bkt/exports/daily');
    expect(new S3ObjectStore({ client, bucket: 'bkt' }).location).toBe('s3://bkt');
  });

  const accessDenied = () =>
    new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      message: 'Access Denied',
      $metadata: { httpStatusCode: 403 },
    });
  /** What ListObjectsV2 answers for `Prefix` = a key: that key first when it exists. */
  const listing = (...keys: string[]) => ({
    ...meta,
    Contents: keys.map((Key) => ({ Key })),
    KeyCount: keys.length,
  });

  it('exists: one ListObjectsV2 (Prefix = the key, MaxKeys 1), never HeadObject, which needs s3:GetObject', async () => {
    s3.on(ListObjectsV2Command, { Prefix: 'exports/daily/a.csv' }).resolves(listing('exports/daily/a.csv'));
    // A longer key that merely starts with the asked one is not the object.
    s3.on(ListObjectsV2Command, { Prefix: 'exports/daily/b.csv' }).resolves(
      listing('exports/daily/b.csv.old'),
    );
    s3.on(ListObjectsV2Command, { Prefix: 'exports/daily/missing.csv' }).resolves(listing());
    const denied = accessDenied();
    s3.on(ListObjectsV2Command, { Prefix: 'exports/daily/secret.csv' }).rejects(denied);

    expect(await store.exists('a.csv')).toBe(true);
    expect(await store.exists('b.csv')).toBe(false);
    expect(await store.exists('missing.csv')).toBe(false);
    await expect(store.exists('secret.csv')).rejects.toBe(denied);
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toEqual({
      Bucket: 'bkt',
      Prefix: 'exports/daily/a.csv',
      MaxKeys: 1,
    });
    expect(s3.calls().every((c) => c.args[0] instanceof ListObjectsV2Command)).toBe(true);
  });

  it('tagsOf: GetObjectTagging (no s3:GetObject); a missing key is undefined, untagged {}', async () => {
    s3.on(GetObjectTaggingCommand, { Key: 'exports/daily/a.csv' }).resolves({
      ...meta,
      TagSet: [
        { Key: 'source', Value: 'emulator' },
        { Key: 'apihost', Value: '127.0.0.1:4010' },
      ],
    });
    s3.on(GetObjectTaggingCommand, { Key: 'exports/daily/old.csv' }).resolves({ ...meta, TagSet: [] });
    s3.on(GetObjectTaggingCommand, { Key: 'exports/daily/gone.csv' }).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }),
    );

    expect(await store.tagsOf('a.csv')).toEqual({ source: 'emulator', apihost: '127.0.0.1:4010' });
    expect(await store.tagsOf('old.csv')).toEqual({});
    expect(await store.tagsOf('gone.csv')).toBeUndefined();
  });

  it('a 403 on a missing key (ListBucket under an s3:prefix condition) reads as missing; on a listed key it is thrown', async () => {
    // A GET carries no s3:prefix, so a prefix-conditioned ListBucket does not turn S3's 403 into 404.
    s3.on(GetObjectCommand).rejects(accessDenied());
    s3.on(GetObjectTaggingCommand).rejects(accessDenied());
    s3.on(ListObjectsV2Command, { Prefix: 'exports/daily/manifests/none.json' }).resolves(listing());
    s3.on(ListObjectsV2Command, { Prefix: 'exports/daily/gone.csv' }).resolves(listing());
    s3.on(ListObjectsV2Command, { Prefix: 'exports/daily/manifests/kept.json' }).resolves(
      listing('exports/daily/manifests/kept.json'),
    );
    s3.on(ListObjectsV2Command, { Prefix: 'exports/daily/unlistable.json' }).rejects(accessDenied());

    expect(await store.getJson('manifests/none.json')).toBeUndefined();
    expect(await store.tagsOf('gone.csv')).toBeUndefined();
    // The object is there: the 403 is a real AccessDenied (a missing grant), never "no object".
    await expect(store.getJson('manifests/kept.json')).rejects.toMatchObject({ name: 'AccessDenied' });
    // Nor when the key cannot be listed either.
    await expect(store.getJson('unlistable.json')).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('the lease calls read a 403 on a missing lease as missing too', async () => {
    s3.on(GetObjectCommand).rejects(accessDenied());
    s3.on(PutObjectCommand).rejects(accessDenied());
    s3.on(DeleteObjectCommand).rejects(accessDenied());
    s3.on(ListObjectsV2Command).resolves(listing());
    const conditional = store.conditional;
    if (!conditional) throw new Error('S3 stores take leases');

    expect(await conditional.getJsonVersion('manifests/leases/a.json')).toBeUndefined();
    expect(await conditional.replaceJson('manifests/leases/a.json', {}, '"e1"')).toBeUndefined();
    expect(await conditional.removeIfMatch('manifests/leases/a.json', '"e1"')).toBe(true);
  });

  it('upload: the tags go with the object (x-amz-tagging on CreateMultipartUpload / PutObject)', async () => {
    s3.on(PutObjectCommand).resolves({ ...meta, ETag: '"e"' });
    await store.upload('data/a.csv', Readable.from([Buffer.from('a,b\n')]), {
      contentType: 'text/csv',
      metadata: { source: 'linkedin' },
      tags: { source: 'linkedin', apihost: 'api.linkedin.com' },
    });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Key: 'exports/daily/data/a.csv',
      Metadata: { source: 'linkedin' },
      Tagging: 'source=linkedin&apihost=api.linkedin.com',
    });

    s3.on(CreateMultipartUploadCommand).resolves({ ...meta, UploadId: 'u1' });
    s3.on(UploadPartCommand).resolves({ ...meta, ETag: '"p"' });
    s3.on(CompleteMultipartUploadCommand).resolves(meta);
    await store.upload('data/b.csv', Readable.from([Buffer.alloc(9 * MiB, 'x')]), {
      contentType: 'text/csv',
      metadata: {},
      tags: { source: 'emulator', apihost: '127.0.0.1:4010' },
    });
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      Tagging: 'source=emulator&apihost=127.0.0.1%3A4010',
    });
    // Set atomically with the object: no separate PutObjectTagging against S3 itself.
    expect(s3.commandCalls(PutObjectTaggingCommand)).toHaveLength(0);
  });

  it('getJson: NoSuchKey is undefined, other errors propagate', async () => {
    s3.on(GetObjectCommand, { Key: 'exports/daily/missing.json' }).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }),
    );
    s3.on(GetObjectCommand, { Key: 'exports/daily/broken.json' }).rejects(new Error('socket hang up'));

    expect(await store.getJson('missing.json')).toBeUndefined();
    await expect(store.getJson('broken.json')).rejects.toThrow('socket hang up');
  });

  it('putJson: JSON content type below the prefix', async () => {
    s3.on(PutObjectCommand).resolves(meta);
    await store.putJson('manifests/r1.json', { ok: true });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'bkt',
      Key: 'exports/daily/manifests/r1.json',
      ContentType: 'application/json',
    });
    expect(JSON.parse(String(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body))).toEqual({
      ok: true,
    });
  });

  it('list: follows continuation tokens and returns sorted keys relative to the prefix', async () => {
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      ...meta,
      Contents: [{ Key: 'exports/daily/manifests/r1/items/b.json' }],
      IsTruncated: true,
      NextContinuationToken: 'page-2',
    });
    s3.on(ListObjectsV2Command, { ContinuationToken: 'page-2' }).resolves({
      ...meta,
      Contents: [{ Key: 'exports/daily/manifests/r1/items/a.json' }],
      IsTruncated: false,
    });

    expect(await store.list('manifests/r1/items/')).toEqual([
      'manifests/r1/items/a.json',
      'manifests/r1/items/b.json',
    ]);
    const calls = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { Bucket: 'bkt', Prefix: 'exports/daily/manifests/r1/items/', ContinuationToken: undefined },
      { Bucket: 'bkt', Prefix: 'exports/daily/manifests/r1/items/', ContinuationToken: 'page-2' },
    ]);
  });
});

describe('S3ObjectStore (s3rver)', () => {
  let server: LocalS3;
  let client: S3Client;
  let store: S3ObjectStore;

  beforeAll(async () => {
    server = await startS3rver({ bucket: 'bkt' });
    client = server.client;
    store = new S3ObjectStore({ client, bucket: 'bkt', prefix: 'root', tagsOnCreate: false });
  });

  afterAll(async () => {
    await server?.close();
  });

  /** `total` bytes of a repeating pattern, in 64 KiB chunks; then `error`, if given. */
  function body(total: number, error?: Error): { stream: Readable; content: Buffer } {
    const content = Buffer.alloc(total, 'id,type\n0123456789\n');
    const stream = Readable.from(
      (async function* () {
        for (let at = 0; at < total; at += 64 * 1024) yield content.subarray(at, at + 64 * 1024);
        if (error) throw error;
      })(),
    );
    return { stream, content };
  }

  it('round-trips JSON, a multipart upload with metadata, exists and list', async () => {
    const { stream, content } = body(9 * MiB + 123);
    await store.putJson('manifests/r1.json', { items: ['a'] });
    const result = await store.upload('data/x.csv', stream, {
      contentType: 'text/csv',
      metadata: { jobid: '42' },
    });

    expect(result).toEqual({
      bytes: content.length,
      checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: crc32Base64(crc32(content)) },
    });
    expect(await store.getJson('manifests/r1.json')).toEqual({ items: ['a'] });
    expect(await store.getJson('manifests/none.json')).toBeUndefined();
    expect(await store.exists('data/x.csv')).toBe(true);
    expect(await store.exists('data/y.csv')).toBe(false);
    expect(await store.list('')).toEqual(['data/x.csv', 'manifests/r1.json']);

    const object = await client.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'root/data/x.csv' }));
    expect(object.ContentType).toBe('text/csv');
    expect(object.Metadata).toEqual({ jobid: '42' });
    expect(Buffer.from((await object.Body?.transformToByteArray()) ?? []).equals(content)).toBe(true);
  });

  it('a failing body leaves no object and its own error wins over the abort failure', async () => {
    // 9 MiB: the multipart upload has started (one 8 MiB part) when the body fails; s3rver then
    // answers AbortMultipartUpload with 405, which must not replace the body's error.
    const boom = new Error('download broke off');
    const { stream } = body(9 * MiB, boom);

    await expect(
      store.upload('data/broken.csv', stream, { contentType: 'text/csv', metadata: {} }),
    ).rejects.toBe(boom);
    expect(await store.exists('data/broken.csv')).toBe(false);
  });

  it('tags: s3rver ignores x-amz-tagging, so the store sets them once the object is whole; overwrites replace them', async () => {
    const key = 'data/tagged.csv';
    await store.upload(key, Readable.from([Buffer.from('a,b\n')]), {
      contentType: 'text/csv',
      metadata: { source: 'emulator' },
      tags: { source: 'emulator', apihost: '127.0.0.1:4010' },
    });
    expect(await store.tagsOf(key)).toEqual({ source: 'emulator', apihost: '127.0.0.1:4010' });
    await store.upload(key, Readable.from([Buffer.from('a,b\n')]), {
      contentType: 'text/csv',
      metadata: { source: 'linkedin' },
      tags: { source: 'linkedin', apihost: 'api.linkedin.com' },
    });
    expect(await store.tagsOf(key)).toEqual({ source: 'linkedin', apihost: 'api.linkedin.com' });
    expect(await store.tagsOf('data/none.csv')).toBeUndefined();
  });
});

describe('S3ObjectStore upload integrity (an S3 endpoint that checks CRC32 like S3)', () => {
  let sink: S3Sink;
  let client: S3Client;
  let store: S3ObjectStore;

  beforeAll(async () => {
    sink = await startS3Sink();
    client = createS3Client({
      endpoint: sink.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    store = new S3ObjectStore({ client, bucket: 'bkt' });
  });

  afterAll(async () => {
    client?.destroy();
    await sink?.close();
  });

  const chunks = (content: Buffer) =>
    Readable.from(
      (function* () {
        for (let at = 0; at < content.length; at += 100_000) yield content.subarray(at, at + 100_000);
      })(),
    );

  it.each([
    ['one PutObject', 3 * MiB + 5],
    ['a multipart upload of three parts', 17 * MiB + 3],
    ['an empty body', 0],
  ])(
    '%s: every request carries a CRC32 the endpoint verified, the whole object a full-object CRC32',
    async (_label, size) => {
      const content = Buffer.alloc(size, 'seatId,name\n1,"a\r\nb"\n');
      const key = `data/${size}.csv`;
      const result = await store.upload(key, chunks(content), { contentType: 'text/csv', metadata: {} });

      const whole = crc32Base64(crc32(content));
      expect(result).toEqual({
        bytes: size,
        checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: whole },
      });
      const sunk = sink.objects.get(`bkt/${key}`);
      expect(sunk).toMatchObject({ bytes: size, crc32: whole });
      for (const headers of sunk?.headers ?? []) {
        expect(headers['x-amz-checksum-crc32']).toEqual(expect.any(String));
        // No SHA-256 pass over the payload: the signed CRC32 header is what S3 checks the bytes by.
        expect(headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
        // Plain bodies: no aws-chunked framing, which s3rver and other local endpoints would store.
        expect(headers['content-encoding']).toBeUndefined();
        // No 100-continue: the SDK would send each such request on a fresh connection (see createS3Client).
        expect(headers.expect).toBeUndefined();
      }
      expect(sunk?.headers).toHaveLength(size > 8 * MiB ? 3 : 1);
    },
  );

  it('parts of 2 MiB and more reuse the keep-alive connections: no TCP (on AWS, TLS) handshake per part', async () => {
    const fresh = createS3Client({
      endpoint: sink.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    try {
      const before = sink.connections;
      const content = Buffer.alloc(3 * MiB, 'a');
      const one = new S3ObjectStore({ client: fresh, bucket: 'bkt' });
      for (const key of ['reuse/1.csv', 'reuse/2.csv', 'reuse/3.csv'])
        await one.upload(key, chunks(content), { contentType: 'text/csv', metadata: {} });
      expect(sink.connections - before).toBe(1);
    } finally {
      fresh.destroy();
    }
  });

  /** Records what an upload's `inspect` saw; refuses at the chunk that passes `refuseAt` bytes, or at the end. */
  function inspector(refuse: { atBytes?: number; atEnd?: boolean } = {}) {
    const seen = { bytes: 0, chunks: 0, ended: false };
    const refusal = new Error('inspector refused the body');
    return {
      seen,
      refusal,
      inspect: {
        chunk(bytes: Buffer) {
          seen.bytes += bytes.length;
          seen.chunks++;
          if (refuse.atBytes !== undefined && seen.bytes > refuse.atBytes) throw refusal;
        },
        end() {
          seen.ended = true;
          if (refuse.atEnd) throw refusal;
        },
      },
    };
  }

  it('shows every chunk to inspect, in order and before the object completes', async () => {
    const content = Buffer.alloc(9 * MiB + 7, 'a,b\n');
    const { seen, inspect } = inspector();
    await store.upload('data/seen.csv', chunks(content), { contentType: 'text/csv', metadata: {}, inspect });
    expect(seen).toEqual({ bytes: content.length, chunks: Math.ceil(content.length / 100_000), ended: true });
    expect(sink.objects.get('bkt/data/seen.csv')).toMatchObject({ bytes: content.length });
  });

  it.each<[string, { atBytes?: number; atEnd?: boolean }, number?]>([
    ['a chunk mid-way (a multipart upload under way)', { atBytes: 9 * MiB }],
    ['the end of a multipart body', { atEnd: true }],
    ['the end of a one-part body', { atEnd: true }, 3 * MiB],
  ])(
    'an inspect that refuses %s fails the upload with its error, leaving no object',
    async (_l, refuse, size = 17 * MiB) => {
      const { refusal, inspect } = inspector(refuse);
      const key = `data/refused-${size}-${refuse.atEnd ? 'end' : 'chunk'}.csv`;
      await expect(
        store.upload(key, chunks(Buffer.alloc(size, 'a,b\n')), {
          contentType: 'text/csv',
          metadata: {},
          inspect,
        }),
      ).rejects.toBe(refusal);
      expect(sink.objects.has(`bkt/${key}`)).toBe(false);
    },
  );
});
