// The ExportRun and ExportJob state machine definitions, for the stack and for the local executor.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { buildExportCrmJobDefinition, CRM_ITEM_TIMEOUT, type CrmWorkflowFunctions } from './crm-workflow.ts';
import {
  addLambdaRetries,
  ChildExecution,
  DOWNLOAD_RETRYABLE,
  FunctionInvoke,
  retryLinkedIn,
} from './task-defaults.ts';

/**
 * The two state machines of DESIGN.md §2, built once and used twice: by the CDK stack, and by the
 * local runner (`renderWorkflowAsl`), which executes the very same ASL with aws-local-stepfunctions.
 * JSONPath only (no JSONata), so the local executor can run them.
 *
 * ExportRun:  PlanRun → ExportEach (Distributed Map over the lanes PlanRun stored, read by its ItemReader)
 *               → ExportLane (inline Map, one window at a time) → RunItem (child) → FinishRun
 * ExportJob:  CreateJob → Route (POLL, or DONE when another run holds the item's lease)
 *             WaitForJob → CheckJob → Route ─┬─ POLL → WaitForJob
 *                                                        ├─ COPY → CopyToS3 (end)
 *                                                        ├─ RECREATE → WaitBeforeRecreate → CreateJob
 *                                                        ├─ SPLIT → ExportHalves (Map → ExportHalf: child of itself) → Split (end)
 *                                                        ├─ DONE → Done (end)
 *                                                        └─ FAIL → RecordFailure → ItemFailed (fail)
 */

export interface WorkflowFunctions {
  planRun: lambda.IFunction;
  createJob: lambda.IFunction;
  checkJob: lambda.IFunction;
  copyToS3: lambda.IFunction;
  recordFailure: lambda.IFunction;
  finishRun: lambda.IFunction;
}

export interface ExportRunOptions {
  /** Lanes (contract × dataset) exported at the same time (the Distributed Map's MaxConcurrency). */
  mapConcurrency: number;
  /** The bucket the steps write to: PlanRun stores the lanes there, the ExportEach ItemReader reads them. */
  bucket: s3.IBucket;
  /** Key prefix of everything the steps write (`bucketPrefix` of the config; '' for the bucket root). */
  bucketPrefix: string;
  /**
   * The ExportCrmJob state machine (lib/crm-workflow.ts). With it, a run whose plan has CRM items exports
   * them after the lanes (ExportCrm, one child execution per instance); a plan without any skips it.
   */
  exportCrmJob?: sfn.IStateMachine;
}

/** CRM instances exported at the same time by one run (each runs one job at a time). */
export const CRM_MAP_CONCURRENCY = 10;

/**
 * Default lane concurrency: every lane of a daily run for 1,000 contracts × 3 datasets at once. Lanes of
 * different contracts are independent for LinkedIn (one job at a time per endpoint per contract).
 */
export const DEFAULT_MAP_CONCURRENCY = 3000;
/** A Distributed Map runs at most 10,000 child executions at once. */
export const MAX_MAP_CONCURRENCY = 10_000;

/** Label of the ExportEach Map Run: it names the lanes' child executions (`<run>/ExportLanes:<n>`). */
export const LANES_LABEL = 'ExportLanes';

/**
 * The ItemReader of ExportEach: the JSON array PlanRun stored at `<prefix>/manifests/<run id>/lanes.json`.
 * CDK's S3JsonItemReader would grant s3:GetObject on the whole bucket; this one grants it on the
 * lanes objects only.
 */
class LanesItemReader extends sfn.S3JsonItemReader {
  private readonly lanesObjects: string;

  constructor(bucket: s3.IBucket, bucketPrefix: string) {
    const lanesKey = sfn.JsonPath.stringAt('$.lanesKey');
    super({
      bucket,
      // PlanRun returns the key relative to the store's root; the prefix is known at deploy time
      // (JsonPath.format escapes the prefix's quotes for the intrinsic).
      key: bucketPrefix ? sfn.JsonPath.format(`${bucketPrefix}/{}`, lanesKey) : lanesKey,
    });
    this.lanesObjects = bucket.arnForObjects(
      `${bucketPrefix ? `${bucketPrefix}/` : ''}manifests/*/lanes.json`,
    );
  }

