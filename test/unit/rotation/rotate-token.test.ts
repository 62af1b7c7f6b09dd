import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '#handlers/rotate-token';
import { authorizationUrl, exchangeCode, tokenRecord } from '#linkedin/oauth';
import type { TokenSecret } from '#linkedin/token';
import { type Emulator, startEmulator } from '#local/emulator/server';

const TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:salesnav/token-AbCdEf';
const CLIENT_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:salesnav/client-GhIjKl';
const RENEW = 'npm run token -- login --stack SalesNavExport --region eu-west-1';
const DAY = 86_400_000;
const context = { functionName: 'RotateToken', awsRequestId: 'r' } as Context;

/**
 * Secrets Manager as the rotation protocol sees it, behind aws-sdk-client-mock: versions with their
 * staging labels; RotateSecret's start adds the new version id labelled AWSPENDING, with no value yet.
 */
class FakeSecret {
  readonly versions = new Map<string, { value?: string; stages: Set<string> }>();
  constructor(initial: TokenSecret) {
    this.versions.set('v1', { value: JSON.stringify(initial), stages: new Set(['AWSCURRENT']) });
  }
  current(): TokenSecret {
    const [, v] = [...this.versions].find(([, x]) => x.stages.has('AWSCURRENT')) ?? [];
    return JSON.parse(v?.value as string);
  }
  startRotation(): string {
    const id = randomUUID();
    this.versions.set(id, { stages: new Set(['AWSPENDING']) });
    return id;
  }
  install(sm: ReturnType<typeof mockClient>, client: string): void {
    const notFound = () => Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
    sm.on(DescribeSecretCommand).callsFake(() => ({
      RotationEnabled: true,
      VersionIdsToStages: Object.fromEntries([...this.versions].map(([id, v]) => [id, [...v.stages]])),
    }));
    sm.on(GetSecretValueCommand).callsFake(({ SecretId, VersionId, VersionStage }) => {
      if (SecretId === CLIENT_ARN) return { SecretString: client };
      const found = [...this.versions].find(
        ([id, v]) => (!VersionId || id === VersionId) && (!VersionStage || v.stages.has(VersionStage)),
      );
      if (!found || found[1].value === undefined) throw notFound();
      return { SecretString: found[1].value };
    });
    sm.on(PutSecretValueCommand).callsFake(({ ClientRequestToken, SecretString, VersionStages }) => {
      for (const v of this.versions.values()) for (const s of VersionStages) v.stages.delete(s);
      const v = this.versions.get(ClientRequestToken) ?? { stages: new Set<string>() };
      v.value = SecretString;
      for (const s of VersionStages) v.stages.add(s);
      this.versions.set(ClientRequestToken, v);
      return {};
    });
    sm.on(UpdateSecretVersionStageCommand).callsFake(
      ({ VersionStage, MoveToVersionId, RemoveFromVersionId }) => {
        if (RemoveFromVersionId) this.versions.get(RemoveFromVersionId)?.stages.delete(VersionStage);
        this.versions.get(MoveToVersionId)?.stages.add(VersionStage);
        return {};
      },
    );
  }
}

const sm = mockClient(SecretsManagerClient);
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ oauth: { refreshTokens: true } });
  Object.assign(process.env, {
    CLIENT_SECRET_ARN: CLIENT_ARN,
    LINKEDIN_OAUTH_BASE_URL: emulator.oauthUrl,
    EXPORT_SETTINGS: JSON.stringify({ apiBaseUrl: emulator.url }),
    TOKEN_RENEW_COMMAND: RENEW,
  });
});
afterAll(async () => {
  sm.restore();
  await emulator.close();
});
beforeEach(() => {
  sm.reset();
  emulator.oauth.configure({ refreshTokens: true });
});

/** A member's consent, as `npm run token -- login` gets it: the code flow against the emulator. */
async function consentedToken(): Promise<TokenSecret> {
  const redirectUri = 'http://localhost:8765/callback';
  const client = { clientId: emulator.oauth.clientId, clientSecret: emulator.oauth.clientSecret };
  const url = authorizationUrl({
    clientId: client.clientId,
    redirectUri,
    state: 's',
    baseUrl: emulator.oauthUrl,
  });
  const location = (await fetch(url, { redirect: 'manual' })).headers.get('location') as string;
  const code = new URL(location).searchParams.get('code') as string;
  return tokenRecord(
    await exchangeCode(client, code, redirectUri, { baseUrl: emulator.oauthUrl }),
    new Date(),
  );
}

