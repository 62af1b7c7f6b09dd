import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '#local/cli/main';
import { tokenMain } from '#local/cli/token';
import type { OAuthEmulatorOptions } from '#local/emulator/oauth';
import { type Emulator, startEmulator } from '#local/emulator/server';

const DAY = 86_400_000;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:salesnav/token-AbCdEf';
const CLIENT_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:salesnav/client-GhIjKl';

interface Run {
  code: number;
  out: string[];
  err: string[];
  text: string;
}

let emulator: Emulator;
let clock: number;
let dir: string;
let secretFile: string;
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

beforeEach(async () => {
  clock = Date.now();
  emulator = await startEmulator({ now: () => clock, oauth: { refreshTokens: true } });
  dir = await mkdtemp(join(tmpdir(), 'salesnav-token-'));
  dirs.push(dir);
  secretFile = join(dir, 'client-secret');
  await writeFile(secretFile, `${emulator.oauth.clientSecret}\n`);
});
afterEach(() => emulator.close());

/** A browser: opens the authorization URL, follows LinkedIn's redirect to the loopback callback. */
async function browse(url: string, mutate?: (callback: URL) => void): Promise<number> {
  const answer = await fetch(url, { redirect: 'manual' });
  const location = answer.headers.get('location');
  if (!location) return answer.status;
  const callback = new URL(location);
  mutate?.(callback);
  return (await fetch(callback)).status;
}

/** `npm run token -- …` in this process; the printed authorization URL is opened by `browse`. */
async function token(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; browser?: (url: string) => Promise<unknown> } = {},
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const visits: Promise<unknown>[] = [];
  const code = await tokenMain(
    argv,
    opts.env ?? {},
    {
      out: (line) => {
        out.push(line);
        if (line.includes('/oauth/v2/authorization?')) visits.push((opts.browser ?? browse)(line));
      },
      err: (line) => err.push(line),
    },
    // The CLI's clock is the emulator's.
    { now: () => new Date(clock) },
  );
  await Promise.all(visits);
  return { code, out, err, text: [...out, ...err].join('\n') };
}

const client = () => ['--client-id', emulator.oauth.clientId, '--client-secret-file', secretFile];
const login = (file: string, extra: string[] = []) => [
  'login',
  '--token-file',
  file,
  ...client(),
  '--port',
  '0',
  '--no-open',
  '--oauth-url',
  emulator.oauthUrl,
  ...extra,
];
const status = (file: string, extra: string[] = []) => [
  'status',
  '--token-file',
  file,
  '--api-url',
  emulator.url,
  '--oauth-url',
  emulator.oauthUrl,
  ...extra,
];

