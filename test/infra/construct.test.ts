// The SalesNavigatorExport construct in a stack of one's own: logical ids kept, imported resources and their key grants, VPC, tags, names.
import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#lib/config';
import { flattenIntrinsics } from '#lib/constructs/nag';
import { SalesNavigatorExport, type SalesNavigatorExportProps } from '#lib/sales-navigator-export';
import { SalesNavExportStack } from '#lib/stack';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const SECRET_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:linkedin-token-AbCdEf';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:platform-alarms';

/** A new app that skips bundling: these tests are about the template, not the code. */
const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

function synth(props: (stack: Stack) => SalesNavigatorExportProps): { stack: Stack; template: Template } {
  const stack = new Stack(newApp(), 'Platform', { env: ENV });
  new SalesNavigatorExport(stack, 'SalesNav', props(stack));
  return { stack, template: Template.fromStack(stack) };
}

/** Every Allow statement of every policy, as `action → flattened resources`. */
function grants(template: Template): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    for (const s of policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]) {
      for (const action of [s.Action].flat() as string[]) {
        result.set(action, [...(result.get(action) ?? []), ...[s.Resource].flat().map(flattenIntrinsics)]);
      }
    }
  }
  return result;
}

/** The statements granting `action`, with their conditions. */
function statements(template: Template, action: string): Record<string, unknown>[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]).filter((s) =>
      ([s.Action].flat() as string[]).includes(action),
    ),
  );
}

describe('the sample stack keeps its logical ids', () => {
  it('has every resource of the stack as it was before the construct (same id, same type)', () => {
    const before = JSON.parse(
      readFileSync(new URL('./stack-logical-ids.json', import.meta.url), 'utf8'),
    ) as Record<string, string>;
    const stack = new SalesNavExportStack(newApp(), 'SalesNavExport', { config: loadConfig({}) });
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
    const now = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
    expect(Object.keys(before).length).toBeGreaterThan(60);
    for (const [id, type] of Object.entries(before)) expect({ id, type: now[id] }).toEqual({ id, type });
    // The stateful ones by name: an update in place, never a replacement of the bucket or the secret.
    for (const id of [
      'ExportsBucket',
      'ExportsAccessLogs',
      'TokenSecret',
      'ExportRun',
      'ExportJob',
      'ExportCrmJob',
    ]) {
      expect(Object.keys(now).some((k) => k.startsWith(id))).toBe(true);
    }
  });
});

describe('SalesNavigatorExport with its defaults', () => {
  const { stack, template } = synth(() => ({}));

  it('creates the bucket, the secret, three state machines, the schedule, the topic and the alarms', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 3);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2); // the daily run and the hourly WatchRuns
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'ExpireExports', ExpirationInDays: 90 })]),
      },
    });
  });

  it('names its physical resources after the stack and its own id', () => {
    const construct = stack.node.findChild('SalesNav') as SalesNavigatorExport;
    expect(construct.namePrefix).toBe('Platform-SalesNav');
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Platform-SalesNav-ExportRun',
    });
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Platform-SalesNav' });
  });

  it('exposes the resources as properties', () => {
    const construct = stack.node.findChild('SalesNav') as SalesNavigatorExport;
    expect(Object.keys(construct.alarms).sort()).toEqual([
      'ItemsFailedAlarm',
      'NoSuccessfulRunAlarm',
      'RunFailedAlarm',
      'RunOverdueAlarm',
      'ScheduleDroppedAlarm',
      'TokenExpiresIn14DaysAlarm',
      'TokenExpiresIn1DaysAlarm',
      'TokenExpiresIn7DaysAlarm',
    ]);
    expect(construct.runWatchdog).toBeDefined();
    expect(construct.accessLogsBucket).toBeDefined();
    expect(Object.keys(construct.functions)).toHaveLength(6);
    expect(Object.keys(construct.crmFunctions)).toHaveLength(5);
    expect([construct.exportRun, construct.exportJob, construct.exportCrmJob].every(Boolean)).toBe(true);
  });

  it('grants no KMS action without a key', () => {
    expect([...grants(template).keys()].filter((a) => a.startsWith('kms:'))).toEqual([]);
  });
});

describe('SalesNavigatorExport into an existing SSE-KMS bucket, secret and topic', () => {
  const { template } = synth((stack) => ({
    bucket: Bucket.fromBucketName(stack, 'Lake', 'platform-lake'),
    encryptionKey: Key.fromKeyArn(stack, 'LakeKey', KEY_ARN),
    tokenSecret: Secret.fromSecretCompleteArn(stack, 'Token', SECRET_ARN),
    tokenSecretKey: Key.fromKeyArn(stack, 'TokenKey', SECRET_KEY_ARN),
    alarmTopic: Topic.fromTopicArn(stack, 'Alarms', TOPIC_ARN),
    bucketPrefix: 'salesnav',
  }));

  it('creates no bucket, secret or topic, and the alarms notify the given topic', () => {
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(8);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([TOPIC_ARN]);
  });

  it('lets the writers generate data keys and the readers decrypt with the bucket key, and nothing else', () => {
    const g = grants(template);
    expect(g.get('kms:GenerateDataKey')?.every((r) => r === KEY_ARN)).toBe(true);
    // PlanRun, CheckJob, CopyToS3, RecordFailure, FinishRun write, CreateJob writes its item lease; the
    // CRM copy, commit and failure write too.
    expect(g.get('kms:GenerateDataKey')).toHaveLength(9);
    expect(new Set(g.get('kms:Decrypt'))).toEqual(new Set([KEY_ARN, SECRET_KEY_ARN]));
  });

  it('lets the ExportRun state machine decrypt the lanes it reads', () => {
    const roles = Object.entries(template.findResources('AWS::IAM::Role'))
      .filter(([, r]) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('states.amazonaws.com'),
      )
      .map(([id]) => id);
    const decryptors = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) =>
        (p.Properties.PolicyDocument.Statement as Record<string, unknown>[]).some(
          (s) =>
            ([s.Action].flat() as string[]).includes('kms:Decrypt') &&
            flattenIntrinsics(s.Resource) === KEY_ARN,
        ),
      )
      .flatMap((p) => (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref));
    expect(decryptors.filter((r) => roles.includes(r))).toHaveLength(1);
  });

  it('lets the LinkedIn functions decrypt the secret through Secrets Manager only', () => {
    const secretDecrypts = statements(template, 'kms:Decrypt').filter((s) => s.Resource === SECRET_KEY_ARN);
    expect(secretDecrypts).toHaveLength(7); // four analytics and three CRM functions call LinkedIn
    for (const s of secretDecrypts) {
      expect(s.Condition).toEqual({
        StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
      });
    }
  });

  it('refuses a retention for a bucket it does not manage', () => {
    const stack = new Stack(newApp(), 'Refused');
    expect(
      () =>
        new SalesNavigatorExport(stack, 'SalesNav', {
          bucket: Bucket.fromBucketName(stack, 'Lake', 'platform-lake'),
          retentionDays: 30,
        }),
    ).toThrow(/retentionDays applies only to a bucket the construct creates/);
  });
});

