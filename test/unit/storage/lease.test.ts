// Item leases on S3 semantics (aws-sdk-client-mock): create, held, ours, expired takeover, races, release.

import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExportItem } from '#common/model';
import { leaseKey } from '#storage/keys';
import { acquireLease, LEASE_SECONDS, releaseLease } from '#storage/lease';
import { S3ObjectStore } from '#storage/s3-store';

const s3 = mockClient(S3Client);
const store = new S3ObjectStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'b', prefix: 'p' });
const item: ExportItem = {
  contract: 'urn:li:contract:1',
  dataset: 'seat',
  start: '2026-11-30',
  end: '2026-12-01',
};
const KEY = `p/${leaseKey(item)}`;
const now = new Date('2026-12-01T06:00:00Z');

const s3Error = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
const body = (value: unknown) => ({ transformToString: async () => JSON.stringify(value) }) as never;
const leaseOf = (runId: string, expiresAt: string) => ({
  runId,
  acquiredAt: '2026-11-30T06:00:00.000Z',
  expiresAt,
});

beforeEach(() => s3.reset());

describe('acquireLease (S3)', () => {
  it('creates the lease with If-None-Match: * and an expiry of the item budget', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    const outcome = await acquireLease(store, item, { runId: 'run-a', now });
    expect(outcome).toMatchObject({ ours: true, etag: '"e1"', lease: { runId: 'run-a' } });
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: 'b', Key: KEY, IfNoneMatch: '*' });
    const written = JSON.parse(String(put?.Body));
    expect(Date.parse(written.expiresAt) - now.getTime()).toBe(LEASE_SECONDS * 1000);
    expect(LEASE_SECONDS).toBe(7 * 24 * 3600);
  });

  it('412 and a live lease of another run: held by that run, nothing overwritten', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    s3.on(GetObjectCommand).resolves({
      Body: body(leaseOf('run-b', '2026-12-05T00:00:00.000Z')),
      ETag: '"b"',
    });
    const outcome = await acquireLease(store, item, { runId: 'run-a', now });
    expect(outcome).toMatchObject({ ours: false, heldBy: { runId: 'run-b' } });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('412 and a lease of the same run (a retried step): ours, as it is', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    s3.on(GetObjectCommand).resolves({
      Body: body(leaseOf('run-a', '2026-12-05T00:00:00.000Z')),
      ETag: '"a"',
    });
    const outcome = await acquireLease(store, item, { runId: 'run-a', now });
    expect(outcome).toMatchObject({ ours: true, etag: '"a"', lease: { runId: 'run-a' } });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('an expired lease is taken over with If-Match on its ETag', async () => {
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(s3Error('PreconditionFailed', 412));
    s3.on(PutObjectCommand, { IfMatch: '"old"' }).resolves({ ETag: '"new"' });
    s3.on(GetObjectCommand).resolves({
      Body: body(leaseOf('run-b', '2026-12-01T05:59:59.000Z')),
      ETag: '"old"',
    });
    const outcome = await acquireLease(store, item, { runId: 'run-a', now });
    expect(outcome).toMatchObject({ ours: true, etag: '"new"', tookOverFrom: { runId: 'run-b' } });
    const takeover = s3.commandCalls(PutObjectCommand)[1]?.args[0].input;
    expect(takeover).toMatchObject({ Key: KEY, IfMatch: '"old"' });
    expect(takeover?.IfNoneMatch).toBeUndefined();
  });

  it('a live lease of a run that has ended (holderEnded) is taken over with If-Match; of a live run it holds', async () => {
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(s3Error('PreconditionFailed', 412));
    s3.on(PutObjectCommand, { IfMatch: '"b"' }).resolves({ ETag: '"new"' });
    s3.on(GetObjectCommand).resolves({
      Body: body(leaseOf('run-b', '2026-12-05T00:00:00.000Z')),
      ETag: '"b"',
    });
    const asked: string[] = [];
    const ended = await acquireLease(store, item, {
      runId: 'run-a',
      now,
      holderEnded: async (holder) => {
        asked.push(holder.runId);
        return true;
      },
    });
    expect(ended).toMatchObject({
      ours: true,
      etag: '"new"',
      tookOverFrom: { runId: 'run-b' },
      tookOverBecause: 'holderEnded',
    });
    expect(asked).toEqual(['run-b']);

    s3.resetHistory();
    const running = await acquireLease(store, item, { runId: 'run-a', now, holderEnded: async () => false });
    expect(running).toMatchObject({ ours: false, heldBy: { runId: 'run-b' } });
    expect(s3.commandCalls(PutObjectCommand, { IfMatch: '"b"' })).toHaveLength(0);
  });

  it('holderEnded is not asked for an expired lease or our own', async () => {
    s3.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(s3Error('PreconditionFailed', 412));
    s3.on(PutObjectCommand, { IfMatch: '"old"' }).resolves({ ETag: '"new"' });
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: body(leaseOf('run-b', '2026-12-01T05:00:00.000Z')), ETag: '"old"' })
      .resolves({ Body: body(leaseOf('run-a', '2026-12-08T06:00:00.000Z')), ETag: '"a"' });
    const holderEnded = async (): Promise<boolean> => {
      throw new Error('must not be asked');
    };
    expect(await acquireLease(store, item, { runId: 'run-a', now, holderEnded })).toMatchObject({
      ours: true,
      tookOverBecause: 'expired',
    });
    expect(await acquireLease(store, item, { runId: 'run-a', now, holderEnded })).toMatchObject({
      ours: true,
      etag: '"a"',
    });
  });

  it('412 on the takeover (another run took it over first): held by the winner', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: body(leaseOf('run-b', '2026-12-01T00:00:00.000Z')), ETag: '"old"' })
      .resolves({ Body: body(leaseOf('run-c', '2026-12-08T06:00:00.000Z')), ETag: '"c"' });
    const outcome = await acquireLease(store, item, { runId: 'run-a', now });
    expect(outcome).toMatchObject({ ours: false, heldBy: { runId: 'run-c' } });
    // create, takeover (lost), create again: never an unconditional write.
    for (const call of s3.commandCalls(PutObjectCommand)) {
      const input = call.args[0].input;
      expect(input.IfNoneMatch === '*' || input.IfMatch === '"old"').toBe(true);
    }
  });

  it('409 ConditionalRequestConflict is retried', async () => {
    s3.on(PutObjectCommand)
      .rejectsOnce(s3Error('ConditionalRequestConflict', 409))
      .resolves({ ETag: '"e2"' });
    const outcome = await acquireLease(store, item, { runId: 'run-a', now });
    expect(outcome).toMatchObject({ ours: true, etag: '"e2"' });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  it('409 every time ends in AwsTransientError (the workflow retries it)', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('ConditionalRequestConflict', 409));
    await expect(acquireLease(store, item, { runId: 'run-a', now })).rejects.toMatchObject({
      name: 'AwsTransientError',
    });
  });

  it('a store without conditional writes takes no lease and makes no call', async () => {
    const plain = new S3ObjectStore({
      client: new S3Client({ region: 'us-east-1' }),
      bucket: 'b',
      conditionalWrites: false,
    });
    expect(await acquireLease(plain, item, { runId: 'run-a', now })).toBeUndefined();
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('releaseLease (S3)', () => {
  it('deletes our lease with If-Match on the ETag read', async () => {
    s3.on(GetObjectCommand).resolves({
      Body: body(leaseOf('run-a', '2026-12-05T00:00:00.000Z')),
      ETag: '"a"',
    });
    s3.on(DeleteObjectCommand).resolves({});
    expect(await releaseLease(store, item, 'run-a')).toBe(true);
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: KEY,
      IfMatch: '"a"',
    });
  });

  it('leaves a lease of another run alone', async () => {
    s3.on(GetObjectCommand).resolves({
      Body: body(leaseOf('run-b', '2026-12-05T00:00:00.000Z')),
      ETag: '"b"',
    });
    expect(await releaseLease(store, item, 'run-a')).toBe(false);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  it('a 412 on the delete (taken over meanwhile) keeps the lease; no lease is nothing to do', async () => {
    s3.on(GetObjectCommand).resolves({
      Body: body(leaseOf('run-a', '2026-12-05T00:00:00.000Z')),
      ETag: '"a"',
    });
    s3.on(DeleteObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    expect(await releaseLease(store, item, 'run-a')).toBe(false);
    s3.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404));
    expect(await releaseLease(store, item, 'run-a')).toBe(false);
  });
});
