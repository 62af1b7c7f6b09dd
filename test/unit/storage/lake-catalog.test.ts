import { BatchCreatePartitionCommand, GlueClient, GlueServiceException } from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsTransientError, LakeCatalogError } from '#common/errors';
import type { Dataset, ExportItem } from '#common/model';
import { itemKey } from '#storage/keys';
import { GlueLakeCatalog, MAX_PARTITIONS_PER_CALL } from '#storage/lake-catalog';

const glue = mockClient(GlueClient);
beforeEach(() => glue.reset());

const ROOT = 's3://exports-bucket/team/salesnav';
const catalog = () =>
  new GlueLakeCatalog({
    client: new GlueClient({ region: 'us-east-1' }),
    database: 'lake_db',
    dataLocation: ROOT,
  });

/** `n` consecutive one-day items of one lane, from 2026-01-01. */
function days(n: number, dataset: Dataset = 'activity', contract = 'urn:li:salesContract:77'): ExportItem[] {
  return Array.from({ length: n }, (_, i) => {
    const start = new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);
    const end = new Date(Date.UTC(2026, 0, 2 + i)).toISOString().slice(0, 10);
    return { contract, dataset, start, end };
  });
}

const calls = () => glue.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input);

function glueError(name: string, status: number): GlueServiceException {
  return new GlueServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

describe('GlueLakeCatalog.registerPartitions', () => {
  it('registers each object where CopyToS3 wrote it: the folder of its item key, values contract and window', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({});
    const item = {
      contract: 'urn:li:salesContract:77',
      dataset: 'seat',
      start: '2026-10-01',
      end: '2026-10-04',
    } as const;

    const result = await catalog().registerPartitions([item]);

    expect(result).toEqual({ database: 'lake_db', created: 1, existing: 0 });
    const [input] = calls();
    expect(input).toMatchObject({ DatabaseName: 'lake_db', TableName: 'seat_csv' });
    const partition = input?.PartitionInputList?.[0];
    expect(partition?.Values).toEqual(['77', '2026-10-01_2026-10-04']);
    const key = itemKey(item);
    expect(partition?.StorageDescriptor?.Location).toBe(`${ROOT}/${key.slice(0, key.lastIndexOf('/') + 1)}`);
    expect(partition?.StorageDescriptor?.SerdeInfo?.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.serde2.OpenCSVSerde',
    );
  });

  it('sends at most 100 partitions per call, one table per call, each partition once', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({});
    const items = [...days(250, 'activity'), ...days(3, 'seat'), ...days(2, 'activity')];

    const result = await catalog().registerPartitions(items);

    expect(MAX_PARTITIONS_PER_CALL).toBe(100);
    expect(calls().map((c) => [c.TableName, c.PartitionInputList?.length])).toEqual([
      ['activity_csv', 100],
      ['activity_csv', 100],
      ['activity_csv', 50],
      ['seat_csv', 3],
    ]);
    expect(result).toEqual({ database: 'lake_db', created: 253, existing: 0 });
  });

  it('counts a partition Glue already has as registered (a retried FinishRun, a re-run)', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [
        {
          PartitionValues: ['77', '2026-01-01_2026-01-02'],
          ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' },
        },
      ],
    });

    await expect(catalog().registerPartitions(days(2))).resolves.toEqual({
      database: 'lake_db',
      created: 1,
      existing: 1,
    });
  });

  it('fails with LakeCatalogError naming the partition and the fix when Glue refuses an entry', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [
        {
          PartitionValues: ['77', '2026-01-02_2026-01-03'],
          ErrorDetail: { ErrorCode: 'InvalidInputException', ErrorMessage: 'bad location' },
        },
        {
          PartitionValues: ['77', '2026-01-01_2026-01-02'],
          ErrorDetail: { ErrorCode: 'AlreadyExistsException' },
        },
      ],
    });

    const error = await catalog()
      .registerPartitions(days(2))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LakeCatalogError);
    expect((error as Error).name).toBe('LakeCatalogError');
    expect((error as Error).message).toContain(
      '1 of 2 partition(s) of lake_db.activity_csv were not created (77/2026-01-02_2026-01-03: InvalidInputException bad location)',
    );
    expect((error as Error).message).toContain('MSCK REPAIR TABLE');
  });

  it.each([
    ['ThrottlingException', 400],
    ['InternalServiceException', 500],
    ['OperationTimeoutException', 400],
    ['ServiceUnavailable', 503],
  ])(
    'turns a transient failure of the call (%s) into AwsTransientError, which the state machine retries',
    async (name, status) => {
      glue.on(BatchCreatePartitionCommand).rejects(glueError(name, status));

      const error = await catalog()
        .registerPartitions(days(1))
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AwsTransientError);
      expect((error as Error).message).toBe(
        `Glue BatchCreatePartition lake_db.activity_csv failed transiently (${name} ${status})`,
      );
    },
  );

  it('retries (AwsTransientError) when every refused entry was refused for a passing reason', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [
        {
          PartitionValues: ['77', '2026-01-01_2026-01-02'],
          ErrorDetail: { ErrorCode: 'InternalServiceException' },
        },
      ],
    });

    await expect(catalog().registerPartitions(days(1))).rejects.toBeInstanceOf(AwsTransientError);
  });

  it.each([
    ['AccessDeniedException', 400],
    ['EntityNotFoundException', 400],
    ['ResourceNumberLimitExceededException', 400],
  ])('fails with LakeCatalogError (never retried) when the call is refused (%s)', async (name, status) => {
    glue.on(BatchCreatePartitionCommand).rejects(glueError(name, status));

    const error = await catalog()
      .registerPartitions(days(1))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LakeCatalogError);
    expect((error as Error).message).toContain(
      `Glue BatchCreatePartition on lake_db.activity_csv failed: ${name}`,
    );
  });

  it('calls nothing for a run without objects', async () => {
    await expect(catalog().registerPartitions([])).resolves.toEqual({
      database: 'lake_db',
      created: 0,
      existing: 0,
    });
    expect(calls()).toEqual([]);
  });
});
