// The SalesNavExport stack of the sample app (bin/app.ts): the parsed config mapped onto the construct.
import { Stack, type StackProps } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { Config } from './config.ts';
import { SalesNavigatorExport, type SalesNavigatorExportProps } from './sales-navigator-export.ts';

export { METRICS_NAMESPACE, SERVICE_NAME } from './sales-navigator-export.ts';

export interface SalesNavExportStackProps extends StackProps {
  readonly config: Config;
}

/**
 * One SalesNavigatorExport in a stack of its own, configured by the sample app's config (lib/config.ts).
 * The construct's id is 'Default', which CDK leaves out of logical ids: the resources keep the ids they
 * had when the stack built them itself, so existing deployments update in place.
 */
export class SalesNavExportStack extends Stack {
  readonly export: SalesNavigatorExport;

  constructor(scope: Construct, id: string, props: SalesNavExportStackProps) {
    super(scope, id, props);
    this.export = new SalesNavigatorExport(this, 'Default', configToProps(this, props.config));
  }

  get bucket() {
    return this.export.bucket;
  }
  get tokenSecret() {
    return this.export.tokenSecret;
  }
  get functions() {
    return this.export.functions;
  }
  get crmFunctions() {
    return this.export.crmFunctions;
  }
  get exportRun() {
    return this.export.exportRun;
  }
  get exportJob() {
    return this.export.exportJob;
  }
  get exportCrmJob() {
    return this.export.exportCrmJob;
  }
  get tokenLifecycle() {
    return this.export.tokenLifecycle;
  }
  get alarmTopic() {
    return this.export.alarmTopic;
  }
  get runWatchdog() {
    return this.export.runWatchdog;
  }
}

/** The construct props of a parsed config: imported resources are looked up by the ARN or name it gives. */
export function configToProps(scope: Construct, config: Config): SalesNavigatorExportProps {
  const vpc = config.vpcId
    ? Vpc.fromVpcAttributes(scope, 'ImportedVpc', { vpcId: config.vpcId, availabilityZones: [] })
    : undefined;
  return {
    settings: config.settings,
    bucketPrefix: config.bucketPrefix,
    ...(config.bucketName
      ? { bucket: Bucket.fromBucketName(scope, 'ImportedBucket', config.bucketName) }
      : { retentionDays: config.retentionDays }),
    encryptionKey: config.encryptionKeyArn
      ? Key.fromKeyArn(scope, 'ImportedEncryptionKey', config.encryptionKeyArn)
      : undefined,
    tokenSecret: config.tokenSecretArn
      ? Secret.fromSecretCompleteArn(scope, 'ImportedTokenSecret', config.tokenSecretArn)
      : undefined,
    tokenSecretKey: config.tokenSecretKeyArn
      ? Key.fromKeyArn(scope, 'ImportedTokenSecretKey', config.tokenSecretKeyArn)
      : undefined,
    alarmTopic: config.alarmTopicArn
      ? Topic.fromTopicArn(scope, 'ImportedAlarmTopic', config.alarmTopicArn)
      : undefined,
    alarmEmails: config.alarmEmails,
    operatorRoleArns: config.operatorRoleArns,
    scheduleExpression: config.scheduleExpression,
    scheduleTimeZone: config.scheduleTimeZone,
    scheduleEnabled: config.scheduleEnabled,
    mapConcurrency: config.mapConcurrency,
    overdueRunHours: config.overdueRunHours,
    maxHoursWithoutSuccess: config.maxHoursWithoutSuccess,
    tokenExpiryAlarmDays: config.tokenExpiryAlarmDays,
    tokenRotation: config.tokenRotation,
    tokenRotationDaysBeforeExpiry: config.tokenRotationDaysBeforeExpiry,
    clientSecretArn: config.clientSecretArn,
    lake: config.lake,
    glueDatabaseName: config.glueDatabaseName,
    athenaScanLimitGb: config.athenaScanLimitGb,
    logRetention: config.logRetentionDays,
    logLevel: config.logLevel,
    vpc,
    vpcSubnets: vpc && {
      subnets: (config.subnetIds ?? []).map((id, i) => Subnet.fromSubnetId(scope, `ImportedSubnet${i}`, id)),
    },
    securityGroups: config.securityGroupIds?.map((id, i) =>
      SecurityGroup.fromSecurityGroupId(scope, `ImportedSecurityGroup${i}`, id),
    ),
    tags: config.tags,
  };
}
