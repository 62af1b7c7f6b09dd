// The named errors every step throws, and what Retry/Catch in the state machines match on.
/**
 * Every error that can leave a Lambda handler has a stable `name`, so the state machines'
 * Retry and Catch rules can match on it (Step Functions sees it as `Error`). Renaming one is a
 * breaking change for deployed state machines and for the manifest's `error.name` field.
 */
export class NamedError extends Error {
  constructor(name: string, message: string, options?: { cause?: unknown }) {
    // Messages embed text a server sent (LinkedIn's error `message`, job details): made printable
    // here, once, so no manifest, execution cause, log line or terminal ever receives raw controls.
    super(printableText(message, MAX_ERROR_TEXT_CHARS), options);
    this.name = name;
  }
}

/** Longest error message we record: enough for our text plus a quoted server message. */
export const MAX_ERROR_TEXT_CHARS = 2_000;

/**
 * C0 and C1 control characters (ESC starts every ANSI sequence; CR/BS rewrite a terminal line),
 * DEL, and the bidirectional overrides and isolates that reorder what a reader sees.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `text` safe to store and print: every control or bidi character escaped as `\u001b` (visible,
 * and it cannot act), then cut to `maxChars` with an ellipsis. Idempotent: the escape is printable.
 */
export function printableText(text: string, maxChars = MAX_ERROR_TEXT_CHARS): string {
  const escaped = text.replace(
    UNPRINTABLE,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > maxChars ? `${escaped.slice(0, maxChars - 1)}…` : escaped;
}

/**
 * Values a server sent, for an error message: each quoted and made printable, at most `maxItems`
 * of them (`… and N more`), so a hostile list can neither inject controls nor flood a message.
 */
export function quotedList(values: readonly string[], maxItems = 10, maxChars = 120): string {
  const shown = values.slice(0, maxItems).map((v) => JSON.stringify(printableText(v, maxChars)));
  const more = values.length > maxItems ? ` and ${values.length - maxItems} more` : '';
  return `${shown.join(', ')}${more}`;
}

/** The execution input or a handler payload failed validation. Never retried. */
export class InvalidInputError extends NamedError {
  constructor(message: string) {
    super('InvalidInputError', message);
  }
}

/** A configuration value (environment, secret content) is missing or malformed. Never retried. */
export class ConfigurationError extends NamedError {
  constructor(message: string) {
    super('ConfigurationError', message);
  }
}

/** 401: the LinkedIn token is expired, revoked or wrong. Never retried: a human must renew it. */
export class LinkedInAuthError extends NamedError {
  constructor(message: string) {
    super('LinkedInAuthError', message);
  }
}

/** 403: the token's member may not use this contract or endpoint. Never retried. */
export class LinkedInForbiddenError extends NamedError {
  constructor(message: string) {
    super('LinkedInForbiddenError', message);
  }
}

/** 429 that outlasted the client's bounded in-process wait. Retried by the state machine. */
export class LinkedInThrottledError extends NamedError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super('LinkedInThrottledError', message);
  }
}

/** 5xx, network failure or timeout talking to LinkedIn. Retried by the state machine. */
export class LinkedInTransientError extends NamedError {
  /** A POST LinkedIn may have carried out: no answer, or a socket error after sending it. */
  readonly ambiguous: boolean;

  constructor(message: string, options?: { cause?: unknown; ambiguous?: boolean }) {
    super('LinkedInTransientError', message, options);
    this.ambiguous = options?.ambiguous ?? false;
  }
}

/**
 * Creating the item's job failed twice without LinkedIn saying whether it created one. Never
 * retried: every re-POST could leave one more job holding the lane's slot (LinkedIn runs one job per
 * endpoint per contract). The item record's `ambiguousCreates` counts the jobs that may exist.
 */
export class CreateJobAmbiguousError extends NamedError {
  constructor(message: string) {
    super('CreateJobAmbiguousError', message);
  }
}

/** LinkedIn answered with something that does not match the contract. Never retried. */
export class LinkedInResponseError extends NamedError {
  constructor(message: string) {
    super('LinkedInResponseError', message);
  }
}