describe('npm run token -- login (local file)', () => {
  it('runs the authorization-code flow on a loopback redirect and stores the token 0600, never printing it', async () => {
    const file = join(dir, 'nested', 'token.json');
    const run = await token(login(file));
    expect(run.code, run.text).toBe(0);

    const url = new URL(run.out.find((l) => l.includes('/oauth/v2/authorization?')) as string);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: emulator.oauth.clientId,
      redirect_uri: expect.stringMatching(/^http:\/\/localhost:\d+\/callback$/),
      state: expect.stringMatching(/^[\w-]{32}$/),
      scope: 'r_sales_nav_analytics',
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const record = JSON.parse(await readFile(file, 'utf8'));
    expect(record).toEqual({
      accessToken: expect.any(String),
      expiresAt: expect.any(String),
      refreshToken: expect.any(String),
      refreshTokenExpiresAt: expect.any(String),
      scope: 'r_sales_nav_analytics',
    });
    expect(emulator.oauth.check(record.accessToken)).toBe('valid');
    expect(Math.abs(Date.parse(record.expiresAt) - (clock + 60 * DAY))).toBeLessThan(5_000);
    expect(Math.abs(Date.parse(record.refreshTokenExpiresAt) - (clock + 365 * DAY))).toBeLessThan(5_000);
    for (const secret of [record.accessToken, record.refreshToken, emulator.oauth.clientSecret]) {
      expect(run.text).not.toContain(secret);
    }
    expect(run.text).toContain('Stored the token in the token file');
  });

  it.each([
    [
      'user_cancelled_authorize',
      { consent: 'user_cancelled_authorize' },
      /refused the permission request.*choose Allow/,
    ],
    ['user_cancelled_login', { consent: 'user_cancelled_login' }, /did not sign in to LinkedIn/],
    [
      'a scope the app has no product for',
      { grantedScopes: ['r_liteprofile'] },
      /refused the scope r_sales_nav_analytics.*SNAP/,
    ],
  ] as [string, OAuthEmulatorOptions, RegExp][])(
    'explains %s and stores nothing',
    async (_, knobs, message) => {
      emulator.oauth.configure(knobs);
      const file = join(dir, 'token.json');
      const run = await token(login(file));
      expect(run.code).toBe(1);
      expect(run.err.join('\n')).toMatch(message);
      await expect(stat(file)).rejects.toThrow();
    },
  );

  it('an unregistered redirect URI: LinkedIn shows its error page, the CLI gives up saying to register it', async () => {
    emulator.oauth.configure({ redirectUris: ['https://example.com/callback'] });
    const statuses: number[] = [];
    const run = await token(login(join(dir, 'token.json'), ['--timeout', '0.5']), {
      browser: async (url) => statuses.push(await browse(url)),
    });
    expect(statuses).toEqual([400]);
    expect(run.code).toBe(1);
    expect(run.err.join('\n')).toMatch(/no answer from LinkedIn within 1 s.*invalid redirect_uri.*register/);
  });

  it('refuses an answer carrying another state (CSRF), and a wrong client secret', async () => {
    const forged = await token(login(join(dir, 'a.json')), {
      browser: (url) => browse(url, (callback) => callback.searchParams.set('state', 'forged')),
    });
    expect(forged.code).toBe(1);
    expect(forged.err.join('\n')).toMatch(/another state.*nothing was stored/);

    await writeFile(secretFile, 'wrong-secret');
    const wrong = await token(login(join(dir, 'b.json')));
    expect(wrong.code).toBe(1);
    expect(wrong.err.join('\n')).toMatch(/401 invalid_client.*client id or client secret is wrong/);
    expect(wrong.text).not.toContain('wrong-secret');
  });

  it('never takes the client secret as a flag value, and needs a client id', async () => {
    const flag = await token(['login', '--client-secret', 'x']);
    expect(flag.code).toBe(2);
    const noId = await token([
      'login',
      '--token-file',
      join(dir, 't.json'),
      '--client-secret-file',
      secretFile,
    ]);
    expect(noId.code).toBe(2);
    expect(noId.err.join('\n')).toMatch(/--client-id ID or LINKEDIN_CLIENT_ID/);
  });
});

describe('npm run token -- status', () => {
  it('reports days left and scope from introspection, corrects a wrong expiresAt, counts reportable contracts', async () => {
    const file = join(dir, 'token.json');
    expect((await token(login(file))).code).toBe(0);
    const record = JSON.parse(await readFile(file, 'utf8'));
    const typed = { ...record, expiresAt: '2099-01-01T00:00:00.000Z', scope: undefined };
    await writeFile(file, JSON.stringify(typed));

    const run = await token(status(file, client()));
    expect(run.code, run.text).toBe(0);
    expect(run.text).toContain('Corrected expiresAt');
    expect(run.out.join('\n')).toMatch(/\(59 days left\), from LinkedIn \(introspection\)/);
    expect(run.out).toContain('Scope: r_sales_nav_analytics');
    expect(run.out).toContain('Contracts: 2 of 3 with reporting access: Acme EMEA, Acme Americas');
    const corrected = JSON.parse(await readFile(file, 'utf8'));
    expect(Math.abs(Date.parse(corrected.expiresAt) - (clock + 60 * DAY))).toBeLessThan(2_000);
    expect(run.text).not.toContain(record.accessToken);
  });

  it('exits 1 with the fix when the token has expired, or when no contract has reporting access', async () => {
    emulator.oauth.configure({ expiresInSeconds: 60 });
    const file = join(dir, 'token.json');
    expect((await token(login(file))).code).toBe(0);
    clock += 120_000;
    const expired = await token(status(file, client()));
    expect(expired.code).toBe(1);
    expect(expired.err.join('\n')).toMatch(
      /Cannot export: LinkedIn says the token is not active \(expired\); the token expired on/,
    );
    expect(expired.err).toContain(`Fix: npm run token -- login --token-file ${file}`);

    const none = await startEmulator({
      contracts: [{ contract: 'urn:li:contract:1', name: 'Core', hasReportingAccess: false }],
    });
    try {
      await writeFile(
        file,
        JSON.stringify({ accessToken: none.token, expiresAt: new Date(Date.now() + 30 * DAY).toISOString() }),
      );
      const run = await token(['status', '--token-file', file, '--api-url', none.url]);
      expect(run.code).toBe(1);
      expect(run.out).toContain('Scope: (not stated; give the client secret to ask LinkedIn)');
      expect(run.err.join('\n')).toMatch(/no contract with reporting access: a contract admin/);
    } finally {
      await none.close();
    }
  });

  it('says how to get a token when there is none', async () => {
    const run = await token(['status', '--token-file', join(dir, 'none.json')]);
    expect(run.code).toBe(1);
    expect(run.err.join('\n')).toContain('get one with: npm run token -- login --token-file');
  });
});

