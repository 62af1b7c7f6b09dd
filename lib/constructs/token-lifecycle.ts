// The LinkedIn token's lifecycle in AWS: expiry alarms at thresholds, and (opt-in) rotation with the refresh token.
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  type CfnAlarm,
  ComparisonOperator,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnRotationSchedule, type CfnSecret, type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { renewCommand, renewInstruction } from '#linkedin/token';
import { exportFunction } from './export-function.ts';

/** LinkedIn's access token lifetime ("Authorization Code Flow": 60 days; a refresh gives 60 again). */
export const LINKEDIN_TOKEN_LIFETIME_DAYS = 60;
/** The TokenExpiring alarm of earlier versions (7 days): kept, so CloudFormation updates it in place. */
const LEGACY_ALARM = { days: 7, logicalId: 'TokenExpiringAlarmC13A63E7' };

/** The command the alarms and an expired-token failure name, for this stack. */
export function stackRenewCommand(scope: Construct): string {
  const stack = Stack.of(scope);
  return renewCommand({ stackName: stack.stackName, region: stack.region });
}

export interface TokenLifecycleProps {
  /**
   * Give the 7-day alarm the logical id the stack's TokenExpiring alarm had before, so an upgraded
   * stack updates it in place. Only for the stack's own pipeline (construct id `Default`): two
   * pipelines in one stack would otherwise collide.
   * @default false
   */
  readonly keepLegacyAlarmId?: boolean;
  readonly tokenSecret: ISecret;
  /** Whether the stack created the token secret (cdk-nag's rotation rule applies to it then). */
  readonly tokenSecretCreated: boolean;
  readonly alarmTopic: ITopic;
  /** CloudWatch namespace and `service` dimension of `TokenExpiresInDays`. */
  readonly metricNamespace: string;
  readonly serviceName: string;
  /** One alarm per threshold: TokenExpiresInDays below it. */
  readonly expiryAlarmDays: readonly number[];
  /** Rotation with LinkedIn's refresh token; absent: no rotation (the default). */
  readonly rotation?: {
    /** Rotate this many days before the 60-day expiry. */
    readonly daysBeforeExpiry: number;
    /** An existing `{clientId, clientSecret}` secret; default: one is created empty. */
    readonly clientSecretArn?: string;
    /** The functions' runtime settings (EXPORT_SETTINGS), for the API base URL. */
    readonly settingsJson: string;
    readonly logLevel: string;
    readonly logRetention: RetentionDays;
  };
}

/**
 * Expiry alarms at `expiryAlarmDays` on `TokenExpiresInDays`, which every token read publishes (negative
 * once expired, lambdas/linkedin/token.ts). Missing data keeps the alarm's state (`ignore`): the daily
 * datapoint keeps an alarm in ALARM after the expiry, and a day without a run neither raises nor clears one.
 *
 * With `rotation`: the RotateToken function, a rotation schedule `daysBeforeExpiry` days before the
 * expiry, the client secret in a secret of its own, and an alarm when a rotation step fails.
 */
export class TokenLifecycle extends Construct {
  readonly expiryAlarms: Alarm[];
  readonly rotationFunction?: LambdaFunction;
  readonly clientSecret?: ISecret;
  readonly rotationFailedAlarm?: Alarm;

