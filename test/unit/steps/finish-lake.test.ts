import { BatchCreatePartitionCommand, GlueClient, GlueServiceException } from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsTransientError, LakeCatalogError, RunIncompleteError } from '#common/errors';
import type { ExportItem, ItemRecord } from '#common/model';
import { finishRun, type Manifest } from '#steps/finish';
import { itemKey } from '#storage/keys';
import { GlueLakeCatalog } from '#storage/lake-catalog';
import { fakeDeps } from '#test/support/fake-linkedin';
import { seedFinishedRun } from '#test/support/finished-run';

/** FinishRun with the Glue catalog of the stack (GlueClient mocked): the run's objects become partitions. */
const glue = mockClient(GlueClient);
beforeEach(() => glue.reset());

const A = 'urn:li:salesContract:77';
const NOW = '2026-03-10T07:00:00.000Z';
const item = (dataset: ExportItem['dataset'], start: string, end: string): ExportItem => ({
  contract: A,
  dataset,
  start,
  end,
});
const seat = item('seat', '2026-03-08', '2026-03-09');
const activity = item('activity', '2026-03-08', '2026-03-09');
const outcome = item('activityOutcome', '2026-03-08', '2026-03-09');

function rec(of: ExportItem, status: ItemRecord['status']): ItemRecord {
  return {
    contract: of.contract,
    dataset: of.dataset,
    window: { start: of.start, end: of.end },
    status,
    key: itemKey(of),
    jobIds: status === 'EXPORTED' || status === 'FAILED' ? [1] : [],
    attempts: status === 'SKIPPED' ? 0 : 1,
    ...(status === 'FAILED' && { error: { name: 'LinkedInAuthError', message: '401' } }),
    finishedAt: NOW,
  };
}

async function runWith(items: ExportItem[], records: ItemRecord[], lake = true) {
  const deps = {
    ...fakeDeps({ now: NOW }),
    ...(lake && {
      lake: new GlueLakeCatalog({
        client: new GlueClient({ region: 'us-east-1' }),
        database: 'lake_db',
        dataLocation: 's3://exports-bucket/team',
      }),
    }),
  };
  await seedFinishedRun(deps.store, A, items, records);
  return deps;
}

/** [table, partition values, location] of every partition sent to Glue. */
const registered = () =>
  glue
    .commandCalls(BatchCreatePartitionCommand)
    .flatMap((c) =>
      (c.args[0].input.PartitionInputList ?? []).map((p) => [
        c.args[0].input.TableName,
        p.Values,
        p.StorageDescriptor?.Location,
      ]),
    );

describe('finishRun with the lake', () => {
  it('registers every EXPORTED and SKIPPED object, at the folder of its manifest key, after the manifest', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({});
    const records = [rec(seat, 'EXPORTED'), rec(activity, 'SKIPPED'), rec(outcome, 'EXPORTED')];
    const deps = await runWith([seat, activity, outcome], records);
    let manifestWritten = false;
    glue.on(BatchCreatePartitionCommand).callsFake(async () => {
      manifestWritten = deps.store.json<Manifest>('manifests/run-1.json') !== undefined;
      return {};
    });

    const output = await finishRun({ runId: 'run-1' }, deps);

    expect(output.lake).toEqual({ database: 'lake_db', created: 3, existing: 0 });
    expect(manifestWritten).toBe(true);
    const folder = (r: ItemRecord) =>
      `s3://exports-bucket/team/${r.key.slice(0, r.key.lastIndexOf('/') + 1)}`;
    expect(registered()).toEqual([
      ['seat_csv', ['77', '2026-03-08_2026-03-09'], folder(records[0] as ItemRecord)],
      ['activity_csv', ['77', '2026-03-08_2026-03-09'], folder(records[1] as ItemRecord)],
      ['activity_outcome_csv', ['77', '2026-03-08_2026-03-09'], folder(records[2] as ItemRecord)],
    ]);
  });

  it('registers nothing for a FAILED item, and still fails the run with RunIncompleteError', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({});
    const deps = await runWith([seat, activity], [rec(seat, 'EXPORTED'), rec(activity, 'FAILED')]);

    await expect(finishRun({ runId: 'run-1' }, deps)).rejects.toBeInstanceOf(RunIncompleteError);

    expect(registered().map(([table]) => table)).toEqual(['seat_csv']);
  });

  it('calls no Glue without a lake (local runs, lake: false)', async () => {
    const deps = await runWith([seat], [rec(seat, 'EXPORTED')], false);

    const output = await finishRun({ runId: 'run-1' }, deps);

    expect(output.lake).toBeUndefined();
    expect(glue.commandCalls(BatchCreatePartitionCommand)).toEqual([]);
  });

  it('lets a throttled Glue call fail the step with AwsTransientError (retried; the manifest is already written)', async () => {
    glue.on(BatchCreatePartitionCommand).rejects(
      new GlueServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const deps = await runWith([seat], [rec(seat, 'EXPORTED')]);

    await expect(finishRun({ runId: 'run-1' }, deps)).rejects.toBeInstanceOf(AwsTransientError);
    expect(deps.store.json<Manifest>('manifests/run-1.json')?.summary.exported).toBe(1);
  });

  it('fails a complete run with LakeCatalogError (with its counts) when Glue refuses; a failed run stays RunIncompleteError', async () => {
    const refused = new GlueServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'not authorized to perform glue:BatchCreatePartition',
    });
    glue.on(BatchCreatePartitionCommand).rejects(refused);
    const complete = await runWith([seat], [rec(seat, 'EXPORTED')]);

    const error = await finishRun({ runId: 'run-1' }, complete).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LakeCatalogError);
    expect((error as LakeCatalogError).counts).toEqual({ exported: 1, failed: 0 });
    expect(complete.store.json<Manifest>('manifests/run-1.json')).toBeDefined();

    const failed = await runWith([seat, activity], [rec(seat, 'EXPORTED'), rec(activity, 'FAILED')]);
    const both = await finishRun({ runId: 'run-1' }, failed).catch((e: unknown) => e);
    expect(both).toBeInstanceOf(RunIncompleteError);
    expect((both as Error).message).toContain(
      'also: Glue BatchCreatePartition on lake_db.seat_csv failed: AccessDeniedException',
    );
  });
});
