// The export bucket and its access-log bucket, with the data-protection defaults.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  type LifecycleRule,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

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
}

/**
 * Settings shared by both buckets: private, TLS 1.2+ only, ACLs disabled, SSE-S3, never deleted with
 * the stack. SSE-S3 rather than SSE-KMS: access is governed by IAM and the bucket policy, a
 * customer-managed key would add a key policy to every downstream reader (Athena, Glue, people) and
 * a KMS request per object without narrowing who can read, and S3 server access logs can only be
 * delivered to an SSE-S3 bucket.
 */
const HARDENED: BucketProps = {
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  encryption: BucketEncryption.S3_MANAGED,
  objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
  removalPolicy: RemovalPolicy.RETAIN,
};

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
    const { retentionDays, noncurrentRetentionDays = 7, accessLogRetentionDays } = props;

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
      versioned: true,
      lifecycleRules,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'exports/',
    });
  }
}