  override providePolicyStatements(): iam.PolicyStatement[] {
    return [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.lanesObjects] })];
  }
}

/** State names the local executor binds to in-process handlers. Part of the definitions' contract. */
export const STATE = {
  planRun: 'PlanRun',
  exportEach: 'ExportEach',
  exportLane: 'ExportLane',
  runItem: 'RunItem',
  finishRun: 'FinishRun',
  createJob: 'CreateJob',
  waitForJob: 'WaitForJob',
  checkJob: 'CheckJob',
  route: 'Route',
  waitBeforeRecreate: 'WaitBeforeRecreate',
  copyToS3: 'CopyToS3',
  exportHalves: 'ExportHalves',
  exportHalf: 'ExportHalf',
  recordFailure: 'RecordFailure',
  hasCrmItems: 'HasCrmItems',
  exportCrm: 'ExportCrm',
  runCrmItem: 'RunCrmItem',
} as const;

/**
 * Lambda timeout of each step; the Task state allows one more minute so a Lambda timeout surfaces as
 * the Lambda's own error. The stack sizes its functions from this table.
 */
export const STEP_TIMEOUTS: Record<keyof WorkflowFunctions, Duration> = {
  planRun: Duration.minutes(5),
  createJob: Duration.minutes(1),
  checkJob: Duration.minutes(1),
  copyToS3: Duration.minutes(15),
  recordFailure: Duration.minutes(1),
  finishRun: Duration.minutes(5),
};

/**
 * Time budgets, outer > inner, so an inner bound always fires first and is reported by its own level:
 * - EXPORT_JOB_TIMEOUT (`TimeoutSeconds` of ExportJob): one item with all its data-delay retries,
 *   polling deadlines and copies (with the defaults about 3.6 days at worst), halves included: a half is
 *   a child execution of the same state machine, and its ExportHalf task may not outlast the parent.
 * - ITEM_TASK_TIMEOUT (RunItem, ExportHalf): the child's own timeout plus an hour, so the child times
 *   out (States.Timeout in its history) before the task waiting for it does.
 * - EXPORT_RUN_TIMEOUT (`TimeoutSeconds` of ExportRun): lanes run their windows one after another, so a
 *   backfill lane of several windows needs several item budgets (a daily run needs one): three
 *   worst-case items. (Also below 2^31 ms: aws-local-stepfunctions times an execution with one
 *   setTimeout, which fires at once for longer durations.) A run past it ends TIMED_OUT: RunFailed alarm.
 */
export const EXPORT_JOB_TIMEOUT = Duration.days(7);
const ITEM_TASK_TIMEOUT = EXPORT_JOB_TIMEOUT.plus(Duration.hours(1));
export const EXPORT_RUN_TIMEOUT = Duration.days(21);

function taskTimeout(step: keyof WorkflowFunctions): sfn.Timeout {
  return sfn.Timeout.duration(STEP_TIMEOUTS[step].plus(Duration.minutes(1)));
}

/** Lambda-side errors worth retrying: throttling, 5xx/network, and expired or cut-off downloads. */

/**
 * Every step of an ExportJob execution takes the whole item state and returns it updated. (No explicit
 * `ResultPath: "$"`: it is the default, and aws-local-stepfunctions 3 mishandles it when written out.)
 */
function stateStep(
  scope: Construct,
  id: string,
  fns: WorkflowFunctions,
  step: keyof WorkflowFunctions,
  comment: string,
): tasks.LambdaInvoke {
  // No payload: the whole state is the event (a `Parameters` of "$" would be invalid ASL).
  return lambdaStep(scope, id, fns, step, { comment });
}

/**
 * Every Lambda Task of both state machines is made here, so none can miss the retriers every one
 * needs: Lambda's service errors (CDK's list), Lambda throttling (`Lambda.TooManyRequestsException`,
 * e.g. a burst of lanes hitting the account's concurrency), and AwsTransientError (S3 or Secrets
 * Manager throttling/5xx/network past the SDK's retries). Backoff with full jitter and a cap.
 */
