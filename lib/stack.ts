// The SalesNavExport stack: bucket, token secret, functions, state machines, schedule and alarms.
import { fileURLToPath } from 'node:url';
import {
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type IRole, Policy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Schedule,
  ScheduleExpression,
  ScheduleGroup,
  ScheduleTargetInput,
  TimeWindow,
} from 'aws-cdk-lib/aws-scheduler';
import {
  LambdaInvoke,
  type ScheduleTargetBaseProps,
  StepFunctionsStartExecution,
} from 'aws-cdk-lib/aws-scheduler-targets';
import { type CfnSecret, type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import {
  DefinitionBody,
  type IChainable,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { TOKEN_EXPIRY_WARNING_DAYS } from '#linkedin/token';
import { CRM_DATA_PREFIX, CRM_STATE_PREFIX } from '#storage/crm-keys';
import { DATA_PREFIX, LEASE_PREFIX, MANIFEST_PREFIX } from '#storage/keys';
import type { Config } from './config.ts';
import { ExportBucket } from './constructs/export-bucket.ts';
import { ExportFunction } from './constructs/export-function.ts';
import { ExportLake } from './constructs/export-lake.ts';
import { acknowledgePolicyWildcards, acknowledgeWildcardResources } from './constructs/nag.ts';
import {
  buildExportCrmJobDefinition,
  CRM_ITEM_TIMEOUT,
  CRM_STEP_TIMEOUTS,
  type CrmWorkflowFunctions,
} from './crm-workflow.ts';
import {
  buildExportJobDefinition,
  buildExportRunDefinition,
  EXPORT_JOB_TIMEOUT,
  EXPORT_RUN_TIMEOUT,
  STEP_TIMEOUTS,
  type WorkflowFunctions,
} from './workflow.ts';

/** Powertools service name of every function: the `service` dimension of the custom metrics. */
export const SERVICE_NAME = 'salesnav-export';
/** CloudWatch namespace of the functions' custom metrics (e.g. `TokenExpiresInDays`). */
export const METRICS_NAMESPACE = 'SalesNavExport';

/**
 * The schedule target of WatchRuns: lambda:InvokeFunction on the function only. CDK's LambdaInvoke
 * grants it with grantInvoke, which adds `<fn>:*` (versions and aliases, which nothing publishes).
 */
class InvokeFunctionOnly extends LambdaInvoke {
  constructor(
    private readonly fn: IFunction,
    props: ScheduleTargetBaseProps,
  ) {
    super(fn, props);
  }

  protected override addTargetActionToRole(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.fn.functionArn] }),
    );
  }
}

/** The watchdog lists at most a few pages of executions. */
const WATCH_RUNS_TIMEOUT = Duration.minutes(1);

const HANDLERS_DIR = fileURLToPath(new URL('../lambdas/handlers/', import.meta.url));

type KeyPrefix =
  | typeof LEASE_PREFIX
  | typeof DATA_PREFIX
  | typeof MANIFEST_PREFIX
  | typeof CRM_DATA_PREFIX
  | typeof CRM_STATE_PREFIX;

/** What one function is and may do. S3 access is per key prefix, below the configured bucket prefix. */
interface FunctionSpec {
  /** Handler file in lambdas/handlers/, without `.ts`. */
  handler: string;
  description: string;
  /** Calls LinkedIn: gets TOKEN_SECRET_ARN and may read the token secret. */
  linkedin: boolean;
  /** HeadObject/GetObject (+ ListBucket, see `grantS3`). */
  read?: KeyPrefix[];
  /** PutObject. */
  write?: KeyPrefix[];
  /** Multipart upload: PutObject + AbortMultipartUpload. */
  upload?: KeyPrefix[];
  /** DeleteObject (FinishRun: objects a forced run superseded). */
  remove?: KeyPrefix[];
  /** Takes or releases item leases (lambdas/storage/lease.ts): Put/Get/DeleteObject on LEASE_PREFIX only. */
  lease?: boolean;
  memorySize?: number;
}

