import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { ConfigurationError, LinkedInAuthError } from '#common/errors';
import { logger, metrics } from '#common/powertools';
import { renewInstruction, secretTokenProvider, staticTokenProvider } from '#linkedin/token';

const SECRET_ID = 'salesnav/linkedin-token';
const TOKEN = 'AQX-secret-token-do-not-leak';
const DAY = 24 * 3600 * 1000;
const sm = mockClient(SecretsManagerClient);

let now: Date;
let warn: MockInstance<typeof logger.warn>;
let addMetric: MockInstance<typeof metrics.addMetric>;
const provider = () =>
  secretTokenProvider({ client: new SecretsManagerClient({}), secretId: SECRET_ID, now: () => now });
const secret = (value: unknown) =>
  sm.on(GetSecretValueCommand, { SecretId: SECRET_ID }).resolves({
    SecretString: typeof value === 'string' ? value : JSON.stringify(value),
  });

beforeEach(() => {
  sm.reset();
  now = new Date('2026-01-15T12:00:00Z');
  warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
  addMetric = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
});
afterEach(() => vi.restoreAllMocks());

describe('secretTokenProvider', () => {
  it('reads the secret once within the TTL and again after it', async () => {
    secret({ accessToken: TOKEN, expiresAt: '2026-12-31T00:00:00Z' });
    const getToken = provider();

    await expect(Promise.all([getToken(), getToken()])).resolves.toEqual([TOKEN, TOKEN]);
    now = new Date(now.getTime() + 4 * 60 * 1000);
    await expect(getToken()).resolves.toBe(TOKEN);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    now = new Date(now.getTime() + 60 * 1000);
    secret({ accessToken: 'renewed', expiresAt: '2027-12-31T00:00:00Z' });
    await expect(getToken()).resolves.toBe('renewed');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it.each([
    ['the placeholder the stack creates', { accessToken: '', expiresAt: '' }, /accessToken, expiresAt/],
    ['a missing expiry', { accessToken: TOKEN }, /\(expiresAt\)/],
    ['an expiry that is not an ISO date', { accessToken: TOKEN, expiresAt: 'next year' }, /\(expiresAt\)/],
    ['malformed JSON', `{"accessToken":"${TOKEN}"`, /is not JSON/],
  ])('refuses %s with a ConfigurationError that says how to set it', async (_, value, reason) => {
    secret(value);
    const err = await provider()().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    const { message } = err as Error;
    expect(message).toMatch(reason);
    expect(message).toContain(
      `aws secretsmanager put-secret-value --secret-id ${SECRET_ID} --secret-string '{"accessToken":"...","expiresAt":"2027-01-31T00:00:00Z"}'`,
    );
    expect(message).not.toContain(TOKEN);
  });

  it('does not cache a failed read', async () => {
    secret({ accessToken: '', expiresAt: '' });
    const getToken = provider();
    await expect(getToken()).rejects.toThrow(ConfigurationError);
    secret({ accessToken: TOKEN, expiresAt: '2026-12-31T00:00:00Z' });
    await expect(getToken()).resolves.toBe(TOKEN);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('maps a missing secret (or one with no value yet: the stack creates it empty) to ConfigurationError saying how to set it', async () => {
    sm.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }),
    );
    const err = await provider()().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^cannot read the LinkedIn token secret ${SECRET_ID} \\(ResourceNotFoundException\\): it may have no value yet\\. Set it with: npm run token -- login --secret-arn ${SECRET_ID}, or: aws secretsmanager put-secret-value --secret-id ${SECRET_ID} `,
      ),
    );
  });

  it('refuses an expired token with LinkedInAuthError naming the date, also once cached', async () => {
    secret({ accessToken: TOKEN, expiresAt: '2026-01-10T00:00:00Z' });
    const err = await provider()().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInAuthError);
    expect((err as Error).message).toContain('expired on 2026-01-10T00:00:00.000Z');
    expect((err as Error).message).not.toContain(TOKEN);

    secret({ accessToken: TOKEN, expiresAt: '2026-01-15T12:01:00Z' });
    const getToken = provider();
    await expect(getToken()).resolves.toBe(TOKEN);
    now = new Date('2026-01-15T12:02:00Z');
    await expect(getToken()).rejects.toThrow(LinkedInAuthError);
  });

  it('records TokenExpiresInDays on every read, negative once expired, and warns in the last 7 days', async () => {
    secret({ accessToken: TOKEN, expiresAt: new Date(now.getTime() + 3.5 * DAY).toISOString() });
    await provider()();
    expect(addMetric).toHaveBeenLastCalledWith('TokenExpiresInDays', 'Count', 3);
    expect(warn).toHaveBeenCalledOnce();
    expect(JSON.stringify(warn.mock.calls)).not.toContain(TOKEN);

    secret({ accessToken: TOKEN, expiresAt: new Date(now.getTime() + 8 * DAY).toISOString() });
    await provider()();
    expect(addMetric).toHaveBeenLastCalledWith('TokenExpiresInDays', 'Count', 8);
    expect(warn).toHaveBeenCalledOnce();

    // After the expiry the datapoint keeps coming (the alarm stays in ALARM), and the run fails at once.
    secret({ accessToken: TOKEN, expiresAt: new Date(now.getTime() - 0.5 * DAY).toISOString() });
    await expect(provider()()).rejects.toThrow(LinkedInAuthError);
    expect(addMetric).toHaveBeenLastCalledWith('TokenExpiresInDays', 'Count', -1);
    expect(addMetric).toHaveBeenCalledTimes(3);
  });

  it("names the stack's renew command when a token has expired (the alarms say the same)", async () => {
    secret({ accessToken: TOKEN, expiresAt: '2026-01-10T00:00:00Z' });
    const command = 'npm run token -- login --stack SalesNavExport --region eu-west-1';
    const err = await secretTokenProvider({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ID,
      now: () => now,
      renewCommand: command,
    })().catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `the LinkedIn access token in ${SECRET_ID} expired on 2026-01-10T00:00:00.000Z: ${renewInstruction(command)}`,
    );
  });

  it('accepts the fields login and rotation write (refresh token, scope) next to the old two', async () => {
    secret({
      accessToken: TOKEN,
      expiresAt: '2026-12-31T00:00:00Z',
      refreshToken: 'refresh',
      refreshTokenExpiresAt: '2027-06-01T00:00:00Z',
      scope: 'r_sales_nav_analytics',
    });
    await expect(provider()()).resolves.toBe(TOKEN);
  });
});

describe('staticTokenProvider', () => {
  it('returns the token and refuses an empty one', async () => {
    await expect(staticTokenProvider(TOKEN)()).resolves.toBe(TOKEN);
    expect(() => staticTokenProvider(' ')).toThrow(ConfigurationError);
  });
});
