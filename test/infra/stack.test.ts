import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RETRYABLE_ERRORS } from '#common/errors';
import { loadConfig } from '#lib/config';
import { flattenIntrinsics } from '#lib/constructs/nag';
import { SalesNavExportStack } from '#lib/stack';
import { renderWorkflowAsl, type WorkflowFunctions } from '#lib/workflow';

// One synthesis (with real esbuild bundling) shared by every test: bundling six functions is slow.
const config = loadConfig({
  bucketPrefix: 'team/salesnav',
  alarmEmail: 'ops@example.com',
  mapConcurrency: '6',
  scheduleTimeZone: 'Europe/Paris',
  lagDays: '2',
});
let app: App;
let stack: SalesNavExportStack;
let template: Template;

// Bundling eleven functions can take minutes on a loaded machine: more than the default hook timeout.
beforeAll(() => {
  app = new App();
  stack = new SalesNavExportStack(app, 'TestExport', { config });
  template = Template.fromStack(stack);
}, 300_000);

type Fn = keyof WorkflowFunctions;
const ALL: Fn[] = ['planRun', 'createJob', 'checkJob', 'copyToS3', 'recordFailure', 'finishRun'];
const LINKEDIN: Fn[] = ['planRun', 'createJob', 'checkJob', 'copyToS3'];

const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const resources = (type: string) => template.findResources(type);
const bucketArn = () => `<${logicalId(stack.bucket)}.Arn>`;
const objects = (prefix: string) => `${bucketArn()}/team/salesnav/${prefix}/*`;

/** Every Allow statement of a role's policies, as `action → flattened resources`. */
function grants(roleConstruct: IConstruct): Map<string, string[]> {
  const roleId = stack.getLogicalId(roleConstruct.node.defaultChild as CfnElement);
  const result = new Map<string, string[]>();
  for (const policy of Object.values(resources('AWS::IAM::Policy'))) {
    const roles = policy.Properties.Roles as { Ref: string }[];
    if (!roles.some((r) => r.Ref === roleId)) continue;
    for (const s of policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]) {
      expect(s.Effect).toBe('Allow');
      for (const action of [s.Action].flat() as string[]) {
        const list = result.get(action) ?? [];
        list.push(...[s.Resource].flat().map(flattenIntrinsics));
        result.set(action, list);
      }
    }
  }
  return result;
}

const functionGrants = (fn: Fn) => grants(stack.functions[fn].role ?? stack.functions[fn]);
const s3Actions = (g: Map<string, string[]>) => [...g.keys()].filter((a) => a.startsWith('s3:')).sort();

/** A state machine's ASL with CloudFormation references flattened (`<ExportJobXXXX>`). */
function definition(id: 'ExportRun' | 'ExportJob' | 'ExportCrmJob'): Record<string, unknown> {
  const machine = stack.export.node.findChild(id);
  const props = resources('AWS::StepFunctions::StateMachine')[logicalId(machine)]?.Properties;
  const [separator, parts] = props.DefinitionString['Fn::Join'] as [string, unknown[]];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : flattenIntrinsics(p))).join(separator));
}

/** Every state, Map item processors included. */
function allStates(def: Record<string, unknown>): [string, Record<string, unknown>][] {
  return Object.entries(def.States as Record<string, Record<string, unknown>>).flatMap(([name, state]) => [
    [name, state] as [string, Record<string, unknown>],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor as Record<string, unknown>) : []),
  ]);
}

describe('export bucket', () => {
  it('creates the data bucket and its access-log bucket, both hardened and retained', () => {
    const buckets = resources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(2);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
    }
  });

  it('versions the data bucket, logs its access and expires objects per the retention', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: {
        DestinationBucketName: {
          Ref: logicalId(stack.export.node.findChild('Exports').node.findChild('AccessLogs')),
        },
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
          Match.objectLike({
            Status: 'Enabled',
            ExpirationInDays: 90,
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
          }),
          Match.objectLike({ Status: 'Enabled', ExpiredObjectDeleteMarker: true }),
        ]),
      },
    });
  });

  it('denies every request without TLS (and below TLS 1.2) on both buckets', () => {
    const policies = Object.values(resources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      );
    }
  });
});

