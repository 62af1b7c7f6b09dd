import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '#common/settings';
import { type Config, loadConfig } from '#lib/config';
import { flattenIntrinsics } from '#lib/constructs/nag';
import { SalesNavExportStack } from '#lib/stack';

describe('loadConfig', () => {
  it('gives every key its production default', () => {
    expect(loadConfig({})).toEqual({
      stackName: 'SalesNavExport',
      nag: false,
      bucketPrefix: '',
      retentionDays: 90,
      lake: true,
      athenaScanLimitGb: 10,
      scheduleExpression: 'cron(0 7 * * ? *)',
      scheduleTimeZone: 'UTC',
      scheduleEnabled: true,
      alarmEmails: [],
      maxHoursWithoutSuccess: 30,
      mapConcurrency: 3000,
      logRetentionDays: 30,
      logLevel: 'INFO',
      tokenExpiryAlarmDays: [14, 7, 1],
      tokenRotation: false,
      tokenRotationDaysBeforeExpiry: 10,
      overdueRunHours: 20,
      settings: parseSettings({}),
    } satisfies Config);
  });

  it('reads the token keys: alarm days as a list, rotation and its days, a client secret only with rotation', () => {
    expect(
      loadConfig({
        tokenExpiryAlarmDays: '21, 3',
        tokenRotation: 'true',
        tokenRotationDaysBeforeExpiry: '5',
      }),
    ).toMatchObject({ tokenExpiryAlarmDays: [21, 3], tokenRotation: true, tokenRotationDaysBeforeExpiry: 5 });
    expect(loadConfig({ tokenExpiryAlarmDays: [30] }).tokenExpiryAlarmDays).toEqual([30]);
    expect(() => loadConfig({ tokenExpiryAlarmDays: '0' })).toThrow(/tokenExpiryAlarmDays/);
    expect(() => loadConfig({ tokenRotationDaysBeforeExpiry: '60' })).toThrow(
      /tokenRotationDaysBeforeExpiry/,
    );
    expect(() =>
      loadConfig({ clientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:client-AbCdEf' }),
    ).toThrow(/clientSecretArn: clientSecretArn is only used with tokenRotation=true/);
  });

  it('reads the CDK context of a construct, where -c values arrive as strings', () => {
    const app = new App({
      context: {
        mapConcurrency: '12',
        retentionDays: '30',
        scheduleEnabled: 'false',
        logRetentionDays: '90',
        logLevel: 'debug',
        bucketPrefix: '/team/salesnav/',
        allowedDownloadHosts: '127.0.0.1, files.example.com',
        settings: '{"poll":{"initialSeconds":5},"lagDays":3}',
        '@aws-cdk/core:someFeatureFlag': true,
      },
    });
    const config = loadConfig(app.node);
    expect(config).toMatchObject({
      mapConcurrency: 12,
      retentionDays: 30,
      scheduleEnabled: false,
      logRetentionDays: 90,
      logLevel: 'DEBUG',
      bucketPrefix: 'team/salesnav',
    });
    expect(config.settings).toMatchObject({
      allowedDownloadHosts: ['127.0.0.1', 'files.example.com'],
      lagDays: 3,
      poll: { initialSeconds: 5, factor: 2 },
    });
  });

  it('accepts real JSON types from cdk.json, and lets the flat shortcuts win over settings', () => {
    const config = loadConfig({
      mapConcurrency: 8,
      scheduleEnabled: true,
      lagDays: 0,
      allowedDownloadHosts: ['*.licdn.com'],
      settings: { lagDays: 5, allowedDownloadHosts: ['*.example.com'], maxItemsPerRun: 10 },
    });
    expect(config.mapConcurrency).toBe(8);
    expect(config.settings).toMatchObject({
      lagDays: 0,
      allowedDownloadHosts: ['*.licdn.com'],
      maxItemsPerRun: 10,
    });
  });

  it.each([
    ['mapConcurrency', '10001', /mapConcurrency: .*<=10000.*\(got "10001"\)/],
    ['mapConcurrency', 'four', /mapConcurrency: .*expected number/],
    ['retentionDays', '0', /retentionDays: .*>=1/],
    ['scheduleEnabled', 'yes', /scheduleEnabled: .*expected boolean/],
    [
      'scheduleExpression',
      '0 7 * * *',
      /scheduleExpression: must be cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/,
    ],
    ['scheduleTimeZone', 'Mars/Olympus_Mons', /scheduleTimeZone: is not an IANA time zone/],
    ['alarmEmail', 'ops-at-example.com', /alarmEmail: .*email/i],
    ['logRetentionDays', '10', /logRetentionDays: must be one of 1, 3, 5, 7, 14, 30/],
    ['logLevel', 'LOUD', /logLevel: /],
    ['bucketName', 'My_Bucket', /bucketName: is not a valid S3 bucket name/],
    ['bucketPrefix', 'a//b', /bucketPrefix: must be path segments/],
    ['bucketPrefix', 'data/*', /bucketPrefix: must be path segments/],
    [
      'tokenSecretArn',
      'linkedin-token',
      /tokenSecretArn: must be the complete ARN of a Secrets Manager secret/,
    ],
    [
      'tokenSecretArn',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:linkedin-token',
      /tokenSecretArn: must be the complete ARN .*6-character suffix/,
    ],
    ['stackName', '1-stack', /stackName: must start with a letter/],
    ['lagDays', '31', /lagDays: .*<=30/],
    ['allowedDownloadHosts', '[""]', /allowedDownloadHosts\.0: must be a host name/],
    ['allowedDownloadHosts', '*', /allowedDownloadHosts\.0: must be a host name .*not `\*` or `\*\.com`/],
    ['allowedDownloadHosts', '*.com', /allowedDownloadHosts\.0: must be a host name/],
    ['settings', '{"poll":{"initialSeconds":0}}', /settings\.poll\.initialSeconds: .*>=1/],
    ['settings', '{"lagdays":2}', /settings: Unrecognized key: "lagdays"/],
    ['settings', '{"lookBackDays":0}', /settings\.lookBackDays: .*>=1/],
    ['settings', '{"lookBackDays":91}', /settings\.lookBackDays: .*<=90/],
  ])('rejects %s=%s, naming the key', (key, value, message) => {
    expect(() => loadConfig({ [key]: value })).toThrow(message);
  });

  it('takes the look-back of the scheduled run from settings (default 7 days)', () => {
    expect(loadConfig({}).settings.lookBackDays).toBe(7);
    expect(loadConfig({ settings: '{"lookBackDays":14}' }).settings.lookBackDays).toBe(14);
  });

  it('takes overdueRunHours as a whole number of hours below the 21-day run timeout', () => {
    expect(loadConfig({ overdueRunHours: '30' }).overdueRunHours).toBe(30);
    for (const bad of ['0', '2.5', '504', 'soon']) {
      expect(() => loadConfig({ overdueRunHours: bad }), bad).toThrow(/overdueRunHours: /);
    }
    expect(loadConfig({ overdueRunHours: '503' }).overdueRunHours).toBe(503);
  });

  it('reports every bad key at once, one per line, with where to fix them', () => {
    let message = '';
    try {
      loadConfig({ mapConcurrency: '0', alarmEmail: 'nope' });
    } catch (err) {
      message = (err as Error).message;
    }
    const [headline, ...problems] = message.split('\n');
    expect(headline).toBe('Invalid configuration (set it in cdk.json "context" or -c key=value):');
    expect(problems.map((line) => line.trim().split(':')[0]).sort()).toEqual([
      'alarmEmail',
      'mapConcurrency',
    ]);
  });
});

describe('imported bucket and secret', () => {
  const bucketName = 'existing-exports';
  const tokenSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:linkedin-token-AbCdEf';

  let template: Template;

  beforeAll(() => {
    // Bundling is skipped: these tests are about the template, not the code.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new SalesNavExportStack(app, 'Imported', {
      config: loadConfig({ bucketName, tokenSecretArn, bucketPrefix: 'salesnav' }),
    });
    template = Template.fromStack(stack);
  });

  it('creates neither a bucket nor a secret', () => {
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('points the functions and their grants at the imported ones', () => {
    const all = Object.values(template.findResources('AWS::Lambda::Function'));
    // The run watchdog reads Step Functions only: no bucket.
    const functions = all.filter((fn) => !String(fn.Properties.Description).startsWith('Hourly: publishes'));
    expect(all).toHaveLength(12);
    expect(functions).toHaveLength(11); // six analytics functions and five CRM ones
    for (const fn of functions) expect(fn.Properties.Environment.Variables.BUCKET_NAME).toBe(bucketName);
    const linkedin = functions.filter((fn) => 'TOKEN_SECRET_ARN' in fn.Properties.Environment.Variables);
    expect(linkedin.map((fn) => fn.Properties.Environment.Variables.TOKEN_SECRET_ARN)).toEqual(
      Array(7).fill(tokenSecretArn), // four analytics functions and three CRM ones call LinkedIn
    );

    const resources = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Resource: unknown }[]).flatMap((s) =>
        [s.Resource].flat().map(flattenIntrinsics),
      ),
    );
    expect(resources).toContain(tokenSecretArn);
    expect(resources).toContain(`arn:<AWS::Partition>:s3:::${bucketName}/salesnav/manifests/*`);
    expect(resources).toContain(`arn:<AWS::Partition>:s3:::${bucketName}/salesnav/sales-navigator/*`);
    expect(
      resources.filter(
        (r) => r.includes(':s3:::') && !r.startsWith(`arn:<AWS::Partition>:s3:::${bucketName}`),
      ),
    ).toEqual([]);
  });

  it('outputs the imported names', () => {
    expect(template.findOutputs('BucketName').BucketName?.Value).toBe(bucketName);
    expect(template.findOutputs('TokenSecretArn').TokenSecretArn?.Value).toBe(tokenSecretArn);
  });
});
