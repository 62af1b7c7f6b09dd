// The secure defaults of the SalesNavigatorExport construct, in one place (the config schema reads them too).
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, BucketEncryption, type BucketProps, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { DEFAULT_MAP_CONCURRENCY } from './workflow.ts';

/**
 * Every default of `SalesNavigatorExportProps` (modelled on AWS Solutions Constructs' `*-defaults.ts`):
 * the construct and the sample app's config schema (lib/config.ts) both read them from here.
 */
export const EXPORT_DEFAULTS = {
  /** Days a current export object is kept (LinkedIn's data-use terms favour minimal storage). */
  retentionDays: 90,
  /** Days a replaced or expired object version is kept before it is deleted for good. */
  noncurrentRetentionDays: 7,
  /** Log groups and S3 server access logs: finite, a month. */
  logRetention: RetentionDays.ONE_MONTH,
  logLevel: 'INFO',
  /** 07:00 every day, EventBridge Scheduler's 6-field cron. */
  scheduleExpression: 'cron(0 7 * * ? *)',
  scheduleTimeZone: 'UTC',
  scheduleEnabled: true,
  mapConcurrency: DEFAULT_MAP_CONCURRENCY,
  bucketPrefix: '',
  /** RunOverdue fires when an ExportRun has been running this long (the next daily run is near). */
  overdueRunHours: 20,
  /** NoSuccessfulRun fires when no ExportRun succeeded in this many hours (a daily run + 6 h). */
  maxHoursWithoutSuccess: 30,
  /** Token expiry alarms this many days before the token expires (each stays in ALARM after). */
  tokenExpiryAlarmDays: [14, 7, 1] as readonly number[],
  /** Rotation by refresh token is opt-in: LinkedIn issues refresh tokens only to approved apps. */
  tokenRotation: false,
  /** With rotation: this many days before the 60-day expiry. */
  tokenRotationDaysBeforeExpiry: 10,
  /** The Glue/Athena lake is created. */
  lake: true,
  /** One Athena query scans at most 10 GiB (about $0.05). */
  athenaScanLimitGb: 10,
} as const;

/**
 * Settings shared by both created buckets: private, TLS 1.2+ only, ACLs disabled, SSE-S3, never deleted
 * with the stack. SSE-S3 unless the construct is given a KMS key: access is governed by IAM and the
 * bucket policy, a customer-managed key would add a key policy to every downstream reader (Athena,
 * Glue, people) and a KMS request per object without narrowing who can read, and S3 server access
 * logs can only be delivered to an SSE-S3 bucket.
 */
export const HARDENED_BUCKET: BucketProps = {
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  encryption: BucketEncryption.S3_MANAGED,
  objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
  removalPolicy: RemovalPolicy.RETAIN,
};
