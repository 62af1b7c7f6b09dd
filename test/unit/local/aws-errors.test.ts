import { describe, expect, it } from 'vitest';
import { describeAwsError } from '#local/aws-errors';

const denied = (name: string) => Object.assign(new Error('User is not authorized'), { name });

describe('describeAwsError: access denied names what the identity needs of that service', () => {
  it('S3: the destination permissions', () => {
    expect(describeAwsError(denied('AccessDenied'), { service: 'S3', resource: 's3://b/p' })).toMatch(
      /S3 \(s3:\/\/b\/p\): access denied \(AccessDenied\).*s3:ListBucket, s3:GetObject/,
    );
  });

  it('Step Functions: start, describe and stop', () => {
    expect(
      describeAwsError(denied('AccessDeniedException'), { service: 'Step Functions', resource: 'arn:x' }),
    ).toMatch(/states:StartExecution, states:DescribeExecution and states:StopExecution/);
  });

  it('Secrets Manager: the secret actions and the resource policy fix (operatorRoleArns), not Step Functions', () => {
    const message = describeAwsError(denied('AccessDeniedException'), {
      service: 'Secrets Manager',
      resource: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:TokenSecret-AbCdEf',
    });
    expect(message).toMatch(/secretsmanager:GetSecretValue/);
    expect(message).toMatch(/add your role to operatorRoleArns/);
    expect(message).not.toMatch(/states:/);
  });
});
