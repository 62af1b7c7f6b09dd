import { BatchCreatePartitionCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The deployed FinishRun with the environment the stack sets when the lake is on (LAKE_DATABASE):
 * S3 and Glue through the SDK (mocked). Without LAKE_DATABASE it calls no Glue (test/unit/handlers.test.ts).
 */
const s3 = mockClient(S3Client);
const glue = mockClient(GlueClient);
const context = { functionName: 'test', awsRequestId: 'req-1' } as Context;
const saved = { ...process.env };

beforeAll(() => {
  Object.assign(process.env, {
    EXPORT_SETTINGS: JSON.stringify({}),
    BUCKET_NAME: 'exports-bucket',
    BUCKET_PREFIX: 'team/salesnav',
    LAKE_DATABASE: 'sales_nav_export',
    AWS_REGION: 'us-east-1',
  });
});
afterAll(() => {
  process.env = saved;
});

const body = (value: unknown) =>
  ({ Body: { transformToString: async () => JSON.stringify(value) } }) as never;

describe('FinishRun handler with the lake', () => {
  it('writes the manifest, then registers the exported object in the Glue table of its dataset', async () => {
    const item = {
      contract: 'urn:li:salesContract:77',
      dataset: 'seat',
      start: '2026-10-01',
      end: '2026-10-02',
    };
    const key = 'sales-navigator/seat/contract=77/window=2026-10-01_2026-10-02/seat.csv';
    const plan = {
      version: 1,
      runId: 'run-3',
      startedAt: '2026-11-24T07:00:00.000Z',
      window: { from: '2026-10-01', to: '2026-10-02' },
      contracts: [item.contract],
      datasets: ['seat'],
      force: false,
      items: [item],
    };
    const record = {
      contract: item.contract,
      dataset: 'seat',
      window: { start: item.start, end: item.end },
      status: 'EXPORTED',
      key,
      bytes: 120,
      rows: 3,
      jobIds: [5],
      attempts: 1,
      finishedAt: '2026-11-24T07:05:00.000Z',
    };
    s3.on(GetObjectCommand, { Key: 'team/salesnav/manifests/run-3/plan.json' }).resolves(body(plan));
    s3.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'team/salesnav/manifests/run-3/items/seat-77.json' }],
    });
    s3.on(GetObjectCommand, { Key: 'team/salesnav/manifests/run-3/items/seat-77.json' }).resolves(
      body(record),
    );
    s3.on(PutObjectCommand).resolves({});
    glue.on(BatchCreatePartitionCommand).resolves({});
    const { handler } = await import('#handlers/finish-run');

    const out = await handler({ runId: 'run-3' }, context);

    expect(out.lake).toEqual({ database: 'sales_nav_export', created: 1, existing: 0 });
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      'team/salesnav/manifests/run-3.json',
    ]);
    const [call] = glue.commandCalls(BatchCreatePartitionCommand);
    expect(call?.args[0].input).toMatchObject({
      DatabaseName: 'sales_nav_export',
      TableName: 'seat_csv',
      PartitionInputList: [
        {
          Values: ['77', '2026-10-01_2026-10-02'],
          StorageDescriptor: {
            Location:
              's3://exports-bucket/team/salesnav/sales-navigator/seat/contract=77/window=2026-10-01_2026-10-02/',
          },
        },
      ],
    });
  });
});

describe('bundles', () => {
  /** The handler bundled as the stack bundles it (ESM, minified, the SDK included). */
  async function bundle(handler: string): Promise<string> {
    const { build } = await import('esbuild');
    const out = await build({
      entryPoints: [`lambdas/handlers/${handler}.ts`],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      mainFields: ['module', 'main'],
      minify: true,
      logLevel: 'silent',
    });
    return out.outputFiles[0]?.text ?? '';
  }

  it('only FinishRun carries the Glue client', async () => {
    expect(await bundle('finish-run')).toContain('BatchCreatePartition');
    expect(await bundle('copy-to-s3')).not.toContain('BatchCreatePartition');
  }, 60_000);
});
