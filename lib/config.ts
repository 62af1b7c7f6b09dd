// The sample app's configuration: one zod schema over config/<env>.json, cdk.json and -c context, errors naming the key.
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import * as z from 'zod';
import { CrmSettingsSchema, SettingsSchema } from '#common/settings';
import { EXPORT_DEFAULTS } from './construct-defaults.ts';
import { scheduleExpressionProblem } from './schedule-expression.ts';
import { EXPORT_RUN_TIMEOUT, MAX_MAP_CONCURRENCY } from './workflow.ts';

/**
 * `-c key=value` always delivers a string, while cdk.json may hold the real type. Strings that
 * are JSON (`4`, `true`, `["a"]`, `{"lagDays":2}`) are parsed before validation; anything else is
 * left as is for the schema to accept or reject.
 */
function fromContext<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => {
    if (typeof value !== 'string' || value.trim() === '') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }, schema);
}

/** A JSON array, or a comma-separated list (`-c allowedDownloadHosts=a.example.com,b.example.com`). */
function listFromContext<T extends z.ZodType>(schema: T) {
  return fromContext(
    z.preprocess(
      (value) =>
        typeof value === 'string'
          ? value
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : value,
      schema,
    ),
  );
}

/** Finite CloudWatch Logs retentions: logs of a job that handles member data are not kept forever. */
const LOG_RETENTIONS = Object.values(RetentionDays).filter(
  (v): v is RetentionDays => typeof v === 'number' && v !== RetentionDays.INFINITE,
);

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const settingsShape = SettingsSchema.shape;

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const KEY_ARN_MESSAGE = 'must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<key id>)';
/** What `aws:PrincipalArn` holds for an IAM role, user or the account root; `*` and `?` as ArnLike matches them. */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(?:root|(?:role|user)\/[\w+=,.@*?/-]{1,512})$/;
const PRINCIPAL_ARN_MESSAGE =
  'must be the ARN of an IAM role or user (arn:aws:iam::<account>:role/<path/name>; * and ? match as in ArnLike), not an assumed-role session';

/**
 * Every deploy-time setting of the stack, read from CDK context: cdk.json `"context"` or
 * `cdk deploy -c key=value`. Each key is optional and has a production default.
 */
