// The CRM Lambda entry points with their AWS wiring: token from the secret, LinkedIn over HTTP, the cursor in S3 under the prefix.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);
const context = { functionName: 'test', awsRequestId: 'req-1' } as Context;
const TOKEN = 'token-from-the-secret';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:salesnav-token-AbCdEf';
const INSTANCE = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';
const KEY_PART = 'DYNAMICS.362a3584-0d9b-44a1-a547-25de5cd95d08';
let linkedin: Server;
const seen: { method: string; url: string; authorization?: string }[] = [];

beforeAll(async () => {
  linkedin = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    if (req.method === 'POST') {
      res.writeHead(201, { 'x-restli-id': '148', location: '/crmDataValidationExportJobs/148' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        jobId: 148,
        status: 'COMPLETED',
        exportStartAt: 1000,
        exportEndAt: 5000,
        nextExportStartAt: 5000,
      }),
    );
  });
  await new Promise<void>((r) => linkedin.listen(0, '127.0.0.1', r));
  const { port } = linkedin.address() as AddressInfo;
  Object.assign(process.env, {
    EXPORT_SETTINGS: JSON.stringify({
      apiBaseUrl: `http://127.0.0.1:${port}/v2`,
      crm: { instances: [INSTANCE] },
    }),
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
  secrets
    .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
    .resolves({ SecretString: JSON.stringify({ accessToken: TOKEN, expiresAt: '2099-01-01T00:00:00Z' }) });
});

const STATE = { runId: 'run-1', item: { crmInstance: INSTANCE, startAt: 1000 } };

describe('CRM handlers', () => {
  it('CreateCrmJob and CheckCrmJob read the token from the secret and call LinkedIn with the encoded URN', async () => {
    const { handler: create } = await import('#handlers/crm/create-job');
    const { handler: check } = await import('#handlers/crm/check-job');
    const created = await create(STATE, context);
    expect(created).toMatchObject({ job: { id: 148, polls: 0 }, jobIds: [148], waitSeconds: 300 });
    const checked = await check(created, context);
    expect(checked).toMatchObject({
      next: 'COMMIT',
      export: { startAt: 1000, endAt: 5000, nextExportStartAt: 5000, parts: 0 },
    });
    expect(seen.map((r) => [r.method, r.url, r.authorization])).toEqual([
      [
        'POST',
        '/v2/crmDataValidationExportJobs?crmInstanceId=urn%3Ali%3AcrmInstance%3A%28DYNAMICS%2C362a3584-0d9b-44a1-a547-25de5cd95d08%29',
        `Bearer ${TOKEN}`,
      ],
      [
        'GET',
        '/v2/crmDataValidationExportJobs/148?crmInstanceId=urn%3Ali%3AcrmInstance%3A%28DYNAMICS%2C362a3584-0d9b-44a1-a547-25de5cd95d08%29',
        `Bearer ${TOKEN}`,
      ],
    ]);
  });

  it('CommitCrmExport writes the marker, then the cursor, then the record, all under the prefix', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no', $metadata: { httpStatusCode: 404 } }));
    s3.on(PutObjectCommand).resolves({});
    const { handler: commit } = await import('#handlers/crm/commit-export');
    const out = await commit(
      {
        ...STATE,
        job: { id: 148, createdAt: '2026-11-20T07:00:00.000Z', polls: 1 },
        jobIds: [148],
        export: { startAt: 1000, endAt: 5000, nextExportStartAt: 5000, parts: 0 },
      },
      context,
    );
    expect(out.result).toEqual({ status: 'EXPORTED', crmInstance: INSTANCE, parts: 0, bytes: 0, rows: 0 });
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      `team/salesnav/crm-data-validation/instance=${KEY_PART}/export=1000_5000/_export.json`,
      `team/salesnav/state/crm-data-validation/instance=${KEY_PART}.json`,
      `team/salesnav/manifests/run-1/crm-items/${KEY_PART}.json`,
    ]);
  });

  it('refuses an event that is not a CRM state, naming the field', async () => {
    const { handler: create } = await import('#handlers/crm/create-job');
    await expect(
      create({ runId: 'r', item: { crmInstance: 'urn:li:crmInstance:x', startAt: 1 } }, context),
    ).rejects.toThrow(/CreateCrmJob received an invalid event: item\.crmInstance: must look like/);
  });
});