/** The six functions, with exactly the access their code needs (see lambdas/steps/*.ts). */
const FUNCTIONS: Record<keyof WorkflowFunctions, FunctionSpec> = {
  planRun: {
    handler: 'plan-run',
    description: 'Validates the run input, discovers contracts, plans items and skips existing objects.',
    linkedin: true,
    // The CRM cursors: each CRM item starts where its instance's last complete export ended.
    read: [DATA_PREFIX, CRM_STATE_PREFIX],
    write: [MANIFEST_PREFIX],
  },
  createJob: {
    handler: 'create-job',
    description: 'Creates a LinkedIn export job for one item.',
    linkedin: true,
    lease: true,
  },
  checkJob: {
    handler: 'check-job',
    description: 'Reads a LinkedIn export job and decides the next step (poll, copy, recreate, split, fail).',
    linkedin: true,
    lease: true,
    // Splitting a too-large window skips halves already exported and records them as SKIPPED.
    read: [DATA_PREFIX],
    write: [MANIFEST_PREFIX],
  },
  copyToS3: {
    handler: 'copy-to-s3',
    description: 'Streams a finished export from LinkedIn into S3 and records the item.',
    linkedin: true,
    lease: true,
    upload: [DATA_PREFIX],
    write: [MANIFEST_PREFIX],
    memorySize: 1024,
  },
  recordFailure: {
    handler: 'record-failure',
    description: 'Records an item that could not be exported.',
    linkedin: false,
    lease: true,
    write: [MANIFEST_PREFIX],
  },
  finishRun: {
    handler: 'finish-run',
    description: 'Collects the item records into the run manifest; fails the run if an item failed.',
    linkedin: false,
    lease: true,
    read: [MANIFEST_PREFIX],
    write: [MANIFEST_PREFIX],
    // A forced run's superseded objects, once the new ones hold their days (lambdas/steps/finish.ts).
    remove: [DATA_PREFIX],
  },
};

/** The CRM data validation functions (lambdas/handlers/crm/, lambdas/steps/crm/job.ts), same rules. */
const CRM_FUNCTIONS: Record<keyof CrmWorkflowFunctions, FunctionSpec> = {
  createCrmJob: {
    handler: 'crm/create-job',
    description: 'Creates a LinkedIn CRM data validation export job from the instance cursor.',
    linkedin: true,
  },
  checkCrmJob: {
    handler: 'crm/check-job',
    description:
      'Reads a CRM data validation export job and decides the next step (poll, copy, commit, recreate, fail).',
    linkedin: true,
  },
  copyCrmPart: {
    handler: 'crm/copy-part',
    description: 'Streams one part (download URL) of a finished CRM export from LinkedIn into S3.',
    linkedin: true,
    upload: [CRM_DATA_PREFIX],
    memorySize: 1024,
  },
  commitCrmExport: {
    handler: 'crm/commit-export',
    description: 'Writes the export marker, moves the CRM instance cursor and records the CRM item.',
    linkedin: false,
    read: [CRM_STATE_PREFIX],
    write: [CRM_DATA_PREFIX, CRM_STATE_PREFIX, MANIFEST_PREFIX],
  },
  recordCrmFailure: {
    handler: 'crm/record-failure',
    description: 'Records a CRM export that failed (the cursor stays where it was).',
    linkedin: false,
    write: [MANIFEST_PREFIX],
  },
};

/** An alarm that notifies the alarm topic; it breaches at `threshold` (default ≥ 1), missing data is OK. */
interface AlarmSpec {
  metric: IMetric;
  description: string;
  threshold?: number;
  comparisonOperator?: ComparisonOperator;
}

export interface SalesNavExportStackProps extends StackProps {
  readonly config: Config;
}

/**
 * The Sales Navigator export pipeline (DESIGN.md §2): the S3 destination, the token secret, the six
 * functions, the ExportRun and ExportJob state machines, the daily schedule and the alarms.
 */
