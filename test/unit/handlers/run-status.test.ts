import { DescribeExecutionCommand, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsDepsWithRunStatus, runExecutionArn } from '#lambda-runtime';

/**
 * CreateJob's `isRunOver` on AWS (EXPORT_RUN_ARN, set by the stack): DescribeExecution of the holder's
 * ExportRun execution (mocked). Only a known, ended execution lets a live lease be taken over.
 */
const sfn = mockClient(SFNClient);
const EXPORT_RUN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:SalesNavExport-ExportRun';
const deps = awsDepsWithRunStatus({
  EXPORT_SETTINGS: '{}',
  BUCKET_NAME: 'exports-bucket',
  EXPORT_RUN_ARN: EXPORT_RUN,
  AWS_REGION: 'eu-west-1',
});
const sfnError = (name: string, status: number) =>
  new SFNServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

beforeEach(() => sfn.reset());

describe('isRunOver (Step Functions DescribeExecution)', () => {
  it('asks for the ExportRun execution named by the run id', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    expect(await deps.isRunOver?.('manual-2026-12-01')).toBe(false);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn:
        'arn:aws:states:eu-west-1:111122223333:execution:SalesNavExport-ExportRun:manual-2026-12-01',
    });
    expect(runExecutionArn(EXPORT_RUN, 'r')).toBe(
      'arn:aws:states:eu-west-1:111122223333:execution:SalesNavExport-ExportRun:r',
    );
  });

  it.each(['ABORTED', 'FAILED', 'TIMED_OUT', 'SUCCEEDED', 'PENDING_REDRIVE'] as const)(
    'a run whose execution is %s is over',
    async (status) => {
      sfn.on(DescribeExecutionCommand).resolves({ status });
      expect(await deps.isRunOver?.('run-x')).toBe(true);
    },
  );

  it.each([
    [
      'an execution of no such name (a local CLI run into the same bucket)',
      sfnError('ExecutionDoesNotExist', 400),
    ],
    ['a denied call', sfnError('AccessDeniedException', 400)],
    ['throttling', sfnError('ThrottlingException', 400)],
  ])('is not over when it cannot tell: %s', async (_, err) => {
    sfn.on(DescribeExecutionCommand).rejects(err);
    expect(await deps.isRunOver?.('run-x')).toBe(false);
  });
});
