import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_SCHEMAS } from '#common/export-schemas';
import { decodePrestoView, glueTableInput, glueViewInput } from '#common/lake-tables';
import { DATASETS } from '#common/model';
import { type ConfigInput, loadConfig } from '#lib/config';
import { lakeDatabaseName } from '#lib/constructs/export-lake';
import { flattenIntrinsics } from '#lib/constructs/nag';
import { SalesNavExportStack } from '#lib/stack';
import { itemKey } from '#storage/keys';

/** The lake in the template: Glue database, tables and views, the Athena workgroup, FinishRun's grant. */
function synth(id: string, input: ConfigInput) {
  // Bundling is skipped: these tests are about the template, not the code.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new SalesNavExportStack(app, id, { config: loadConfig({ ...input, stackName: id }) });
  return { stack, template: Template.fromStack(stack) };
}

/** Resolved CloudFormation values as plain strings (`<LogicalId>` for a Ref), recursively. */
function flat(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flat);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0]?.startsWith('Fn::') || keys[0] === 'Ref'))
    return flattenIntrinsics(value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, flat(v)]));
}

/** A resource's properties, flattened; typed like the template's own (CDK types them loosely). */
const byType = (template: Template, type: string) =>
  Object.values(template.findResources(type)).map((r) => flat(r.Properties) as typeof r.Properties);

/** Every Allow statement of every policy, as [role logical id, action, resources]. */
function statements(template: Template): [string, string, string[]][] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]).flatMap((s) =>
      ([s.Action].flat() as string[]).map(
        (action) =>
          [
            (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref).join(','),
            action,
            [s.Resource].flat().map(flattenIntrinsics),
          ] as [string, string, string[]],
      ),
    ),
  );
}

describe('the lake (created bucket, prefix team/salesnav)', () => {
  let stack: SalesNavExportStack;
  let template: Template;
  let bucket: string;
  const root = () => `s3://<${bucket}>/team/salesnav`;

  beforeAll(() => {
    ({ stack, template } = synth('LakeExport', { bucketPrefix: 'team/salesnav', retentionDays: '45' }));
    bucket = stack.getLogicalId(stack.bucket.node.defaultChild as CfnElement);
  });

  it('creates one Glue database named after the stack', () => {
    expect(byType(template, 'AWS::Glue::Database')).toEqual([
      {
        CatalogId: '<AWS::AccountId>',
        DatabaseInput: expect.objectContaining({ Name: 'lake_export' }),
      },
    ]);
    expect(template.findOutputs('LakeDatabase').LakeDatabase?.Value).toBe('lake_export');
  });

  it.each(DATASETS)(
    '%s: an external CSV table over the existing S3 layout, exactly glueTableInput',
    (dataset) => {
      const table = byType(template, 'AWS::Glue::Table').find(
        (t) => t.TableInput.Name === EXPORT_SCHEMAS[dataset].table,
      );
      expect(table?.DatabaseName).toBe('lake_export');
      expect(table?.TableInput).toEqual(glueTableInput(dataset, root()));
      expect(table?.TableInput).toMatchObject({
        TableType: 'EXTERNAL_TABLE',
        Parameters: { 'skip.header.line.count': '1', EXTERNAL: 'TRUE' },
        PartitionKeys: [
          { Name: 'contract', Type: 'string' },
          { Name: 'window', Type: 'string' },
        ],
        StorageDescriptor: {
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde' },
        },
      });
      // Every object CopyToS3 writes (lambdas/storage/keys.ts) is below the table, in its Hive partition folders.
      const key = itemKey({
        contract: 'urn:li:salesContract:77',
        dataset,
        start: '2026-10-01',
        end: '2026-10-02',
      });
      const object = `${root()}/${key}`;
      const location = table?.TableInput.StorageDescriptor.Location as string;
      expect(object.startsWith(location)).toBe(true);
      expect(object.slice(location.length)).toBe(`contract=77/window=2026-10-01_2026-10-02/${dataset}.csv`);
    },
  );

  it.each(DATASETS)(
    '%s: an Athena view (VIRTUAL_VIEW with its Presto view JSON) in the same database',
    (dataset) => {
      const view = byType(template, 'AWS::Glue::Table').find(
        (t) => t.TableInput.Name === EXPORT_SCHEMAS[dataset].view,
      );
      expect(view?.TableInput).toEqual(glueViewInput(dataset, 'lake_export'));
      const json = decodePrestoView(view?.TableInput.ViewOriginalText);
      expect(json.schema).toBe('lake_export');
      expect(json.originalSql).toContain(`FROM ${EXPORT_SCHEMAS[dataset].table}`);
    },
  );

  it('creates the tables and views after the database', () => {
    const database = Object.keys(template.findResources('AWS::Glue::Database'))[0];
    const tables = Object.values(template.findResources('AWS::Glue::Table'));
    expect(tables).toHaveLength(6);
    for (const t of tables) expect(t.DependsOn).toContain(database);
  });

  it('has an enforced Athena workgroup, engine 3, metrics, a scan cutoff and encrypted results in the bucket', () => {
    const [workGroup] = byType(template, 'AWS::Athena::WorkGroup');
    expect(workGroup).toMatchObject({
      Name: 'LakeExport',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: `${root()}/athena-results/`,
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          ExpectedBucketOwner: '<AWS::AccountId>',
        },
      },
    });
    expect(template.findOutputs('LakeWorkGroup').LakeWorkGroup?.Value).toBe('LakeExport');
  });

  it('results get the export bucket’s protection: SSE-S3, TLS only, access logs, and expiry with the exports', () => {
    const resource = template.toJSON().Resources[bucket];
    const exportBucket = flat(resource.Properties) as typeof resource.Properties;
    expect(exportBucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(exportBucket.LoggingConfiguration).toBeDefined();
    // The retention rule has no prefix or tag filter, so it expires athena-results/ like the exports.
    const expire = exportBucket.LifecycleConfiguration.Rules.find(
      (r: { Id: string }) => r.Id === 'ExpireExports',
    );
    expect(expire).toEqual({
      Id: 'ExpireExports',
      Status: 'Enabled',
      ExpirationInDays: 45,
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
    });
    const policy = byType(template, 'AWS::S3::BucketPolicy').find((p) => p.Bucket === `<${bucket}>`);
    expect(policy?.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Resource: expect.arrayContaining([`<${bucket}.Arn>/*`]),
      }),
    );
  });

  it('grants glue:BatchCreatePartition to FinishRun only, on exactly the catalog, the database and the 3 tables', () => {
    const finishRole = stack.getLogicalId(stack.functions.finishRun.role?.node.defaultChild as CfnElement);
    const glue = statements(template).filter(
      ([, action]) => action.startsWith('glue:') || action.startsWith('athena:'),
    );
    const arn = (resource: string) => `arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:${resource}`;
    expect(glue).toEqual([
      [
        finishRole,
        'glue:BatchCreatePartition',
        [
          arn('catalog'),
          arn('database/lake_export'),
          arn('table/lake_export/seat_csv'),
          arn('table/lake_export/activity_csv'),
          arn('table/lake_export/activity_outcome_csv'),
        ],
      ],
    ]);
  });

  it('tells FinishRun, and only FinishRun, the database', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const withLake = Object.entries(functions).filter(
      ([, f]) => 'LAKE_DATABASE' in f.Properties.Environment.Variables,
    );
    expect(withLake.map(([id]) => id)).toEqual([
      stack.getLogicalId(stack.functions.finishRun.node.defaultChild as CfnElement),
    ]);
    expect(withLake[0]?.[1].Properties.Environment.Variables.LAKE_DATABASE).toBe('lake_export');
  });
});