describe('SalesNavigatorExport with a key for its bucket, a VPC and tags', () => {
  const { template } = synth((stack) => {
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    return {
      encryptionKey: new Key(stack, 'ExportKey', { enableKeyRotation: true }),
      vpc,
      tags: { team: 'data-platform' },
      alarmEmails: ['a@example.com', 'b@example.com'],
    };
  });

  it('encrypts the created bucket with the key (S3 Bucket Keys on), the access logs stay SSE-S3', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
  });

  it('runs every function in the VPC private subnets with a security group', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(12); // eleven steps and the WatchRuns watchdog
    for (const fn of functions) {
      expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(2);
      expect(fn.Properties.VpcConfig.SecurityGroupIds).toHaveLength(1);
    }
  });

  it('tags its resources and subscribes every address', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      Tags: Match.arrayWith([{ Key: 'team', Value: 'data-platform' }]),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([{ Key: 'team', Value: 'data-platform' }]),
    });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
  });
});

// biome-ignore lint/suspicious/noExplicitAny: template JSON walked loosely in one test.
type Json = any;

describe('two pipelines in one account', () => {
  it('share no physical name, whether two stacks or two constructs in one stack', () => {
    const app = newApp();
    const dev = new SalesNavExportStack(app, 'SalesNavExport-dev', {
      config: loadConfig({ stackName: 'SalesNavExport-dev' }),
    });
    const prod = new SalesNavExportStack(app, 'SalesNavExport-prod', {
      config: loadConfig({ stackName: 'SalesNavExport-prod' }),
    });
    const shared = new Stack(app, 'Shared', { env: ENV });
    new SalesNavigatorExport(shared, 'TeamA');
    new SalesNavigatorExport(shared, 'TeamB');
    // A physical name clashes only with another of the same resource type (an Athena workgroup and a
    // schedule group may share one).
    const names = [dev, prod, shared].flatMap((stack) =>
      Object.values(
        Template.fromStack(stack).toJSON().Resources as Record<
          string,
          { Type: string; Properties?: Record<string, unknown> }
        >,
      ).flatMap((r) =>
        ['StateMachineName', 'Name', 'LogGroupName', 'AlarmName', 'TopicName']
          .map((k) => r.Properties?.[k])
          .filter((n): n is string => typeof n === 'string')
          .map((n) => `${r.Type} ${n}`),
      ),
    );
    expect(names.length).toBeGreaterThanOrEqual(4 * 7);
    expect(names.length).toBe(new Set(names).size);

    // Nor a metric: each pipeline's functions publish, and its alarms read, their own `service`
    // dimension (the namespace is shared), so dev's failures never fire prod's alarms.
    const services = [dev, prod, shared].map((stack) => {
      type Resource = { Type: string; Properties: Record<string, never> & Json };
      const resources = Object.values(
        Template.fromStack(stack).toJSON().Resources as Record<string, Resource>,
      );
      const published = resources
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map((r) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME as string);
      const watched = resources
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
        .flatMap((r) => [
          r.Properties,
          ...(r.Properties.Metrics ?? []).map((m: Json) => m.MetricStat?.Metric),
        ])
        .flatMap((m) => (m?.Dimensions ?? []) as { Name: string; Value: string }[])
        .filter((d) => d.Name === 'service')
        .map((d) => d.Value);
      return { published: new Set(published), watched: new Set(watched) };
    });
    expect(services.map((x) => [...x.published].sort())).toEqual([
      ['salesnav-export-SalesNavExport-dev'],
      ['salesnav-export-SalesNavExport-prod'],
      ['salesnav-export-Shared-TeamA', 'salesnav-export-Shared-TeamB'],
    ]);
    expect(services.map((x) => [...x.watched].sort())).toEqual([
      ['salesnav-export-SalesNavExport-dev'],
      ['salesnav-export-SalesNavExport-prod'],
      ['salesnav-export-Shared-TeamA', 'salesnav-export-Shared-TeamB'],
    ]);
  });

  it('the sample stack keeps the `service` dimension earlier versions published', () => {
    const stack = new SalesNavExportStack(newApp(), 'SalesNavExport', { config: loadConfig({}) });
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    for (const fn of Object.values(fns)) {
      expect(fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe('salesnav-export');
    }
  });
});