export class SalesNavExportStack extends Stack {
  readonly bucket: IBucket;
  readonly tokenSecret: ISecret;
  readonly functions: WorkflowFunctions;
  readonly crmFunctions: CrmWorkflowFunctions;
  readonly exportRun: StateMachine;
  readonly exportJob: StateMachine;
  readonly exportCrmJob: StateMachine;
  readonly alarmTopic: Topic;
  /** WatchRuns: the hourly function behind the RunOverdue alarm. */
  readonly runWatchdog: ExportFunction;

  constructor(scope: Construct, id: string, props: SalesNavExportStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.bucket = config.bucketName
      ? Bucket.fromBucketName(this, 'ImportedBucket', config.bucketName)
      : new ExportBucket(this, 'Exports', {
          retentionDays: config.retentionDays,
          accessLogRetentionDays: config.logRetentionDays,
        }).bucket;
    this.tokenSecret = config.tokenSecretArn
      ? Secret.fromSecretCompleteArn(this, 'ImportedTokenSecret', config.tokenSecretArn)
      : this.createTokenSecret();

    this.functions = this.createFunctions(config, FUNCTIONS, STEP_TIMEOUTS);
    this.crmFunctions = this.createFunctions(config, CRM_FUNCTIONS, CRM_STEP_TIMEOUTS);

    const exportJobName = `${this.stackName}-ExportJob`;
    // Referenced by name, not by the construct: the definition starts executions of itself.
    const exportJobSelf = StateMachine.fromStateMachineName(this, 'ExportJobSelf', exportJobName);
    this.exportJob = this.createStateMachine(
      'ExportJob',
      exportJobName,
      buildExportJobDefinition(this, this.functions, exportJobSelf),
      EXPORT_JOB_TIMEOUT,
      config,
    );
    this.exportCrmJob = this.createStateMachine(
      'ExportCrmJob',
      `${this.stackName}-ExportCrmJob`,
      buildExportCrmJobDefinition(this, this.crmFunctions),
      CRM_ITEM_TIMEOUT,
      config,
    );
    this.exportRun = this.createStateMachine(
      'ExportRun',
      `${this.stackName}-ExportRun`,
      buildExportRunDefinition(this, this.functions, this.exportJob, {
        mapConcurrency: config.mapConcurrency,
        bucket: this.bucket,
        bucketPrefix: config.bucketPrefix,
        exportCrmJob: this.exportCrmJob,
      }),
      EXPORT_RUN_TIMEOUT,
      config,
    );

    const scheduleGroup = this.createSchedule(config);
    this.alarmTopic = this.createAlarms(config, scheduleGroup);
    this.runWatchdog = this.createRunWatchdog(config, scheduleGroup, this.alarmTopic);

    const outputs: Record<string, [string, string]> = {
      BucketName: [this.bucket.bucketName, 'Bucket receiving the exports and the run manifests'],
      TokenSecretArn: [this.tokenSecret.secretArn, 'Secret holding {"accessToken","expiresAt"}'],
      ExportRunArn: [this.exportRun.stateMachineArn, 'ExportRun state machine (one run of the pipeline)'],
      ExportJobArn: [this.exportJob.stateMachineArn, 'ExportJob state machine (one item)'],
      ExportCrmJobArn: [
        this.exportCrmJob.stateMachineArn,
        'ExportCrmJob state machine (one CRM data validation export of one instance)',
      ],
      AlarmTopicArn: [this.alarmTopic.topicArn, 'SNS topic of the pipeline alarms'],
      StartExecutionCommand: [
        `aws stepfunctions start-execution --state-machine-arn ${this.exportRun.stateMachineArn} --input '{}'`,
        'Starts a run for the default window (the input accepts a range, contracts, datasets and force)',
      ],
    };
    for (const [name, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, name, { value, description });
    }
    if (config.lake) this.createLake(config);
  }