export const ConfigSchema = z
  .object({
    /**
     * CloudFormation stack name. It also names the state machines (`<stackName>-ExportRun`,
     * `<stackName>-ExportJob`) and the schedule group (at most 64 characters), hence its limit.
     * @default 'SalesNavExport'
     */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'must start with a letter and use only letters, digits and -')
      .default('SalesNavExport'),
    /**
     * Run the cdk-nag AwsSolutions checks during synthesis (`-c nag=true`); unacknowledged findings fail it.
     * @default false
     */
    nag: fromContext(z.boolean()).default(false),
    /**
     * Import this existing bucket instead of creating one. The stack then manages neither its
     * encryption nor its lifecycle (retention): the bucket's owner does. An SSE-KMS bucket also
     * needs the functions' roles granted on its key.
     * @default - a hardened, versioned bucket is created and retained on stack deletion
     */
    bucketName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'is not a valid S3 bucket name')
      .optional(),
    /**
     * Key prefix for everything the pipeline writes (`<prefix>/sales-navigator/...`,
     * `<prefix>/manifests/...`). Leading and trailing `/` are removed.
     * @default '' (bucket root)
     */
    bucketPrefix: z
      .string()
      .transform((s) => s.replace(/^\/+|\/+$/g, ''))
      .pipe(
        z
          .string()
          .max(200)
          .regex(
            /^(?:[A-Za-z0-9!_.'()-]+(?:\/[A-Za-z0-9!_.'()-]+)*)?$/,
            "must be path segments of [A-Za-z0-9!_.'()-] joined by /",
          ),
      )
      .default(''),
    /**
     * Days a current export object is kept (LinkedIn's data-use terms favour minimal storage).
     * Noncurrent versions expire 7 days after being replaced or deleted. Only for a created bucket.
     * @default 90
     */
    retentionDays: fromContext(z.number().int().min(1).max(3650)).default(EXPORT_DEFAULTS.retentionDays),
    /**
     * Create the query-ready lake: a Glue database with a table and a view per dataset, an Athena
     * workgroup, and FinishRun registering each run's partitions (README "Query your data").
     * @default true
     */
    lake: fromContext(z.boolean()).default(EXPORT_DEFAULTS.lake),
    /**
     * Name of the lake's Glue database (lower-case letters, digits and `_`, as Athena requires).
     * @default - the stack name in snake case (`SalesNavExport` → `sales_nav_export`)
     */
    glueDatabaseName: z
      .string()
      .regex(
        /^[a-z0-9_]{1,255}$/,
        'must be lower-case letters, digits and _ (at most 255), as Athena requires',
      )
      .optional(),
    /**
     * The lake's Athena workgroup cancels a query that scans more than this many GiB (Athena bills
     * $5 per TB scanned, so the default caps one query at about $0.05).
     * @default 10
     */
    athenaScanLimitGb: fromContext(z.number().int().min(1).max(1_000_000)).default(
      EXPORT_DEFAULTS.athenaScanLimitGb,
    ),
    /**
     * Complete ARN (ending in the 6-character suffix Secrets Manager adds) of an existing secret
     * holding `{"accessToken","expiresAt"}`, instead of creating one. IAM grants need the complete ARN.
     * @default - a secret with an empty placeholder value is created and retained on stack deletion
     */
    tokenSecretArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
        'must be the complete ARN of a Secrets Manager secret, with its 6-character suffix (aws secretsmanager describe-secret)',
      )
      .optional(),
    /**
     * ARN of a KMS key for the bucket: a created bucket is encrypted with it (SSE-KMS); with `bucketName`,
     * the key that bucket is encrypted with. The functions get only the key actions they need.
     * @default - SSE-S3, no key
     */
    encryptionKeyArn: z.string().regex(KEY_ARN, KEY_ARN_MESSAGE).optional(),
    /**
     * ARN of the customer-managed KMS key the token secret is (or, when created, will be) encrypted with:
     * the LinkedIn functions get kms:Decrypt on it through Secrets Manager.
     * @default - the AWS-managed key of Secrets Manager
     */
    tokenSecretKeyArn: z.string().regex(KEY_ARN, KEY_ARN_MESSAGE).optional(),
    /**
     * Roles (or users) of the operators who may read the token secret besides the functions, e.g. to run
     * `npm run token -- status --stack`: IAM ARNs as a JSON array or comma-separated; `*` and `?` match as
     * in ArnLike (an IAM Identity Center role has a path: `role/aws-reserved/sso.amazonaws.com/*`).
     * Everyone else is denied secretsmanager:GetSecretValue by the secret's resource policy.
     * @default - none: only the pipeline's functions read the token
     */
    operatorRoleArns: listFromContext(
      z.array(z.string().regex(PRINCIPAL_ARN, PRINCIPAL_ARN_MESSAGE)).max(50),
    ).optional(),
    /**
     * VPC the functions run in (with `subnetIds`, and optionally `securityGroupIds`). They then need a
     * route to LinkedIn (NAT gateway) and to S3, Secrets Manager and CloudWatch.
     * @default - not VPC-attached
     */
    vpcId: z
      .string()
      .regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-...)')
      .optional(),
    /**
     * Subnets of `vpcId` for the functions (JSON array or comma-separated).
     * @default - none (required with vpcId)
     */
    subnetIds: listFromContext(
      z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id (subnet-...)')).min(1),
    ).optional(),
    /**
     * Security groups of the functions in `vpcId` (JSON array or comma-separated).
     * @default - one security group allowing all outbound traffic
     */
    securityGroupIds: listFromContext(
      z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id (sg-...)')).min(1),
    ).optional(),
    /**
     * Tags added to every resource of the stack, as an object (`{"team":"data"}`).
     * @default - none
     */
    tags: fromContext(z.record(z.string().min(1).max(128), z.string().max(256))).optional(),
    /**
     * Days before the token's expiry at which an alarm fires: one alarm per value (TokenExpiresInDays
     * below it), as a JSON array or comma-separated. Each stays in ALARM after the expiry.
     * @default [14, 7, 1]
     */
    tokenExpiryAlarmDays: listFromContext(
      z.array(z.coerce.number().int().min(1).max(59)).min(1).max(5),
    ).default([14, 7, 1]),
    /**
     * Rotate the token secret with LinkedIn's refresh token (Secrets Manager rotation, RotateToken
     * function). Only for applications LinkedIn approved for programmatic refresh tokens; needs the
     * client secret in its own secret (created empty, output ClientSecretArn, or `clientSecretArn`).
     * @default false
     */
    tokenRotation: fromContext(z.boolean()).default(false),
    /**
     * With `tokenRotation`: rotate this many days before the 60-day expiry (the schedule is
     * rate(60 - N days) after the last rotation or login).
     * @default 10
     */
    tokenRotationDaysBeforeExpiry: fromContext(z.number().int().min(1).max(55)).default(10),
    /**
     * With `tokenRotation`: complete ARN of an existing secret holding `{"clientId","clientSecret"}`
     * of the LinkedIn application, instead of creating one.
     * @default - a secret is created empty and retained on stack deletion
     */
    clientSecretArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/,
        'must be the complete ARN of a Secrets Manager secret, with its 6-character suffix',
      )
      .optional(),
    /**
     * EventBridge Scheduler expression that starts ExportRun with the default window.
     * @default 'cron(0 7 * * ? *)' (07:00 every day)
     */
    scheduleExpression: z
      .string()
      .superRefine((expression, ctx) => {
        const problem = scheduleExpressionProblem(expression);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default(EXPORT_DEFAULTS.scheduleExpression),
    /**
     * IANA time zone of `scheduleExpression`.
     * @default 'UTC'
     */
    scheduleTimeZone: z
      .string()
      .refine(isTimeZone, 'is not an IANA time zone (e.g. Europe/Paris)')
      .default(EXPORT_DEFAULTS.scheduleTimeZone),
    /**
     * Whether the schedule is enabled; `false` keeps it deployed but paused.
     * @default true
     */
    scheduleEnabled: fromContext(z.boolean()).default(EXPORT_DEFAULTS.scheduleEnabled),
    /**
     * Address subscribed to the alarm topic (failed runs, expiring token, dropped schedules).
     * @default - no subscription; the topic still exists for other subscribers
     */
    alarmEmail: z.email().optional(),
    /**
     * Addresses subscribed to the alarm topic, as a JSON array or comma-separated; `alarmEmail` is added
     * to them. Without any address and without `alarmTopicArn`, synth warns that nobody is notified.
     * @default - none
     */
    alarmEmails: listFromContext(z.array(z.email()).max(100)).optional(),
    /**
     * ARN of an existing standard SNS topic that receives the alarms and the run-failure notifications
     * instead of a created one. Its policy must let `cloudwatch.amazonaws.com` publish (README
     * "Alarms and notifications"); the notifications are published through an IAM role.
     * @default - a TLS-only topic is created
     */
    alarmTopicArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
        'must be the ARN of a standard SNS topic (a FIFO topic takes no e-mail subscription, and CloudWatch alarms do not publish to one)',
      )
      .optional(),
    /**
     * Hours without a successful ExportRun execution after which the NoSuccessfulRun alarm fires
     * (2-168: CloudWatch evaluates an alarm over at most 7 days). Raise it with a schedule slower than daily.
     * @default 30 (a daily run, plus 6 hours for a slow one)
     */
    maxHoursWithoutSuccess: fromContext(z.number().int().min(2).max(168)).default(
      EXPORT_DEFAULTS.maxHoursWithoutSuccess,
    ),
    /**
     * The RunOverdue alarm fires when an ExportRun execution has been running longer than this many
     * hours (checked hourly by the WatchRuns function): the next daily run is near. Below ExportRun's
     * own timeout (21 days), which ends such a run TIMED_OUT (RunFailed alarm).
     * @default 20
     */
    overdueRunHours: fromContext(
      z
        .number()
        .int()
        .min(1)
        .max(EXPORT_RUN_TIMEOUT.toHours() - 1),
    ).default(EXPORT_DEFAULTS.overdueRunHours),
    /**
     * Lanes (contract × dataset) exported at the same time by one run: the MaxConcurrency of the
     * ExportEach Distributed Map (at most 10,000, Step Functions' limit). Each lane runs its windows
     * one after another (LinkedIn runs one job per endpoint per contract), while lanes of different
     * contracts are independent: the default runs a daily run of 1,000 contracts × 3 datasets at once.
     * Lower it to spread LinkedIn calls when the application or the member hits LinkedIn's daily
     * rate limits (429, reset at midnight UTC): every running lane polls its job.
     * @default 3000
     */
    mapConcurrency: fromContext(z.number().int().min(1).max(MAX_MAP_CONCURRENCY)).default(
      EXPORT_DEFAULTS.mapConcurrency,
    ),
    /**
     * Retention of the functions' and state machines' log groups and of S3 server access logs.
     * One of CloudWatch Logs' retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, ...); never infinite.
     * @default 30
     */
    logRetentionDays: fromContext(
      z
        .number()
        .refine((n) => LOG_RETENTIONS.includes(n), `must be one of ${LOG_RETENTIONS.join(', ')}`)
        .transform((n) => n as RetentionDays),
    ).default(EXPORT_DEFAULTS.logRetention),
    /**
     * Powertools log level of every function.
     * @default 'INFO'
     */
    logLevel: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']))
      .default(EXPORT_DEFAULTS.logLevel),
    /**
     * Runtime settings of the functions (`SettingsSchema` in lambdas/common/settings.ts), as an
     * object in cdk.json or JSON with `-c`. Passed to every function as `EXPORT_SETTINGS`.
     * @default - every runtime default
     */
    settings: fromContext(SettingsSchema.prefault({})),
    /**
     * Shortcut for `settings.lagDays`; wins over it when both are set.
     * @default - settings.lagDays
     */
    lagDays: fromContext(settingsShape.lagDays.removeDefault()).optional(),
    /**
     * Shortcut for `settings.allowedDownloadHosts` (JSON array or comma-separated); wins over it.
     * @default - settings.allowedDownloadHosts
     */
    allowedDownloadHosts: listFromContext(settingsShape.allowedDownloadHosts.removeDefault()).optional(),
    /**
     * CRM instances whose stale-contact exports (CRM data validation) every run adds, as a JSON array or
     * separated by spaces or `;` (a URN holds a comma): `urn:li:crmInstance:(DYNAMICS,<instance id>)`.
     * Shortcut for `settings.crm.instances`; wins over it.
     * @default - settings.crm.instances (none: the family is off)
     */
    crmInstances: fromContext(
      z.preprocess(
        (value) => (typeof value === 'string' ? value.split(/[\s;]+/).filter(Boolean) : value),
        CrmSettingsSchema.shape.instances.removeDefault(),
      ),
    ).optional(),
  })
  .refine((c) => !c.clientSecretArn || c.tokenRotation, {
    message: 'clientSecretArn is only used with tokenRotation=true',
    path: ['clientSecretArn'],
  })
  .transform(({ lagDays, allowedDownloadHosts, crmInstances, settings, ...rest }) => ({
    ...rest,
    // Every address, `alarmEmail` (the original single-address key) first, each once.
    alarmEmails: [...new Set([rest.alarmEmail, ...(rest.alarmEmails ?? [])].filter((e) => e !== undefined))],
    settings: {
      ...settings,
      ...(lagDays !== undefined && { lagDays }),
      ...(allowedDownloadHosts !== undefined && { allowedDownloadHosts }),
      ...(crmInstances !== undefined && { crm: { ...settings.crm, instances: crmInstances } }),
    },
  }));

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The keys of the configuration, in schema order. */
export const CONFIG_KEYS = Object.keys(ConfigSchema.in.shape) as (keyof ConfigInput)[];

