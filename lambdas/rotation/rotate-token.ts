// Secrets Manager's four-step rotation of the LinkedIn token secret: a new access token from the refresh token.
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { ConfigurationError, InvalidInputError } from '#common/errors';
import { logger } from '#common/powertools';
import { LinkedInClient } from '#linkedin/client';
import {
  OAuthClientSchema,
  type OAuthEndpoints,
  refreshAccessToken,
  SALES_NAV_SCOPE,
  scopesOf,
  tokenRecord,
} from '#linkedin/oauth';
import { renewInstruction, type TokenSecret, TokenSecretSchema } from '#linkedin/token';

/**
 * What Secrets Manager sends the rotation function, once per step ("Lambda rotation functions" in the
 * Secrets Manager user guide): the secret, the new version's id (`ClientRequestToken`) and the step.
 */
export const RotationEventSchema = z.object({
  Step: z.enum(['createSecret', 'setSecret', 'testSecret', 'finishSecret']),
  SecretId: z.string().min(1),
  ClientRequestToken: z.string().min(1),
  RotationToken: z.string().optional(),
});
export type RotationEvent = z.infer<typeof RotationEventSchema>;

export interface RotationDeps {
  secrets: SecretsManagerClient;
  /** The secret holding `{clientId, clientSecret}` of the LinkedIn application. */
  clientSecretId: string;
  oauth: OAuthEndpoints;
  /** LinkedIn REST base (testSecret lists the contracts with the new token). */
  apiBaseUrl: string;
  /** The command a person runs when rotation cannot renew the token. */
  renewCommand: string;
  now: () => Date;
}

const PENDING = 'AWSPENDING';
const CURRENT = 'AWSCURRENT';

export function parseRotationEvent(event: unknown): RotationEvent {
  const parsed = RotationEventSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
    throw new InvalidInputError(`RotateToken received an invalid event: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * One step of the rotation protocol. Every step is idempotent (Secrets Manager may call one again),
 * and nothing before finishSecret touches AWSCURRENT: a failed rotation leaves the token in use as
 * it was, and the function's error raises the TokenRotationFailed alarm.
 */
export async function rotateToken(event: RotationEvent, deps: RotationDeps): Promise<void> {
  const { SecretId: secretId, ClientRequestToken: version, Step: step } = event;
  const { RotationEnabled, VersionIdsToStages = {} } = await deps.secrets.send(
    new DescribeSecretCommand({ SecretId: secretId }),
  );
  if (RotationEnabled === false)
    throw new ConfigurationError(`secret ${secretId} is not enabled for rotation`);
  const stages = VersionIdsToStages[version];
  if (!stages) throw new InvalidInputError(`secret ${secretId} has no version ${version} to rotate to`);
  if (stages.includes(CURRENT)) {
    logger.info('Rotation version is already AWSCURRENT', { step, version });
    return;
  }
  if (!stages.includes(PENDING)) {
    throw new InvalidInputError(`version ${version} of ${secretId} is not AWSPENDING`);
  }
  logger.info('Rotation step', { step, version });
  switch (step) {
    case 'createSecret':
      return createSecret(secretId, version, deps);
    case 'setSecret':
      // Nothing to set: LinkedIn itself issued the new token (an OAuth refresh has no "service side").
      return;
    case 'testSecret':
      return testSecret(secretId, version, deps);
    case 'finishSecret':
      return finishSecret(secretId, version, VersionIdsToStages, deps);
  }
}

async function createSecret(secretId: string, version: string, deps: RotationDeps): Promise<void> {
  if (await readVersion(deps, secretId, { VersionId: version, VersionStage: PENDING }, true)) return;
  const current = (await readVersion(deps, secretId, { VersionStage: CURRENT })) as TokenSecret;
  const renew = renewInstruction(deps.renewCommand);
  if (!current.refreshToken) {
    throw new ConfigurationError(
      `the token secret holds no refresh token (LinkedIn issues them only to applications it approved for programmatic refresh tokens), so rotation cannot renew it: ${renew}`,
    );
  }
  if (current.refreshTokenExpiresAt && Date.parse(current.refreshTokenExpiresAt) <= deps.now().getTime()) {
    throw new ConfigurationError(
      `the refresh token expired on ${current.refreshTokenExpiresAt} (a year after the member's consent): ${renew}`,
    );
  }
  const client = await readClient(deps);
  const answer = await refreshAccessToken(client, current.refreshToken, deps.oauth);
  const record = tokenRecord(answer, deps.now(), current);
  await deps.secrets.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      ClientRequestToken: version,
      SecretString: JSON.stringify(record),
      VersionStages: [PENDING],
    }),
  );
  logger.info('New LinkedIn access token stored as AWSPENDING', { version, expiresAt: record.expiresAt });
}

/** The pending token must be accepted by LinkedIn and carry the scope the exports need. */
async function testSecret(secretId: string, version: string, deps: RotationDeps): Promise<void> {
  const pending = (await readVersion(deps, secretId, {
    VersionId: version,
    VersionStage: PENDING,
  })) as TokenSecret;
  if (pending.scope !== undefined && !scopesOf(pending.scope).includes(SALES_NAV_SCOPE)) {
    throw new ConfigurationError(`the refreshed token lacks ${SALES_NAV_SCOPE} (scope ${pending.scope})`);
  }
  const linkedin = new LinkedInClient({
    baseUrl: deps.apiBaseUrl,
    getToken: () => Promise.resolve(pending.accessToken),
  });
  await linkedin.listContracts();
}

async function finishSecret(
  secretId: string,
  version: string,
  stages: Record<string, string[]>,
  deps: RotationDeps,
): Promise<void> {
  const current = Object.entries(stages).find(([, s]) => s.includes(CURRENT))?.[0];
  await deps.secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: CURRENT,
      MoveToVersionId: version,
      ...(current && { RemoveFromVersionId: current }),
    }),
  );
  logger.info('Rotation finished: the new token is AWSCURRENT', { version, previous: current });
}

/** A version's token record; `optional` answers undefined when that version does not exist (yet). */
async function readVersion(
  deps: RotationDeps,
  secretId: string,
  which: { VersionId?: string; VersionStage: string },
  optional = false,
): Promise<TokenSecret | undefined> {
  let text: string | undefined;
  try {
    ({ SecretString: text } = await deps.secrets.send(
      new GetSecretValueCommand({ SecretId: secretId, ...which }),
    ));
  } catch (err) {
    if (optional && err instanceof Error && err.name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    json = undefined;
  }
  const parsed = TokenSecretSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigurationError(
      `the ${which.VersionStage} version of ${secretId} is not a token record: ${renewInstruction(deps.renewCommand)}`,
    );
  }
  return parsed.data;
}

async function readClient(deps: RotationDeps): Promise<z.infer<typeof OAuthClientSchema>> {
  let text: string | undefined;
  try {
    ({ SecretString: text } = await deps.secrets.send(
      new GetSecretValueCommand({ SecretId: deps.clientSecretId }),
    ));
  } catch (err) {
    const name = err instanceof Error ? err.name : 'error';
    throw new ConfigurationError(
      `cannot read the LinkedIn client secret ${deps.clientSecretId} (${name}): put {"clientId","clientSecret"} in it (README "Renewal without a person")`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    json = undefined;
  }
  const parsed = OAuthClientSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigurationError(
      `the LinkedIn client secret ${deps.clientSecretId} must hold {"clientId":"...","clientSecret":"..."}`,
    );
  }
  return parsed.data;
}
