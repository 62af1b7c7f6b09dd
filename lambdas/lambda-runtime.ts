// A Lambda container's dependencies, built once from its environment, and a step wrapped as a handler.
import { GlueClient } from '@aws-sdk/client-glue';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { CRM_DATASET, CrmInstanceUrnSchema } from '#common/crm';
import { ConfigurationError, errorInfo } from '#common/errors';
import { ContractUrnSchema, DatasetSchema, IsoDaySchema } from '#common/model';
import { logger, metrics } from '#common/powertools';
import { settingsFromEnv } from '#common/settings';
import { LinkedInClient } from '#linkedin/client';
import { secretTokenProvider } from '#linkedin/token';
import type { Step } from '#steps/define-step';
import type { Deps } from '#steps/deps';
import { GlueLakeCatalog } from '#storage/lake-catalog';
import { createS3Client, S3ObjectStore } from '#storage/s3-store';

let cached: Deps | undefined;
/** The running invocation's remaining time: LinkedIn calls never outlast the Lambda timeout. */
let remainingMs: () => number = () => Number.POSITIVE_INFINITY;

/**
 * Dependencies of a Lambda container, built once from its environment (set by the stack):
 * EXPORT_SETTINGS, BUCKET_NAME, BUCKET_PREFIX, TOKEN_SECRET_ARN and TOKEN_RENEW_COMMAND (functions that
 * call LinkedIn).
 */
export function awsDeps(env: NodeJS.ProcessEnv = process.env): Deps {
  if (cached) return cached;
  const settings = settingsFromEnv(env);
  const bucket = env.BUCKET_NAME;
  if (!bucket) throw new ConfigurationError('BUCKET_NAME is not set');
  const secretId = env.TOKEN_SECRET_ARN;
  const getToken = secretId
    ? secretTokenProvider({
        client: new SecretsManagerClient({}),
        secretId,
        ...(env.TOKEN_RENEW_COMMAND && { renewCommand: env.TOKEN_RENEW_COMMAND }),
      })
    : () =>
        Promise.reject(
          new ConfigurationError('TOKEN_SECRET_ARN is not set: this function may not call LinkedIn'),
        );
  cached = {
    settings,
    store: new S3ObjectStore({ client: createS3Client(), bucket, prefix: env.BUCKET_PREFIX }),
    linkedin: new LinkedInClient({
      baseUrl: settings.apiBaseUrl,
      getToken,
      maxRetryAfterSeconds: settings.maxInProcessRetryAfterSeconds,
      remainingMs: () => remainingMs(),
    }),
    now: () => new Date(),
    getToken,
  };
  return cached;
}

let cachedWithLake: Deps | undefined;

/**
 * `awsDeps` plus the Glue lake when LAKE_DATABASE is set (FinishRun, stack with `lake: true`).
 * Only the handler that calls it bundles the Glue client (the SDK is free of side effects, so
 * esbuild drops it from every other function).
 */
export function awsDepsWithLake(env: NodeJS.ProcessEnv = process.env): Deps {
  if (cachedWithLake) return cachedWithLake;
  const deps = awsDeps(env);
  const database = env.LAKE_DATABASE;
  cachedWithLake = database
    ? {
        ...deps,
        lake: new GlueLakeCatalog({
          client: new GlueClient({}),
          database,
          dataLocation: deps.store.location,
        }),
      }
    : deps;
  return cachedWithLake;
}

let cachedWithRunStatus: Deps | undefined;

/** The ARN of ExportRun's execution `runId` (the run id is the execution name). */
export function runExecutionArn(exportRunArn: string, runId: string): string {
  return `${exportRunArn.replace(':stateMachine:', ':execution:')}:${runId}`;
}

/**
 * `awsDeps` plus `isRunOver` from Step Functions when EXPORT_RUN_ARN is set (CreateJob): a run is over
 * when its ExportRun execution is anything but RUNNING (SUCCEEDED, FAILED, TIMED_OUT, ABORTED,
 * PENDING_REDRIVE). An execution that does not exist (a run of the local CLI into the same bucket)
 * or an answer it cannot get (throttled, denied) is "not known": the lease holds until it expires,
 * so a live run never loses an item. Only CreateJob bundles the Step Functions client.
 */