function lambdaStep(
  scope: Construct,
  id: string,
  fns: WorkflowFunctions,
  step: keyof WorkflowFunctions,
  props: Omit<tasks.LambdaInvokeProps, 'lambdaFunction' | 'taskTimeout' | 'payloadResponseOnly'>,
): tasks.LambdaInvoke {
  const task = new FunctionInvoke(scope, id, {
    ...props,
    lambdaFunction: fns[step],
    taskTimeout: taskTimeout(step),
    payloadResponseOnly: true,
    retryOnServiceExceptions: true,
  });
  return addLambdaRetries(task);
}

/** The child workflow: one item (contract × dataset × window) from job creation to a whole object in S3. */
export function buildExportJobDefinition(
  parent: Construct,
  fns: WorkflowFunctions,
  self: sfn.IStateMachine,
): sfn.IChainable {
  const scope = new Construct(parent, 'ExportJobDefinition');

  const recordFailure = stateStep(
    scope,
    STATE.recordFailure,
    fns,
    'recordFailure',
    'Write the FAILED item record (with the error) next to the run manifest.',
  ).next(
    new sfn.Fail(scope, 'ItemFailed', {
      error: 'ItemFailed',
      causePath: sfn.JsonPath.stringAt('$.failure.message'),
      comment: 'The item record under manifests/<run id>/items/ holds the full reason.',
    }),
  );
  const onError = { errors: [sfn.Errors.ALL], resultPath: '$.error' };

  const createJob = retryLinkedIn(
    stateStep(
      scope,
      STATE.createJob,
      fns,
      'createJob',
      'Take the item lease (planned items), then POST /salesAnalyticsExportJobs for the item window.',
    ),
  ).addCatch(recordFailure, onError);

  const checkJob = retryLinkedIn(
    stateStep(
      scope,
      STATE.checkJob,
      fns,
      'checkJob',
      'GET the job; decide the next step and the wait (backoff with cap and deadline).',
    ),
  ).addCatch(recordFailure, onError);

  const waitForJob = new sfn.Wait(scope, STATE.waitForJob, {
    time: sfn.WaitTime.secondsPath('$.waitSeconds'),
    comment: 'Polling delay computed by CreateJob/CheckJob.',
  });
  waitForJob.next(checkJob);

  const waitBeforeRecreate = new sfn.Wait(scope, STATE.waitBeforeRecreate, {
    time: sfn.WaitTime.secondsPath('$.waitSeconds'),
    comment: 'After a data delay or a failed job: wait, then create a new job.',
  });
  waitBeforeRecreate.next(createJob);

  const copyToS3 = retryLinkedIn(
    lambdaStep(scope, STATE.copyToS3, fns, 'copyToS3', {
      comment: 'Stream the download into S3 and write the EXPORTED item record.',
      outputPath: '$.result',
    }),
  )
    .addRetry({
      errors: DOWNLOAD_RETRYABLE,
      interval: Duration.seconds(30),
      backoffRate: 2,
      maxAttempts: 3,
      jitterStrategy: sfn.JitterType.FULL,
    })
    .addCatch(recordFailure, onError);

  const exportHalf = new ChildExecution(scope, STATE.exportHalf, {
    stateMachine: self,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    associateWithParent: true,
    taskTimeout: sfn.Timeout.duration(ITEM_TASK_TIMEOUT),
    comment:
      'Export one half of a window LinkedIn found too large (a child execution of this state machine).',
    input: sfn.TaskInput.fromObject(childInput([...PLANNED_FIELDS, ...SPLIT_FIELDS])),
    resultPath: sfn.JsonPath.DISCARD,
  });
  const halfFailed = new sfn.Pass(scope, 'HalfFailed', {
    comment: 'The half recorded its own failure; FinishRun reports it.',
  });
  exportHalf.addCatch(halfFailed, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });

  const exportHalves = new sfn.Map(scope, STATE.exportHalves, {
    itemsPath: '$.halves',
    maxConcurrency: 1,
    comment: 'One half at a time: LinkedIn runs one job per endpoint per contract.',
    resultPath: sfn.JsonPath.DISCARD,
  });
  exportHalves.itemProcessor(exportHalf);
  exportHalves.next(new sfn.Succeed(scope, 'Split', { outputPath: '$.result' }));

  const route = new sfn.Choice(scope, STATE.route)
    .when(sfn.Condition.stringEquals('$.next', 'POLL'), waitForJob)
    .when(sfn.Condition.stringEquals('$.next', 'COPY'), copyToS3)
    .when(sfn.Condition.stringEquals('$.next', 'RECREATE'), waitBeforeRecreate)
    .when(sfn.Condition.stringEquals('$.next', 'SPLIT'), exportHalves)
    .when(
      sfn.Condition.stringEquals('$.next', 'DONE'),
      new sfn.Succeed(scope, 'Done', { outputPath: '$.result' }),
    )
    .otherwise(recordFailure);
  checkJob.next(route);

  // CreateJob answers POLL (a job was created) or DONE (another run holds the item's lease: SKIPPED).
  return createJob.next(route);
}

