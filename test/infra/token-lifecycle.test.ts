import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { flattenIntrinsics } from '#lib/constructs/nag';
import { synthSampleStack } from '#test/support/synth';

const synth = synthSampleStack;

const RENEW = 'npm run token -- login --stack TestExport --region <AWS::Region>';

describe('token expiry alarms', () => {
  const { stack, template, logicalId } = synth();
  const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(
    ([, r]) => r.Properties.MetricName === 'TokenExpiresInDays',
  );

  it('fire at 14, 7 and 1 days, keep their state without data (ALARM stays after the expiry), and name the renew command', () => {
    expect(alarms.map(([, r]) => r.Properties.Threshold)).toEqual([14, 7, 1]);
    for (const [, { Properties: p }] of alarms) {
      expect(p).toMatchObject({
        Namespace: 'SalesNavExport',
        Dimensions: [{ Name: 'service', Value: 'salesnav-export-TestExport' }],
        Statistic: 'Minimum',
        Period: 86400,
        EvaluationPeriods: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'ignore',
        AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
      });
      expect(flattenIntrinsics(p.AlarmDescription)).toContain(`renew it with: ${RENEW}`);
    }
  });

  it('keeps the logical id of the earlier TokenExpiring alarm for the 7-day one (updated in place)', () => {
    expect(alarms.find(([, r]) => r.Properties.Threshold === 7)?.[0]).toBe('TokenExpiringAlarmC13A63E7');
  });

  it('gives the functions that read the token the same renew command, for the expired-token failure', () => {
    const env =
      template.findResources('AWS::Lambda::Function')[logicalId(stack.functions.planRun)]?.Properties
        .Environment.Variables;
    expect(flattenIntrinsics(env.TOKEN_RENEW_COMMAND)).toBe(RENEW);
  });

  it('has no rotation unless asked for', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    expect(template.findOutputs('ClientSecretArn')).toEqual({});
  });

  it('follows tokenExpiryAlarmDays', () => {
    const custom = synth({ tokenExpiryAlarmDays: '21,3' }).template.findResources('AWS::CloudWatch::Alarm');
    const thresholds = Object.values(custom)
      .filter((r) => r.Properties.MetricName === 'TokenExpiresInDays')
      .map((r) => r.Properties.Threshold);
    expect(thresholds).toEqual([21, 3]);
  });
});

describe('token rotation (tokenRotation=true)', () => {
  const { stack, template, logicalId } = synth({ tokenRotation: true });
  const lifecycle = stack.tokenLifecycle;
  const fn = lifecycle.rotationFunction;
  const fnId = fn ? logicalId(fn) : '';
  const tokenSecretRef = { Ref: logicalId(stack.tokenSecret) };
  const clientSecretRef = { Ref: lifecycle.clientSecret ? logicalId(lifecycle.clientSecret) : '' };

  it('schedules the rotation 10 days before the 60-day expiry, never on deploy', () => {
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: tokenSecretRef,
      RotationLambdaARN: { 'Fn::GetAtt': [fnId, 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(50 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    const days = synth({ tokenRotation: true, tokenRotationDaysBeforeExpiry: 20 }).template;
    days.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(40 days)' },
    });
  });

  it('lets Secrets Manager of this account invoke the function, before the schedule is created', () => {
    const permissions = Object.entries(template.findResources('AWS::Lambda::Permission'));
    const [permissionId, permission] =
      permissions.find(([, r]) => r.Properties.Principal === 'secretsmanager.amazonaws.com') ?? [];
    expect(permission?.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
    const [, schedule] =
      Object.entries(template.findResources('AWS::SecretsManager::RotationSchedule'))[0] ?? [];
    expect(schedule?.DependsOn).toContain(permissionId);
  });

  it('grants the rotation function exactly the protocol on the token secret and a read of the client secret', () => {
    const roleId = fn?.role ? logicalId(fn.role) : '';
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const secrets = statements.filter((s) => JSON.stringify(s.Action).includes('secretsmanager:'));
    expect(secrets).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        Resource: tokenSecretRef,
      },
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: clientSecretRef },
    ]);
    // Nothing else: its log group and X-Ray only.
    const others = statements.filter((s) => !secrets.includes(s)).flatMap((s) => [s.Action].flat());
    expect(others.every((a: string) => /^(logs|xray):/.test(a))).toBe(true);
  });

  it('passes the client secret, the settings and the renew command to the function', () => {
    const env = template.findResources('AWS::Lambda::Function')[fnId]?.Properties.Environment.Variables;
    expect(env.CLIENT_SECRET_ARN).toEqual(clientSecretRef);
    expect(JSON.parse(env.EXPORT_SETTINGS).apiBaseUrl).toBe('https://api.linkedin.com/v2');
    expect(flattenIntrinsics(env.TOKEN_RENEW_COMMAND)).toBe(RENEW);
  });

  it('creates the client secret empty (retained), outputs it, and alarms on a failed rotation step', () => {
    const [, clientSecret] =
      Object.entries(template.findResources('AWS::SecretsManager::Secret')).find(
        ([id]) => id === clientSecretRef.Ref,
      ) ?? [];
    expect(clientSecret?.Properties.GenerateSecretString).toBeUndefined();
    expect(clientSecret?.Properties.SecretString).toBeUndefined();
    expect(clientSecret?.DeletionPolicy).toBe('Retain');
    template.hasOutput('ClientSecretArn', { Value: clientSecretRef });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.anyValue(),
      AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
    });
  });

  it('uses an existing client secret when clientSecretArn is given', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:linkedin-client-AbCdEf';
    const imported = synth({ tokenRotation: true, clientSecretArn: arn }).template;
    imported.hasOutput('ClientSecretArn', { Value: arn });
    imported.resourceCountIs('AWS::SecretsManager::Secret', 1); // the token secret only
  });
});