export function awsDepsWithRunStatus(env: NodeJS.ProcessEnv = process.env, sfnClient?: SFNClient): Deps {
  if (cachedWithRunStatus) return cachedWithRunStatus;
  const deps = awsDeps(env);
  const exportRunArn = env.EXPORT_RUN_ARN;
  const sfn = sfnClient ?? new SFNClient({});
  cachedWithRunStatus = exportRunArn
    ? {
        ...deps,
        isRunOver: async (runId) => {
          const executionArn = runExecutionArn(exportRunArn, runId);
          try {
            const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
            return status !== undefined && status !== 'RUNNING';
          } catch (err) {
            if (!(err instanceof Error && err.name === 'ExecutionDoesNotExist')) {
              logger.warn('could not tell whether the run holding a lease has ended; the lease holds', {
                heldBy: runId,
                error: errorInfo(err),
              });
            }
            return false;
          }
        },
      }
    : deps;
  return cachedWithRunStatus;
}

/** A field that is logged only when it is what it should be (anything else is left out, never logged). */
const safe = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

/**
 * The parts of a step's event its log lines carry, validated field by field: the run (PlanRun, FinishRun,
 * every item state), the item (ExportJob and CRM states) and the input's range (PlanRun).
 */
const LogKeysEventSchema = z
  .object({
    runId: safe(z.string().min(1).max(80)),
    item: safe(
      z.object({
        contract: safe(ContractUrnSchema),
        dataset: safe(DatasetSchema),
        start: safe(IsoDaySchema),
        end: safe(IsoDaySchema),
        crmInstance: safe(CrmInstanceUrnSchema),
      }),
    ),
    input: safe(z.object({ from: safe(IsoDaySchema), to: safe(IsoDaySchema) })),
  })
  .catch({});

/**
 * The keys every log line of one invocation carries: `runId`, `contract`, `dataset` and `window`
 * (`<start>_<end>`, as in the S3 key; PlanRun: the input's `from`/`to`), and `crmInstance` for a CRM
 * export. Only values that pass their schema: never a token, a URL or anything else the event holds.
 */
export function invocationLogKeys(event: unknown): Record<string, string> {
  const { runId, item, input } = LogKeysEventSchema.parse(event);
  const window =
    item?.start && item.end
      ? `${item.start}_${item.end}`
      : input?.from && input.to
        ? `${input.from}_${input.to}`
        : undefined;
  const keys: Record<string, string | undefined> = {
    runId,
    contract: item?.contract,
    dataset: item?.crmInstance ? CRM_DATASET : item?.dataset,
    window,
    crmInstance: item?.crmInstance,
  };
  return Object.fromEntries(Object.entries(keys).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * The Lambda entry point of a step: Powertools context, the step itself, metrics from its output
 * (flushed only when there are some: Powertools warns on every empty flush).
 * Errors are logged by name and message (never a token or a signed URL: our errors carry neither)
 * and rethrown so Step Functions sees their `name` as the error to Retry or Catch.
 */
export function lambdaHandler<O>(
  step: Step<O>,
  record?: (output: O) => void,
  /** Metrics of a failed step (e.g. a run that is incomplete), published before the error is rethrown. */
  recordFailure?: (err: unknown) => void,
  /** The container's dependencies (default `awsDeps`; FinishRun: `awsDepsWithLake`). */
  deps: () => Deps = () => awsDeps(),
): (event: unknown, context: Context) => Promise<O> {
  return async (event, context) => {
    logger.addContext(context);
    // A container serves many invocations: the previous item's keys never stay on this one's lines.
    logger.resetKeys();
    logger.appendKeys(invocationLogKeys(event));
    if (typeof context.getRemainingTimeInMillis === 'function') {
      remainingMs = () => context.getRemainingTimeInMillis();
    }
    try {
      const output = await step.run(event, deps());
      record?.(output);
      return output;
    } catch (err) {
      logger.error(`${step.name} failed`, { error: errorInfo(err) });
      recordFailure?.(err);
      throw err;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