async function setUp(initial?: TokenSecret): Promise<FakeSecret> {
  const secret = new FakeSecret(initial ?? (await consentedToken()));
  secret.install(
    sm,
    JSON.stringify({ clientId: emulator.oauth.clientId, clientSecret: emulator.oauth.clientSecret }),
  );
  return secret;
}

const step = (Step: string, ClientRequestToken: string) =>
  handler({ Step, SecretId: TOKEN_ARN, ClientRequestToken }, context);

describe('RotateToken (Secrets Manager rotation of the token secret)', () => {
  it('refreshes the access token through the four steps; the new one becomes AWSCURRENT', async () => {
    const secret = await setUp();
    const before = secret.current();
    const version = secret.startRotation();
    const contractCalls = () => emulator.requests.filter((r) => r.path === '/v2/salesContracts').length;
    const calls = contractCalls();

    await step('createSecret', version);
    await step('createSecret', version); // idempotent: Secrets Manager may call a step again
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(secret.current()).toEqual(before);
    await step('setSecret', version);
    await step('testSecret', version);
    expect(contractCalls()).toBe(calls + 1);
    await step('finishSecret', version);

    const after = secret.current();
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(emulator.oauth.check(after.accessToken)).toBe('valid');
    expect(Math.abs(Date.parse(after.expiresAt) - (Date.now() + 60 * DAY))).toBeLessThan(10_000);
    // The refresh token and its one-year lifetime carry over (LinkedIn does not restart it).
    expect(after.refreshToken).toBe(before.refreshToken);
    expect(
      Math.abs(
        Date.parse(after.refreshTokenExpiresAt as string) -
          Date.parse(before.refreshTokenExpiresAt as string),
      ),
    ).toBeLessThan(2_000);
    expect(after.scope).toBe('r_sales_nav_analytics');
    expect(secret.versions.get('v1')?.stages.has('AWSCURRENT')).toBe(false);
  });

  it('a refresh LinkedIn refuses fails createSecret and leaves AWSCURRENT untouched', async () => {
    const secret = await setUp();
    const before = secret.current();
    emulator.oauth.configure({ refreshTokens: false });
    await expect(step('createSecret', secret.startRotation())).rejects.toMatchObject({
      name: 'LinkedInOAuthError',
      message: expect.stringContaining('invalid_grant'),
    });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(secret.current()).toEqual(before);
  });

  it('without a refresh token it fails naming the command that renews the token by hand', async () => {
    const { refreshToken: _, refreshTokenExpiresAt: __, ...noRefresh } = await consentedToken();
    const secret = await setUp(noRefresh);
    const err = await step('createSecret', secret.startRotation()).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ConfigurationError' });
    expect((err as Error).message).toContain(`no refresh token`);
    expect((err as Error).message).toContain(RENEW);
    expect(JSON.stringify(err)).not.toContain(noRefresh.accessToken);
    expect(secret.current()).toEqual(noRefresh);
  });

  it('a refresh token past its year fails before calling LinkedIn', async () => {
    const token = await consentedToken();
    const secret = await setUp({ ...token, refreshTokenExpiresAt: new Date(Date.now() - DAY).toISOString() });
    const issued = emulator.oauth.issuedCount();
    await expect(step('createSecret', secret.startRotation())).rejects.toThrow(
      /refresh token expired on .* npm run token -- login/,
    );
    expect(emulator.oauth.issuedCount()).toBe(issued);
  });

  it('testSecret fails when LinkedIn refuses the new token; finishSecret is never reached', async () => {
    const secret = await setUp();
    const before = secret.current();
    const version = secret.startRotation();
    await step('createSecret', version);
    const pending = JSON.parse(secret.versions.get(version)?.value as string) as TokenSecret;
    // Replace the pending token by one LinkedIn no longer accepts.
    secret.versions.set(version, {
      value: JSON.stringify({ ...pending, accessToken: 'not-a-linkedin-token' }),
      stages: new Set(['AWSPENDING']),
    });
    await expect(step('testSecret', version)).rejects.toMatchObject({ name: 'LinkedInAuthError' });
    expect(secret.current()).toEqual(before);
  });

  it('refuses a malformed event with InvalidInputError, and a version that is not AWSPENDING', async () => {
    await expect(handler({ unexpected: true }, context)).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining('received an invalid event'),
    });
    await setUp();
    await expect(step('createSecret', 'unknown-version')).rejects.toThrow(/has no version unknown-version/);
  });
});
