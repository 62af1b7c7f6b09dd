import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type ConfigInput, loadConfig } from '#lib/config';
import { flattenIntrinsics } from '#lib/constructs/nag';
import { NO_RECIPIENT_WARNING } from '#lib/constructs/operations';
import { SalesNavExportStack } from '#lib/stack';

/**
 * The operator's view (lib/constructs/operations.ts) as deployed by the stack: who is told, the
 * alarms and their runbook steps, the run notification and the policy that lets it through, the
 * dashboard and the console links. Bundling is skipped: these read the template, not the code.
 */
function synth(context: ConfigInput) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new SalesNavExportStack(app, 'OpsTest', { config: loadConfig(context) });
  return { stack, template: Template.fromStack(stack) };
}

const { stack, template } = synth({
  alarmEmail: 'ops@example.com',
  alarmEmails: 'data@example.com, ops@example.com',
  bucketPrefix: 'team',
  maxHoursWithoutSuccess: '48',
});
const resources = (type: string) => template.findResources(type);
const alarms = () => Object.entries(resources('AWS::CloudWatch::Alarm'));
const topicId = Object.keys(resources('AWS::SNS::Topic'))[0] ?? '';
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('who is told', () => {
  it('keeps the logical IDs the stack gave its topic, subscription, policy and alarms before (updated in place, never replaced)', () => {
    // From the template of the previous release: a changed id would replace the resource, and a
    // replaced email subscription must be confirmed again.
    for (const [id, type] of [
      ['AlarmTopicD01E77F9', 'AWS::SNS::Topic'],
      ['AlarmTopicPolicy309DB5F8', 'AWS::SNS::TopicPolicy'],
      ['AlarmTopicopsexamplecom7B0F70A1', 'AWS::SNS::Subscription'],
      ['RunFailedAlarm2D8E4400', 'AWS::CloudWatch::Alarm'],
      ['TokenExpiringAlarmC13A63E7', 'AWS::CloudWatch::Alarm'],
      ['ScheduleDroppedAlarm7EB31F8D', 'AWS::CloudWatch::Alarm'],
      // Issue 8's, created by the stack before it moved here (md5 of its path, as CDK names it).
      ['RunOverdueAlarm60E63FD8', 'AWS::CloudWatch::Alarm'],
    ]) {
      expect(resources(type as string)[id as string], id).toBeDefined();
    }
  });

  it('subscribes every address once: alarmEmail and the alarmEmails list', () => {
    const endpoints = Object.values(resources('AWS::SNS::Subscription')).map((s) => s.Properties.Endpoint);
    expect(endpoints.sort()).toEqual(['data@example.com', 'ops@example.com']);
    template.allResourcesProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      TopicArn: { Ref: topicId },
    });
  });

  it('warns at synthesis when nobody would be told, and not otherwise', () => {
    const warnings = (context: ConfigInput) =>
      Annotations.fromStack(synth(context).stack)
        .findWarning('*', Match.stringLikeRegexp('No alarm recipient'))
        .map((w) => w.entry.data);
    expect(warnings({})).toEqual([
      expect.stringContaining('Set alarmEmails (or alarmEmail) or alarmTopicArn'),
    ]);
    expect(warnings({})[0]).toContain(NO_RECIPIENT_WARNING);
    expect(warnings({ alarmEmail: 'ops@example.com' })).toEqual([]);
    expect(warnings({ alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:platform-alarms' })).toEqual([]);
  });

  it('uses an existing topic as is: no topic or topic policy created, alarms and notifications go to its ARN', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:platform-alarms';
    const { template: t } = synth({ alarmTopicArn: arn, alarmEmails: 'ops@example.com' });
    expect(t.findResources('AWS::SNS::Topic')).toEqual({});
    expect(t.findResources('AWS::SNS::TopicPolicy')).toEqual({});
    for (const [id, alarm] of Object.entries(t.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions, id).toEqual([arn]);
    }
    t.hasResourceProperties('AWS::SNS::Subscription', { TopicArn: arn, Endpoint: 'ops@example.com' });
    // Its policy is not ours to change: EventBridge publishes through a role allowed on that topic only.
    const [target] = Object.values(t.findResources('AWS::Events::Rule'))[0]?.Properties.Targets ?? [];
    expect(target.Arn).toBe(arn);
    const roleId = target.RoleArn['Fn::GetAtt'][0];
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'events.amazonaws.com' } })],
      },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: { Statement: [{ Action: 'sns:Publish', Effect: 'Allow', Resource: arn }] },
    });
  });
});

