// The sample app's configuration: config/<env>.json under the context, strict keys, the Scheduler grammar, the schema, the exit code.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, resolveConfig } from '#lib/config';
import { describeEnvironment, listEnvironments, loadEnvironments } from '#lib/config-files';
import { scheduleExpressionProblem } from '#lib/schedule-expression';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('scheduleExpressionProblem (EventBridge Scheduler grammar)', () => {
  it.each([
    'cron(0 7 * * ? *)',
    'cron(15 12 * * ? *)',
    'cron(0 18 ? * MON-FRI *)',
    'cron(0 8 1 * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0 9 ? * 2#1 *)',
    'cron(0 9 L * ? *)',
    'cron(0 9 3W * ? *)',
    'cron(0 9 ? * 6L 2027)',
    'cron(0 7 * JAN,JUL ? 2026-2030)',
    'rate(1 day)',
    'rate(12 hours)',
    'rate(5 minutes)',
    'at(2027-01-31T07:00:00)',
  ])('accepts %s', (expression) => {
    expect(scheduleExpressionProblem(expression)).toBeUndefined();
  });

  it.each([
    ['cron(0 7 * * *)', /six fields .* got 5/],
    ['cron(0 7 * * * *)', /"\?" in exactly one of day-of-month and day-of-week/],
    ['cron(0 7 ? * ? *)', /"\?" in exactly one/],
    ['cron(60 7 * * ? *)', /minutes field "60": "60" is not 0-59/],
    ['cron(0 24 * * ? *)', /hours field "24"/],
    ['cron(0 7 ? * 8 *)', /day-of-week field "8": "8" is not 1-7 or SUN-SAT/],
    ['cron(0 7 * FOO ? *)', /month field "FOO"/],
    ['cron(0 7 * * ? 1969)', /year field "1969"/],
    ['cron(0 ? * * ? *)', /hours field "\?": "\?" is only allowed in day-of-month and day-of-week/],
    ['cron(0 7 ? * 3#1,6#3 *)', /"#" takes one/],
    ['cron(0 7 ? * 3/2 *)', /"\/" is not allowed/],
    ['rate(1 days)', /must be singular: rate\(1 day\)/],
    ['rate(2 hour)', /must be plural: rate\(2 hours\)/],
    ['rate(0 minutes)', /at least 1/],
    ['rate(1 week)', /minute\(s\)\|hour\(s\)\|day\(s\)/],
    ['at(2027-02-30T07:00:00)', /a real date/],
    ['0 7 * * *', /must be cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/],
  ])('refuses %s', (expression, message) => {
    expect(scheduleExpressionProblem(expression)).toMatch(message);
  });
});

describe('resolveConfig', () => {
  const file = (values: Record<string, unknown>) => ({ name: 'config/prod.json', values });

  it('layers the context over the file over the defaults, and says where each setting came from', () => {
    const { config, sources } = resolveConfig({
      file: file({ $schema: './schema.json', retentionDays: 365, scheduleTimeZone: 'Europe/Paris' }),
      context: { retentionDays: '400', '@aws-cdk/core:someFlag': true, 'aws:cdk:bundling-stacks': [] },
    });
    expect(config).toMatchObject({
      retentionDays: 400,
      scheduleTimeZone: 'Europe/Paris',
      mapConcurrency: 3000,
    });
    expect(sources).toMatchObject({
      retentionDays: 'context',
      scheduleTimeZone: 'file config/prod.json',
      mapConcurrency: 'default',
    });
  });

  it.each([
    [
      { file: file({ retentionDay: 30 }) },
      /retentionDay: is not a setting \(in config\/prod.json\); did you mean retentionDays\?/,
    ],
    [
      { context: { retentionDay: '30' } },
      /retentionDay: is not a setting \(in the context \(-c\)\); did you mean retentionDays\?/,
    ],
    [{ context: { schedulExpression: 'rate(1 day)' } }, /did you mean scheduleExpression\?/],
    [
      { file: file({ colour: 'blue' }) },
      /colour: is not a setting \(in config\/prod.json\)\. The settings are listed/,
    ],
    [
      { file: file({ bucketName: 'team-lake', retentionDays: 30 }) },
      /retentionDays: retentionDays applies only to a bucket the stack creates; bucketName imports/,
    ],
    [
      { context: { bucketName: 'team-lake' }, file: file({ retentionDays: 30 }) },
      /retentionDays: .*Remove retentionDays/,
    ],
    [{ file: file({ subnetIds: ['subnet-0123456789abcdef0'] }) }, /subnetIds: subnetIds needs vpcId/],
    [{ file: file({ vpcId: 'vpc-0123456789abcdef0' }) }, /vpcId: vpcId needs subnetIds/],
    [
      { file: file({ scheduleExpression: 'cron(0 7 * * *)' }) },
      /scheduleExpression: cron\(\.\.\.\) needs six fields .*\(got "cron\(0 7 \* \* \*\)"\), from file config\/prod.json/,
    ],
    [{ file: file({ encryptionKeyArn: 'alias/mine' }) }, /encryptionKeyArn: must be the ARN of a KMS key/],
    [{ file: file({ alarmTopicArn: 'alarms' }) }, /alarmTopicArn: must be the ARN of a standard SNS topic/],
  ])('refuses %j, naming the key and the fix', (layers, message) => {
    expect(() => resolveConfig(layers)).toThrow(message);
  });

  it('accepts an imported bucket without a retention, and the VPC with its subnets', () => {
    const { config } = resolveConfig({
      file: file({
        bucketName: 'team-lake',
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0'],
        securityGroupIds: 'sg-0123456789abcdef0',
        tags: { team: 'data' },
      }),
    });
    expect(config).toMatchObject({ bucketName: 'team-lake', securityGroupIds: ['sg-0123456789abcdef0'] });
  });
});