/** Where a setting came from. */
export type ConfigSource = 'default' | 'context' | `file ${string}`;

/** A configuration error: one message naming every bad key and its fix (bin/app.ts prints it, no stack). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Settings that cannot apply together: given both, one would be silently ignored. */
const CONFLICTS: { keys: [string, string]; message: string }[] = [
  {
    keys: ['retentionDays', 'bucketName'],
    message:
      'retentionDays applies only to a bucket the stack creates; bucketName imports a bucket whose lifecycle its owner manages. Remove retentionDays, or set the expiration on that bucket.',
  },
];
/** Settings that need another one. */
const REQUIRES: { key: string; needs: string; message: string }[] = [
  { key: 'subnetIds', needs: 'vpcId', message: 'subnetIds needs vpcId: give the VPC the subnets belong to.' },
  {
    key: 'securityGroupIds',
    needs: 'vpcId',
    message: 'securityGroupIds needs vpcId: give the VPC the security groups belong to.',
  },
  {
    key: 'vpcId',
    needs: 'subnetIds',
    message: 'vpcId needs subnetIds: list the subnets the functions run in.',
  },
];

/** Context keys that are the sample app's own, not settings (bin/app.ts). */
export const APP_CONTEXT_KEYS = ['env'];

/** What a configuration resolved to, and where each of its settings came from. */
export interface ResolvedConfig {
  config: Config;
  sources: Record<keyof ConfigInput, ConfigSource>;
}

