import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * The deployed entry points (lambdas/handlers/<function>.ts) with their AWS wiring: settings, bucket and
 * secret from the environment the stack sets, S3 and Secrets Manager through the SDK (mocked), LinkedIn
 * over HTTP (a loopback server).
 */
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);
const context = { functionName: 'test', awsRequestId: 'req-1' } as Context;
const TOKEN = 'token-from-the-secret';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:salesnav-token-AbCdEf';
let linkedin: Server;
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  linkedin = createServer((req, res) => {
    seen.push(req);
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end(JSON.stringify({ status: 401, message: 'Invalid access token' }));
      return;
    }
    res.end(
      JSON.stringify({
        elements: [{ contract: 'urn:li:salesContract:77', name: 'Team', hasReportingAccess: true }],
        paging: { count: 100, start: 0, links: [] },
      }),
    );
  });
  await new Promise<void>((r) => linkedin.listen(0, '127.0.0.1', r));
  const { port } = linkedin.address() as AddressInfo;
  Object.assign(process.env, {
    EXPORT_SETTINGS: JSON.stringify({ apiBaseUrl: `http://127.0.0.1:${port}/v2`, lagDays: 1 }),
    BUCKET_NAME: 'exports-bucket',
    BUCKET_PREFIX: 'team/salesnav',
    TOKEN_SECRET_ARN: SECRET_ARN,
    AWS_REGION: 'us-east-1',
  });
});
afterAll(() => new Promise((r) => linkedin.close(r)));
beforeEach(() => {
  s3.reset();
  secrets.reset();
  seen.length = 0;
});

const putKeys = () => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
const putBody = (key: string) =>
  JSON.parse(
    String(s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key)?.args[0].input.Body),
  );

describe('PlanRun handler', () => {
  it('reads the token from the secret, asks LinkedIn, checks S3 under the prefix and stores the plan', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
      .resolves({ SecretString: JSON.stringify({ accessToken: TOKEN, expiresAt: '2099-01-01T00:00:00Z' }) });
    s3.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await import('#handlers/plan-run');

    const out = await handler(
      {
        input: { from: '2026-10-01', to: '2026-10-03', datasets: ['seat'] },
        runId: 'run-1',
        startedAt: '2026-11-24T07:00:00.000Z',
      },
      context,
    );

    expect(out).toEqual({
      runId: 'run-1',
      force: false,
      planned: 1,
      skipped: 0,
      lanesKey: 'manifests/run-1/lanes.json',
      lanes: 1,
      toExport: 1,
    });
    expect(seen.map((r) => r.headers['x-restli-protocol-version'])).toEqual(['2.0.0']);
    // Coverage: one listing of the lane's prefix (no object in it: no metadata read).
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'exports-bucket', Prefix: 'team/salesnav/sales-navigator/seat/contract=77/' },
    ]);
    expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    expect(putKeys()).toEqual([
      'team/salesnav/manifests/run-1/plan.json',
      'team/salesnav/manifests/run-1/lanes.json',
    ]);
  });

  it('fails invalid input with the named error Step Functions matches on, before any write', async () => {
    const { handler } = await import('#handlers/plan-run');
    const err = await handler(
      { input: { from: '2026-10-05' }, runId: 'run-2', startedAt: '2026-11-24T07:00:00Z' },
      context,
    ).catch((e: Error) => e);
    expect(err).toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining('to: from and to must be given together'),
    });
    expect(putKeys()).toEqual([]);
  });
});

describe('FinishRun handler', () => {
  const plan = {
    version: 1,
    runId: 'run-3',
    startedAt: '2026-11-24T07:00:00.000Z',
    window: { from: '2026-10-01', to: '2026-10-02' },
    contracts: ['urn:li:salesContract:77'],
    datasets: ['seat'],
    force: false,
    items: [{ contract: 'urn:li:salesContract:77', dataset: 'seat', start: '2026-10-01', end: '2026-10-02' }],
  };
  const record = {
    contract: 'urn:li:salesContract:77',
    dataset: 'seat',
    window: { start: '2026-10-01', end: '2026-10-02' },
    status: 'EXPORTED',
    key: 'sales-navigator/seat/contract=77/window=2026-10-01_2026-10-02/seat.csv',
    bytes: 120,
    rows: 3,
    jobIds: [5],
    attempts: 1,
    finishedAt: '2026-11-24T07:05:00.000Z',
  };
  const body = (value: unknown) =>
    ({ Body: { transformToString: async () => JSON.stringify(value) } }) as never;

  it('lists the item records under the prefix and writes the manifest', async () => {
    s3.on(GetObjectCommand, { Key: 'team/salesnav/manifests/run-3/plan.json' }).resolves(body(plan));
    s3.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'team/salesnav/manifests/run-3/items/seat-77.json' }],
    });
    s3.on(GetObjectCommand, { Key: 'team/salesnav/manifests/run-3/items/seat-77.json' }).resolves(
      body(record),
    );
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await import('#handlers/finish-run');

    const out = await handler({ runId: 'run-3' }, context);

    expect(out).toEqual({
      runId: 'run-3',
      manifestKey: 'manifests/run-3.json',
      summary: { planned: 1, exported: 1, skipped: 0, failed: 0, bytes: 120, rows: 3 },
    });
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toMatchObject({
      Bucket: 'exports-bucket',
      Prefix: 'team/salesnav/manifests/run-3/items/',
    });
    expect(putBody('team/salesnav/manifests/run-3.json')).toMatchObject({ runId: 'run-3', items: [record] });
  });

  it('rejects an event that is not its input, by name', async () => {
    const { handler } = await import('#handlers/finish-run');
    await expect(handler({ run: 'x' }, context)).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining('FinishRun received an invalid event: runId'),
    });
  });
});