describe('alarms', () => {
  const byId = (prefix: string) => {
    const found = alarms().find(([id]) => id.startsWith(prefix));
    expect(found, prefix).toBeDefined();
    return found?.[1].Properties;
  };

  it('every alarm notifies the topic; the lasting states also notify their return to OK', () => {
    const ids = alarms().map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(ids.sort()).toEqual(
      [
        'ItemsFailedAlarm',
        'NoSuccessfulRunAlarm',
        'RunFailedAlarm',
        'RunOverdueAlarm',
        'ScheduleDroppedAlarm',
        'TokenExpiringAlarm',
        'TokenLifecycleTokenExpiresIn14DaysAlarm',
        'TokenLifecycleTokenExpiresIn1DaysAlarm',
      ].sort(),
    );
    for (const [id, alarm] of alarms()) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
    }
    for (const id of ['NoSuccessfulRunAlarm', 'RunOverdueAlarm']) {
      expect(byId(id)?.OKActions, id).toEqual([{ Ref: topicId }]);
    }
    // A failed run is not undone an hour later: no "OK" mail for the event-like alarms.
    for (const id of ['RunFailedAlarm', 'ItemsFailedAlarm', 'ScheduleDroppedAlarm']) {
      expect(byId(id)?.OKActions, id).toBeUndefined();
    }
  });

  it('each description names a runbook step the README has', () => {
    const runbook = readme.slice(readme.indexOf('## Runbook'));
    expect(runbook.length).toBeGreaterThan(100);
    const headings = [...runbook.matchAll(/^### (.+)$/gm)].map((m) => m[1]?.trim());
    for (const [id, alarm] of alarms()) {
      // The token's alarms are the token section's ("Renew the token"): they name the renew command.
      if (id.startsWith('TokenExpiringAlarm') || id.startsWith('TokenLifecycle')) continue;
      const step = /README "Runbook": "([^"]+)"/.exec(alarm.Properties.AlarmDescription)?.[1];
      expect(step, id).toBeDefined();
      expect(headings, `${id} → "${step}"`).toContain(step);
    }
  });

  it('ItemsFailed: the count FinishRun publishes once per run, in the functions namespace and service', () => {
    expect(byId('ItemsFailedAlarm')).toMatchObject({
      Namespace: 'SalesNavExport',
      MetricName: 'ItemsFailed',
      Dimensions: [{ Name: 'service', Value: 'salesnav-export-OpsTest' }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('NoSuccessfulRun: no ExportRun success in any of the last maxHoursWithoutSuccess hours (no data counts as none)', () => {
    expect(byId('NoSuccessfulRunAlarm')).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsSucceeded',
      Dimensions: [
        {
          Name: 'StateMachineArn',
          Value: { Ref: stack.getLogicalId(stack.exportRun.node.defaultChild as never) },
        },
      ],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 48,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    // CloudWatch evaluates at most 7 days (Period × EvaluationPeriods ≤ 604,800 s).
    const longest = synth({ maxHoursWithoutSuccess: 168 }).template;
    longest.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsSucceeded',
      EvaluationPeriods: 168,
    });
    expect(() => loadConfig({ maxHoursWithoutSuccess: 169 })).toThrow(/maxHoursWithoutSuccess: .*<=168/);
    expect(() => loadConfig({ maxHoursWithoutSuccess: '1' })).toThrow(/maxHoursWithoutSuccess: .*>=2/);
  });
});

describe('run overdue', () => {
  it('RunOverdue: the oldest running run (WatchRuns, hourly) over overdueRunHours, on the dashboard too', () => {
    const alarm = alarms().find(([id]) => id.startsWith('RunOverdueAlarm'))?.[1].Properties;
    expect(alarm).toMatchObject({
      Namespace: 'SalesNavExport',
      MetricName: 'OldestRunningRunHours',
      Dimensions: [{ Name: 'service', Value: 'salesnav-export-OpsTest' }],
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 20,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    const dashboard = Object.values(resources('AWS::CloudWatch::Dashboard'))[0];
    expect(flattenIntrinsics(dashboard?.Properties.DashboardBody)).toContain('"OldestRunningRunHours"');
  });
});

describe('run notification', () => {
  const [ruleId, rule] = Object.entries(resources('AWS::Events::Rule'))[0] ?? [];
  const target = rule?.Properties.Targets[0];

  it('matches every ExportRun execution that failed, timed out or was aborted, and nothing else', () => {
    expect(rule?.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        stateMachineArn: [{ Ref: stack.getLogicalId(stack.exportRun.node.defaultChild as never) }],
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
      },
    });
  });

  it('may publish: rule → target → topic → its policy allows events.amazonaws.com for this rule only', () => {
    expect(target.Arn).toEqual({ Ref: topicId });
    expect(target.RoleArn).toBeUndefined();
    const statements = Object.values(resources('AWS::SNS::TopicPolicy'))
      .filter((p) => p.Properties.Topics.some((t: { Ref: string }) => t.Ref === topicId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const allows = statements.filter(
      (s: Record<string, unknown>) =>
        s.Effect === 'Allow' && (s.Principal as { Service?: string })?.Service === 'events.amazonaws.com',
    );
    expect(allows).toEqual([
      {
        Sid: 'AllowRunNotificationRule',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
      },
    ]);
    // EventBridge publishes over TLS: the TLS-only Deny does not catch it.
    for (const deny of statements.filter((s: { Effect: string }) => s.Effect === 'Deny')) {
      expect(deny.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    }
  });

  it('carries the execution ARN, its input (the window), the manifest, the error and a console link, as valid JSON', () => {
    // The event AWS documents for a failed Standard execution; the input holds quotes, as real inputs do.
    const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:OpsTest-ExportRun:backfill-1';
    const event = {
      region: 'eu-west-1',
      detail: {
        executionArn,
        name: 'backfill-1',
        status: 'FAILED',
        startDate: 1_764_658_800_000,
        stopDate: 1_764_662_400_000,
        input: '{"from":"2026-10-01","to":"2026-10-08","datasets":["activity"]}',
        error: 'RunIncompleteError',
        cause: '{"errorType":"RunIncompleteError","errorMessage":"1 of 3 item(s) failed in run backfill-1"}',
      },
    };
    const message = JSON.parse(substitute(target.InputTransformer, event));
    expect(message).toEqual({
      summary: 'ExportRun execution backfill-1 FAILED',
      execution: executionArn,
      console: `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${executionArn}`,
      input: event.detail.input,
      window: expect.stringContaining('from/to'),
      manifest: expect.stringMatching(/^s3:\/\/<Exports.+>\/team\/manifests\/backfill-1\.json$/),
      error: 'RunIncompleteError',
      cause: event.detail.cause,
      startDate: event.detail.startDate,
      stopDate: event.detail.stopDate,
      runbook: 'README "Runbook": "A run failed"',
    });
    expect(JSON.parse(message.input)).toMatchObject({ from: '2026-10-01', to: '2026-10-08' });
    // An aborted execution carries error and cause as null: still valid JSON.
    const aborted = { ...event, detail: { ...event.detail, status: 'ABORTED', error: null, cause: null } };
    expect(JSON.parse(substitute(target.InputTransformer, aborted))).toMatchObject({
      error: null,
      cause: null,
    });
  });
});

describe('dashboard', () => {
  const body = () => {
    const dashboard = Object.values(resources('AWS::CloudWatch::Dashboard'))[0];
    expect(dashboard?.Properties.DashboardName).toBe('OpsTest');
    return flattenIntrinsics(dashboard?.Properties.DashboardBody);
  };

  it('shows runs, items by status, bytes, rows, durations and the token days left', () => {
    const text = body();
    for (const metric of [
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
      'ItemsPlanned',
      'ItemsSkipped',
      'ItemsExported',
      'ItemsFailed',
      'BytesExported',
      'RowsExported',
      'ExecutionTime',
      'TokenExpiresInDays',
    ]) {
      expect(text, metric).toContain(`"${metric}"`);
    }
    expect(text).toContain('"SalesNavExport","ItemsExported","service","salesnav-export-OpsTest"');
  });

  it('lists every alarm, the token alarm added after the dashboard included', () => {
    const text = body();
    for (const [id] of alarms()) expect(text, id).toContain(`<${id}.Arn>`);
  });
});

describe('console links', () => {
  const output = (name: string) => flattenIntrinsics(template.findOutputs(name)[name]?.Value);

  it('gives a stack output for every page the runbook opens', () => {
    const region = '<AWS::Region>';
    const home = (service: string) =>
      `https://${region}.console.aws.amazon.com/${service}/home?region=${region}#`;
    const run = `<${stack.getLogicalId(stack.exportRun.node.defaultChild as never)}>`;
    expect(output('ExportRunExecutionsUrl')).toBe(`${home('states')}/statemachines/view/${run}`);
    expect(output('ExportJobExecutionsUrl')).toMatch(/statemachines\/view\/<ExportJob/);
    expect(output('ExportCrmJobExecutionsUrl')).toMatch(/statemachines\/view\/<ExportCrmJob/);
    expect(output('DashboardUrl')).toBe(`${home('cloudwatch')}dashboards/dashboard/OpsTest`);
    expect(output('AlarmsUrl')).toBe(`${home('cloudwatch')}alarmsV2:?search=OpsTest`);
    expect(output('LogsUrl')).toBe(`${home('cloudwatch')}logsV2:log-groups$3FlogGroupNameFilter$3DOpsTest`);
    expect(output('BucketUrl')).toMatch(
      /^https:\/\/s3\.console\.aws\.amazon\.com\/s3\/buckets\/<Exports.+>\?region=<AWS::Region>&prefix=team\/$/,
    );
    expect(output('ManifestsUrl')).toMatch(/&prefix=team\/manifests\/$/);
    expect(output('SchedulesUrl')).toBe(`${home('scheduler')}schedules`);
    expect(output('AccessLogsBucketName')).toMatch(/^<ExportsAccessLogs/);
  });
});

/**
 * EventBridge's input transformation as AWS documents it (eb-transform-target-input): each
 * `<variable>` is the value at its path; in a JSON value position it is inserted as JSON (a string
 * quoted and escaped), inside a JSON string as its raw text.
 */
function substitute(
  transformer: { InputPathsMap: Record<string, string>; InputTemplate: unknown },
  event: Record<string, unknown>,
): string {
  const template = flattenIntrinsics(transformer.InputTemplate);
  const lookup = (name: string): unknown => {
    const path = transformer.InputPathsMap[name];
    expect(path, `<${name}> has a path`).toBeDefined();
    return (path ?? '$')
      .replace(/^\$\.?/, '')
      .split('.')
      .filter(Boolean)
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], event);
  };
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    const match = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (match?.[1] && match[1] in transformer.InputPathsMap) {
      const value = lookup(match[1]);
      out += inString ? String(value) : JSON.stringify(value ?? null);
      i += match[0].length - 1;
    } else out += c;
  }
  return out;
}

describe('configuration', () => {
  it('takes several addresses (JSON array or comma-separated), alarmEmail first, each once', () => {
    expect(loadConfig({ alarmEmails: 'a@example.com, b@example.com' }).alarmEmails).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
    expect(
      loadConfig({ alarmEmail: 'b@example.com', alarmEmails: '["a@example.com","b@example.com"]' })
        .alarmEmails,
    ).toEqual(['b@example.com', 'a@example.com']);
    expect(loadConfig({ alarmEmail: 'ops@example.com' })).toMatchObject({
      alarmEmail: 'ops@example.com',
      alarmEmails: ['ops@example.com'],
    });
    expect(() => loadConfig({ alarmEmails: 'a@example.com,not-an-address' })).toThrow(
      /alarmEmails\.1: .*email/i,
    );
  });

  it('takes an existing standard topic, and refuses a FIFO topic or anything but a topic ARN', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:platform-alarms';
    expect(loadConfig({ alarmTopicArn: arn }).alarmTopicArn).toBe(arn);
    expect(() => loadConfig({ alarmTopicArn: `${arn}.fifo` })).toThrow(
      /alarmTopicArn: must be the ARN of a standard SNS topic \(a FIFO topic takes no e-mail subscription/,
    );
    expect(() => loadConfig({ alarmTopicArn: 'platform-alarms' })).toThrow(/alarmTopicArn: /);
  });
});
