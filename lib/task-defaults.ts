// What every Task of every state machine gets: the retriers each Lambda Task needs, and IAM in its exact forms.
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** Lambda's own throttling (concurrency or burst limit): not in CDK's `retryOnServiceExceptions` list. */
export const LAMBDA_THROTTLED = ['Lambda.TooManyRequestsException'];
/** S3 or Secrets Manager throttling, 5xx or network faults past the SDK's own retries (lambdas/storage/aws-errors.ts). */
export const AWS_TRANSIENT = ['AwsTransientError'];
/** LinkedIn 5xx or network faults, and 429s that outlast the client's in-process wait. */
const LINKEDIN_TRANSIENT = ['LinkedInTransientError'];
const LINKEDIN_THROTTLED = ['LinkedInThrottledError'];
/** An expired signed URL (re-read the job) or a cut-off body: the copy starts again. */
export const DOWNLOAD_RETRYABLE = ['DownloadUrlExpiredError', 'DownloadIncompleteError'];

/**
 * Adds, after CDK's service-exception retrier, a retry on Lambda throttling and one on AwsTransientError,
 * each with exponential backoff, full jitter and a cap on the delay.
 */
export function addLambdaRetries<T extends sfn.TaskStateBase>(task: T): T {
  task
    .addRetry({
      errors: LAMBDA_THROTTLED,
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 10,
      maxDelay: Duration.minutes(5),
      jitterStrategy: sfn.JitterType.FULL,
    })
    .addRetry({
      errors: AWS_TRANSIENT,
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.minutes(2),
      jitterStrategy: sfn.JitterType.FULL,
    });
  return task;
}

/**
 * LinkedIn calls: a 429 outlasting the client's in-process wait, or a 5xx (LinkedIn's, or Secrets
 * Manager's while reading the token), is retried with backoff.
 */
export function retryLinkedIn<T extends sfn.TaskStateBase>(task: T): T {
  task
    .addRetry({
      errors: LINKEDIN_THROTTLED,
      interval: Duration.seconds(60),
      backoffRate: 3,
      maxAttempts: 4,
      jitterStrategy: sfn.JitterType.FULL,
    })
    .addRetry({
      errors: LINKEDIN_TRANSIENT,
      interval: Duration.seconds(15),
      backoffRate: 2,
      maxAttempts: 5,
      jitterStrategy: sfn.JitterType.FULL,
    });
  return task;
}

/**
 * A Lambda Task whose role may invoke the function only: CDK grants `<function ARN>` and
 * `<function ARN>:*` (every version and alias), and no Task here invokes a version or an alias.
 */
export class FunctionInvoke extends tasks.LambdaInvoke {
  constructor(scope: Construct, id: string, props: tasks.LambdaInvokeProps) {
    super(scope, id, props);
    const policies = this.taskPolicies ?? [];
    policies.splice(
      0,
      policies.length,
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [props.lambdaFunction.functionArn],
      }),
    );
  }
}

/**
 * A `.sync` child execution whose role may follow and stop the executions of that state machine
 * only: CDK grants `execution:<name>*`, which also matches every state machine whose name starts with
 * `<name>`; an execution's ARN is `execution:<state machine name>:<execution name>`.
 */
export class ChildExecution extends tasks.StepFunctionsStartExecution {
  constructor(scope: Construct, id: string, props: tasks.StepFunctionsStartExecutionProps) {
    super(scope, id, props);
    const stack = Stack.of(this);
    const name = stack.splitArn(
      props.stateMachine.stateMachineRef.stateMachineArn,
      ArnFormat.COLON_RESOURCE_NAME,
    ).resourceName;
    const policies = this.taskPolicies ?? [];
    const follow = policies.findIndex((s) => s.actions.includes('states:DescribeExecution'));
    if (follow < 0)
      throw new Error('CDK no longer grants states:DescribeExecution to a .sync child execution');
    policies[follow] = new iam.PolicyStatement({
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resources: [
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          resourceName: `${name}:*`,
        }),
      ],
    });
  }
}
