// The LinkedIn access token from Secrets Manager: cached, expiry checked, days left as a metric.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { DAY_MS } from '#common/days';
import { AwsTransientError, ConfigurationError, LinkedInAuthError } from '#common/errors';
import { logger, metrics } from '#common/powertools';

/** Returns the LinkedIn access token to send as `Authorization: Bearer <token>`. */
export type TokenProvider = () => Promise<string>;

/**
 * The secret's content, written by `npm run token -- login` (or by hand: the first two fields) and by
 * the rotation function. The optional fields came with issue 19; secrets written before stay valid.
 */
export const TokenSecretSchema = z.object({
  accessToken: z.string().trim().min(1),
  expiresAt: z.iso.datetime({ offset: true }),
  /** Only for applications LinkedIn approved for programmatic refresh tokens. */
  refreshToken: z.string().trim().min(1).optional(),
  refreshTokenExpiresAt: z.iso.datetime({ offset: true }).optional(),
  /** Granted scopes as LinkedIn wrote them (comma-separated). */
  scope: z.string().optional(),
});
export type TokenSecret = z.infer<typeof TokenSecretSchema>;

/** Warn (log) when the token expires within this many days: renewing it is a manual step. */
export const TOKEN_EXPIRY_WARNING_DAYS = 7;

/** The command that renews the token of a deployed stack (README "Renew the token"). */
export function renewCommand(target: { stackName: string; region: string } | { secretArn: string }): string {
  return 'stackName' in target
    ? `npm run token -- login --stack ${target.stackName} --region ${target.region}`
    : `npm run token -- login --secret-arn ${target.secretArn}`;
}

/** What the expiry alarms and an expired-token failure say (the same words in both). */
export function renewInstruction(command: string): string {
  return `renew it with: ${command} (the member signs in to LinkedIn once; README "Renew the token")`;
}

/** Secrets Manager errors that no retry fixes: the secret or the function's permissions are wrong. */
const CONFIGURATION_FAILURES = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidRequestException',
]);

interface CachedToken {
  accessToken: string;
  expiresAt: Date;
}

/**
 * Reads the token from a Secrets Manager secret once per container and caches it for `cacheTtlMs`
 * (so a renewed secret is picked up within that time). Concurrent callers share one read; a failed
 * read is not cached. The expiry is checked on every call, so a cached token that expires is refused.
 */
export function secretTokenProvider(opts: {
  client: SecretsManagerClient;
  secretId: string;
  /** @default 5 minutes */
  cacheTtlMs?: number;
  now?: () => Date;
  /** What renews the token (the stack passes TOKEN_RENEW_COMMAND). @default `renewCommand({secretArn})` */
  renewCommand?: string;
}): TokenProvider {
  const { client, secretId, cacheTtlMs = 5 * 60 * 1000, now = () => new Date() } = opts;
  const renew = renewInstruction(opts.renewCommand ?? renewCommand({ secretArn: secretId }));
  let cache: { token: Promise<CachedToken>; readAt: number } | undefined;

  const howToSet =
    `Set it with: ${opts.renewCommand ?? renewCommand({ secretArn: secretId })}, or: aws secretsmanager put-secret-value --secret-id ${secretId} ` +
    `--secret-string '{"accessToken":"...","expiresAt":"2027-01-31T00:00:00Z"}'`;

  async function read(): Promise<CachedToken> {
    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId })));
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      if (CONFIGURATION_FAILURES.has(name)) {
        // ResourceNotFoundException also means "no value yet": the stack creates the secret empty.
        throw new ConfigurationError(
          `cannot read the LinkedIn token secret ${secretId} (${name}): it may have no value yet. ${howToSet}`,
        );
      }
      // Throttling, 5xx, network: a named error the state machine retries.
      throw new AwsTransientError(`cannot read the LinkedIn token secret ${secretId} (${name || 'error'})`, {
        cause: err,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(secretString ?? '');
    } catch {
      throw new ConfigurationError(`the LinkedIn token secret ${secretId} is not JSON. ${howToSet}`);
    }
    const parsed = TokenSecretSchema.safeParse(json);
    if (!parsed.success) {
      // Field names only: the issue never echoes the secret's values.
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
      throw new ConfigurationError(
        `the LinkedIn token secret ${secretId} is not set or invalid (${fields.join(', ')}). ${howToSet}`,
      );
    }
    const expiresAt = new Date(parsed.data.expiresAt);
    recordExpiry(expiresAt, now());
    return { accessToken: parsed.data.accessToken, expiresAt };
  }

  return async () => {
    const at = now().getTime();
    let entry = cache;
    if (entry === undefined || at - entry.readAt >= cacheTtlMs) {
      const fresh = { token: read(), readAt: at };
      fresh.token.catch(() => {
        if (cache === fresh) cache = undefined;
      });
      cache = entry = fresh;
    }
    const token = await entry.token;
    if (token.expiresAt.getTime() <= now().getTime()) {
      throw new LinkedInAuthError(
        `the LinkedIn access token in ${secretId} expired on ${token.expiresAt.toISOString()}: ${renew}`,
      );
    }
    return token.accessToken;
  };
}

/**
 * Publishes `TokenExpiresInDays` on every read, negative once the token has expired: the expiry
 * alarms (lib/constructs/token-lifecycle.ts) need a datapoint after the expiry too, or they would
 * fall back to OK exactly when every export stops (issue 19). Logs a warning in the last days.
 */
function recordExpiry(expiresAt: Date, now: Date): void {
  const msLeft = expiresAt.getTime() - now.getTime();
  const days = Math.floor(msLeft / DAY_MS);
  metrics.addMetric('TokenExpiresInDays', MetricUnit.Count, days);
  if (msLeft > TOKEN_EXPIRY_WARNING_DAYS * DAY_MS) return;
  logger.warn(
    msLeft <= 0 ? 'LinkedIn access token has expired' : 'LinkedIn access token expires soon: renew it',
    { expiresAt: expiresAt.toISOString(), expiresInDays: days },
  );
}

/** For local runs and tests: always the same token. */
export function staticTokenProvider(token: string): TokenProvider {
  if (!token.trim()) throw new ConfigurationError('the LinkedIn access token is empty');
  return () => Promise.resolve(token);
}