describe('environments (config/<env>.json)', () => {
  function configDir(files: Record<string, unknown>): string {
    const dir = join(mkdtempSync(join(tmpdir(), 'config-')), 'config');
    mkdirSync(dir);
    for (const [name, values] of Object.entries(files)) {
      writeFileSync(join(dir, name), typeof values === 'string' ? values : JSON.stringify(values));
    }
    return dir;
  }
  const node = (context: Record<string, unknown>) => new App({ context }).node;

  it('builds one environment per name in -c env, the stack named after it unless the file names it', () => {
    const dir = configDir({
      'schema.json': {},
      'dev.json': { retentionDays: 7 },
      'prod.json': { stackName: 'SalesNavExport', retentionDays: 365 },
    });
    expect(listEnvironments(dir)).toEqual(['dev', 'prod']);
    const envs = loadEnvironments(node({ env: 'dev,prod', mapConcurrency: '10' }), dir);
    expect(
      envs.map((e) => [e.env, e.config.stackName, e.config.retentionDays, e.config.mapConcurrency]),
    ).toEqual([
      ['dev', 'SalesNavExport-dev', 7, 10],
      ['prod', 'SalesNavExport', 365, 10],
    ]);
    const [, prod] = envs;
    if (!prod) throw new Error('no prod environment');
    const described = describeEnvironment(prod);
    expect(described).toMatch(/^SalesNavExport \(env prod\):/);
    expect(described).toMatch(/retentionDays +365 +\(file .*prod\.json\)/);
    expect(described).toMatch(/mapConcurrency +10 +\(context\)/);
    expect(described).toMatch(/scheduleExpression +cron\(0 7 \* \* \? \*\) +\(default\)/);
  });

  it('refuses a deploy without -c env once a team environment exists (a plain deploy cannot reset it)', () => {
    const dir = configDir({ 'example.json': {}, 'prod.json': { retentionDays: 365 } });
    expect(() => loadEnvironments(node({}), dir)).toThrow(
      /env: .* configures prod; choose with -c env=<name>/,
    );
    expect(loadEnvironments(node({}), configDir({ 'example.json': {} }))[0]?.config.stackName).toBe(
      'SalesNavExport',
    );
  });

  it('refuses an unknown environment and a file that is not one JSON object', () => {
    const dir = configDir({ 'prod.json': '{"retentionDays": 365,}', 'dev.json': '[1]' });
    expect(() => loadEnvironments(node({ env: 'prd' }), dir)).toThrow(
      /env: no .*prd\.json; the environments are dev, prod/,
    );
    expect(() => loadEnvironments(node({ env: 'prod' }), dir)).toThrow(/prod\.json: is not valid JSON/);
    expect(() => loadEnvironments(node({ env: 'dev' }), dir)).toThrow(/dev\.json: must hold one JSON object/);
  });

  it('accepts the committed example file', () => {
    const [example] = loadEnvironments(node({ env: 'example' }), join(ROOT, 'config'));
    expect(example?.config).toMatchObject({ stackName: 'SalesNavExport-example', retentionDays: 365 });
  });
});

describe('config/schema.json', () => {
  it('is the JSON Schema generated from the zod schema (npm run config:schema after a change)', () => {
    const committed = JSON.parse(readFileSync(join(ROOT, 'config', 'schema.json'), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
    expect(committed.additionalProperties).toBe(false);
    expect(Object.keys(committed.properties)).toContain('retentionDays');
  });
});

describe('the app (bin/app.ts) with a bad setting', () => {
  it('ends with one clean message naming the key and the fix, no stack trace, exit code 1', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'app.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ retentionDay: '30' }) },
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      [
        'Invalid configuration (set it in cdk.json "context" or -c key=value):',
        '  retentionDay: is not a setting (in the context (-c)); did you mean retentionDays? The settings are listed in config/schema.json and the README "Configuration".',
      ].join('\n'),
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