describe('lake configuration', () => {
  it('derives the database from the stack name, so two stacks do not share one', () => {
    expect(lakeDatabaseName('SalesNavExport')).toBe('sales_nav_export');
    expect(lakeDatabaseName('SalesNav-EU2')).toBe('sales_nav_eu2');
    const names = ['ExportA', 'ExportB'].map(
      (id) => byType(synth(id, {}).template, 'AWS::Glue::Database')[0]?.DatabaseInput.Name,
    );
    expect(names).toEqual(['export_a', 'export_b']);
  });

  it('takes glueDatabaseName and athenaScanLimitGb, tables and grants following the name', () => {
    const { template } = synth('Custom', {
      glueDatabaseName: 'sales_lake',
      athenaScanLimitGb: '2',
      bucketName: 'existing-exports',
    });
    expect(byType(template, 'AWS::Glue::Database')[0]?.DatabaseInput.Name).toBe('sales_lake');
    expect(new Set(byType(template, 'AWS::Glue::Table').map((t) => t.DatabaseName))).toEqual(
      new Set(['sales_lake']),
    );
    const [workGroup] = byType(template, 'AWS::Athena::WorkGroup');
    expect(workGroup?.WorkGroupConfiguration.BytesScannedCutoffPerQuery).toBe(2 * 1024 ** 3);
    expect(workGroup?.WorkGroupConfiguration.ResultConfiguration.OutputLocation).toBe(
      's3://existing-exports/athena-results/',
    );
    const glue = statements(template).filter(([, action]) => action.startsWith('glue:'));
    expect(glue[0]?.[2]).toContain(
      'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/sales_lake/seat_csv',
    );
  });

  it('lake: false creates no Glue or Athena resource, no grant and no LAKE_DATABASE', () => {
    const { template } = synth('NoLake', { lake: 'false' });
    template.resourceCountIs('AWS::Glue::Database', 0);
    template.resourceCountIs('AWS::Glue::Table', 0);
    template.resourceCountIs('AWS::Athena::WorkGroup', 0);
    expect(statements(template).filter(([, a]) => a.startsWith('glue:'))).toEqual([]);
    for (const f of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(f.Properties.Environment.Variables.LAKE_DATABASE).toBeUndefined();
    }
    expect(Object.keys(template.findOutputs('*'))).not.toContain('LakeDatabase');
  });

  it('rejects a database name Athena cannot query, naming the key', () => {
    expect(() => loadConfig({ glueDatabaseName: 'Sales-Lake' })).toThrow(
      /glueDatabaseName: must be lower-case letters, digits and _/,
    );
    expect(() => loadConfig({ athenaScanLimitGb: '0' })).toThrow(/athenaScanLimitGb/);
  });
});
