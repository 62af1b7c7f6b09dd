import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '#common/powertools';

/**
 * The deployed RecordFailure and FinishRun entry points meeting S3's transient faults (SlowDown,
 * InternalError, socket resets past the SDK's retries): they fail with AwsTransientError, the name
 * their Task states retry, so one fault never loses an item record or a run's manifest. And the
 * ItemsFailed metric is published once per run, by FinishRun.
 */
const s3 = mockClient(S3Client);
const context = {
  functionName: 'test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;
const slowDown = () =>
  new S3ServiceException({
    name: 'SlowDown',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Please reduce your request rate.',
  });
const internalError = () =>
  new S3ServiceException({
    name: 'InternalError',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
    message: 'We encountered an internal error.',
  });
const socketReset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

const item = { contract: 'urn:li:salesContract:77', dataset: 'seat', start: '2026-10-01', end: '2026-10-02' };
const failedState = {
  runId: 'run-9',
  item,
  jobIds: [5],
  error: { Error: 'LinkedInAuthError', Cause: JSON.stringify({ errorMessage: 'token expired' }) },
};
const plan = {
  version: 1,
  runId: 'run-9',
  startedAt: '2026-11-24T07:00:00.000Z',
  window: { from: '2026-10-01', to: '2026-10-02' },
  contracts: [item.contract],
  datasets: ['seat'],
  force: false,
  items: [item],
};
const body = (value: unknown) =>
  ({ Body: { transformToString: async () => JSON.stringify(value) } }) as never;

beforeAll(() => {
  Object.assign(process.env, {
    EXPORT_SETTINGS: '{}',
    BUCKET_NAME: 'exports-bucket',
    BUCKET_PREFIX: '',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.TOKEN_SECRET_ARN;
});
beforeEach(() => s3.reset());
afterEach(() => vi.restoreAllMocks());

describe('RecordFailure handler', () => {
  it.each([
    ['SlowDown', slowDown],
    ['InternalError', internalError],
    ['a socket reset', socketReset],
  ])('fails with the retried AwsTransientError when S3 answers %s to the record', async (_, fault) => {
    s3.on(PutObjectCommand).rejects(fault());
    const { handler } = await import('#handlers/record-failure');
    await expect(handler(failedState, context)).rejects.toMatchObject({
      name: 'AwsTransientError',
      message: expect.stringContaining('S3 PutObject s3://exports-bucket/manifests/run-9/items/'),
    });
  });

  it('writes the record on the retry and publishes no ItemsFailed itself', async () => {
    const added = vi.spyOn(metrics, 'addMetric');
    s3.on(PutObjectCommand).rejectsOnce(slowDown()).resolves({});
    const { handler } = await import('#handlers/record-failure');
    await expect(handler(failedState, context)).rejects.toMatchObject({ name: 'AwsTransientError' });
    const out = await handler(failedState, context);
    expect(out.result).toEqual({ status: 'FAILED', key: expect.stringContaining('seat.csv') });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(2);
    expect(added.mock.calls.map(([name]) => name)).not.toContain('ItemsFailed');
  });
});

describe('FinishRun handler', () => {
  it('fails with AwsTransientError when S3 throttles the manifest write (the run is retried, not lost)', async () => {
    s3.on(GetObjectCommand, { Key: 'manifests/run-9/plan.json' }).resolves(body(plan));
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).rejects(slowDown());
    const { handler } = await import('#handlers/finish-run');
    await expect(handler({ runId: 'run-9' }, context)).rejects.toMatchObject({ name: 'AwsTransientError' });
  });

  it('publishes ItemsFailed once for a run that failed, from the manifest it wrote', async () => {
    const added = vi.spyOn(metrics, 'addMetric');
    s3.on(GetObjectCommand, { Key: 'manifests/run-9/plan.json' }).resolves(body(plan));
    // No record: the item is listed FAILED (ItemNotRecorded), and counted.
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await import('#handlers/finish-run');
    await expect(handler({ runId: 'run-9' }, context)).rejects.toMatchObject({ name: 'RunIncompleteError' });
    const failed = added.mock.calls.filter(([name]) => name === 'ItemsFailed');
    expect(failed.map(([, , value]) => value)).toEqual([1]);
  });
});
