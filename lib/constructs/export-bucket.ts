// The export bucket and its access-log bucket, with the data-protection defaults.
import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Bucket, BucketEncryption, type LifecycleRule } from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { EXPORT_DEFAULTS, HARDENED_BUCKET as HARDENED } from '../construct-defaults.ts';

export interface ExportBucketProps {
  /** Days a current object is kept before it expires (becomes a noncurrent version). */
  readonly retentionDays: number;
  /**
   * Days a replaced or expired object version is kept before it is deleted for good.
   * @default 7
   */
  readonly noncurrentRetentionDays?: number;
  /** Days S3 server access logs are kept. */
  readonly accessLogRetentionDays: number;
  /**
   * Encrypt the export bucket with this KMS key (SSE-KMS, S3 Bucket Keys on); the access-log bucket
   * stays SSE-S3 (S3 server access logs cannot be delivered to an SSE-KMS bucket).
   * @default - SSE-S3
   */
  readonly encryptionKey?: IKey;
}

/**
 * The destination of the exports: a hardened, versioned bucket whose objects expire after
 * `retentionDays` (LinkedIn's data-use terms favour minimal storage), with server access logs in a
 * second bucket, so every read of member data can be audited.
 */
export class ExportBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: ExportBucketProps) {
    super(scope, id);
    // Deliver access logs through a bucket policy, not the LogDeliveryWrite ACL: ACLs stay disabled.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const {
      retentionDays,
      noncurrentRetentionDays = EXPORT_DEFAULTS.noncurrentRetentionDays,
      accessLogRetentionDays,
      encryptionKey,
    } = props;

    // The log destination does not log itself (cdk-nag's S1 recognises it as the destination).
    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      ...HARDENED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(accessLogRetentionDays) }],
    });

    const lifecycleRules: LifecycleRule[] = [
      { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      {
        id: 'ExpireExports',
        expiration: Duration.days(retentionDays),
        noncurrentVersionExpiration: Duration.days(noncurrentRetentionDays),
      },
      // An expiration leaves a delete marker; once its noncurrent versions are gone, remove it too.
      { id: 'RemoveExpiredDeleteMarkers', expiredObjectDeleteMarker: true },
    ];
    this.bucket = new Bucket(this, 'Bucket', {
      ...HARDENED,
      ...(encryptionKey && { encryption: BucketEncryption.KMS, encryptionKey, bucketKeyEnabled: true }),
      versioned: true,
      lifecycleRules,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'exports/',
    });
  }
}
