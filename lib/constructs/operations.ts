// The operator's view of an export pipeline: who is told, the alarms, the run-failure notification, the dashboard and the console links.
import { Annotations, ArnFormat, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventField, type IRuleTarget, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** Where each alarm's description sends the operator: the README section of that name. */
export const RUNBOOK = 'README "Runbook"';

/** Default of `maxHoursWithoutSuccess`: a daily run, plus 6 hours for a slow one. */
export const DEFAULT_MAX_HOURS_WITHOUT_SUCCESS = 30;

/** Warning id of a pipeline whose alarms reach nobody (Annotations, visible in `cdk synth`). */
export const NO_RECIPIENT_WARNING = 'salesnav-export:alarms-reach-nobody';

export interface ExportOperationsProps {
  /**
   * An existing standard SNS topic for the alarms and the run notifications, instead of a created one.
   * Its policy is not changed: it must let `cloudwatch.amazonaws.com` publish (SNS's default policy
   * does, for alarms of the topic's own account); the run notifications are published through an
   * IAM role EventBridge assumes.
   * @default - a TLS-only topic is created, whose policy lets this account's alarms and the
   * notification rule publish
   */
  readonly alarmTopic?: ITopic;
  /**
   * Addresses subscribed (email) to the topic. With none and no `alarmTopic`, synthesis warns that
   * nobody is notified (`NO_RECIPIENT_WARNING`).
   * @default []
   */
  readonly alarmEmails?: readonly string[];
  /** The ExportRun state machine: run alarms, notification rule, dashboard, console link. */
  readonly exportRun: StateMachine;
  /** The ExportJob state machine (one item): dashboard and console link. */
  readonly exportJob: StateMachine;
  /**
   * The ExportCrmJob state machine (one CRM export): dashboard and console link.
   * @default - none
   */
  readonly exportCrmJob?: StateMachine;
  /** Every function of the pipeline by name: errors and throttles on the dashboard. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** The destination bucket: the manifest location in notifications, console links. */
  readonly bucket: IBucket;
  /**
   * The key prefix everything is written under (no leading or trailing `/`).
   * @default ''
   */
  readonly bucketPrefix?: string;
  /**
   * The bucket receiving the destination's S3 server access logs (a stack output).
   * @default - none (an imported bucket's logging is its owner's)
   */
  readonly accessLogsBucket?: IBucket;
  /** The schedule's group: the ScheduleDropped alarm. */
  readonly scheduleGroup: ScheduleGroup;
  /** CloudWatch namespace of the functions' custom metrics (POWERTOOLS_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /** The `service` dimension of the custom metrics (POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string;
  /**
   * Hours without a successful ExportRun execution after which NoSuccessfulRun fires, 2-168
   * (CloudWatch evaluates an alarm over at most 7 days of hourly periods).
   * @default 30
   */
  readonly maxHoursWithoutSuccess?: number;
  /**
   * Hours an ExportRun execution may run before RunOverdue fires. The alarm reads
   * `OldestRunningRunHours`, which a watchdog publishes hourly in the metrics namespace (the stack's
   * WatchRuns function: lambdas/steps/watch-runs.ts), because AWS/States counts no running executions.
   * @default - no RunOverdue alarm
   */
  readonly overdueRunHours?: number;
  /**
   * Name of the CloudWatch dashboard.
   * @default - the stack name
   */
  readonly dashboardName?: string;
}

/** An alarm of the pipeline: notifies the topic at `threshold` (default ≥ 1). */
export interface OperationsAlarmSpec {
  readonly metric: IMetric;
  /** What happened and the runbook step to follow. */
  readonly description: string;
  /** @default 1 */
  readonly threshold?: number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparisonOperator?: ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default NOT_BREACHING (no data: nothing happened) */
  readonly treatMissingData?: TreatMissingData;
  /**
   * Also notify when the alarm returns to OK: for states that last (no success, a run overdue), not
   * for events (a failed run is not undone an hour later).
   * @default false
   */
  readonly notifyOk?: boolean;
}

/**
 * The operator's view of one export pipeline (README "Alarms and notifications", "Runbook"): the topic
 * and who it reaches, the alarms (each naming its runbook step), an EventBridge notification per
 * ExportRun execution that did not succeed (execution ARN, input and window, manifest, console link),
 * a CloudWatch dashboard, and a stack output for every console page an operator opens.
 *
 * Create it with the id `Default` to keep the logical IDs its resources had when the stack created
 * them itself (CDK leaves `Default` out of logical IDs): the topic, its subscriptions and the alarms
 * are then updated in place, never replaced (a replaced subscription must be confirmed again).
 */
export class ExportOperations extends Construct {
  /** The topic every alarm and notification goes to. */
  readonly topic: ITopic;
  /** The alarms by id (`RunFailedAlarm`, `ItemsFailedAlarm`, …), including those added with `addAlarm`. */
  readonly alarms: Record<string, IAlarm> = {};
  readonly dashboard: Dashboard;
  /** The EventBridge rule that notifies the topic of each ExportRun execution that did not succeed. */
  readonly notificationRule: Rule;
  private readonly alarmList: IAlarm[] = [];

  constructor(scope: Construct, id: string, props: ExportOperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const emails = [...new Set(props.alarmEmails ?? [])];
    this.topic = props.alarmTopic ?? this.createTopic();
    for (const email of emails) this.topic.addSubscription(new EmailSubscription(email));
    if (!props.alarmTopic && emails.length === 0) {
      Annotations.of(this).addWarningV2(
        NO_RECIPIENT_WARNING,
        'No alarm recipient: the alarms and run notifications go to a topic nobody is subscribed to. Set alarmEmails (or alarmEmail) or alarmTopicArn, or subscribe to the AlarmTopicArn output yourself.',
      );
    }

    const hour = Duration.hours(1);
    const run = props.exportRun;
    const maxHours = props.maxHoursWithoutSuccess ?? DEFAULT_MAX_HOURS_WITHOUT_SUCCESS;
    const custom = (metricName: string, statistic = 'Sum', period = hour) =>
      new Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service: props.serviceName },
        statistic,
        period,
      });

    this.addAlarm('RunFailedAlarm', {
      metric: new MathExpression({
        expression: 'failed + timedOut + aborted',
        label: 'ExportRun executions that did not succeed',
        period: hour,
        usingMetrics: {
          failed: run.metricFailed({ statistic: 'Sum', period: hour }),
          timedOut: run.metricTimedOut({ statistic: 'Sum', period: hour }),
          aborted: run.metricAborted({ statistic: 'Sum', period: hour }),
        },
      }),
      description: `An ExportRun execution failed, timed out or was aborted; the notification sent with it names the execution, its input and its manifest (manifests/<run id>.json lists the failed items and why). ${RUNBOOK}: "A run failed".`,
    });
    this.addAlarm('ItemsFailedAlarm', {
      metric: custom('ItemsFailed'),
      description: `A run finished with items that failed (FinishRun publishes ItemsFailed once per run, from the manifest). ${RUNBOOK}: "A run failed" (each FAILED item of manifests/<run id>.json carries error.name and error.message).`,
    });
    this.addAlarm('NoSuccessfulRunAlarm', {
      // ExecutionsSucceeded per hour, every one of the last N hours below 1 (no data = no success).
      metric: run.metricSucceeded({ statistic: 'Sum', period: hour }),
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: maxHours,
      treatMissingData: TreatMissingData.BREACHING,
      notifyOk: true,
      description: `No ExportRun execution succeeded in the last ${maxHours} hours (maxHoursWithoutSuccess): the schedule is disabled or dropped, runs keep failing, or a run is still going. ${RUNBOOK}: "No successful run".`,
    });
    if (props.overdueRunHours !== undefined) {
      this.addAlarm('RunOverdueAlarm', {
        metric: custom('OldestRunningRunHours', 'Maximum'),
        threshold: props.overdueRunHours,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        notifyOk: true,
        description: `An ExportRun execution has been running over ${props.overdueRunHours} h (overdueRunHours; the next daily run is near): the WatchRuns log names its ARN, its execution history the lane it waits on. ${RUNBOOK}: "A run is overdue".`,
      });
    }
    this.addAlarm('ScheduleDroppedAlarm', {
      metric: props.scheduleGroup.metricDropped({ statistic: 'Sum', period: hour }),
      description: `EventBridge Scheduler gave up starting ExportRun: check the schedule role and the state machine, then start the missed run by hand. ${RUNBOOK}: "Rerun a scheduled run".`,
    });

    this.notificationRule = this.createNotificationRule(props);
    this.dashboard = this.createDashboard(props, custom);
    this.createOutputs(props, stack);
  }

  /** Adds an alarm that notifies the topic, and shows it on the dashboard's alarm widget. */
  addAlarm(id: string, spec: OperationsAlarmSpec): Alarm {
    const alarm = new Alarm(this, id, {
      metric: spec.metric,
      threshold: spec.threshold ?? 1,
      comparisonOperator: spec.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      treatMissingData: spec.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    if (spec.notifyOk) alarm.addOkAction(action);
    this.showAlarm(id, alarm);
    return alarm;
  }

  /** Shows an alarm made elsewhere (e.g. the token alarms) on the dashboard and in `alarms`. */
  showAlarm(id: string, alarm: IAlarm): void {
    this.alarms[id] = alarm;
    // The alarm widget renders this array at synthesis: alarms added later are shown too.
    this.alarmList.push(alarm);
  }

  private createTopic(): Topic {
    const stack = Stack.of(this);
    // Not KMS-encrypted: notifications carry no member data, and CloudWatch alarms cannot publish to a
    // topic encrypted with the AWS-managed SNS key (a customer-managed key would cost more than it protects).
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: `${stack.stackName} alarms`,
      enforceSSL: true,
    });
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
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return topic;
  }

  /**
   * One message per ExportRun execution that FAILED, TIMED_OUT or was ABORTED (Step Functions sends
   * every status change of a Standard workflow to EventBridge). The message is a JSON object: the
   * event's `input` is a JSON string, and a string variable in a value position is inserted quoted
   * and escaped, so the message stays valid whatever the input holds.
   */
  private createNotificationRule(props: ExportOperationsProps): Rule {
    const rule = new Rule(this, 'RunNotificationRule', {
      description:
        'Notifies the alarm topic of each ExportRun execution that failed, timed out or was aborted.',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [props.exportRun.stateMachineArn],
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
    });
    const name = EventField.fromPath('$.detail.name');
    const status = EventField.fromPath('$.detail.status');
    const executionArn = EventField.fromPath('$.detail.executionArn');
    const region = EventField.fromPath('$.region');
    const prefix = props.bucketPrefix ? `${props.bucketPrefix}/` : '';
    const message = RuleTargetInput.fromObject({
      summary: `ExportRun execution ${name} ${status}`,
      execution: executionArn,
      console: `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`,
      input: EventField.fromPath('$.detail.input'),
      window:
        "The input's from/to ([from, to), UTC days); {} is the scheduled default range (the lookBackDays days before the lag). The resolved window is in the manifest and in the cause of a RunIncompleteError.",
      manifest: `s3://${props.bucket.bucketName}/${prefix}manifests/${name}.json`,
      error: EventField.fromPath('$.detail.error'),
      cause: EventField.fromPath('$.detail.cause'),
      startDate: EventField.fromPath('$.detail.startDate'),
      stopDate: EventField.fromPath('$.detail.stopDate'),
      runbook: `${RUNBOOK}: "A run failed"`,
    });
    rule.addTarget(
      props.alarmTopic
        ? new SnsTopic(this.topic, { message, authorizeUsingRole: true })
        : this.policyTarget(rule, message),
    );
    return rule;
  }

  /**
   * The created topic as the rule's target, allowed by its policy for this rule only (aws:SourceArn):
   * CDK's SnsTopic target would allow every EventBridge rule of every account.
   */
  private policyTarget(rule: Rule, message: RuleTargetInput): IRuleTarget {
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowRunNotificationRule',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    );
    return { bind: () => ({ arn: this.topic.topicArn, input: message, targetResource: this.topic }) };
  }

  private createDashboard(
    props: ExportOperationsProps,
    custom: (metricName: string, statistic?: string, period?: Duration) => Metric,
  ): Dashboard {
    const day = Duration.days(1);
    const run = props.exportRun;
    const machines = [run, props.exportJob, ...(props.exportCrmJob ? [props.exportCrmJob] : [])];
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? Stack.of(this).stackName,
      defaultInterval: Duration.days(14),
    });
    const sums = (names: string[]) => names.map((n) => custom(n, 'Sum', day).with({ label: n }));
    dashboard.addWidgets(
      new TextWidget({
        markdown: `## ${Stack.of(this).stackName}: Sales Navigator export\nDaily sums. What to do when an alarm fires: ${RUNBOOK}.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarmList, width: 24, height: 3 }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Runs (ExportRun executions)',
        left: [
          run.metricStarted({ statistic: 'Sum', period: day, label: 'started' }),
          run.metricSucceeded({ statistic: 'Sum', period: day, label: 'succeeded' }),
          run.metricFailed({ statistic: 'Sum', period: day, label: 'failed' }),
          run.metricTimedOut({ statistic: 'Sum', period: day, label: 'timed out' }),
          run.metricAborted({ statistic: 'Sum', period: day, label: 'aborted' }),
        ],
        ...(props.overdueRunHours !== undefined && {
          right: [custom('OldestRunningRunHours', 'Maximum').with({ label: 'oldest running run (h)' })],
        }),
        width: 8,
      }),
      new GraphWidget({
        title: 'Items by status',
        left: sums(['ItemsPlanned', 'ItemsSkipped', 'ItemsExported', 'ItemsFailed']),
        width: 8,
      }),
      new SingleValueWidget({
        title: 'Token days left',
        metrics: [custom('TokenExpiresInDays', 'Minimum', day).with({ label: 'TokenExpiresInDays' })],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Bytes exported',
        left: sums(['BytesExported', 'CrmBytesExported']),
        width: 8,
      }),
      new GraphWidget({ title: 'Rows exported', left: sums(['RowsExported', 'CrmRowsExported']), width: 8 }),
      new GraphWidget({
        title: 'Row checks (soft signals)',
        left: sums(['RowCountMismatch', 'RowsOutsideWindow']),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Execution duration (max per day)',
        left: machines.map((m, i) =>
          m.metricTime({
            statistic: 'Maximum',
            period: day,
            label: ['ExportRun', 'ExportJob', 'ExportCrmJob'][i],
          }),
        ),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function errors and throttles',
        left: Object.entries(props.functions).map(([n, fn]) =>
          fn.metricErrors({ statistic: 'Sum', period: day, label: `${n} errors` }),
        ),
        right: Object.entries(props.functions).map(([n, fn]) =>
          fn.metricThrottles({ statistic: 'Sum', period: day, label: `${n} throttles` }),
        ),
        width: 12,
      }),
    );
    return dashboard;
  }

  /** A stack output for every console page of the runbook. */
  private createOutputs(props: ExportOperationsProps, stack: Stack): void {
    const region = stack.region;
    const console = (service: string, path: string) =>
      `https://${region}.console.aws.amazon.com/${service}/home?region=${region}#${path}`;
    const prefix = props.bucketPrefix ? `${props.bucketPrefix}/` : '';
    const s3 = (keyPrefix: string) =>
      `https://s3.console.aws.amazon.com/s3/buckets/${props.bucket.bucketName}?region=${region}&prefix=${keyPrefix}`;
    const machines: [string, StateMachine | undefined][] = [
      ['ExportRun', props.exportRun],
      ['ExportJob', props.exportJob],
      ['ExportCrmJob', props.exportCrmJob],
    ];
    const outputs: Record<string, [string, string]> = {
      DashboardUrl: [
        console('cloudwatch', `dashboards/dashboard/${props.dashboardName ?? stack.stackName}`),
        'CloudWatch dashboard: runs, items by status, bytes, rows, durations, token days left, alarms',
      ],
      AlarmsUrl: [
        console('cloudwatch', `alarmsV2:?search=${stack.stackName}`),
        'The pipeline alarms (names start with the stack name)',
      ],
      LogsUrl: [
        console('cloudwatch', `logsV2:log-groups$3FlogGroupNameFilter$3D${stack.stackName}`),
        'Log groups of the functions and state machines (Powertools JSON: filter on runId, contract, dataset, window)',
      ],
      BucketUrl: [s3(prefix), 'The exports in the S3 console'],
      ManifestsUrl: [
        s3(`${prefix}manifests/`),
        'The run manifests (manifests/<run id>.json) in the S3 console',
      ],
      SchedulesUrl: [
        console('scheduler', 'schedules'),
        `EventBridge Scheduler schedules (the daily run is in group ${props.scheduleGroup.scheduleGroupName})`,
      ],
    };
    for (const [name, machine] of machines) {
      if (!machine) continue;
      outputs[`${name}ExecutionsUrl`] = [
        console('states', `/statemachines/view/${machine.stateMachineArn}`),
        `${name} executions: start, stop, redrive, follow`,
      ];
    }
    if (props.accessLogsBucket) {
      outputs.AccessLogsBucketName = [
        props.accessLogsBucket.bucketName,
        'Bucket receiving the S3 server access logs of the export bucket',
      ];
    }
    for (const [name, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, name, { value, description });
    }
  }
}