/** The parent workflow: plan the run, export every lane, write the manifest. */
export function buildExportRunDefinition(
  parent: Construct,
  fns: WorkflowFunctions,
  exportJob: sfn.IStateMachine,
  opts: ExportRunOptions,
): sfn.IChainable {
  const scope = new Construct(parent, 'ExportRunDefinition');

  const planRun = retryLinkedIn(
    lambdaStep(scope, STATE.planRun, fns, 'planRun', {
      comment: 'Validate the input, resolve windows, discover contracts, skip existing objects.',
      payload: sfn.TaskInput.fromObject({
        input: sfn.JsonPath.objectAt('$'),
        runId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      }),
    }),
  );

  const runItem = new ChildExecution(scope, STATE.runItem, {
    stateMachine: exportJob,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    associateWithParent: true,
    taskTimeout: sfn.Timeout.duration(ITEM_TASK_TIMEOUT),
    comment: 'One ExportJob execution per item keeps every history small and isolates failures.',
    input: sfn.TaskInput.fromObject(childInput(PLANNED_FIELDS)),
    resultPath: sfn.JsonPath.DISCARD,
  });
  runItem.addCatch(
    new sfn.Pass(scope, 'ItemDidNotExport', { comment: 'Recorded by the child; reported by FinishRun.' }),
    { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD },
  );

  const exportLane = new sfn.Map(scope, STATE.exportLane, {
    itemsPath: '$.lane.windows',
    maxConcurrency: 1,
    comment:
      'Windows of one contract × dataset run one after another (one LinkedIn job per endpoint per contract). Outputs {}: the lane child execution returns almost nothing.',
    itemSelector: {
      runId: sfn.JsonPath.stringAt('$.runId'),
      force: sfn.JsonPath.stringAt('$.force'),
      depth: 0,
      item: {
        contract: sfn.JsonPath.stringAt('$.lane.contract'),
        dataset: sfn.JsonPath.stringAt('$.lane.dataset'),
        start: sfn.JsonPath.stringAt('$$.Map.Item.Value.start'),
        end: sfn.JsonPath.stringAt('$$.Map.Item.Value.end'),
      },
    },
    resultPath: sfn.JsonPath.DISCARD,
    outputPath: sfn.JsonPath.DISCARD,
  });
  exportLane.itemProcessor(runItem);

  const exportEach = new sfn.DistributedMap(scope, STATE.exportEach, {
    itemReader: new LanesItemReader(opts.bucket, opts.bucketPrefix),
    maxConcurrency: opts.mapConcurrency,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    // A failed lane never fails the fan-out: its items are recorded FAILED and FinishRun reports them.
    toleratedFailurePercentage: 100,
    label: LANES_LABEL,
    comment:
      'Lanes (contract × dataset) in parallel, one STANDARD child execution each, read from the lanes PlanRun stored.',
    itemSelector: {
      runId: sfn.JsonPath.stringAt('$.runId'),
      force: sfn.JsonPath.stringAt('$.force'),
      lane: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  exportEach.itemProcessor(exportLane);

  const finishRun = lambdaStep(scope, STATE.finishRun, fns, 'finishRun', {
    comment: 'Collect the item records into manifests/<run id>.json; fail the run if any item FAILED.',
    payload: sfn.TaskInput.fromObject({ runId: sfn.JsonPath.stringAt('$.runId') }),
  });

  planRun.next(exportEach);
  if (!opts.exportCrmJob) {
    exportEach.next(finishRun);
    return planRun;
  }
  exportEach.next(
    new sfn.Choice(scope, STATE.hasCrmItems, {
      comment: 'CRM data validation exports planned (the family is configured or asked for)?',
    })
      .when(sfn.Condition.isPresent('$.crmItems'), exportCrmItems(scope, opts.exportCrmJob).next(finishRun))
      .otherwise(finishRun),
  );
  return planRun;
}

/**
 * ExportCrm: one ExportCrmJob child execution per CRM item (instance), so each instance runs one job
 * at a time. A failed child has recorded its failure (FinishRun reports it); the Map goes on.
 */
function exportCrmItems(scope: Construct, exportCrmJob: sfn.IStateMachine): sfn.Map {
  const runCrmItem = new ChildExecution(scope, STATE.runCrmItem, {
    stateMachine: exportCrmJob,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    associateWithParent: true,
    taskTimeout: sfn.Timeout.duration(CRM_ITEM_TIMEOUT.plus(Duration.hours(1))),
    comment: 'One ExportCrmJob execution per CRM instance: its cursor moves only when every part is whole.',
    input: sfn.TaskInput.fromObject({
      runId: sfn.JsonPath.stringAt('$.runId'),
      item: sfn.JsonPath.objectAt('$.item'),
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  runCrmItem.addCatch(
    new sfn.Pass(scope, 'CrmItemDidNotExport', { comment: 'Recorded by the child; reported by FinishRun.' }),
    { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD },
  );
  const map = new sfn.Map(scope, STATE.exportCrm, {
    itemsPath: '$.crmItems',
    maxConcurrency: CRM_MAP_CONCURRENCY,
    comment: 'CRM data validation exports, one child execution per instance (PlanRun lists at most 100).',
    itemSelector: {
      runId: sfn.JsonPath.stringAt('$.runId'),
      item: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  map.itemProcessor(runCrmItem);
  return map;
}

/** Fields of an ExportJob input: a planned item has these; the rest default in the handlers. */
const PLANNED_FIELDS = ['runId', 'item', 'force', 'depth'] as const;
/** A half of a split window also carries its origin and the attempt counters so far. */
const SPLIT_FIELDS = ['splitFrom', 'attempts', 'jobIds'] as const;

/** The ExportJob input, copied field by field (`associateWithParent` needs an object input). */
function childInput(fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    fields.map((field) => [
      field,
      field === 'runId' ? sfn.JsonPath.stringAt(`$.${field}`) : sfn.JsonPath.objectAt(`$.${field}`),
    ]),
  );
}

/** Amazon States Language of both state machines, for the local executor and for tests. */
export interface WorkflowAsl {
  exportRun: AslDefinition;
  exportJob: AslDefinition;
  /** The CRM data validation child (lib/crm-workflow.ts). */
  exportCrmJob: AslDefinition;
  /** Literal ARNs used for the Lambda functions and the state machines in the rendered ASL. */
  arns: {
    functions: Record<keyof WorkflowFunctions, string>;
    crmFunctions: Record<keyof CrmWorkflowFunctions, string>;
    exportRun: string;
    exportJob: string;
    exportCrmJob: string;
  };
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, unknown>;
  [key: string]: unknown;
}

const LOCAL_ACCOUNT = '123456789012';
const LOCAL_REGION = 'us-east-1';

/**
 * Renders both definitions from the same builders the stack uses, with literal ARNs instead of
 * CloudFormation references, so they run unchanged outside AWS.
 */
/** What `renderWorkflowAsl` needs: the deploy-time values that shape the definitions. */
export interface RenderOptions {
  mapConcurrency: number;
  /** @default '' (the store's root is the bucket's root, as for a local store) */
  bucketPrefix?: string;
}

/** The bucket name of the rendered definitions: the local executor reads the lanes from its store. */
export const LOCAL_BUCKET = 'local-store';

export function renderWorkflowAsl(
  opts: RenderOptions = { mapConcurrency: DEFAULT_MAP_CONCURRENCY },
): WorkflowAsl {
  // An App makes its cloud assembly folder at once (cdk.outXXXX in the temp dir when none is given);
  // nothing is synthesized here, so the folder is removed as soon as the definitions are rendered.
  const outdir = mkdtempSync(join(tmpdir(), 'salesnav-render-'));
  try {
    return renderWith(new App({ outdir }), opts);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function renderWith(app: App, opts: RenderOptions): WorkflowAsl {
  const stack = new Stack(app, 'Render', { env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION } });
  const names: Record<keyof WorkflowFunctions, string> = {
    planRun: 'PlanRun',
    createJob: 'CreateJob',
    checkJob: 'CheckJob',
    copyToS3: 'CopyToS3',
    recordFailure: 'RecordFailure',
    finishRun: 'FinishRun',
  };
  const functionArns = Object.fromEntries(
    Object.entries(names).map(([key, name]) => [
      key,
      `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`,
    ]),
  ) as Record<keyof WorkflowFunctions, string>;
  const fns = Object.fromEntries(
    Object.entries(functionArns).map(([key, arn]) => [
      key,
      lambda.Function.fromFunctionAttributes(stack, key, { functionArn: arn, sameEnvironment: true }),
    ]),
  ) as unknown as WorkflowFunctions;
  const stateMachineArn = (name: string) =>
    `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
  const exportJobArn = stateMachineArn('ExportJob');
  const exportJob = sfn.StateMachine.fromStateMachineArn(stack, 'ExportJob', exportJobArn);

  const render = (chain: sfn.IChainable, timeout: Duration): AslDefinition => {
    const graph = new sfn.StateGraph(chain.startState, 'definition');
    graph.timeout = timeout;
    return resolvePartition(stack.resolve(graph.toGraphJson())) as AslDefinition;
  };

  const crmNames: Record<keyof CrmWorkflowFunctions, string> = {
    createCrmJob: 'CreateCrmJob',
    checkCrmJob: 'CheckCrmJob',
    copyCrmPart: 'CopyCrmPart',
    commitCrmExport: 'CommitCrmExport',
    recordCrmFailure: 'RecordCrmFailure',
  };
  const crmFunctionArns = Object.fromEntries(
    Object.entries(crmNames).map(([key, name]) => [
      key,
      `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`,
    ]),
  ) as Record<keyof CrmWorkflowFunctions, string>;
  const crmFns = Object.fromEntries(
    Object.entries(crmFunctionArns).map(([key, arn]) => [
      key,
      lambda.Function.fromFunctionAttributes(stack, key, { functionArn: arn, sameEnvironment: true }),
    ]),
  ) as unknown as CrmWorkflowFunctions;
  const exportCrmJobArn = stateMachineArn('ExportCrmJob');
  const exportCrmJob = sfn.StateMachine.fromStateMachineArn(stack, 'ExportCrmJob', exportCrmJobArn);

  return {
    exportJob: render(buildExportJobDefinition(stack, fns, exportJob), EXPORT_JOB_TIMEOUT),
    exportRun: render(
      buildExportRunDefinition(stack, fns, exportJob, {
        mapConcurrency: opts.mapConcurrency,
        bucket: s3.Bucket.fromBucketName(stack, 'Store', LOCAL_BUCKET),
        bucketPrefix: opts.bucketPrefix ?? '',
        exportCrmJob,
      }),
      EXPORT_RUN_TIMEOUT,
    ),
    exportCrmJob: render(buildExportCrmJobDefinition(stack, crmFns), CRM_ITEM_TIMEOUT),
    arns: {
      functions: functionArns,
      crmFunctions: crmFunctionArns,
      exportRun: stateMachineArn('ExportRun'),
      exportJob: exportJobArn,
      exportCrmJob: exportCrmJobArn,
    },
  };
}

/**
 * Service-integration ARNs are rendered as `Fn::Join` over `Ref: AWS::Partition` whatever the stack's
 * environment; outside CloudFormation that is the `aws` partition. Any other intrinsic is a bug.
 */
function resolvePartition(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolvePartition);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if ('Ref' in record) {
    if (record.Ref === 'AWS::Partition') return 'aws';
    throw new Error(`unresolvable reference in a rendered definition: ${JSON.stringify(record)}`);
  }
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolvePartition(part)).join(separator);
  }
  return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, resolvePartition(inner)]));
}
