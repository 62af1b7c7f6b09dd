// The query-ready lake: a Glue database with one table and one view per dataset, and an Athena workgroup.
import { Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXPORT_SCHEMAS } from '#common/export-schemas';
import { glueTableInput, glueViewInput } from '#common/lake-tables';
import { DATASETS } from '#common/model';
import { ATHENA_RESULTS_PREFIX } from '#storage/keys';

/** The Athena engine the views are written for (Trino functions such as `date_parse`). */
export const ATHENA_ENGINE_VERSION = 'Athena engine version 3';

export interface ExportLakeProps {
  /** The export bucket: the tables read its data prefix, the workgroup writes its results below it. */
  readonly bucket: IBucket;
  /** The configured key prefix of everything the pipeline writes ('' for the bucket root). */
  readonly bucketPrefix: string;
  /**
   * Glue database of the tables and views.
   * @default - the stack name in snake case (`SalesNavExport` → `sales_nav_export`)
   */
  readonly databaseName?: string;
  /**
   * Athena workgroup name.
   * @default - the stack name
   */
  readonly workGroupName?: string;
  /** Largest amount of data one query of the workgroup may scan before Athena cancels it. */
  readonly bytesScannedCutoffPerQuery: number;
}

/** `SalesNavExport` → `sales_nav_export`: the name Glue and Athena accept (lower case, digits, `_`). */
export function lakeDatabaseName(stackName: string): string {
  return stackName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase();
}

/**
 * The Glue Data Catalog database of the exports, with per dataset a raw table over the existing S3
 * layout (`sales-navigator/<dataset>/contract=<id>/window=<start>_<end>/<dataset>.csv`, CSV with a
 * header, partitions `contract` and `window`) and the typed, de-duplicated view people query
 * (lambdas/common/lake-tables.ts). Partitions are registered by FinishRun as objects land, never by a
 * crawler (`grantRegisterPartitions`).
 *
 * The Athena workgroup enforces its settings (users cannot point results elsewhere or drop the
 * encryption), runs engine version 3, publishes CloudWatch metrics and cancels a query past
 * `bytesScannedCutoffPerQuery`. Its results go to `<bucketPrefix>/athena-results/` in the export
 * bucket itself rather than a bucket of their own: results hold the same member data as the
 * exports, and there they get exactly the export bucket's protection with nothing to keep in step:
 * the same SSE-S3 encryption (also enforced by the workgroup), the same TLS-only bucket policy, the
 * same server access logs, the same expiry (the bucket's `ExpireExports` lifecycle rule covers every
 * key), and they are readable only by principals that can read that bucket.
 */
export class ExportLake extends Construct {
  readonly databaseName: string;
  readonly workGroupName: string;
  /** `s3://bucket/<prefix>/athena-results/`. */
  readonly resultsLocation: string;
  readonly database: CfnDatabase;
  readonly tables: Record<(typeof DATASETS)[number], CfnTable>;
  readonly views: Record<(typeof DATASETS)[number], CfnTable>;
  readonly workGroup: CfnWorkGroup;

  constructor(scope: Construct, id: string, props: ExportLakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.databaseName = props.databaseName ?? lakeDatabaseName(stack.stackName);
    this.workGroupName = props.workGroupName ?? stack.stackName;
    const root = `s3://${props.bucket.bucketName}${props.bucketPrefix ? `/${props.bucketPrefix}` : ''}`;
    this.resultsLocation = `${root}/${ATHENA_RESULTS_PREFIX}/`;

    this.database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: `LinkedIn Sales Navigator exports of the ${stack.stackName} stack (query the views: ${DATASETS.map((d) => EXPORT_SCHEMAS[d].view).join(', ')}).`,
      },
    });
    const table = (tableId: string, input: object): CfnTable => {
      const t = new CfnTable(this, tableId, {
        catalogId: stack.account,
        databaseName: this.databaseName,
        tableInput: cfnShape(input) as CfnTable.TableInputProperty,
      });
      t.node.addDependency(this.database);
      return t;
    };
    const pascal = (d: string) => d.charAt(0).toUpperCase() + d.slice(1);
    this.tables = Object.fromEntries(
      DATASETS.map((d) => [d, table(`${pascal(d)}Table`, glueTableInput(d, root))]),
    ) as ExportLake['tables'];
    this.views = Object.fromEntries(
      DATASETS.map((d) => [d, table(`${pascal(d)}View`, glueViewInput(d, this.databaseName))]),
    ) as ExportLake['views'];

    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: `Queries over the Sales Navigator exports (Glue database ${this.databaseName}); results in ${this.resultsLocation}, encrypted, expiring with the exports.`,
      state: 'ENABLED',
      // Saved queries of the workgroup go with it when the stack is deleted; results stay in the bucket.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        requesterPaysEnabled: false,
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
        resultConfiguration: {
          outputLocation: this.resultsLocation,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: stack.account,
        },
      },
    });
  }

  /** ARNs of the catalog, the database and the three data tables (the ones partitions are added to). */
  get partitionTargetArns(): string[] {
    const stack = Stack.of(this);
    const arn = (resource: string) => stack.formatArn({ service: 'glue', resource });
    return [
      arn('catalog'),
      arn(`database/${this.databaseName}`),
      ...DATASETS.map((d) => arn(`table/${this.databaseName}/${EXPORT_SCHEMAS[d].table}`)),
    ];
  }

  /** glue:BatchCreatePartition on exactly the catalog, the database and the three data tables. */
  grantRegisterPartitions(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['glue:BatchCreatePartition'],
      resourceArns: this.partitionTargetArns,
    });
  }
}

/**
 * A Glue API shape (`TableInput`, PascalCase) as CDK's L1 properties (camelCase); `Parameters`
 * maps are copied as they are (their keys are Hive properties such as `EXTERNAL`).
 */
function cfnShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cfnShape);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k.charAt(0).toLowerCase() + k.slice(1),
      k === 'Parameters' ? v : cfnShape(v),
    ]),
  );
}
