// Lambda RotateToken: Secrets Manager's rotation function of the token secret (see rotation/rotate-token.ts).
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { ConfigurationError, errorInfo } from '#common/errors';
import { logger } from '#common/powertools';
import { settingsFromEnv } from '#common/settings';
import { LINKEDIN_OAUTH_BASE_URL } from '#linkedin/oauth';
import { renewCommand } from '#linkedin/token';
import { parseRotationEvent, type RotationDeps, rotateToken } from '#rotation/rotate-token';

let deps: RotationDeps | undefined;

/** Built once per container from the environment the stack sets (CLIENT_SECRET_ARN, EXPORT_SETTINGS …). */
function depsFromEnv(env: NodeJS.ProcessEnv, secretId: string): RotationDeps {
  if (deps) return deps;
  const clientSecretId = env.CLIENT_SECRET_ARN;
  if (!clientSecretId) throw new ConfigurationError('CLIENT_SECRET_ARN is not set');
  deps = {
    secrets: new SecretsManagerClient({}),
    clientSecretId,
    oauth: { baseUrl: env.LINKEDIN_OAUTH_BASE_URL || LINKEDIN_OAUTH_BASE_URL },
    apiBaseUrl: settingsFromEnv(env).apiBaseUrl,
    renewCommand: env.TOKEN_RENEW_COMMAND || renewCommand({ secretArn: secretId }),
    now: () => new Date(),
  };
  return deps;
}

export async function handler(event: unknown, context: Context): Promise<void> {
  logger.addContext(context);
  const rotation = parseRotationEvent(event);
  try {
    await rotateToken(rotation, depsFromEnv(process.env, rotation.SecretId));
  } catch (err) {
    // Names and messages only: no token, refresh token or client secret is ever in one.
    logger.error(`RotateToken ${rotation.Step} failed`, { error: errorInfo(err) });
    throw err;
  }
}