/** An AWS dependency (Secrets Manager, S3) failed in a way worth retrying (throttling, 5xx, network). */
export class AwsTransientError extends NamedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AwsTransientError', message, options);
  }
}

/** Any other 4xx from LinkedIn (400, 404, ...). Never retried. */
export class LinkedInRequestError extends NamedError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super('LinkedInRequestError', message);
  }
}

/** The download URL is not https or not on an allow-listed host. Never retried. */
export class DownloadUrlRejectedError extends NamedError {
  constructor(message: string) {
    super('DownloadUrlRejectedError', message);
  }
}

/** The download URL expired and re-reading the job did not give a usable one. Retried. */
export class DownloadUrlExpiredError extends NamedError {
  constructor(message: string) {
    super('DownloadUrlExpiredError', message);
  }
}

/**
 * A LinkedIn download host answered 401 to a fresh URL, and again when asked with the LinkedIn token.
 * Never retried: the token's access (or LinkedIn's download service) needs a human look.
 */
export class DownloadAuthError extends NamedError {
  constructor(message: string) {
    super('DownloadAuthError', message);
  }
}

/** The body ended early, or its size differs from Content-Length. Retried (the upload is aborted). */
export class DownloadIncompleteError extends NamedError {
  constructor(message: string) {
    super('DownloadIncompleteError', message);
  }
}

/** The export job ended in a FAILED_* status and the policy gave up on it. */
export class ExportJobFailedError extends NamedError {
  constructor(message: string) {
    super('ExportJobFailedError', message);
  }
}

/** The job stayed ENQUEUED/PROCESSING past the polling deadline. */
export class PollDeadlineExceededError extends NamedError {
  constructor(message: string) {
    super('PollDeadlineExceededError', message);
  }
}

/** A planned run exceeds the per-run item bound; the caller must split it into several runs. */
export class PlanTooLargeError extends NamedError {
  constructor(message: string) {
    super('PlanTooLargeError', message);
  }
}

/** FinishRun: at least one item of the run is FAILED (the manifest has been written). */
export class RunIncompleteError extends NamedError {
  constructor(
    message: string,
    /** The run's counts, so the failed run's metrics are still published (once, by FinishRun). */
    readonly counts?: { exported: number; failed: number },
  ) {
    super('RunIncompleteError', message);
  }
}

/**
 * FinishRun: Glue refused to register the run's partitions (not a passing fault: access denied, a
 * missing table, a limit). Never retried; the objects and the manifest are written.
 */
export class LakeCatalogError extends NamedError {
  /** The run's counts, so the run's metrics are still published (see RunIncompleteError). */
  counts?: { exported: number; failed: number };

  constructor(message: string, options?: { cause?: unknown }) {
    super('LakeCatalogError', message, options);
  }
}

/** Errors the state machines retry (with backoff) before giving up on an item. */
export const RETRYABLE_ERRORS = [
  'LinkedInThrottledError',
  'LinkedInTransientError',
  'DownloadUrlExpiredError',
  'DownloadIncompleteError',
  'AwsTransientError',
] as const;

/** Shape of an error as recorded in the manifest. Never contains a token or a signed URL. */
export interface ErrorInfo {
  name: string;
  message: string;
}

export function errorInfo(err: unknown): ErrorInfo {
  // SDK and runtime errors are not NamedErrors: their text is made printable here too.
  if (err instanceof Error)
    return { name: printableText(err.name, 200), message: printableText(err.message) };
  return { name: 'Error', message: printableText(String(err)) };
}

/**
 * The error a Step Functions Catch put at `$.error`: `Cause` is the Lambda's JSON error (`errorType`,
 * `errorMessage`) or plain text (e.g. States.Timeout). Without one, an `UnknownError` saying `missing`.
 */
export function caughtErrorInfo(
  error: { Error: string; Cause?: string } | undefined,
  missing: string,
): ErrorInfo {
  if (!error) return { name: 'UnknownError', message: missing };
  const name = printableText(error.Error, 200);
  let message = error.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // Not JSON (e.g. States.Timeout): keep the cause as it is.
  }
  return { name, message: printableText(message || error.Error) };
}
