// The SalesNavigatorExport construct: bucket, token secret, functions, state machines, schedule and alarms.
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  Tags,
  TimeZone,
} from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, Effect, type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
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
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import {
  DefinitionBody,
  type IChainable,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type Settings, type SettingsInput, SettingsSchema } from '#common/settings';
import { CRM_DATA_PREFIX, CRM_STATE_PREFIX } from '#storage/crm-keys';
import { DATA_PREFIX, LEASE_PREFIX, MANIFEST_PREFIX } from '#storage/keys';
import { EXPORT_DEFAULTS } from './construct-defaults.ts';
import { ExportBucket } from './constructs/export-bucket.ts';
import { exportFunction } from './constructs/export-function.ts';
import { ExportLake, lakeDatabaseName } from './constructs/export-lake.ts';
import { acknowledgePolicyWildcards, acknowledgeWildcardResources } from './constructs/nag.ts';
import { ExportOperations } from './constructs/operations.ts';
import { stackRenewCommand, TokenLifecycle } from './constructs/token-lifecycle.ts';
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
/** The sample stack's default name: its pipeline keeps the `service` dimension earlier versions used. */
const DEFAULT_STACK_NAME = 'SalesNavExport';

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

/** The handler sources, bundled at synthesis when the construct runs from this repository. */
const HANDLERS_DIR = fileURLToPath(new URL('../lambdas/handlers/', import.meta.url));
/**
 * The handlers `npm run build` bundled (scripts/build.ts): next to the packaged construct's JavaScript
 * (dist/lambda-assets/), absent in the sources (lib/lambda-assets/ never exists), so the installed
 * package deploys them as they are and needs no esbuild.
 */
const PREBUILT_HANDLERS_DIR = fileURLToPath(new URL('./lambda-assets/', import.meta.url));

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
  /** GetObject: the JSON a function reads (plan, records, cursors), never export data (+ ListBucket, see `grantS3`). */
  read?: KeyPrefix[];
  /**
   * What exports exist and where their data came from (steps/coverage.ts): ListBucket under the
   * prefix and GetObjectTagging, never GetObject, so a function that only plans or checks cannot
   * read member data.
   */
  inspect?: KeyPrefix[];
  /** PutObject. */
  write?: KeyPrefix[];
  /** Multipart upload: PutObject + AbortMultipartUpload (+ PutObjectTagging under TAGGED_PREFIXES). */
  upload?: KeyPrefix[];
  /** DeleteObject (FinishRun: objects a forced run superseded). */
  remove?: KeyPrefix[];
  /** Takes or releases item leases (lambdas/storage/lease.ts): Put/Get/DeleteObject on LEASE_PREFIX only. */
  lease?: boolean;
  memorySize?: number;
}

/** Where objects carry their source as a tag (`sourceTags`, steps/coverage.ts), set with the object. */
const TAGGED_PREFIXES: ReadonlySet<KeyPrefix> = new Set([DATA_PREFIX]);