describe('AWS mode (the stack secret)', () => {
  const sm = mockClient(SecretsManagerClient);
  const cfn = mockClient(CloudFormationClient);
  beforeEach(() => {
    sm.reset();
    cfn.reset();
    cfn.on(DescribeStacksCommand, { StackName: 'SalesNavExport' }).resolves({
      Stacks: [
        {
          StackName: 'SalesNavExport',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'TokenSecretArn', OutputValue: SECRET_ARN },
            { OutputKey: 'ClientSecretArn', OutputValue: CLIENT_ARN },
          ],
        },
      ],
    });
    sm.on(GetSecretValueCommand, { SecretId: CLIENT_ARN }).resolves({
      SecretString: JSON.stringify({
        clientId: emulator.oauth.clientId,
        clientSecret: emulator.oauth.clientSecret,
      }),
    });
  });
  afterAll(() => {
    sm.restore();
    cfn.restore();
  });

  it('login --stack finds both secrets from the outputs and writes the token secret', async () => {
    const run = await token([
      'login',
      '--stack',
      'SalesNavExport',
      '--region',
      'eu-west-1',
      '--port',
      '0',
      '--no-open',
      '--oauth-url',
      emulator.oauthUrl,
    ]);
    expect(run.code, run.text).toBe(0);
    const puts = sm.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(1);
    const input = puts[0]?.args[0].input;
    expect(input?.SecretId).toBe(SECRET_ARN);
    const record = JSON.parse(input?.SecretString as string);
    expect(emulator.oauth.check(record.accessToken)).toBe('valid');
    expect(run.text).not.toContain(record.accessToken);
    expect(run.text).toContain(`Check it: npm run token -- status --stack SalesNavExport --region eu-west-1`);
  });

  it('status --secret-arn with an empty secret (as the stack creates it) names the login command', async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).rejects(
      Object.assign(new Error('no value'), { name: 'ResourceNotFoundException' }),
    );
    const run = await token(['status', '--secret-arn', SECRET_ARN]);
    expect(run.code).toBe(1);
    expect(run.err.join('\n')).toContain(`get one with: npm run token -- login --secret-arn ${SECRET_ARN}`);
  });
});

describe('the local export reads the token file', () => {
  it('a run with an expired file token stops before any call, naming the renew command', async () => {
    const file = join(dir, 'token.json');
    await writeFile(
      file,
      JSON.stringify({ accessToken: emulator.token, expiresAt: new Date(Date.now() - DAY).toISOString() }),
    );
    const out: string[] = [];
    const code = await main(
      [
        '--local',
        '--api-url',
        emulator.url,
        '--from',
        '2024-05-01',
        '--to',
        '2024-05-02',
        '--dest',
        join(dir, 'x'),
      ],
      { LINKEDIN_TOKEN_FILE: file },
      { out: (l) => out.push(l), err: (l) => out.push(l) },
    );
    expect(code).toBe(2);
    expect(out.join('\n')).toMatch(/expired on .*renew it with: npm run token -- login/);
    expect(emulator.requests).toHaveLength(0);
  });
});