/** The layers of a configuration, lowest first: a file (config/<env>.json), then CDK context (cdk.json, -c). */
export interface ConfigLayers {
  file?: { name: string; values: Record<string, unknown> };
  context?: Record<string, unknown>;
}

/**
 * Validates the layered configuration: context wins over the file, the file over the defaults. Unknown
 * keys are refused with the nearest known key (in a file every key; in the context the plain
 * identifiers, since CDK's own keys carry `:` or `@`), as are settings that cannot apply together.
 * Throws a ConfigError naming every problem and its fix.
 */
export function resolveConfig({ file, context = {} }: ConfigLayers): ResolvedConfig {
  const problems: string[] = [];
  const known = new Set<string>([...CONFIG_KEYS, ...APP_CONTEXT_KEYS]);
  for (const key of Object.keys(file?.values ?? {})) {
    if (key !== '$schema' && !CONFIG_KEYS.includes(key as keyof ConfigInput))
      problems.push(unknownKey(key, file?.name ?? 'the file'));
  }
  for (const key of Object.keys(context)) {
    if (/^[A-Za-z][A-Za-z0-9]*$/.test(key) && !known.has(key))
      problems.push(unknownKey(key, 'the context (-c)'));
  }
  const raw: Record<string, unknown> = {};
  const sources = {} as Record<keyof ConfigInput, ConfigSource>;
  for (const key of CONFIG_KEYS) {
    sources[key] = 'default';
    const fromFile = file?.values[key];
    if (fromFile !== undefined) [raw[key], sources[key]] = [fromFile, `file ${file?.name}`];
    if (context[key] !== undefined) [raw[key], sources[key]] = [context[key], 'context'];
  }
  for (const { keys, message } of CONFLICTS) {
    if (keys.every((k) => raw[k] !== undefined)) problems.push(`${keys[0]}: ${message}`);
  }
  for (const { key, needs, message } of REQUIRES) {
    if (raw[key] !== undefined && raw[needs] === undefined) problems.push(`${key}: ${message}`);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.') || '(configuration)';
      const top = String(issue.path[0] ?? '');
      const value = issue.path.length === 1 ? raw[top] : undefined;
      const got = value === undefined || typeof value === 'object' ? '' : ` (got ${JSON.stringify(value)})`;
      const where =
        top in sources && sources[top as keyof ConfigInput] !== 'default'
          ? `, from ${sources[top as keyof ConfigInput]}`
          : '';
      problems.push(`${key}: ${issue.message}${got}${where}`);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    const from = file
      ? `${file.name}, cdk.json "context" or -c key=value`
      : 'cdk.json "context" or -c key=value';
    throw new ConfigError(`Invalid configuration (set it in ${from}):\n  ${problems.join('\n  ')}`);
  }
  return { config: parsed.data, sources };
}

/**
 * Reads and validates the configuration from a construct's CDK context (usually `app.node`) or from a
 * plain record (tests, scripts), without a file. Throws a ConfigError naming every bad key.
 */
export function loadConfig(source: Node | Record<string, unknown>): Config {
  const context = isNode(source) ? source.getAllContext() : source;
  return resolveConfig({ context }).config;
}

function isNode(source: Node | Record<string, unknown>): source is Node {
  return typeof (source as Node).tryGetContext === 'function';
}

function unknownKey(key: string, where: string): string {
  const near = nearest(key, CONFIG_KEYS);
  return `${key}: is not a setting (in ${where})${near ? `; did you mean ${near}?` : '.'} The settings are listed in config/schema.json and the README "Configuration".`;
}

/** The known key closest to `key` (case-insensitive edit distance at most a third of its length, ≥ 2). */
function nearest(key: string, keys: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of keys) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** The JSON Schema of a config/<env>.json file (committed as config/schema.json, for editor completion). */
export function configJsonSchema(): Record<string, unknown> {
  const fileSchema = z.strictObject({
    $schema: z.string().optional().meta({ description: 'Path of this schema, for editors.' }),
    ...ConfigSchema.in.shape,
  });
  return z.toJSONSchema(fileSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
}