/** The six functions, with exactly the access their code needs (see lambdas/steps/*.ts). */
const FUNCTIONS: Record<keyof WorkflowFunctions, FunctionSpec> = {
  planRun: {
    handler: 'plan-run',
    description: 'Validates the run input, discovers contracts, plans items and skips existing objects.',
    linkedin: true,
    // The CRM cursors: each CRM item starts where its instance's last complete export ended.
    read: [CRM_STATE_PREFIX],
    // Coverage: which windows are exported already, and from which source (object tags).
    inspect: [DATA_PREFIX],
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
    inspect: [DATA_PREFIX],
    // A COMPLETED job without a download URL and 0 rows is written as an empty export (one PutObject).
    upload: [DATA_PREFIX],
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

/** Everything a team sets on the pipeline; every prop is optional and has a secure default (lib/construct-defaults.ts). */
export interface SalesNavigatorExportProps {
  /**
   * Runtime settings of the functions (`SettingsSchema` in lambdas/common/settings.ts: lag, look-back,
   * datasets, contracts, download hosts, CRM instances), passed to every function as `EXPORT_SETTINGS`.
   * @default - every runtime default
   */
  readonly settings?: SettingsInput;
  /**
   * An existing bucket to export into instead of creating one. Its owner then manages its encryption
   * and lifecycle: `retentionDays` cannot be given with it. If it is SSE-KMS, give its key as `encryptionKey`.
   * @default - a hardened, versioned bucket (and an access-log bucket) is created and retained on deletion
   */
  readonly bucket?: IBucket;
  /**
   * KMS key of the export bucket. With a created bucket, the bucket is encrypted with it (SSE-KMS);
   * with an imported `bucket`, it is the key that bucket is encrypted with. Either way the functions that
   * write get kms:GenerateDataKey and kms:Decrypt, the ones that read (and the ExportRun state machine,
   * which reads the lanes) kms:Decrypt, on this key only.
   * @default - SSE-S3 (no key)
   */
  readonly encryptionKey?: IKey;
  /**
   * Key prefix for everything the pipeline writes (`<prefix>/sales-navigator/...`, `<prefix>/manifests/...`).
   * @default '' (bucket root)
   */
  readonly bucketPrefix?: string;
  /**
   * Days a current export object is kept; noncurrent versions expire 7 days later. Only for a created bucket.
   * @default 90
   */
  readonly retentionDays?: number;
  /**
   * An existing secret holding `{"accessToken","expiresAt"}`, instead of creating one. Import it with
   * its complete ARN (`Secret.fromSecretCompleteArn`): IAM grants need the 6-character suffix.
   * @default - a secret with no value is created and retained on deletion
   */
  readonly tokenSecret?: ISecret;
  /**
   * Customer-managed KMS key the token secret is encrypted with: the LinkedIn functions get kms:Decrypt
   * on it (through Secrets Manager only, `kms:ViaService`).
   * @default - `tokenSecret.encryptionKey`; none (the AWS-managed key, no grant needed)
   */
  readonly tokenSecretKey?: IKey;
  /**
   * An existing SNS topic for the alarms. Its resource policy must let CloudWatch alarms publish (the
   * construct changes nothing on a topic it did not create).
   * @default - a topic is created that only this account's CloudWatch alarms may publish to
   */
  readonly alarmTopic?: ITopic;
  /**
   * Addresses subscribed to the alarm topic (failed runs, expiring token, dropped schedules).
   * @default - none; the topic still exists for other subscribers
   */
  readonly alarmEmails?: string[];
  /**
   * IAM principal ARNs (ArnLike patterns allowed, e.g. an IAM Identity Center role
   * `arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*\/AWSReservedSSO_SalesOps_*`) that may
   * read the token secret (and the client secret) besides the pipeline's own functions: the people who
   * run `npm run token -- status/login --stack`. Everyone else is denied secretsmanager:GetSecretValue
   * by the secrets' resource policies, whatever their IAM policies allow.
   * @default - none: only the functions read the token
   */
  readonly operatorRoleArns?: string[];
  /**
   * EventBridge Scheduler expression that starts ExportRun with the default window: `cron(...)` with six
   * fields, `rate(...)` or `at(...)` (validated by the sample app's config, lib/schedule-expression.ts).
   * @default 'cron(0 7 * * ? *)' (07:00 every day)
   */
  readonly scheduleExpression?: string;
  /**
   * IANA time zone of `scheduleExpression`.
   * @default 'UTC'
   */
  readonly scheduleTimeZone?: string;
  /**
   * Whether the schedule is enabled; `false` keeps it deployed but paused.
   * @default true
   */
  readonly scheduleEnabled?: boolean;
  /**
   * Lanes (contract × dataset) exported at the same time by one run (the Distributed Map's MaxConcurrency).
   * @default 3000
   */
  readonly mapConcurrency?: number;
  /**
   * Create the query-ready lake: a Glue database with a table and a view per dataset, an Athena workgroup,
   * and FinishRun registering each run's partitions.
   * @default true
   */
  readonly lake?: boolean;
  /**
   * Name of the lake's Glue database (lower-case letters, digits and `_`).
   * @default - `namePrefix` in snake case (`SalesNavExport` → `sales_nav_export`)
   */
  readonly glueDatabaseName?: string;
  /**
   * The lake's Athena workgroup cancels a query scanning more than this many GiB.
   * @default 10
   */
  readonly athenaScanLimitGb?: number;
  /**
   * The RunOverdue alarm fires when an ExportRun execution has been running longer than this many hours
   * (checked hourly by the WatchRuns function); below ExportRun's own timeout (21 days).
   * @default 20
   */
  readonly overdueRunHours?: number;
  /**
   * The NoSuccessfulRun alarm fires when no ExportRun execution succeeded in this many hours (2-168:
   * CloudWatch evaluates an alarm over at most 7 days). Raise it with a schedule slower than daily.
   * @default 30 (a daily run, plus 6 hours for a slow one)
   */
  readonly maxHoursWithoutSuccess?: number;
  /**
   * Days before the token's expiry at which an alarm fires: one alarm per value (TokenExpiresInDays
   * below it); each stays in ALARM after the expiry.
   * @default [14, 7, 1]
   */
  readonly tokenExpiryAlarmDays?: readonly number[];
  /**
   * Rotate the token secret with LinkedIn's refresh token (Secrets Manager rotation, RotateToken
   * function): only for applications LinkedIn approved for programmatic refresh tokens.
   * @default false
   */
  readonly tokenRotation?: boolean;
  /**
   * With `tokenRotation`: rotate this many days before the 60-day expiry.
   * @default 10
   */
  readonly tokenRotationDaysBeforeExpiry?: number;
  /**
   * With `tokenRotation`: complete ARN of a secret holding `{"clientId","clientSecret"}`.
   * @default - a secret is created empty (output ClientSecretArn) and retained on deletion
   */
  readonly clientSecretArn?: string;
  /**
   * Retention of the functions' and state machines' log groups and of S3 server access logs; never infinite.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Powertools log level of every function.
   * @default 'INFO'
   */
  readonly logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';
  /**
   * VPC the functions run in (they then need a route to LinkedIn's API and download hosts, e.g. a NAT
   * gateway, and to S3, Secrets Manager and CloudWatch: endpoints or the NAT).
   * @default - not VPC-attached (Lambda's own network)
   */
  readonly vpc?: IVpc;
  /**
   * Subnets of `vpc` for the functions.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: SubnetSelection;
  /**
   * Security groups of the functions in `vpc`.
   * @default - one security group allowing all outbound traffic
   */
  readonly securityGroups?: ISecurityGroup[];
  /**
   * Tags added to every resource of the construct.
   * @default - none
   */
  readonly tags?: Record<string, string>;
  /**
   * Prefix of the physical names (state machines `<prefix>-ExportRun`, schedule group, state machine log
   * groups), so that several pipelines share an account and a region. At most 40 characters.
   * @default - the stack name when the construct's id is 'Default' (the sample app's stack), else `<stack name>-<id>`
   */
  readonly namePrefix?: string;
}

/**
 * The Sales Navigator export pipeline (DESIGN.md §2) as a construct another CDK app can add: the S3
 * destination, the token secret, the functions, the ExportRun, ExportJob and ExportCrmJob state
 * machines, the daily schedule and the alarms.
 */
export class SalesNavigatorExport extends Construct {
  readonly bucket: IBucket;
  /** The created access-log bucket; undefined with an imported `bucket`. */
  readonly accessLogsBucket?: IBucket;
  readonly tokenSecret: ISecret;
  readonly functions: WorkflowFunctions & Record<keyof WorkflowFunctions, LambdaFunction>;
  readonly crmFunctions: CrmWorkflowFunctions & Record<keyof CrmWorkflowFunctions, LambdaFunction>;
  readonly exportRun: StateMachine;
  readonly exportJob: StateMachine;
  readonly exportCrmJob: StateMachine;
  readonly alarmTopic: ITopic;
  /** Alarms, run notifications, dashboard and console links (lib/constructs/operations.ts). */
  readonly operations: ExportOperations;
  readonly scheduleGroup: ScheduleGroup;
  readonly schedule: Schedule;
  /** The alarms, by id (RunFailedAlarm, ItemsFailedAlarm, NoSuccessfulRunAlarm, RunOverdueAlarm, TokenExpiringAlarm, ...). */
  readonly alarms: Record<string, IAlarm>;
  /** Prefix of the physical names (see `namePrefix`). */
  readonly namePrefix: string;
  /**
   * The `service` dimension of this pipeline's custom metrics (and its log lines' `service`):
   * `salesnav-export` for the sample stack's own pipeline (so existing alarms keep their metrics),
   * `salesnav-export-<namePrefix>` for any other, so two pipelines in one account never share a metric.
   */
  readonly serviceName: string;
  /** Token expiry alarms and the opt-in rotation (lib/constructs/token-lifecycle.ts). */
  readonly tokenLifecycle: TokenLifecycle;
  /** WatchRuns: the hourly function behind the RunOverdue alarm. */
  readonly runWatchdog: LambdaFunction;

  private readonly props: Resolved;
  /** The roles of the functions that read the token (the secret's resource policy lets only them and the operators). */
  private readonly tokenReaders: IRole[] = [];

  constructor(scope: Construct, id: string, props: SalesNavigatorExportProps = {}) {
    super(scope, id);
    const config = resolveProps(props);
    this.props = config;
    const stack = Stack.of(this);
    this.namePrefix = props.namePrefix ?? (id === 'Default' ? stack.stackName : `${stack.stackName}-${id}`);
    this.serviceName =
      this.namePrefix === DEFAULT_STACK_NAME ? SERVICE_NAME : `${SERVICE_NAME}-${this.namePrefix}`;

    if (props.bucket) {
      this.bucket = props.bucket;
    } else {
      const created = new ExportBucket(this, 'Exports', {
        retentionDays: config.retentionDays,
        accessLogRetentionDays: config.logRetention,
        encryptionKey: props.encryptionKey,
      });
      this.bucket = created.bucket;
      this.accessLogsBucket = created.accessLogsBucket;
    }
    this.tokenSecret = props.tokenSecret ?? this.createTokenSecret();

    this.functions = this.createFunctions(FUNCTIONS, STEP_TIMEOUTS);
    this.crmFunctions = this.createFunctions(CRM_FUNCTIONS, CRM_STEP_TIMEOUTS);
    this.letCreateJobSeeEndedRuns(`${this.namePrefix}-ExportRun`);

    const exportJobName = `${this.namePrefix}-ExportJob`;
    // Referenced by name, not by the construct: the definition starts executions of itself.
    const exportJobSelf = StateMachine.fromStateMachineName(this, 'ExportJobSelf', exportJobName);
    this.exportJob = this.createStateMachine(
      'ExportJob',
      exportJobName,
      buildExportJobDefinition(this, this.functions, exportJobSelf),
      EXPORT_JOB_TIMEOUT,
    );
    this.exportCrmJob = this.createStateMachine(
      'ExportCrmJob',
      `${this.namePrefix}-ExportCrmJob`,
      buildExportCrmJobDefinition(this, this.crmFunctions),
      CRM_ITEM_TIMEOUT,
    );
    this.exportRun = this.createStateMachine(
      'ExportRun',
      `${this.namePrefix}-ExportRun`,
      buildExportRunDefinition(this, this.functions, this.exportJob, {
        mapConcurrency: config.mapConcurrency,
        bucket: this.bucket,
        bucketPrefix: config.bucketPrefix,
        exportCrmJob: this.exportCrmJob,
      }),
      EXPORT_RUN_TIMEOUT,
    );
    // The ExportEach ItemReader reads the lanes PlanRun stored.
    props.encryptionKey?.grantDecrypt(this.exportRun);

    [this.scheduleGroup, this.schedule] = this.createSchedule();
    this.runWatchdog = this.createRunWatchdog(this.scheduleGroup);
    this.operations = this.createOperations(this.scheduleGroup);
    this.alarmTopic = this.operations.topic;
    this.alarms = this.operations.alarms;
    this.tokenLifecycle = new TokenLifecycle(this, 'TokenLifecycle', {
      keepLegacyAlarmId: id === 'Default',
      tokenSecret: this.tokenSecret,
      tokenSecretCreated: !props.tokenSecret,
      alarmTopic: this.alarmTopic,
      metricNamespace: METRICS_NAMESPACE,
      serviceName: this.serviceName,
      expiryAlarmDays: config.tokenExpiryAlarmDays,
      ...(config.tokenRotation && {
        rotation: {
          daysBeforeExpiry: config.tokenRotationDaysBeforeExpiry,
          clientSecretArn: config.clientSecretArn,
          settingsJson: JSON.stringify(config.settings),
          logLevel: config.logLevel,
          logRetention: config.logRetention,
        },
      }),
    });
    for (const alarm of [...this.tokenLifecycle.expiryAlarms, this.tokenLifecycle.rotationFailedAlarm]) {
      if (alarm) this.operations.showAlarm(alarm.node.id, alarm);
    }
    const rotationRole = this.tokenLifecycle.rotationFunction?.role;
    this.restrictSecretReaders(this.tokenSecret, [
      ...this.tokenReaders,
      ...(rotationRole ? [rotationRole] : []),
    ]);
    if (this.tokenLifecycle.clientSecret && rotationRole) {
      this.restrictSecretReaders(this.tokenLifecycle.clientSecret, [rotationRole]);
    }

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
    if (config.lake) this.createLake();
    for (const [key, value] of Object.entries(props.tags ?? {})) Tags.of(this).add(key, value);
  }

  /**
   * CreateJob takes over at once the lease of a run that ended without releasing it (stopped by hand,
   * or failed before FinishRun): it asks Step Functions whether the holder's ExportRun execution still
   * runs (lambda-runtime.ts `awsDepsWithRunStatus`). The ARN is built from the name, not the state
   * machine: ExportRun's definition references ExportJob, which references CreateJob (no cycle).
   */
  private letCreateJobSeeEndedRuns(exportRunName: string): void {
    const stack = Stack.of(this);
    const fn = this.functions.createJob;
    const exportRunArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: exportRunName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addEnvironment('EXPORT_RUN_ARN', exportRunArn);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${exportRunName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    if (fn.role) {
      acknowledgeWildcardResources(
        fn.role,
        ['states:DescribeExecution'],
        "CreateJob reads the status of the ExportRun execution that holds an item's lease; the execution name is the run id, known only at runtime, so the resource is every execution of ExportRun only.",
      );
    }
  }

  /**
   * Denies secretsmanager:GetSecretValue on `secret` to every principal but `readers` (the functions'
   * roles) and `operatorRoleArns`, whatever their own IAM policies allow (`secretsmanager:*` on `*`
   * included): a Deny in the secret's resource policy, matched on `aws:PrincipalArn` (a role's sessions
   * carry the role's ARN; patterns as ArnLike matches them). Only a secret this construct creates takes
   * a policy: an imported one keeps the policy its owner gave it (README "Security" has the statement).
   */
  private restrictSecretReaders(secret: ISecret, readers: IRole[]): void {
    const { statementAdded } = secret.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyThePipelineAndItsOperatorsRead',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
        conditions: {
          ArnNotLike: {
            'aws:PrincipalArn': [
              ...readers.map((role) => role.roleArn),
              ...(this.props.operatorRoleArns ?? []),
            ],
          },
        },
      }),
    );
    if (!statementAdded) {
      Annotations.of(this).addInfo(
        `The secret ${secret.node.id} is imported: its resource policy is its owner's. Limit GetSecretValue to the pipeline's roles as README "Security" shows.`,
      );
    }
  }

  /** The Glue tables and views and the Athena workgroup; FinishRun registers each run's partitions. */
  private createLake(): void {
    const config = this.props;
    const lake = new ExportLake(this, 'Lake', {
      bucket: this.bucket,
      bucketPrefix: config.bucketPrefix,
      // Named after the construct: several pipelines in one account get their own database and workgroup.
      databaseName: config.glueDatabaseName ?? lakeDatabaseName(this.namePrefix),
      workGroupName: this.namePrefix,
      bytesScannedCutoffPerQuery: config.athenaScanLimitGb * 1024 ** 3,
    });
    // The function that registers the partitions.
    const finishRun = this.functions.finishRun;
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
        'LinkedIn Sales Navigator access token of the export pipeline. Fill it with: npm run token -- login ' +
        '--stack <stack name>, or by hand with aws secretsmanager put-secret-value (README: "Put the LinkedIn token in the secret").',
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: this.props.tokenSecretKey,
    });
    // Created empty: no SecretString and no GenerateSecretString in the template, so no later deploy
    // can write a version over the token a human put there (CloudFormation writes a new version
    // whenever either property changes). Until it is set, the functions fail with a
    // ConfigurationError that says how to set it.
    (secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    // cdk-nag's rotation rule (SMG4) is answered in TokenLifecycle: rotation there, or the reason why not.
    return secret;
  }

  private createFunctions<K extends string>(
    specs: Record<K, FunctionSpec>,
    timeouts: Record<K, Duration>,
  ): Record<K, LambdaFunction> {
    const config = this.props;
    const commonEnvironment = {
      EXPORT_SETTINGS: JSON.stringify(config.settings),
      BUCKET_NAME: this.bucket.bucketName,
      BUCKET_PREFIX: config.bucketPrefix,
      POWERTOOLS_SERVICE_NAME: this.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
    };
    const secretKey = config.tokenSecretKey ?? this.tokenSecret.encryptionKey;
    const keys = Object.keys(specs) as K[];
    const entries = keys.map((key) => {
      const spec = specs[key];
      const fn = exportFunction(this, key.charAt(0).toUpperCase() + key.slice(1), {
        entry: `${HANDLERS_DIR}${spec.handler}.ts`,
        prebuilt: `${PREBUILT_HANDLERS_DIR}${spec.handler}`,
        description: spec.description,
        timeout: timeouts[key],
        memorySize: spec.memorySize,
        logRetention: config.logRetention,
        vpc: config.vpc,
        vpcSubnets: config.vpc ? config.vpcSubnets : undefined,
        securityGroups: config.vpc ? config.securityGroups : undefined,
        environment: {
          ...commonEnvironment,
          ...(spec.linkedin && {
            TOKEN_SECRET_ARN: this.tokenSecret.secretArn,
            TOKEN_RENEW_COMMAND: stackRenewCommand(this),
          }),
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
        if (fn.role) this.tokenReaders.push(fn.role);
        // A customer-managed key: Secrets Manager decrypts the value with the caller's permissions.
        if (secretKey) {
          fn.addToRolePolicy(
            new PolicyStatement({
              actions: ['kms:Decrypt'],
              resources: [secretKey.keyArn],
              conditions: {
                StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
              },
            }),
          );
        }
      }
      this.grantS3(fn, spec, config.bucketPrefix);
      return [key, fn] as const;
    });
    return Object.fromEntries(entries) as Record<K, LambdaFunction>;
  }

  /**
   * Object actions on `<bucketPrefix>/<prefix>/*` only. A function that reads, inspects or leases also
   * gets s3:ListBucket, with an s3:prefix condition limiting it to those same prefixes: ListObjectsV2
   * is how existence is asked (`exists`), and how a missing key is told from a denied one (S3 answers
   * 403, not 404, for a GET of a missing key unless the caller may list it; a GET carries no
   * s3:prefix, see S3ObjectStore `isMissing`). No function can list the rest of the bucket, which
   * matters when `bucket` is an existing data lake.
   * With an SSE-KMS bucket, readers get kms:Decrypt and writers kms:GenerateDataKey + kms:Decrypt (a
   * multipart upload decrypts its parts to complete) on the bucket's key; tags and listings need no key.
   */
  private grantS3(fn: LambdaFunction, spec: FunctionSpec, bucketPrefix: string): void {
    const below = (p: string) => `${bucketPrefix ? `${bucketPrefix}/` : ''}${p}/*`;
    const objects = (prefixes: KeyPrefix[]) => prefixes.map((p) => this.bucket.arnForObjects(below(p)));
    const allow = (actions: string[], resources: string[]) =>
      fn.addToRolePolicy(new PolicyStatement({ actions, resources }));
    if (spec.read) allow(['s3:GetObject'], objects(spec.read));
    if (spec.inspect) allow(['s3:GetObjectTagging'], objects(spec.inspect));
    if (spec.write) allow(['s3:PutObject'], objects(spec.write));
    if (spec.upload) {
      allow(['s3:PutObject', 's3:AbortMultipartUpload'], objects(spec.upload));
      // x-amz-tagging on PutObject / CreateMultipartUpload needs s3:PutObjectTagging (S3 API Reference, PutObject).
      const tagged = spec.upload.filter((p) => TAGGED_PREFIXES.has(p));
      if (tagged.length > 0) allow(['s3:PutObjectTagging'], objects(tagged));
    }
    if (spec.remove) allow(['s3:DeleteObject'], objects(spec.remove));
    if (spec.lease) {
      // A conditional delete with an ETag needs s3:GetObject besides s3:DeleteObject (S3 User Guide,
      // "How to perform conditional deletes").
      allow(['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], objects([LEASE_PREFIX]));
    }
    const listed = [
      ...new Set([...(spec.read ?? []), ...(spec.inspect ?? []), ...(spec.lease ? [LEASE_PREFIX] : [])]),
    ];
    if (listed.length > 0) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': listed.map(below) } },
        }),
      );
    }
    const key = this.props.encryptionKey;
    if (key) {
      const writes = Boolean(spec.write || spec.upload || spec.lease);
      if (writes) allow(['kms:GenerateDataKey', 'kms:Decrypt'], [key.keyArn]);
      else if (spec.read) allow(['kms:Decrypt'], [key.keyArn]);
    }
    if (fn.role) {
      acknowledgeWildcardResources(
        fn.role,
        [
          's3:GetObject',
          's3:GetObjectTagging',
          's3:PutObject',
          's3:PutObjectTagging',
          's3:AbortMultipartUpload',
          's3:DeleteObject',
        ],
        'Object access is limited to one key prefix of the layout in lambdas/storage/keys.ts; the keys below it are data-driven (contract, window, run id).',
      );
    }
  }

  private createStateMachine(
    id: string,
    name: string,
    definition: IChainable,
    timeout: Duration,
  ): StateMachine {
    const logGroup = new LogGroup(this, `${id}Logs`, {
      // The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: this.props.logRetention,
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

  private createSchedule(): [ScheduleGroup, Schedule] {
    const config = this.props;
    // A group of its own gives the schedule per-group metrics for the dropped-invocation alarm.
    const group = new ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: this.namePrefix,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const schedule = new Schedule(this, 'DailySchedule', {
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
    return [group, schedule];
  }

  /**
   * WatchRuns: AWS/States has no metric of running executions, so an hourly function lists ExportRun's
   * RUNNING executions and publishes OldestRunningRunHours; RunOverdue (ExportOperations) fires past
   * `overdueRunHours`.
   * (Not referenced by any state machine, so its EXPORT_RUN_ARN makes no dependency cycle.)
   */
  private createRunWatchdog(group: ScheduleGroup): LambdaFunction {
    const config = this.props;
    const fn = exportFunction(this, 'WatchRuns', {
      entry: `${HANDLERS_DIR}watch-runs.ts`,
      prebuilt: `${PREBUILT_HANDLERS_DIR}watch-runs`,
      description: 'Hourly: publishes how long the oldest running ExportRun execution has been running.',
      timeout: WATCH_RUNS_TIMEOUT,
      logRetention: config.logRetention,
      vpc: config.vpc,
      vpcSubnets: config.vpc ? config.vpcSubnets : undefined,
      securityGroups: config.vpc ? config.securityGroups : undefined,
      environment: {
        EXPORT_RUN_ARN: this.exportRun.stateMachineArn,
        POWERTOOLS_SERVICE_NAME: this.serviceName,
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
    return fn;
  }

  private createOperations(scheduleGroup: ScheduleGroup): ExportOperations {
    const config = this.props;
    // Id `Default`: the topic, its subscriptions and the alarms keep the logical IDs they had when this
    // method created them itself (CDK leaves `Default` out of logical IDs), so no upgrade replaces them.
    const operations = new ExportOperations(this, 'Default', {
      alarmTopic: config.alarmTopic,
      alarmEmails: config.alarmEmails,
      exportRun: this.exportRun,
      exportJob: this.exportJob,
      exportCrmJob: this.exportCrmJob,
      functions: { ...this.functions, ...this.crmFunctions, watchRuns: this.runWatchdog },
      bucket: this.bucket,
      bucketPrefix: config.bucketPrefix,
      accessLogsBucket: this.accessLogsBucket,
      scheduleGroup,
      metricsNamespace: METRICS_NAMESPACE,
      serviceName: this.serviceName,
      maxHoursWithoutSuccess: config.maxHoursWithoutSuccess,
      overdueRunHours: config.overdueRunHours,
    });
    return operations;
  }
}

/** The props with every default applied. */
type Resolved = SalesNavigatorExportProps & {
  readonly settings: Settings;
  readonly bucketPrefix: string;
  readonly retentionDays: number;
  readonly logRetention: RetentionDays;
  readonly logLevel: NonNullable<SalesNavigatorExportProps['logLevel']>;
  readonly scheduleExpression: string;
  readonly scheduleTimeZone: string;
  readonly scheduleEnabled: boolean;
  readonly mapConcurrency: number;
  readonly overdueRunHours: number;
  readonly maxHoursWithoutSuccess: number;
  readonly tokenExpiryAlarmDays: readonly number[];
  readonly tokenRotation: boolean;
  readonly tokenRotationDaysBeforeExpiry: number;
  readonly lake: boolean;
  readonly athenaScanLimitGb: number;
};

/**
 * The props with every default applied (lib/construct-defaults.ts), or an Error naming the prop and the
 * fix: the construct refuses settings that cannot apply together rather than ignore one of them.
 */
function resolveProps(props: SalesNavigatorExportProps): Resolved {
  if (props.bucket && props.retentionDays !== undefined) {
    throw new Error(
      'SalesNavigatorExport: retentionDays applies only to a bucket the construct creates; an imported bucket keeps its own lifecycle rules. Remove retentionDays, or set the expiration on the bucket.',
    );
  }
  if ((props.vpcSubnets || props.securityGroups) && !props.vpc) {
    throw new Error('SalesNavigatorExport: vpcSubnets and securityGroups need vpc; give the VPC too.');
  }
  const bucketPrefix = (props.bucketPrefix ?? EXPORT_DEFAULTS.bucketPrefix).replace(/^\/+|\/+$/g, '');
  if (props.namePrefix !== undefined && !/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(props.namePrefix)) {
    throw new Error(
      `SalesNavigatorExport: namePrefix ${JSON.stringify(props.namePrefix)} must start with a letter and hold at most 40 letters, digits and -.`,
    );
  }
  return {
    ...props,
    settings: SettingsSchema.parse(props.settings ?? {}),
    bucketPrefix,
    retentionDays: props.retentionDays ?? EXPORT_DEFAULTS.retentionDays,
    logRetention: props.logRetention ?? EXPORT_DEFAULTS.logRetention,
    logLevel: props.logLevel ?? EXPORT_DEFAULTS.logLevel,
    scheduleExpression: props.scheduleExpression ?? EXPORT_DEFAULTS.scheduleExpression,
    scheduleTimeZone: props.scheduleTimeZone ?? EXPORT_DEFAULTS.scheduleTimeZone,
    scheduleEnabled: props.scheduleEnabled ?? EXPORT_DEFAULTS.scheduleEnabled,
    mapConcurrency: props.mapConcurrency ?? EXPORT_DEFAULTS.mapConcurrency,
    overdueRunHours: props.overdueRunHours ?? EXPORT_DEFAULTS.overdueRunHours,
    maxHoursWithoutSuccess: props.maxHoursWithoutSuccess ?? EXPORT_DEFAULTS.maxHoursWithoutSuccess,
    tokenExpiryAlarmDays: props.tokenExpiryAlarmDays ?? EXPORT_DEFAULTS.tokenExpiryAlarmDays,
    tokenRotation: props.tokenRotation ?? EXPORT_DEFAULTS.tokenRotation,
    tokenRotationDaysBeforeExpiry:
      props.tokenRotationDaysBeforeExpiry ?? EXPORT_DEFAULTS.tokenRotationDaysBeforeExpiry,
    lake: props.lake ?? EXPORT_DEFAULTS.lake,
    athenaScanLimitGb: props.athenaScanLimitGb ?? EXPORT_DEFAULTS.athenaScanLimitGb,
  };
}
