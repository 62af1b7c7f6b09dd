// Registers the Glue partitions of exported objects (BatchCreatePartition), so Athena sees them without a crawler.
import { BatchCreatePartitionCommand, type GlueClient } from '@aws-sdk/client-glue';
import { AwsTransientError, LakeCatalogError } from '#common/errors';
import { EXPORT_SCHEMAS } from '#common/export-schemas';
import type { Dataset, ExportItem } from '#common/model';
import { awsError, isTransientAwsError } from './aws-errors.ts';
import { type GluePartitionInput, gluePartitionInput } from './lake-partitions.ts';

/** Glue's limit on `PartitionInputList` of one BatchCreatePartition call. */
export const MAX_PARTITIONS_PER_CALL = 100;

/** What registering a run's objects did: partitions created, and those Glue already had. */
export interface LakeRegistration {
  database: string;
  created: number;
  existing: number;
}

/** The lake's catalog as the steps see it: make items' objects queryable. */
export interface LakeCatalog {
  registerPartitions(items: ExportItem[]): Promise<LakeRegistration>;
}

/**
 * The Glue Data Catalog tables of the stack (lib/constructs/export-lake.ts): one partition per
 * object, values and location from `gluePartitionInput` (the same key builder CopyToS3 writes
 * with). Idempotent: a partition Glue already has (`AlreadyExistsException`) counts as registered,
 * so a retried FinishRun or a re-run registers nothing twice.
 */
export class GlueLakeCatalog implements LakeCatalog {
  private readonly client: GlueClient;
  private readonly database: string;
  private readonly dataLocation: string;

  constructor(opts: {
    client: GlueClient;
    database: string;
    /** The export root, `s3://bucket[/prefix]` (the store's `location`). */
    dataLocation: string;
  }) {
    this.client = opts.client;
    this.database = opts.database;
    this.dataLocation = opts.dataLocation;
  }

  async registerPartitions(items: ExportItem[]): Promise<LakeRegistration> {
    const byTable = new Map<Dataset, GluePartitionInput[]>();
    const seen = new Set<string>();
    for (const item of items) {
      const partition = gluePartitionInput(item, this.dataLocation);
      const id = `${item.dataset}/${partition.Values.join('/')}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const list = byTable.get(item.dataset);
      if (list) list.push(partition);
      else byTable.set(item.dataset, [partition]);
    }
    const result: LakeRegistration = { database: this.database, created: 0, existing: 0 };
    for (const [dataset, partitions] of byTable) {
      for (let i = 0; i < partitions.length; i += MAX_PARTITIONS_PER_CALL) {
        const batch = partitions.slice(i, i + MAX_PARTITIONS_PER_CALL);
        const existing = await this.createBatch(EXPORT_SCHEMAS[dataset].table, batch);
        result.existing += existing;
        result.created += batch.length - existing;
      }
    }
    return result;
  }

  /** One BatchCreatePartition call; returns how many partitions already existed. */
  private async createBatch(table: string, batch: GluePartitionInput[]): Promise<number> {
    const where = `${this.database}.${table}`;
    let errors: { PartitionValues?: string[]; ErrorDetail?: { ErrorCode?: string; ErrorMessage?: string } }[];
    try {
      const out = await this.client.send(
        new BatchCreatePartitionCommand({
          DatabaseName: this.database,
          TableName: table,
          PartitionInputList: batch,
        }),
      );
      errors = out.Errors ?? [];
    } catch (err) {
      const mapped = awsError('Glue', err, 'BatchCreatePartition', where);
      if (mapped instanceof AwsTransientError) throw mapped;
      throw new LakeCatalogError(`Glue BatchCreatePartition on ${where} failed: ${describe(err)}. ${FIX}`, {
        cause: err,
      });
    }
    const existing = errors.filter((e) => e.ErrorDetail?.ErrorCode === 'AlreadyExistsException');
    const failed = errors.filter((e) => e.ErrorDetail?.ErrorCode !== 'AlreadyExistsException');
    if (failed.length === 0) return existing.length;
    const detail = failed
      .slice(0, 3)
      .map((e) =>
        `${(e.PartitionValues ?? []).join('/')}: ${e.ErrorDetail?.ErrorCode} ${e.ErrorDetail?.ErrorMessage ?? ''}`.trim(),
      )
      .join('; ');
    const summary = `${failed.length} of ${batch.length} partition(s) of ${where} were not created (${detail})`;
    // An entry Glue could not create for a passing reason (throttled, internal error) is retried whole.
    if (failed.every((e) => isTransientAwsError({ name: e.ErrorDetail?.ErrorCode }))) {
      throw new AwsTransientError(`Glue BatchCreatePartition: ${summary}`);
    }
    throw new LakeCatalogError(`Glue BatchCreatePartition: ${summary}. ${FIX}`);
  }
}

const FIX =
  'The objects and the manifest are written; once the cause is fixed, run the same range again (its objects are SKIPPED and registered) or MSCK REPAIR TABLE on the table in Athena (README "Query your data")';

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
