import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { logger, metrics } from '#common/powertools';
import { invocationLogKeys } from '#lambda-runtime';

/**
 * What an operator reads from the deployed entry points: every log line of an invocation carries the
 * run, contract, dataset and window (and nothing of the event beyond them), and FinishRun publishes
 * ItemsExported and ItemsFailed once each for every run that reaches it, succeeded or partly failed.
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
const body = (value: unknown) =>
  ({ Body: { transformToString: async () => JSON.stringify(value) } }) as never;

const A = 'urn:li:contract:77';
const item = (dataset: string, start: string, end: string) => ({ contract: A, dataset, start, end });
const SEAT = item('seat', '2026-10-01', '2026-10-02');
const ACTIVITY = item('activity', '2026-10-01', '2026-10-02');

let lines: Record<string, unknown>[];
let write: MockInstance;
beforeAll(() => {
  Object.assign(process.env, {
    EXPORT_SETTINGS: '{}',
    BUCKET_NAME: 'exports-bucket',
    BUCKET_PREFIX: '',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.TOKEN_SECRET_ARN;
});
beforeEach(() => {
  s3.reset();
  lines = [];
  // The suite runs with POWERTOOLS_LOG_LEVEL=SILENT (vitest.config.ts); these tests read the lines.
  logger.setLogLevel('INFO');
  // Powertools prints each log line as one JSON document through its own Console over stdout.
  const out = (logger as unknown as { console: Console }).console;
  const capture = (...args: unknown[]) => {
    lines.push(JSON.parse(String(args[0])));
  };
  write = vi.spyOn(out, 'error').mockImplementation(capture);
  for (const method of ['warn', 'info', 'debug'] as const) vi.spyOn(out, method).mockImplementation(capture);
});
afterEach(() => {
  logger.setLogLevel('SILENT');
  write.mockRestore();
  vi.restoreAllMocks();
});

describe('log keys', () => {
  it('names the run, contract, dataset and window of an item state', () => {
    expect(invocationLogKeys({ runId: 'run-1', item: SEAT, jobIds: [5] })).toEqual({
      runId: 'run-1',
      contract: A,
      dataset: 'seat',
      window: '2026-10-01_2026-10-02',
    });
  });

  it("names PlanRun's run and the range its input asks for", () => {
    expect(
      invocationLogKeys({
        runId: 'backfill-1',
        startedAt: '2026-12-01T07:00:00Z',
        input: { from: '2026-07-01', to: '2026-10-01', contracts: [A] },
      }),
    ).toEqual({ runId: 'backfill-1', window: '2026-07-01_2026-10-01' });
    expect(invocationLogKeys({ runId: 'sched', startedAt: '2026-12-01T07:00:00Z', input: {} })).toEqual({
      runId: 'sched',
    });
  });

  it('names the CRM instance and the CRM dataset of a CRM export', () => {
    const crmInstance = 'urn:li:crmInstance:(DYNAMICS,abc-123)';
    expect(invocationLogKeys({ runId: 'run-1', item: { crmInstance, startAt: 1_700_000_000_000 } })).toEqual({
      runId: 'run-1',
      dataset: 'crmDataValidation',
      crmInstance,
    });
  });

  it('leaves out whatever is not what it should be, and never fails on a malformed event', () => {
    const url = 'https://www.linkedin.com/ambry/?x-li-ambry-ep=SIGNATURE';
    expect(
      invocationLogKeys({ runId: 'run-1', item: { contract: url, dataset: 'seat', start: 'soon' } }),
    ).toEqual({
      runId: 'run-1',
      dataset: 'seat',
    });
    for (const event of [
      undefined,
      null,
      'x',
      42,
      [],
      { runId: 7 },
      { item: 'seat' },
      { runId: 'r'.repeat(81) },
    ]) {
      expect(invocationLogKeys(event)).toEqual({});
    }
  });

  it('puts them on every log line of the invocation, and takes them off for the next one', async () => {
    const { handler: recordFailure } = await import('#handlers/record-failure');
    const { handler: finishRun } = await import('#handlers/finish-run');
    s3.on(PutObjectCommand).rejects(slowDown());
    const failed = {
      runId: 'run-9',
      item: SEAT,
      jobIds: [5],
      // A state never holds a URL, but if one ever got in, it is not logged.
      downloadUrl: 'https://www.linkedin.com/ambry/?x-li-ambry-ep=SIGNATURE',
      error: { Error: 'LinkedInAuthError', Cause: JSON.stringify({ errorMessage: 'token expired' }) },
    };
    await expect(recordFailure(failed, context)).rejects.toMatchObject({ name: 'AwsTransientError' });
    s3.on(GetObjectCommand).resolves({ Body: undefined } as never);
    await expect(finishRun({ runId: 'run-10' }, context)).rejects.toThrow();

    const errors = lines.filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      message: 'RecordFailure failed',
      runId: 'run-9',
      contract: A,
      dataset: 'seat',
      window: '2026-10-01_2026-10-02',
    });
    expect(errors[1]).toMatchObject({ message: 'FinishRun failed', runId: 'run-10' });
    expect(errors[1]).not.toHaveProperty('contract');
    expect(errors[1]).not.toHaveProperty('dataset');
    expect(errors[1]).not.toHaveProperty('window');
    expect(JSON.stringify(lines)).not.toContain('SIGNATURE');
  });
});

describe('ItemsExported and ItemsFailed, once each per run', () => {
  const plan = (items: ReturnType<typeof item>[], crmItems?: unknown[]) => ({
    version: 1,
    runId: 'run-5',
    startedAt: '2026-11-24T07:00:00.000Z',
    window: { from: '2026-10-01', to: '2026-10-02' },
    contracts: [A],
    datasets: ['seat', 'activity'],
    force: false,
    items,
    ...(crmItems && { crmItems }),
  });
  const record = (i: ReturnType<typeof item>, status: 'EXPORTED' | 'FAILED') => ({
    contract: i.contract,
    dataset: i.dataset,
    window: { start: i.start, end: i.end },
    status,
    key: `sales-navigator/${i.dataset}/contract=77/window=${i.start}_${i.end}/${i.dataset}.csv`,
    jobIds: [1],
    attempts: 1,
    ...(status === 'EXPORTED'
      ? { bytes: 10, rows: 2 }
      : { error: { name: 'LinkedInAuthError', message: '401' } }),
    finishedAt: '2026-11-24T08:00:00.000Z',
  });
  /** The store FinishRun reads: the plan and one record per item. */
  function store(items: ReturnType<typeof item>[], records: ReturnType<typeof record>[]) {
    s3.on(GetObjectCommand, { Key: 'manifests/run-5/plan.json' }).resolves(body(plan(items)));
    s3.on(ListObjectsV2Command).resolves({
      Contents: records.map((_, n) => ({ Key: `manifests/run-5/items/${n}.json` })),
    });
    records.forEach((r, n) => {
      s3.on(GetObjectCommand, { Key: `manifests/run-5/items/${n}.json` }).resolves(body(r));
    });
    s3.on(PutObjectCommand).resolves({});
  }
  const published = (added: MockInstance<typeof metrics.addMetric>) =>
    added.mock.calls
      .filter(([name]) => name === 'ItemsExported' || name === 'ItemsFailed')
      .map(([name, , value]) => [name, value]);

  it('a run that succeeded: ItemsExported and an ItemsFailed of 0', async () => {
    const added = vi.spyOn(metrics, 'addMetric');
    store([SEAT, ACTIVITY], [record(SEAT, 'EXPORTED'), record(ACTIVITY, 'EXPORTED')]);
    const { handler } = await import('#handlers/finish-run');
    await handler({ runId: 'run-5' }, context);
    expect(published(added)).toEqual([
      ['ItemsExported', 2],
      ['ItemsFailed', 0],
    ]);
  });

  it('a run that partly failed: the exported items are counted too (the run still fails)', async () => {
    const added = vi.spyOn(metrics, 'addMetric');
    store([SEAT, ACTIVITY], [record(SEAT, 'EXPORTED'), record(ACTIVITY, 'FAILED')]);
    const { handler } = await import('#handlers/finish-run');
    await expect(handler({ runId: 'run-5' }, context)).rejects.toMatchObject({
      name: 'RunIncompleteError',
      message: expect.stringContaining('window 2026-10-01 to 2026-10-02'),
    });
    expect(published(added)).toEqual([
      ['ItemsExported', 1],
      ['ItemsFailed', 1],
    ]);
  });

  it('a FinishRun retried after a transient S3 fault publishes only on the attempt that finished', async () => {
    const added = vi.spyOn(metrics, 'addMetric');
    store([SEAT, ACTIVITY], [record(SEAT, 'EXPORTED'), record(ACTIVITY, 'FAILED')]);
    s3.on(PutObjectCommand).rejectsOnce(slowDown()).resolves({});
    const { handler } = await import('#handlers/finish-run');
    await expect(handler({ runId: 'run-5' }, context)).rejects.toMatchObject({ name: 'AwsTransientError' });
    expect(published(added)).toEqual([]);
    await expect(handler({ runId: 'run-5' }, context)).rejects.toMatchObject({ name: 'RunIncompleteError' });
    expect(published(added)).toEqual([
      ['ItemsExported', 1],
      ['ItemsFailed', 1],
    ]);
  });
});