  constructor(scope: Construct, id: string, props: TokenLifecycleProps) {
    super(scope, id);
    const command = stackRenewCommand(this);
    const action = new SnsAction(props.alarmTopic);
    const metric = new Metric({
      namespace: props.metricNamespace,
      metricName: 'TokenExpiresInDays',
      dimensionsMap: { service: props.serviceName },
      statistic: 'Minimum',
      period: Duration.days(1),
    });
    const thresholds = [...new Set(props.expiryAlarmDays)].sort((a, b) => b - a);
    this.expiryAlarms = thresholds.map((days) => {
      const alarm = new Alarm(this, `TokenExpiresIn${days}DaysAlarm`, {
        metric,
        threshold: days,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.IGNORE,
        alarmDescription:
          `The LinkedIn access token expires within ${days} day${days === 1 ? '' : 's'} (TokenExpiresInDays < ${days}; ` +
          `below 0 it has expired and every export fails): ${renewInstruction(command)}`,
      });
      alarm.addAlarmAction(action);
      if (days === LEGACY_ALARM.days && props.keepLegacyAlarmId)
        (alarm.node.defaultChild as CfnAlarm).overrideLogicalId(LEGACY_ALARM.logicalId);
      return alarm;
    });

    if (!props.rotation) {
      if (props.tokenSecretCreated) {
        Validations.of(props.tokenSecret).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason:
            'LinkedIn issues this token through a consent a human gives; only applications LinkedIn approved get refresh ' +
            'tokens, so rotation is opt-in (tokenRotation=true). Without it the expiry alarms name the renew command.',
        });
      }
      return;
    }
    const rotation = props.rotation;
    this.clientSecret = rotation.clientSecretArn
      ? Secret.fromSecretCompleteArn(this, 'ImportedClientSecret', rotation.clientSecretArn)
      : this.createClientSecret();

    const fn = exportFunction(this, 'RotateToken', {
      entry: fileURLToPath(new URL('../../lambdas/handlers/rotate-token.ts', import.meta.url)),
      // The packaged construct ships it pre-bundled next to its index.js (bin/build-package.ts).
      prebuilt: fileURLToPath(new URL('./lambda-assets/rotate-token', import.meta.url)),
      description:
        'Rotates the LinkedIn token secret: a new access token from the refresh token (four-step protocol).',
      timeout: Duration.minutes(1),
      logRetention: rotation.logRetention,
      environment: {
        CLIENT_SECRET_ARN: this.clientSecret.secretArn,
        EXPORT_SETTINGS: rotation.settingsJson,
        TOKEN_RENEW_COMMAND: command,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: rotation.logLevel,
      },
    });
    this.rotationFunction = fn;
    // Exactly what the protocol calls (rotation/rotate-token.ts); no GetRandomPassword (CDK's
    // RotationSchedule would add it on *): the new value comes from LinkedIn, not a generator.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [props.tokenSecret.secretArn],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.clientSecret.secretArn],
      }),
    );
    // Secrets Manager invokes the function; only for this account's secrets (confused deputy).
    fn.addPermission('InvokedBySecretsManager', {
      principal: new ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
    });
    // Secrets Manager schedules by days since the last rotation (a `token login` PutSecretValue counts
    // as one): rate(60 - daysBeforeExpiry days) renews daysBeforeExpiry days before the 60-day expiry.
    const schedule = new CfnRotationSchedule(this, 'RotationSchedule', {
      secretId: props.tokenSecret.secretArn,
      rotationLambdaArn: fn.functionArn,
      rotationRules: {
        scheduleExpression: `rate(${LINKEDIN_TOKEN_LIFETIME_DAYS - rotation.daysBeforeExpiry} days)`,
      },
      // A deploy must not rotate: the secret may still be empty, or hold a token without a refresh token.
      rotateImmediatelyOnUpdate: false,
    });
    // Secrets Manager checks it may invoke the function when the schedule is created.
    const permission = fn.node.tryFindChild('InvokedBySecretsManager');
    if (permission) schedule.node.addDependency(permission);

    this.rotationFailedAlarm = new Alarm(this, 'TokenRotationFailedAlarm', {
      metric: fn.metricErrors({ statistic: 'Sum', period: Duration.hours(1) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'Rotating the LinkedIn token secret failed: the token in use (AWSCURRENT) is unchanged. The RotateToken logs say ' +
        `which step and why (no refresh token, refresh refused, new token refused). Otherwise ${renewInstruction(command)}`,
    });
    this.rotationFailedAlarm.addAlarmAction(action);
    new CfnOutput(this, 'ClientSecretArn', {
      value: this.clientSecret.secretArn,
      description: 'Secret holding {"clientId","clientSecret"} of the LinkedIn application (token rotation)',
    }).overrideLogicalId('ClientSecretArn');
  }

  private createClientSecret(): Secret {
    const secret = new Secret(this, 'ClientSecret', {
      description:
        'LinkedIn application credentials for the token rotation: {"clientId","clientSecret"}. Fill it with: ' +
        'aws secretsmanager put-secret-value --secret-id <this secret> --secret-string file://client.json',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Created empty, like the token secret: no deploy ever writes over what a human put there.
    (secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The LinkedIn client secret is issued and reset only in the LinkedIn Developer Portal (no API), so no Lambda can rotate it; it is read by the token rotation only.',
    });
    return secret;
  }
}
