// Which S3 (and Glue) failures are transient (throttling, 5xx, timeouts, socket resets): mapped to AwsTransientError here, once.
import { AwsTransientError } from '#common/errors';

/**
 * S3 error names worth retrying once the SDK's own retries are spent: throttling (`SlowDown` is S3's
 * 503), server faults and timeouts. The lists follow @smithy/service-error-classification
 * (THROTTLING_ERROR_CODES, TRANSIENT_ERROR_CODES) plus S3's own names.
 */
const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'BandwidthLimitExceeded',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
  // 409 on a conditional write racing another one: retrying it is what S3 documents.
  'ConditionalRequestConflict',
  // Glue (BatchCreatePartition): its internal error, its timeout, a concurrent change of the table.
  'InternalServiceException',
  'OperationTimeoutException',
  'ConcurrentModificationException',
]);
/** Node socket errors (NODEJS_TIMEOUT_ERROR_CODES) and their undici/stream relatives. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);
const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Whether an S3 (or any AWS SDK v3) failure is one a later attempt may not meet. */
export function isTransientAwsError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as SdkErrorShape;
  // 412 PreconditionFailed is an answer (a conditional write lost), never a fault.
  const status = e.$metadata?.httpStatusCode;
  if (status === 412) return false;
  if (e.name && TRANSIENT_NAMES.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return true;
  return Boolean(e.$retryable);
}

/**
 * The error to throw for a failed S3 call: a transient one becomes AwsTransientError (the name every
 * Lambda Task of the state machines retries, with backoff), naming the operation, the key and the
 * S3 error, never a URL or credentials; any other error is returned unchanged.
 */
export function storeError(err: unknown, operation: string, location: string): unknown {
  return awsError('S3', err, operation, location);
}

/** `storeError` for any AWS service (`service` names it in the message, e.g. `Glue`). */
export function awsError(service: string, err: unknown, operation: string, location: string): unknown {
  if (err instanceof AwsTransientError || !isTransientAwsError(err)) return err;
  const e = err as SdkErrorShape;
  const what = [e.name, e.code, e.$metadata?.httpStatusCode].filter(Boolean).join(' ');
  return new AwsTransientError(
    `${service} ${operation} ${location} failed transiently (${what || 'error'})`,
    { cause: err },
  );
}
