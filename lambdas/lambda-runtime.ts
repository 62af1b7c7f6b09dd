// A Lambda container's dependencies, built once from its environment, and a step wrapped as a handler.
import { GlueClient } from '@aws-sdk/client-glue';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { ConfigurationError, errorInfo } from '#common/errors';
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
 * EXPORT_SETTINGS, BUCKET_NAME, BUCKET_PREFIX, TOKEN_SECRET_ARN (functions that call LinkedIn).
 */
export function awsDeps(env: NodeJS.ProcessEnv = process.env): Deps {
  if (cached) return cached;
  const settings = settingsFromEnv(env);
  const bucket = env.BUCKET_NAME;
  if (!bucket) throw new ConfigurationError('BUCKET_NAME is not set');
  const secretId = env.TOKEN_SECRET_ARN;
  const getToken = secretId
    ? secretTokenProvider({ client: new SecretsManagerClient({}), secretId })
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
