// The ExportCrmJob state machine: one CRM data validation export from job creation to a moved cursor.
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { addLambdaRetries, DOWNLOAD_RETRYABLE, FunctionInvoke, retryLinkedIn } from './task-defaults.ts';

/**
 * ExportCrmJob:  CreateCrmJob → WaitForCrmJob → CheckCrmJob → RouteCrm ─┬─ POLL → WaitForCrmJob
 *                                                                     ├─ COPY → CopyCrmPart → RouteCrm (next part, or COMMIT)
 *                                                                     ├─ COMMIT → CommitCrmExport → CrmDone
 *                                                                     ├─ RECREATE → WaitBeforeCrmRecreate → CreateCrmJob
 *                                                                     └─ FAIL → RecordCrmFailure → CrmItemFailed
 * One execution per CRM item (instance), started by ExportRun like an analytics item; every failure is
 * caught into RecordCrmFailure, which never touches the cursor. JSONPath only (the local executor).
 */

export interface CrmWorkflowFunctions {
  createCrmJob: lambda.IFunction;
  checkCrmJob: lambda.IFunction;
  copyCrmPart: lambda.IFunction;
  commitCrmExport: lambda.IFunction;
  recordCrmFailure: lambda.IFunction;
}

/** State names the local executor binds to in-process handlers. Part of the definition's contract. */
export const CRM_STATE = {
  createCrmJob: 'CreateCrmJob',
  waitForCrmJob: 'WaitForCrmJob',
  checkCrmJob: 'CheckCrmJob',
  routeCrm: 'RouteCrm',
  waitBeforeCrmRecreate: 'WaitBeforeCrmRecreate',
  copyCrmPart: 'CopyCrmPart',
  commitCrmExport: 'CommitCrmExport',
  recordCrmFailure: 'RecordCrmFailure',
} as const;

/** Lambda timeout of each CRM step (the Task allows one more minute); the stack sizes its functions from it. */
export const CRM_STEP_TIMEOUTS: Record<keyof CrmWorkflowFunctions, Duration> = {
  createCrmJob: Duration.minutes(1),
  checkCrmJob: Duration.minutes(1),
  copyCrmPart: Duration.minutes(15),
  commitCrmExport: Duration.minutes(1),
  recordCrmFailure: Duration.minutes(1),
};

/** Upper bound of one CRM item: re-created jobs (hours), the polling deadline, the parts. Never unbounded. */
export const CRM_ITEM_TIMEOUT = Duration.days(2);

function step(
  scope: Construct,
  id: string,
  fns: CrmWorkflowFunctions,
  name: keyof CrmWorkflowFunctions,
  comment: string,
): tasks.LambdaInvoke {
  const task = new FunctionInvoke(scope, id, {
    lambdaFunction: fns[name],
    taskTimeout: sfn.Timeout.duration(CRM_STEP_TIMEOUTS[name].plus(Duration.minutes(1))),
    comment,
    payloadResponseOnly: true,
    retryOnServiceExceptions: true,
  });
  return retryLinkedIn(addLambdaRetries(task));
}

/** The CRM child workflow (DESIGN.md §2, second export family). */
export function buildExportCrmJobDefinition(parent: Construct, fns: CrmWorkflowFunctions): sfn.IChainable {
  const scope = new Construct(parent, 'ExportCrmJobDefinition');
  const onError = { errors: [sfn.Errors.ALL], resultPath: '$.error' };

  const recordFailure = new FunctionInvoke(scope, CRM_STATE.recordCrmFailure, {
    lambdaFunction: fns.recordCrmFailure,
    taskTimeout: sfn.Timeout.duration(CRM_STEP_TIMEOUTS.recordCrmFailure.plus(Duration.minutes(1))),
    comment: 'Write the FAILED CRM item record (with the error); the cursor stays where it was.',
    payloadResponseOnly: true,
    retryOnServiceExceptions: true,
  });
  addLambdaRetries(recordFailure);
  recordFailure.next(
    new sfn.Fail(scope, 'CrmItemFailed', {
      error: 'ItemFailed',
      causePath: sfn.JsonPath.stringAt('$.failure.message'),
      comment: 'The record under manifests/<run id>/crm-items/ holds the full reason.',
    }),
  );

  const createJob = step(
    scope,
    CRM_STATE.createCrmJob,
    fns,
    'createCrmJob',
    'POST /crmDataValidationExportJobs from the instance cursor.',
  ).addCatch(recordFailure, onError);
  const checkJob = step(
    scope,
    CRM_STATE.checkCrmJob,
    fns,
    'checkCrmJob',
    'GET the CRM job; decide the next step and the wait (backoff toward the documented two hours, deadline).',
  ).addCatch(recordFailure, onError);
  const copyPart = step(
    scope,
    CRM_STATE.copyCrmPart,
    fns,
    'copyCrmPart',
    'Stream the next download URL (one part) into S3, whole or not at all.',
  )
    .addRetry({
      errors: DOWNLOAD_RETRYABLE,
      interval: Duration.seconds(30),
      backoffRate: 2,
      maxAttempts: 3,
      jitterStrategy: sfn.JitterType.FULL,
    })
    .addCatch(recordFailure, onError);
  const commit = step(
    scope,
    CRM_STATE.commitCrmExport,
    fns,
    'commitCrmExport',
    'Every part is whole: write the folder marker, move the cursor, write the EXPORTED record.',
  ).addCatch(recordFailure, onError);
  commit.next(new sfn.Succeed(scope, 'CrmDone', { outputPath: '$.result' }));

  const waitForJob = new sfn.Wait(scope, CRM_STATE.waitForCrmJob, {
    time: sfn.WaitTime.secondsPath('$.waitSeconds'),
    comment: 'Polling delay computed by CreateCrmJob/CheckCrmJob.',
  });
  waitForJob.next(checkJob);
  const waitBeforeRecreate = new sfn.Wait(scope, CRM_STATE.waitBeforeCrmRecreate, {
    time: sfn.WaitTime.secondsPath('$.waitSeconds'),
    comment: 'After FAILED_DUE_TO_INTERNAL_ERROR: wait, then create a new job from the same cursor.',
  });
  waitBeforeRecreate.next(createJob);

  const route = new sfn.Choice(scope, CRM_STATE.routeCrm)
    .when(sfn.Condition.stringEquals('$.next', 'POLL'), waitForJob)
    .when(sfn.Condition.stringEquals('$.next', 'COPY'), copyPart)
    .when(sfn.Condition.stringEquals('$.next', 'COMMIT'), commit)
    .when(sfn.Condition.stringEquals('$.next', 'RECREATE'), waitBeforeRecreate)
    .otherwise(recordFailure);
  checkJob.next(route);
  copyPart.next(route);

  return createJob.next(waitForJob);
}