describe('token secret', () => {
  it('is created empty (no value any deploy could write over the token), explains how to fill it, and is retained', () => {
    const secrets = Object.values(resources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(1);
    const [secret] = secrets;
    expect(secret?.DeletionPolicy).toBe('Retain');
    expect(secret?.Properties.Description).toMatch(/put-secret-value/);
    // CloudFormation writes a new secret version whenever either property changes in the template.
    expect(secret?.Properties.SecretString).toBeUndefined();
    expect(secret?.Properties.GenerateSecretString).toBeUndefined();
  });
});

describe('functions', () => {
  it('are exactly the six pipeline functions, the five CRM ones and the run watchdog: nodejs22.x on arm64, traced, logging to their own log group', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(Object.keys(functions).sort()).toEqual(
      [
        ...ALL.map((fn) => logicalId(stack.functions[fn])),
        ...Object.values(stack.crmFunctions).map(logicalId),
        logicalId(stack.runWatchdog),
      ].sort(),
    );
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
    }
    for (const group of Object.values(resources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(30);
    }
  });

  it('give every function the settings, the destination and Powertools configuration', () => {
    for (const fn of ALL) {
      const env =
        resources('AWS::Lambda::Function')[logicalId(stack.functions[fn])]?.Properties.Environment.Variables;
      expect(JSON.parse(env.EXPORT_SETTINGS)).toEqual(config.settings);
      expect(JSON.parse(env.EXPORT_SETTINGS).lagDays).toBe(2);
      expect(env).toMatchObject({
        BUCKET_NAME: { Ref: logicalId(stack.bucket) },
        BUCKET_PREFIX: 'team/salesnav',
        POWERTOOLS_SERVICE_NAME: 'salesnav-export-TestExport',
        POWERTOOLS_METRICS_NAMESPACE: 'SalesNavExport',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        // glibc keeps up to 64 MiB of freed heap instead of faulting it back in (export-function.ts).
        MALLOC_TRIM_THRESHOLD_: '67108864',
      });
      expect('TOKEN_SECRET_ARN' in env).toBe(LINKEDIN.includes(fn));
    }
  });

  // Lambda refuses a function whose variable names are not letters, digits and underscores starting
  // with a letter, or whose variables total more than 4 KB (Lambda developer guide, "Working with
  // Lambda environment variables"). Tokens (CloudFormation Refs) are counted by their JSON.
  it('give every function environment variables Lambda accepts: valid names, 4 KB in all', () => {
    for (const fn of ALL) {
      const env: Record<string, unknown> =
        resources('AWS::Lambda::Function')[logicalId(stack.functions[fn])]?.Properties.Environment.Variables;
      for (const name of Object.keys(env)) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_]+$/);
      const size = Object.entries(env).reduce(
        (sum, [k, v]) => sum + k.length + (typeof v === 'string' ? v : JSON.stringify(v)).length,
        0,
      );
      expect(size).toBeLessThan(4096);
    }
  });

  it('sizes CopyToS3 for streaming large files, the others for short I/O-bound steps', () => {
    const sizes = Object.fromEntries(
      ALL.map((fn) => {
        const { Timeout, MemorySize } =
          resources('AWS::Lambda::Function')[logicalId(stack.functions[fn])]?.Properties ?? {};
        return [fn, [Timeout, MemorySize]];
      }),
    );
    expect(sizes).toEqual({
      planRun: [300, 256],
      createJob: [60, 256],
      checkJob: [60, 256],
      copyToS3: [900, 1024],
      recordFailure: [60, 256],
      finishRun: [300, 256],
    });
  });
});

