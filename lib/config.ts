// The deploy configuration: one zod schema over cdk.json and -c context, errors naming the key.
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { z } from 'zod';
import { CrmSettingsSchema, SettingsSchema } from '#common/settings';
import { DEFAULT_MAP_CONCURRENCY, EXPORT_RUN_TIMEOUT, MAX_MAP_CONCURRENCY } from './workflow.ts';

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
    retentionDays: fromContext(z.number().int().min(1).max(3650)).default(90),
    /**
     * Create the query-ready lake: a Glue database with a table and a view per dataset, an Athena
     * workgroup, and FinishRun registering each run's partitions (README "Query your data").
     * @default true
     */
    lake: fromContext(z.boolean()).default(true),
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
    athenaScanLimitGb: fromContext(z.number().int().min(1).max(1_000_000)).default(10),
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
     * EventBridge Scheduler expression that starts ExportRun with the default window.
     * @default 'cron(0 7 * * ? *)' (07:00 every day)
     */
    scheduleExpression: z
      .string()
      .regex(/^(?:cron|rate|at)\(.+\)$/, 'must be cron(...), rate(...) or at(...)')
      .default('cron(0 7 * * ? *)'),
    /**
     * IANA time zone of `scheduleExpression`.
     * @default 'UTC'
     */
    scheduleTimeZone: z.string().refine(isTimeZone, 'is not an IANA time zone').default('UTC'),
    /**
     * Whether the schedule is enabled; `false` keeps it deployed but paused.
     * @default true
     */
    scheduleEnabled: fromContext(z.boolean()).default(true),
    /**
     * Address subscribed to the alarm topic (failed runs, expiring token, dropped schedules).
     * @default - no subscription; the topic still exists for other subscribers
     */
    alarmEmail: z.email().optional(),
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
    ).default(20),
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
      DEFAULT_MAP_CONCURRENCY,
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
    ).default(RetentionDays.ONE_MONTH),
    /**
     * Powertools log level of every function.
     * @default 'INFO'
     */
    logLevel: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']))
      .default('INFO'),
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
  .transform(({ lagDays, allowedDownloadHosts, crmInstances, settings, ...rest }) => ({
    ...rest,
    settings: {
      ...settings,
      ...(lagDays !== undefined && { lagDays }),
      ...(allowedDownloadHosts !== undefined && { allowedDownloadHosts }),
      ...(crmInstances !== undefined && { crm: { ...settings.crm, instances: crmInstances } }),
    },
  }));

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The context keys `loadConfig` reads; anything else in the context (feature flags) is ignored. */
export const CONFIG_KEYS = Object.keys(ConfigSchema.in.shape) as (keyof ConfigInput)[];

/**
 * Reads and validates the deploy-time configuration from a construct's CDK context (usually
 * `app.node`) or from a plain record (tests, scripts). Throws an Error naming every bad context
 * key and its problem, so `cdk synth` fails before anything is built.
 */
export function loadConfig(source: Node | Record<string, unknown>): Config {
  const read = (key: string): unknown =>
    isNode(source) ? source.tryGetContext(key) : (source as Record<string, unknown>)[key];
  const raw = Object.fromEntries(
    CONFIG_KEYS.map((key) => [key, read(key)]).filter(([, v]) => v !== undefined),
  );
  const parsed = ConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(context)';
    const value = issue.path.length === 1 ? raw[String(issue.path[0])] : undefined;
    const got = value === undefined || typeof value === 'object' ? '' : ` (got ${JSON.stringify(value)})`;
    return `${key}: ${issue.message}${got}`;
  });
  throw new Error(
    `Invalid CDK context (set it in cdk.json "context" or with -c key=value):\n  ${problems.join('\n  ')}`,
  );
}

function isNode(source: Node | Record<string, unknown>): source is Node {
  return typeof (source as Node).tryGetContext === 'function';
}