  /** The Glue tables and views and the Athena workgroup; FinishRun registers each run's partitions. */
  private createLake(config: Config): void {
    const lake = new ExportLake(this, 'Lake', {
      bucket: this.bucket,
      bucketPrefix: config.bucketPrefix,
      databaseName: config.glueDatabaseName,
      bytesScannedCutoffPerQuery: config.athenaScanLimitGb * 1024 ** 3,
    });
    // An ExportFunction (createFunctions): the function that registers the partitions.
    const finishRun = this.functions.finishRun as ExportFunction;
    finishRun.addEnvironment('LAKE_DATABASE', lake.databaseName);
    lake.grantRegisterPartitions(finishRun);
    new CfnOutput(this, 'LakeDatabase', {
      value: lake.databaseName,
      description: 'Glue database of the export tables and views (README "Query your data")',
    });
    new CfnOutput(this, 'LakeWorkGroup', {
      value: lake.workGroupName,
      description: 'Athena workgroup to query the views in (aws athena start-query-execution --work-group)',
    });
  }

  private createTokenSecret(): Secret {
    const secret = new Secret(this, 'TokenSecret', {
      description:
        'LinkedIn Sales Navigator access token of the export pipeline. Fill it with: aws secretsmanager ' +
        'put-secret-value --secret-id <this secret> --secret-string ' +
        '\'{"accessToken":"<token>","expiresAt":"<ISO 8601 expiry, e.g. 2027-01-31T00:00:00Z>"}\' (README: "Put the LinkedIn token in the secret").',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Created empty: no SecretString and no GenerateSecretString in the template, so no later deploy
    // can write a version over the token a human put there (CloudFormation writes a new version
    // whenever either property changes). Until it is set, the functions fail with a
    // ConfigurationError that says how to set it.
    (secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'LinkedIn issues this token through an OAuth consent a human gives (no refresh token is guaranteed), so ' +
        `it cannot be rotated by a Lambda; the TokenExpiring alarm warns ${TOKEN_EXPIRY_WARNING_DAYS} days before it expires.`,
    });
    return secret;
  }

  private createFunctions<K extends string>(
    config: Config,
    specs: Record<K, FunctionSpec>,
    timeouts: Record<K, Duration>,
  ): Record<K, ExportFunction> {
    const commonEnvironment = {
      EXPORT_SETTINGS: JSON.stringify(config.settings),
      BUCKET_NAME: this.bucket.bucketName,
      BUCKET_PREFIX: config.bucketPrefix,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
    };
    const keys = Object.keys(specs) as K[];
    const entries = keys.map((key) => {
      const spec = specs[key];
      const fn = new ExportFunction(this, key.charAt(0).toUpperCase() + key.slice(1), {
        entry: `${HANDLERS_DIR}${spec.handler}.ts`,
        description: spec.description,
        timeout: timeouts[key],
        memorySize: spec.memorySize,
        logRetention: config.logRetentionDays,
        environment: {
          ...commonEnvironment,
          ...(spec.linkedin && { TOKEN_SECRET_ARN: this.tokenSecret.secretArn }),
        },
      });
      // GetSecretValue only (grantRead would add secretsmanager:DescribeSecret, which no code calls).
      if (spec.linkedin) {
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['secretsmanager:GetSecretValue'],
            resources: [this.tokenSecret.secretArn],
          }),
        );
      }
      this.grantS3(fn, spec, config.bucketPrefix);
      return [key, fn] as const;
    });
    return Object.fromEntries(entries) as Record<K, ExportFunction>;
  }

  /**
   * Object actions on `<bucketPrefix>/<prefix>/*` only. Readers also get s3:ListBucket on the bucket:
   * without it S3 answers 403 instead of 404 for a missing key, and the existence checks need the
   * 404. The grant cannot be narrowed with an s3:prefix condition, because HeadObject and GetObject
   * requests carry no s3:prefix; it reveals key names (contract ids, windows), never content.
   */
  private grantS3(fn: ExportFunction, spec: FunctionSpec, bucketPrefix: string): void {
    const objects = (prefixes: KeyPrefix[]) =>
      prefixes.map((p) => this.bucket.arnForObjects(`${bucketPrefix ? `${bucketPrefix}/` : ''}${p}/*`));
    const allow = (actions: string[], resources: string[]) =>
      fn.addToRolePolicy(new PolicyStatement({ actions, resources }));
    if (spec.read) {
      allow(['s3:GetObject'], objects(spec.read));
      allow(['s3:ListBucket'], [this.bucket.bucketArn]);
    }
    if (spec.write) allow(['s3:PutObject'], objects(spec.write));
    if (spec.upload) allow(['s3:PutObject', 's3:AbortMultipartUpload'], objects(spec.upload));
    if (spec.remove) allow(['s3:DeleteObject'], objects(spec.remove));
    if (spec.lease) {
      // A conditional delete with an ETag needs s3:GetObject besides s3:DeleteObject (S3 User Guide,
      // "How to perform conditional deletes"); ListBucket makes a missing lease a 404, not a 403.
      allow(['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], objects([LEASE_PREFIX]));
      if (!spec.read) allow(['s3:ListBucket'], [this.bucket.bucketArn]);
    }
    if (fn.role) {
      acknowledgeWildcardResources(
        fn.role,
        ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        'Object access is limited to one key prefix of the layout in lambdas/storage/keys.ts; the keys below it are data-driven (contract, window, run id).',
      );
    }
  }

  private createStateMachine(
    id: string,
    name: string,
    definition: IChainable,
    timeout: Duration,
    config: Config,
  ): StateMachine {
    const logGroup = new LogGroup(this, `${id}Logs`, {
      // The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: config.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new StateMachine(this, id, {
      stateMachineName: name,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      // TimeoutSeconds of the definition (lib/workflow.ts: outer budgets above inner ones).
      timeout,
      // Every transition, no payloads: enough to follow an execution, and nothing about members.
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    const reasons: [string[], string][] = [
      [
        ['states:DescribeExecution', 'states:StopExecution'],
        'A .sync child execution is named at runtime; access is limited to execution:<name>:*, the executions of the ExportJob (and ExportCrmJob) state machine.',
      ],
      [
        ['xray:*', 'logs:*'],
        'X-Ray tracing and CloudWatch Logs delivery: these actions have no resource-level permissions.',
      ],
      [
        ['s3:GetObject'],
        'The ExportEach ItemReader reads manifests/<run id>/lanes.json, and the run id is the execution name, known only at runtime.',
      ],
    ];
    for (const [actions, reason] of reasons) acknowledgeWildcardResources(stateMachine.role, actions, reason);
    // CDK's policy for a Distributed Map: it starts, follows, stops and redrives the child executions
    // of its own state machine, which Step Functions names at runtime (<execution>/<label>:<n>).
    const distributedMapPolicy = stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (distributedMapPolicy instanceof Policy) {
      acknowledgePolicyWildcards(
        distributedMapPolicy,
        ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
        'The Distributed Map follows, stops and redrives the lane child executions it starts; Step Functions names them at runtime, so the resource is every execution of this state machine only.',
      );
    }
    return stateMachine;
  }

  private createSchedule(config: Config): ScheduleGroup {
    // A group of its own gives the schedule per-group metrics for the dropped-invocation alarm.
    const group = new ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: this.stackName,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new Schedule(this, 'DailySchedule', {
      description: 'Starts ExportRun for the default window (the last complete UTC day, minus the lag).',
      scheduleGroup: group,
      schedule: ScheduleExpression.expression(
        config.scheduleExpression,
        TimeZone.of(config.scheduleTimeZone),
      ),
      enabled: config.scheduleEnabled,
      timeWindow: TimeWindow.off(),
      target: new StepFunctionsStartExecution(this.exportRun, {
        input: ScheduleTargetInput.fromObject({}),
        // StartExecution fails only on throttling or a broken deployment: retry for an hour, then
        // the invocation is dropped and the ScheduleDropped alarm fires.
        retryAttempts: 10,
        maxEventAge: Duration.hours(1),
      }),
    });
    return group;
  }

  /**
   * WatchRuns: AWS/States has no metric of running executions, so an hourly function lists ExportRun's
   * RUNNING executions and publishes OldestRunningRunHours; RunOverdue fires past `overdueRunHours`.
   * (Not referenced by any state machine, so its EXPORT_RUN_ARN makes no dependency cycle.)
   */
  private createRunWatchdog(config: Config, group: ScheduleGroup, topic: Topic): ExportFunction {
    const fn = new ExportFunction(this, 'WatchRuns', {
      entry: `${HANDLERS_DIR}watch-runs.ts`,
      description: 'Hourly: publishes how long the oldest running ExportRun execution has been running.',
      timeout: WATCH_RUNS_TIMEOUT,
      logRetention: config.logRetentionDays,
      environment: {
        EXPORT_RUN_ARN: this.exportRun.stateMachineArn,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: config.logLevel,
      },
    });
    // ListExecutions is authorized on the state machine ARN (not on executions).
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:ListExecutions'],
        resources: [this.exportRun.stateMachineArn],
      }),
    );
    new Schedule(this, 'WatchRunsSchedule', {
      description: 'Runs WatchRuns every hour (the RunOverdue alarm).',
      scheduleGroup: group,
      schedule: ScheduleExpression.rate(Duration.hours(1)),
      timeWindow: TimeWindow.off(),
      target: new InvokeFunctionOnly(fn, {
        input: ScheduleTargetInput.fromObject({}),
        retryAttempts: 2,
        maxEventAge: Duration.minutes(30),
      }),
    });
    new Alarm(this, 'RunOverdueAlarm', {
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'OldestRunningRunHours',
        dimensionsMap: { service: SERVICE_NAME },
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
      threshold: config.overdueRunHours,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `An ExportRun execution has been running over ${config.overdueRunHours} h (the next daily run is near): see the WatchRuns log for its ARN, and its execution history for the lane it waits on.`,
    }).addAlarmAction(new SnsAction(topic));
    return fn;
  }

  private createAlarms(config: Config, scheduleGroup: ScheduleGroup): Topic {
    // Not KMS-encrypted: notifications carry no member data, and CloudWatch alarms cannot publish to a
    // topic encrypted with the AWS-managed SNS key (a customer-managed key would cost more than it protects).
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: `${this.stackName} alarms`,
      enforceSSL: true,
    });
    if (config.alarmEmail) topic.addSubscription(new EmailSubscription(config.alarmEmail));
    // enforceSSL creates a topic policy holding only the TLS Deny, and a topic policy replaces SNS's
    // default one: without this Allow, every alarm action fails with "not authorized to perform:
    // SNS:Publish … because no resource-based policy allows". Only this account's alarms may publish.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    const hour = Duration.hours(1);
    const alarms: Record<string, AlarmSpec> = {
      RunFailedAlarm: {
        metric: new MathExpression({
          expression: 'failed + timedOut + aborted',
          label: 'ExportRun executions that did not succeed',
          period: hour,
          usingMetrics: {
            failed: this.exportRun.metricFailed({ statistic: 'Sum', period: hour }),
            timedOut: this.exportRun.metricTimedOut({ statistic: 'Sum', period: hour }),
            aborted: this.exportRun.metricAborted({ statistic: 'Sum', period: hour }),
          },
        }),
        description:
          'An ExportRun execution failed, timed out or was aborted: the run manifest (manifests/<run id>.json) lists the failed items and why.',
      },
      TokenExpiringAlarm: {
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: 'TokenExpiresInDays',
          dimensionsMap: { service: SERVICE_NAME },
          statistic: 'Minimum',
          period: Duration.days(1),
        }),
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: TOKEN_EXPIRY_WARNING_DAYS,
        description: `The LinkedIn access token expires within ${TOKEN_EXPIRY_WARNING_DAYS} days: renew it and update the token secret.`,
      },
      ScheduleDroppedAlarm: {
        metric: scheduleGroup.metricDropped({ statistic: 'Sum', period: hour }),
        description:
          'EventBridge Scheduler gave up starting ExportRun: check the schedule role and the state machine.',
      },
    };
    for (const [id, { metric, description, threshold = 1, comparisonOperator }] of Object.entries(alarms)) {
      new Alarm(this, id, {
        metric,
        threshold,
        comparisonOperator: comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(new SnsAction(topic));
    }
    return topic;
  }
}