describe('least-privilege IAM', () => {
  it('uses no managed policy and no wildcard action', () => {
    for (const role of Object.values(resources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    for (const fn of ALL) {
      expect([...functionGrants(fn).keys()].filter((a) => a.includes('*'))).toEqual([]);
    }
  });

  it('lets only the functions that call LinkedIn read the token secret', () => {
    const secretRef = `<${logicalId(stack.tokenSecret)}>`;
    for (const fn of ALL) {
      expect(functionGrants(fn).get('secretsmanager:GetSecretValue')).toEqual(
        LINKEDIN.includes(fn) ? [secretRef] : undefined,
      );
      // Nothing calls DescribeSecret.
      expect(functionGrants(fn).get('secretsmanager:DescribeSecret'), fn).toBeUndefined();
    }
  });

  it('scopes S3 object access to key prefixes, per function', () => {
    // Item leases (storage/lease.ts): exactly Put/Get/DeleteObject on manifests/leases/* for the
    // functions that take or release one; DeleteObject on manifests/ nowhere else.
    const lease = objects('manifests/leases');
    const data = objects('sales-navigator');
    const expected: Record<Fn, Record<string, string[]>> = {
      // Planning and checking ask what exists and where it came from (tags), never read the data.
      planRun: {
        's3:GetObject': [objects('state/crm-data-validation')],
        's3:GetObjectTagging': [data],
        's3:PutObject': [objects('manifests')],
      },
      createJob: { 's3:GetObject': [lease], 's3:PutObject': [lease], 's3:DeleteObject': [lease] },
      checkJob: {
        's3:GetObject': [lease],
        's3:GetObjectTagging': [data],
        // An empty export (COMPLETED, rowCount 0, no URL) is one tagged PutObject at the item key.
        's3:PutObject': [objects('manifests'), data, lease],
        's3:PutObjectTagging': [data],
        's3:AbortMultipartUpload': [data],
        's3:DeleteObject': [lease],
      },
      copyToS3: {
        's3:GetObject': [lease],
        's3:PutObject': [objects('manifests'), data, lease],
        's3:PutObjectTagging': [data],
        's3:AbortMultipartUpload': [data],
        's3:DeleteObject': [lease],
      },
      recordFailure: {
        's3:GetObject': [lease],
        's3:PutObject': [objects('manifests'), lease],
        's3:DeleteObject': [lease],
      },
      // FinishRun alone may delete data objects: those a forced run superseded.
      finishRun: {
        's3:GetObject': [objects('manifests'), lease],
        's3:PutObject': [objects('manifests'), lease],
        's3:DeleteObject': [data, lease],
      },
    };
    for (const fn of ALL) {
      const g = functionGrants(fn);
      const objectActions = Object.fromEntries(
        s3Actions(g)
          .filter((a) => a !== 's3:ListBucket')
          .map((a) => [a, (g.get(a) ?? []).sort()]),
      );
      expect(objectActions, fn).toEqual(
        Object.fromEntries(Object.entries(expected[fn]).map(([a, r]) => [a, [...r].sort()])),
      );
    }
    // No function that only plans or checks can read export data.
    for (const fn of ['planRun', 'checkJob'] as const) {
      expect(functionGrants(fn).get('s3:GetObject'), fn).not.toContain(data);
    }
  });

  it('limits every s3:ListBucket to the prefixes the function reads, inspects or leases (s3:prefix condition)', () => {
    const below = (prefix: string) => `team/salesnav/${prefix}/*`;
    const expected: Record<Fn, string[]> = {
      planRun: [below('state/crm-data-validation'), below('sales-navigator')],
      createJob: [below('manifests/leases')],
      checkJob: [below('sales-navigator'), below('manifests/leases')],
      copyToS3: [below('manifests/leases')],
      recordFailure: [below('manifests/leases')],
      finishRun: [below('manifests'), below('manifests/leases')],
    };
    const roleIds = new Map(
      ALL.map((fn) => {
        const role = stack.functions[fn].role ?? stack.functions[fn];
        return [stack.getLogicalId(role.node.defaultChild as CfnElement), fn] as const;
      }),
    );
    const seen = new Map<string, string[][]>();
    // Every ListBucket in the template, whoever holds it, carries the condition.
    for (const policy of Object.values(resources('AWS::IAM::Policy'))) {
      for (const s of policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]) {
        if (!([s.Action].flat() as string[]).some((a) => a === 's3:ListBucket' || a === 's3:*')) continue;
        const prefixes = (s.Condition as { StringLike?: Record<string, string[]> } | undefined)?.StringLike?.[
          's3:prefix'
        ];
        expect(prefixes, JSON.stringify(s)).toEqual(expect.any(Array));
        expect([s.Resource].flat().map(flattenIntrinsics)).toEqual([bucketArn()]);
        for (const { Ref } of policy.Properties.Roles as { Ref: string }[]) {
          const fn = roleIds.get(Ref);
          if (fn) seen.set(fn, [...(seen.get(fn) ?? []), [...(prefixes ?? [])]]);
        }
      }
    }
    for (const fn of ALL) {
      expect(seen.get(fn), fn).toEqual([[...expected[fn]]]);
    }
  });

  it('lets ExportJob start executions of itself and follow them (.sync), and ExportRun start ExportJob and ExportCrmJob', () => {
    const selfArn =
      'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:TestExport-ExportJob';
    const job = grants(stack.exportJob.role);
    expect(job.get('states:StartExecution')).toEqual([selfArn]);
    expect(job.get('states:DescribeExecution')).toEqual([
      'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:TestExport-ExportJob:*',
    ]);
    expect(job.get('states:StopExecution')).toEqual(job.get('states:DescribeExecution'));
    for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
      expect(job.get(action)?.[0]).toMatch(/:rule\/StepFunctionsGetEventsForStepFunctionsExecutionRule$/);
    }
    expect(grants(stack.exportRun.role).get('states:StartExecution')?.sort()).toEqual(
      [
        `<${logicalId(stack.exportJob)}>`,
        `<${logicalId(stack.exportCrmJob)}>`,
        `<${logicalId(stack.exportRun)}>`,
      ].sort(),
    );
  });

  it('lets the ExportEach Distributed Map start, follow and stop its own child executions, and read the lanes', () => {
    const run = grants(stack.exportRun.role);
    const self = `<${logicalId(stack.exportRun)}>`;
    // The Map Run's children are executions of ExportRun itself (states:StartExecution on itself).
    expect(run.get('states:StartExecution')).toContain(self);
    const executionsOfRun = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${JSON.stringify(
      { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: logicalId(stack.exportRun) }] }] },
    )}`;
    for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
      expect(run.get(action), action).toContain(`${executionsOfRun}:*`);
    }
    expect(run.get('states:RedriveExecution')).toEqual([`${executionsOfRun}/ExportLanes:*`]);
    // The ItemReader reads the lanes objects only: not the data, not the other manifests.
    expect(run.get('s3:GetObject')).toEqual([objects('manifests').replace(/\*$/, '*/lanes.json')]);
    expect(run.get('s3:PutObject')).toBeUndefined();
  });
});

describe('state machines', () => {
  it('are two named STANDARD state machines, logging every event without payloads, traced', () => {
    for (const name of ['ExportRun', 'ExportJob']) {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: `TestExport-${name}`,
        StateMachineType: 'STANDARD',
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
        TracingConfiguration: { Enabled: true },
      });
    }
  });

  it('deploys exactly the definitions the local executor runs (only the ARNs differ)', () => {
    // The local runner and the workflow tests execute renderWorkflowAsl(); this ties them to the template.
    const local = renderWorkflowAsl({
      mapConcurrency: config.mapConcurrency,
      bucketPrefix: config.bucketPrefix,
    });
    // ARNs and the bucket name are deploy-time references; everything else is the same text.
    const withoutArns = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value), (key, v) =>
        (key === 'Resource' || key === 'StateMachineArn' || key === 'Bucket') && typeof v === 'string'
          ? '<arn>'
          : v,
      );
    expect(withoutArns(definition('ExportRun'))).toEqual(withoutArns(local.exportRun));
    expect(withoutArns(definition('ExportJob'))).toEqual(withoutArns(local.exportJob));
  });

  it('ExportRun starts one ExportJob execution per item, at the configured concurrency (and one ExportCrmJob per CRM item)', () => {
    const states = allStates(definition('ExportRun'));
    const starts = states.filter(([, s]) =>
      String(s.Resource).includes(':states:::states:startExecution.sync'),
    );
    expect(starts.map(([, s]) => (s.Parameters as Record<string, unknown>).StateMachineArn)).toEqual([
      `<${logicalId(stack.exportJob)}>`,
      `<${logicalId(stack.exportCrmJob)}>`,
    ]);
    expect(states.map(([, s]) => s.MaxConcurrency)).toContain(6);
  });

  it('ExportRun fans out over the lanes with a Distributed Map reading them from the bucket', () => {
    const states = allStates(definition('ExportRun'));
    const exportEach = states.find(([name]) => name === 'ExportEach')?.[1];
    expect(exportEach).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 6,
      ToleratedFailurePercentage: 100,
      Label: 'ExportLanes',
      ResultPath: null,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ItemReader: {
        Resource: 'arn:<AWS::Partition>:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: {
          Bucket: `<${logicalId(stack.bucket)}>`,
          'Key.$': "States.Format('team/salesnav/{}', $.lanesKey)",
        },
      },
    });
    expect(exportEach).not.toHaveProperty('ItemsPath');
    // Each lane child returns {}: the collected output stays far below 256 KiB.
    const exportLane = states.find(([name]) => name === 'ExportLane')?.[1];
    expect(exportLane).toMatchObject({ Type: 'Map', MaxConcurrency: 1, OutputPath: null, ResultPath: null });
    expect(exportLane?.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'INLINE' } });
  });

  it('ExportJob splits a window by starting executions of itself, by name', () => {
    const starts = allStates(definition('ExportJob')).filter(([, s]) =>
      String(s.Resource).includes(':states:::states:startExecution.sync'),
    );
    expect(starts.map(([, s]) => (s.Parameters as Record<string, unknown>).StateMachineArn)).toEqual([
      'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:TestExport-ExportJob',
    ]);
  });

  it('retries exactly the retryable named errors and catches everything into RecordFailure', () => {
    const states = [...allStates(definition('ExportRun')), ...allStates(definition('ExportJob'))];
    const retried = new Set(
      states.flatMap(([, s]) =>
        ((s.Retry ?? []) as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals),
      ),
    );
    const named = [...retried].filter((e) => !e.startsWith('Lambda.') && !e.startsWith('States.'));
    expect(named.sort()).toEqual([...RETRYABLE_ERRORS].sort());
    for (const name of ['CreateJob', 'CheckJob', 'CopyToS3']) {
      const state = states.find(([n]) => n === name)?.[1];
      expect(state?.Catch, name).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' }),
      ]);
    }
  });
});

describe('schedule', () => {
  it('starts ExportRun with the default window input, in the configured time zone', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 7 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { Ref: logicalId(stack.exportRun) },
        Input: '{}',
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
      },
    });
  });
});

describe('alarms', () => {
  const topicRef = () => ({ Ref: logicalId(stack.alarmTopic) });

  it('subscribes the configured email to a TLS-only topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicRef(),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('alarms when an ExportRun execution fails, times out or is aborted', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
      Metrics: Match.arrayWith(
        ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((metricName) =>
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'AWS/States',
                MetricName: metricName,
                Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(stack.exportRun) } }],
              },
              Stat: 'Sum',
            }),
          }),
        ),
      ),
    });
  });

  it('alarms a week before the LinkedIn token expires', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'SalesNavExport',
      MetricName: 'TokenExpiresInDays',
      Dimensions: [{ Name: 'service', Value: 'salesnav-export-TestExport' }],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 7,
      AlarmActions: [topicRef()],
    });
  });
});

describe('outputs', () => {
  it('gives the names and ARNs an operator needs, and a ready start-execution command', () => {
    for (const name of ['BucketName', 'TokenSecretArn', 'ExportRunArn', 'ExportJobArn', 'AlarmTopicArn']) {
      template.hasOutput(name, {});
    }
    const command = flattenIntrinsics(
      template.findOutputs('StartExecutionCommand').StartExecutionCommand?.Value,
    );
    expect(command).toBe(
      `aws stepfunctions start-execution --state-machine-arn <${logicalId(stack.exportRun)}> --input '{}'`,
    );
  });
});

describe('bundled handlers', () => {
  it('load as ESM on Node and reject a malformed event with the named error Step Functions matches', async () => {
    // What Lambda will run: esbuild's output (ESM, createRequire banner, #-aliases resolved, SDK bundled).
    // The environment the stack gives every function (values do not matter: the event is refused first).
    Object.assign(process.env, { BUCKET_NAME: 'test-bucket', AWS_REGION: 'us-east-1' });
    const outdir = app.synth().directory;
    const bundles = (await readdir(outdir)).filter((name) => name.startsWith('asset.'));
    const errors: unknown[] = [];
    for (const bundle of bundles) {
      const files = await readdir(join(outdir, bundle));
      if (!files.includes('index.mjs')) continue;
      const { handler } = await import(pathToFileURL(join(outdir, bundle, 'index.mjs')).href);
      errors.push(
        await handler({ unexpected: true }, { functionName: 'test', awsRequestId: 'r' }).catch(
          (e: unknown) => e,
        ),
      );
    }
    // Every bundled function, the WatchRuns watchdog included, refuses a malformed event before any AWS call.
    const step = { name: 'InvalidInputError', message: expect.stringContaining('received an invalid event') };
    expect(errors).toHaveLength(12);
    expect(errors.filter((e) => expect.objectContaining(step).asymmetricMatch(e))).toHaveLength(12);
    // Bundling eleven functions with esbuild takes ~25 s alone and several times that on a loaded machine.
  }, 300_000);

  it('carry of zod no locale but English (its namespace import lets esbuild drop the rest)', async () => {
    // `import { z } from 'zod'` keeps zod's whole namespace (about 370 KB more for every start to
    // compile); `import * as z` lets esbuild drop what no schema uses. Lint enforces the import.
    const outdir = app.synth().directory;
    const bundles = (await readdir(outdir)).filter((name) => name.startsWith('asset.'));
    let checked = 0;
    for (const bundle of bundles) {
      const files = await readdir(join(outdir, bundle));
      if (!files.includes('index.mjs.map')) continue;
      const { sources } = JSON.parse(await readFile(join(outdir, bundle, 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };
      const zod = sources.filter((source) => source.includes('node_modules/zod/'));
      expect(zod.length, bundle).toBeGreaterThan(0);
      expect(
        zod.filter((source) => /\/locales\/(?!en\.js$)/.test(source)),
        bundle,
      ).toEqual([]);
      checked++;
    }
    expect(checked).toBe(12);
  });
});

describe('failure semantics on real AWS', () => {
  const lambdaTasks = () =>
    // payloadResponseOnly: a Lambda Task's Resource is the function's ARN itself.
    [
      ...allStates(definition('ExportRun')),
      ...allStates(definition('ExportJob')),
      ...allStates(definition('ExportCrmJob')),
    ].filter(([, s]) => s.Type === 'Task' && !String(s.Resource).includes(':states:::'));
  type Retrier = { ErrorEquals: string[]; MaxDelaySeconds?: number; JitterStrategy?: string };
  type TopicStatement = {
    Effect: string;
    Principal?: { Service?: string | string[] };
    Action: string | string[];
    Resource: unknown;
    Condition: Record<string, Record<string, unknown>>;
  };

  it('lets every alarm action publish: alarm → AlarmActions → topic → its topic policy allows CloudWatch', () => {
    const alarms = Object.entries(resources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThanOrEqual(3);
    const policies = Object.values(resources('AWS::SNS::TopicPolicy'));
    for (const [id, alarm] of alarms) {
      const actions = alarm.Properties.AlarmActions as { Ref: string }[];
      expect(actions.length, id).toBeGreaterThan(0);
      for (const action of actions) {
        expect(resources('AWS::SNS::Topic')[action.Ref], id).toBeDefined();
        // A topic with a topic policy has only what that policy allows (SNS's default policy is replaced).
        const statements = policies
          .filter((p) => (p.Properties.Topics as { Ref: string }[]).some((t) => t.Ref === action.Ref))
          .flatMap((p) => p.Properties.PolicyDocument.Statement as TopicStatement[]);
        expect(statements.length, id).toBeGreaterThan(0);
        const allows = statements.filter(
          (s) =>
            s.Effect === 'Allow' &&
            [s.Principal?.Service].flat().includes('cloudwatch.amazonaws.com') &&
            [s.Action].flat().includes('sns:Publish') &&
            [s.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(action)),
        );
        expect(allows, `${id}: cloudwatch.amazonaws.com may sns:Publish to its topic`).toHaveLength(1);
        const condition = allows[0]?.Condition ?? {};
        expect(flattenIntrinsics(condition.StringEquals?.['aws:SourceAccount'])).toBe('<AWS::AccountId>');
        expect(flattenIntrinsics(condition.ArnLike?.['aws:SourceArn'])).toBe(
          'arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*',
        );
        // The TLS-only Deny must not catch the alarm's own (TLS) publish.
        for (const deny of statements.filter((s) => s.Effect === 'Deny')) {
          expect(deny.Condition, id).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
        }
      }
    }
  });

  it('retries Lambda throttling on every Lambda Task of the three state machines, with capped backoff and full jitter', () => {
    const tasks = lambdaTasks();
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [
        'CheckJob',
        'CopyToS3',
        'CreateJob',
        'FinishRun',
        'PlanRun',
        'RecordFailure',
        'CreateCrmJob',
        'CheckCrmJob',
        'CopyCrmPart',
        'CommitCrmExport',
        'RecordCrmFailure',
      ].sort(),
    );
    for (const [name, state] of tasks) {
      const retry = (state.Retry ?? []) as Retrier[];
      const throttled = retry.find((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
      expect(throttled, name).toMatchObject({ JitterStrategy: 'FULL', MaxDelaySeconds: expect.any(Number) });
      // Service exceptions stay retried too (CDK's list).
      expect(
        retry.some((r) => r.ErrorEquals.includes('Lambda.ServiceException')),
        name,
      ).toBe(true);
    }
  });

  it('retries AwsTransientError (S3 / Secrets Manager faults) on every Lambda Task, RecordFailure and FinishRun included', () => {
    for (const [name, state] of lambdaTasks()) {
      const retry = (state.Retry ?? []) as Retrier[];
      expect(
        retry.find((r) => r.ErrorEquals.includes('AwsTransientError')),
        name,
      ).toMatchObject({ JitterStrategy: 'FULL', MaxDelaySeconds: expect.any(Number) });
      // Each error is matched by one retrier only: the first would shadow any later one.
      const errors = retry.flatMap((r) => r.ErrorEquals);
      expect(new Set(errors).size, name).toBe(errors.length);
    }
  });

  it('grants the state machines IAM in its exact forms: the functions (no <fn>:*), execution:<name>:*', () => {
    for (const role of [stack.exportRun.role, stack.exportJob.role]) {
      const g = grants(role);
      expect((g.get('lambda:InvokeFunction') ?? []).length).toBeGreaterThan(0);
      for (const arn of g.get('lambda:InvokeFunction') ?? []) expect(arn).toMatch(/^<\w+\.Arn>$/);
      for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
        // Never a name prefix (`execution:<name>*` also matches <name>-Other's executions).
        for (const arn of g.get(action) ?? []) expect(arn, action).toMatch(/[:/]\*$/);
      }
    }
  });

  it('bounds both state machines, outer budget above inner: run > item task > item > Lambda step', () => {
    const run = definition('ExportRun');
    const job = definition('ExportJob');
    expect(run.TimeoutSeconds).toEqual(expect.any(Number));
    expect(job.TimeoutSeconds).toEqual(expect.any(Number));
    const crmJob = definition('ExportCrmJob');
    expect(crmJob.TimeoutSeconds).toEqual(expect.any(Number));
    const childTasks = [...allStates(run), ...allStates(job)].filter(([, s]) =>
      String(s.Resource).includes(':states:::states:startExecution.sync'),
    );
    expect(childTasks.map(([name]) => name).sort()).toEqual(['ExportHalf', 'RunCrmItem', 'RunItem']);
    for (const [name, state] of childTasks) {
      const child = name === 'RunCrmItem' ? crmJob : job;
      // The child execution times out (and says so in its history) before the task waiting for it.
      expect(state.TimeoutSeconds as number, name).toBeGreaterThan(child.TimeoutSeconds as number);
      expect(state.TimeoutSeconds as number, name).toBeLessThan(run.TimeoutSeconds as number);
    }
    const fns = resources('AWS::Lambda::Function');
    for (const [name, state] of lambdaTasks()) {
      const fnId = String(state.Resource).replace(/^<(.*)\.Arn>$/, '$1');
      const fnTimeout = fns[fnId]?.Properties.Timeout as number;
      expect(fnTimeout, name).toBeGreaterThan(0);
      // A Lambda timeout surfaces as the Lambda's error, not as the task's States.Timeout.
      expect(state.TimeoutSeconds as number, name).toBeGreaterThan(fnTimeout);
      expect(state.TimeoutSeconds as number, name).toBeLessThan(job.TimeoutSeconds as number);
    }
  });
});

describe('run watchdog (RunOverdue)', () => {
  const watchdogId = () => logicalId(stack.runWatchdog);

  it('alarms on the topic when the oldest running run is over overdueRunHours (default 20)', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'OldestRunningRunHours',
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: 'SalesNavExport',
      Dimensions: [{ Name: 'service', Value: 'salesnav-export-TestExport' }],
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 20,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
    });
    // Bundling skipped: only the template matters here.
    const other = new SalesNavExportStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Other', {
      config: loadConfig({ overdueRunHours: '30' }),
    });
    const threshold = Object.values(Template.fromStack(other).findResources('AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.MetricName === 'OldestRunningRunHours',
    )?.Properties.Threshold;
    expect(threshold).toBe(30);
  });

  it('runs WatchRuns every hour from the stack schedule group, with the ExportRun ARN', () => {
    const schedules = Object.values(resources('AWS::Scheduler::Schedule')).filter((s) =>
      JSON.stringify(s.Properties.Target.Arn).includes(watchdogId()),
    );
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
    const env = resources('AWS::Lambda::Function')[watchdogId()]?.Properties.Environment.Variables;
    expect(env.EXPORT_RUN_ARN).toEqual({ Ref: logicalId(stack.exportRun) });
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('SalesNavExport');
    expect(env.BUCKET_NAME).toBeUndefined();
  });

  it('may only list the executions of ExportRun: states:ListExecutions on its ARN, nothing else', () => {
    const g = grants(stack.runWatchdog.role ?? stack.runWatchdog);
    const own = [...g.keys()].filter((a) => !a.startsWith('xray:') && !a.startsWith('logs:'));
    expect(own).toEqual(['states:ListExecutions']);
    expect(g.get('states:ListExecutions')).toEqual([`<${logicalId(stack.exportRun)}>`]);
    // The schedule may invoke the function itself only (not `<fn>:*`).
    const invokes = Object.values(resources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[])
      .filter((st) => JSON.stringify(st.Resource).includes(watchdogId()));
    expect(invokes).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [watchdogId(), 'Arn'] } },
    ]);
  });
});
