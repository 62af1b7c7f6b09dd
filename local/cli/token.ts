// `npm run token -- login|status`: LinkedIn's 3-legged OAuth on a loopback redirect, and the token's state, into a file or the stack's secret.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { errorInfo } from '#common/errors';
import { LinkedInClient } from '#linkedin/client';
import {
  authorizationUrl,
  daysLeft,
  describeAuthorizationError,
  exchangeCode,
  introspectToken,
  LINKEDIN_OAUTH_BASE_URL,
  type OAuthClient,
  SALES_NAV_SCOPE,
  scopesOf,
  tokenRecord,
} from '#linkedin/oauth';
import { type TokenSecret, TokenSecretSchema } from '#linkedin/token';
import { describeAwsError } from '../aws-errors.ts';
import { defaultTokenFile, readTokenFile, writeTokenFile } from '../token-file.ts';
import { type CliIo, EXIT, UsageError } from './types.ts';

export const TOKEN_USAGE = `Get, store and check the LinkedIn access token (LinkedIn's 3-legged OAuth, scope ${SALES_NAV_SCOPE}).

Usage:
  npm run token -- login  [where] [client] [--port N] [--no-open] [--timeout SECONDS]
  npm run token -- status [where] [client] [--api-url URL]

Where the token is stored (one of; default: the local token file):
  --stack NAME [--region R]     the deployed stack's secret (its TokenSecretArn output; ClientSecretArn too)
  --secret-arn ARN              this Secrets Manager secret
  --token-file PATH             local file, written 0600 (default $LINKEDIN_TOKEN_FILE, else
                                ~/.config/salesnav-export/linkedin-token.json); npm run export -- --local reads it
The client (your LinkedIn application; the secret is never a flag):
  --client-id ID                or LINKEDIN_CLIENT_ID, or clientId in the client secret's secret
  --client-secret-file PATH     a file holding the client secret
  --client-secret-stdin         read the client secret from stdin
  --client-secret-arn ARN       a secret holding {"clientId","clientSecret"} (the stack's ClientSecretArn)
Login:
  --port N                      loopback port of the redirect URI http://localhost:N/callback (default 8765);
                                register exactly that URL in the application's Auth tab
  --no-open                     only print the authorization URL (default: also try to open a browser)
  --timeout SECONDS             how long to wait for the member's answer (default 300)
Status:
  --api-url URL                 LinkedIn API for the live check (default https://api.linkedin.com/v2)
  --oauth-url URL               LinkedIn OAuth base (default ${LINKEDIN_OAUTH_BASE_URL}; the emulator's for tests)

status exits 0 when the token can export, 1 when it cannot (the message says the fix), 2 on bad arguments.
The token itself is never printed.`;

const OPTIONS = {
  stack: { type: 'string' },
  region: { type: 'string' },
  'secret-arn': { type: 'string' },
  'token-file': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  'client-secret-arn': { type: 'string' },
  port: { type: 'string' },
  'no-open': { type: 'boolean' },
  timeout: { type: 'string' },
  'api-url': { type: 'string' },
  'oauth-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
/** A token whose expiry LinkedIn states differently by more than this is corrected in the store. */
const EXPIRY_TOLERANCE_MS = 60_000;
/** status warns (exit 0) below this many days. */
const STATUS_WARNING_DAYS = 14;

export interface TokenArgs {
  command: 'login' | 'status';
  stack?: string;
  region?: string;
  secretArn?: string;
  tokenFile?: string;
  clientId?: string;
  clientSecretFile?: string;
  clientSecretStdin: boolean;
  clientSecretArn?: string;
  port: number;
  open: boolean;
  timeoutMs: number;
  apiUrl: string;
  oauthUrl: string;
}

/** What the token CLI needs from its process; tests replace `openUrl` and `stdin`. */
export interface TokenDeps {
  stdin?: () => Promise<string>;
  openUrl?: (url: string) => void;
  now?: () => Date;
}

export function parseTokenCli(argv: string[]): TokenArgs | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const [command, extra] = parsed.positionals;
  if (command !== 'login' && command !== 'status') {
    throw new UsageError(`choose a command: login or status${command ? ` (got ${command})` : ''}`);
  }
  if (extra) throw new UsageError(`unexpected argument: ${extra}`);
  const where = [v.stack, v['secret-arn'], v['token-file']].filter((x) => x !== undefined);
  if (where.length > 1) throw new UsageError('--stack, --secret-arn and --token-file exclude each other');
  if (v.region && !v.stack) throw new UsageError('--region goes with --stack');
  if (v['secret-arn'] && !SECRET_ARN.test(v['secret-arn'])) {
    throw new UsageError(`--secret-arn: not a Secrets Manager secret ARN: ${v['secret-arn']}`);
  }
  if (v['client-secret-arn'] && !SECRET_ARN.test(v['client-secret-arn'])) {
    throw new UsageError(`--client-secret-arn: not a Secrets Manager secret ARN: ${v['client-secret-arn']}`);
  }
  const sources = [v['client-secret-file'], v['client-secret-stdin'], v['client-secret-arn']].filter(Boolean);
  if (sources.length > 1) {
    throw new UsageError(
      'give the client secret one way: --client-secret-file, --client-secret-stdin or --client-secret-arn',
    );
  }
  const port = v.port === undefined ? 8765 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port: not a port: ${v.port}`);
  const timeout = v.timeout === undefined ? 300 : Number(v.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError(`--timeout: not a number of seconds: ${v.timeout}`);
  for (const flag of ['api-url', 'oauth-url'] as const) {
    const value = v[flag];
    if (value !== undefined && !(/^https?:\/\//.test(value) && URL.canParse(value))) {
      throw new UsageError(`--${flag}: not an http(s) URL: ${value}`);
    }
  }
  if (command === 'status') {
    for (const flag of ['port', 'no-open', 'timeout'] as const) {
      if (v[flag] !== undefined) throw new UsageError(`--${flag} is for login`);
    }
  }
  return {
    command,
    ...(v.stack !== undefined && { stack: v.stack }),
    ...(v.region !== undefined && { region: v.region }),
    ...(v['secret-arn'] !== undefined && { secretArn: v['secret-arn'] }),
    ...(v['token-file'] !== undefined && { tokenFile: v['token-file'] }),
    ...(v['client-id'] !== undefined && { clientId: v['client-id'] }),
    ...(v['client-secret-file'] !== undefined && { clientSecretFile: v['client-secret-file'] }),
    clientSecretStdin: v['client-secret-stdin'] ?? false,
    ...(v['client-secret-arn'] !== undefined && { clientSecretArn: v['client-secret-arn'] }),
    port,
    open: !(v['no-open'] ?? false),
    timeoutMs: timeout * 1000,
    apiUrl: v['api-url'] ?? 'https://api.linkedin.com/v2',
    oauthUrl: v['oauth-url'] ?? LINKEDIN_OAUTH_BASE_URL,
  };
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
}

/** `npm run token -- ...`; returns the exit code. */
export async function tokenMain(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
  deps: TokenDeps = {},
): Promise<number> {
  let args: TokenArgs | 'help';
  try {
    args = parseTokenCli(argv);
  } catch (err) {
    io.err(`error: ${(err as Error).message}`);
    io.err('Run npm run token -- --help for usage.');
    return EXIT.usage;
  }
  if (args === 'help') {
    io.out(TOKEN_USAGE);
    return EXIT.ok;
  }
  try {
    const store = await openStore(args, env);
    return args.command === 'login'
      ? await login(args, env, io, store, deps)
      : await status(args, env, io, store, deps);
  } catch (err) {
    const info = errorInfo(err);
    io.err(`error: ${info.message}`);
    return err instanceof UsageError || info.name === 'ConfigurationError' ? EXIT.usage : EXIT.failed;
  }
}

// ---------------------------------------------------------------------------------------------
// Where the token lives
// ---------------------------------------------------------------------------------------------

interface TokenStore {
  /** For messages: `the token file PATH` or `the secret ARN`. */
  describe: string;
  read(): Promise<TokenSecret | undefined>;
  write(record: TokenSecret): Promise<void>;
  /** The stack's ClientSecretArn output, when the store is a stack's. */
  clientSecretArn?: string;
  /** The command that renews this store's token. */
  renew: string;
}

async function openStore(args: TokenArgs, env: NodeJS.ProcessEnv): Promise<TokenStore> {
  if (args.stack) {
    const outputs = await stackOutputs(args.stack, args.region);
    const secretArn = outputs.TokenSecretArn;
    if (!secretArn)
      throw new UsageError(
        `the stack ${args.stack} has no TokenSecretArn output: is it this project's stack?`,
      );
    return {
      ...secretStore(
        secretArn,
        `npm run token -- login --stack ${args.stack}${args.region ? ` --region ${args.region}` : ''}`,
      ),
      ...(outputs.ClientSecretArn && { clientSecretArn: outputs.ClientSecretArn }),
    };
  }
  if (args.secretArn)
    return secretStore(args.secretArn, `npm run token -- login --secret-arn ${args.secretArn}`);
  const path = args.tokenFile ?? defaultTokenFile(env);
  return {
    describe: `the token file ${path}`,
    read: () => readTokenFile(path),
    write: (record) => writeTokenFile(path, record),
    renew: `npm run token -- login${args.tokenFile ? ` --token-file ${path}` : ''}`,
  };
}

async function stackOutputs(stackName: string, region?: string): Promise<Record<string, string>> {
  const client = new CloudFormationClient(region ? { region } : {});
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries(
      (Stacks?.[0]?.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (err) {
    if (err instanceof Error && err.name === 'ValidationError') {
      throw new UsageError(
        `--stack ${stackName}: no such stack${region ? ` in ${region}` : ''} (check --region)`,
      );
    }
    throw awsError(err, 'CloudFormation', `stack ${stackName}`);
  }
}

function secretStore(secretArn: string, renew: string): TokenStore {
  const region = SECRET_ARN.exec(secretArn)?.[1];
  const client = new SecretsManagerClient(region ? { region } : {});
  return {
    describe: `the secret ${secretArn}`,
    renew,
    read: async () => {
      let text: string | undefined;
      try {
        ({ SecretString: text } = await client.send(new GetSecretValueCommand({ SecretId: secretArn })));
      } catch (err) {
        // The stack creates the secret without a value: nothing stored yet.
        if (err instanceof Error && err.name === 'ResourceNotFoundException') return undefined;
        throw awsError(err, 'Secrets Manager', secretArn);
      }
      const parsed = TokenSecretSchema.safeParse(safeJson(text));
      if (!parsed.success) return undefined;
      return parsed.data;
    },
    write: async (record) => {
      try {
        await client.send(
          new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify(record) }),
        );
      } catch (err) {
        throw awsError(err, 'Secrets Manager', secretArn);
      }
    },
  };
}

function awsError(err: unknown, service: string, resource: string): Error {
  const message = describeAwsError(err, { service, resource });
  if (message) return Object.assign(new Error(message), { name: 'ConfigurationError' });
  const info = errorInfo(err);
  return Object.assign(new Error(`${service} (${resource}): ${info.name}: ${info.message}`), {
    name: info.name,
  });
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The application's credentials
// ---------------------------------------------------------------------------------------------

const ClientSecretJsonSchema = z.object({
  clientId: z.string().trim().min(1).optional(),
  clientSecret: z.string().trim().min(1),
});

/** The client, or undefined when no secret source is at hand and `required` is false (status). */
async function readClient(
  args: TokenArgs,
  env: NodeJS.ProcessEnv,
  store: TokenStore,
  deps: TokenDeps,
  required: boolean,
): Promise<OAuthClient | undefined> {
  let clientSecret: string | undefined;
  let clientIdFromSecret: string | undefined;
  const arn = args.clientSecretArn ?? store.clientSecretArn;
  if (args.clientSecretFile) {
    clientSecret = (
      await readFile(args.clientSecretFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(
          `--client-secret-file ${args.clientSecretFile}: cannot read it (${err.code ?? 'error'})`,
        );
      })
    ).trim();
  } else if (args.clientSecretStdin) {
    clientSecret = (await (deps.stdin ?? readStdin)()).trim();
  } else if (arn) {
    const region = SECRET_ARN.exec(arn)?.[1];
    const client = new SecretsManagerClient(region ? { region } : {});
    let text: string | undefined;
    try {
      ({ SecretString: text } = await client.send(new GetSecretValueCommand({ SecretId: arn })));
    } catch (err) {
      if (!required && err instanceof Error && err.name === 'ResourceNotFoundException') return undefined;
      throw awsError(err, 'Secrets Manager', arn);
    }
    const parsed = ClientSecretJsonSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new UsageError(
        `the client secret's secret ${arn} must hold {"clientId":"...","clientSecret":"..."}: ` +
          `aws secretsmanager put-secret-value --secret-id ${arn} --secret-string file://client.json`,
      );
    }
    clientSecret = parsed.data.clientSecret;
    clientIdFromSecret = parsed.data.clientId;
  }
  const clientId = args.clientId ?? env.LINKEDIN_CLIENT_ID?.trim() ?? clientIdFromSecret;
  if (!clientSecret) {
    if (!required) return undefined;
    throw new UsageError(
      'the client secret is needed: --client-secret-file PATH, --client-secret-stdin, or --client-secret-arn ARN ' +
        '(never a flag: it would land in your shell history; LinkedIn Developer Portal → your app → Auth)',
    );
  }
  if (!clientId) {
    throw new UsageError(
      'the client id is needed: --client-id ID or LINKEDIN_CLIENT_ID (LinkedIn Developer Portal → your app → Auth)',
    );
  }
  return { clientId, clientSecret };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// login
// ---------------------------------------------------------------------------------------------

async function login(
  args: TokenArgs,
  env: NodeJS.ProcessEnv,
  io: CliIo,
  store: TokenStore,
  deps: TokenDeps,
): Promise<number> {
  const client = (await readClient(args, env, store, deps, true)) as OAuthClient;
  const now = deps.now ?? (() => new Date());
  const state = randomBytes(24).toString('base64url');
  const listener = await listenForCallback(args.port, state, args.timeoutMs);
  try {
    const url = authorizationUrl({
      clientId: client.clientId,
      redirectUri: listener.redirectUri,
      state,
      baseUrl: args.oauthUrl,
    });
    io.err(
      `Redirect URI: ${listener.redirectUri} (it must be registered exactly so in the application's Auth tab).`,
    );
    io.err('Sign in as the member with the reporting role on the contracts, and allow the request:');
    io.out(url.toString());
    if (args.open) (deps.openUrl ?? openInBrowser)(url.toString());
    const code = await listener.code;
    const answer = await exchangeCode(client, code, listener.redirectUri, { baseUrl: args.oauthUrl });
    const record = tokenRecord(answer, now());
    const scopes = scopesOf(record.scope);
    if (record.scope !== undefined && !scopes.includes(SALES_NAV_SCOPE)) {
      throw new Error(
        `LinkedIn granted ${record.scope || 'no scope'} but not ${SALES_NAV_SCOPE}: the application needs the Sales Navigator Application Platform product (README "Get access"); nothing was stored`,
      );
    }
    await store.write(record);
    const expiresAt = new Date(record.expiresAt);
    io.err(
      `Stored the token in ${store.describe}: expires ${record.expiresAt} (${daysLeft(expiresAt, now())} days), ` +
        `scope ${record.scope ?? '(not stated)'}, ${record.refreshToken ? `refresh token until ${record.refreshTokenExpiresAt ?? '(not stated)'}` : 'no refresh token (renew by hand before it expires)'}.`,
    );
    io.err(`Check it: ${store.renew.replace(' login', ' status')}`);
    return EXIT.ok;
  } finally {
    listener.close();
  }
}

interface CallbackListener {
  redirectUri: string;
  code: Promise<string>;
  close: () => void;
}

/** A loopback HTTP server for `/callback`: resolves the code once `state` matches, or fails saying why. */
async function listenForCallback(port: number, state: string, timeoutMs: number): Promise<CallbackListener> {
  let settle!: { resolve: (code: string) => void; reject: (err: Error) => void };
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  code.catch(() => undefined);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const reply = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    };
    const q = url.searchParams;
    if (q.get('state') !== state) {
      reply(400, 'The state does not match this login: ignored.');
      settle.reject(
        new Error(
          'the answer on the redirect URI carried another state (a stale tab, or a forged request): nothing was stored; run login again',
        ),
      );
      return;
    }
    const error = q.get('error');
    if (error) {
      reply(400, `LinkedIn answered ${error}. You can close this tab.`);
      settle.reject(new Error(describeAuthorizationError(error, q.get('error_description'))));
      return;
    }
    const got = q.get('code');
    if (!got) {
      reply(400, 'No code in the answer.');
      settle.reject(new Error('LinkedIn redirected without a code: run login again'));
      return;
    }
    reply(200, 'Signed in. You can close this tab and return to the terminal.');
    settle.resolve(got);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(
              `--port ${port} is in use: choose another with --port N (and register http://localhost:N/callback)`,
            )
          : err,
      ),
    );
    server.listen({ port, host: '127.0.0.1' }, resolve);
  });
  const timer = setTimeout(
    () =>
      settle.reject(
        new Error(
          `no answer from LinkedIn within ${Math.round(timeoutMs / 1000)} s. If LinkedIn showed "invalid redirect_uri", register ` +
            `the redirect URI exactly as printed in the application's Auth tab; otherwise run login again`,
        ),
      ),
    timeoutMs,
  );
  timer.unref();
  const bound = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://localhost:${bound}/callback`,
    code,
    close: () => {
      clearTimeout(timer);
      server.close();
      server.closeAllConnections();
    },
  };
}

function openInBrowser(url: string): void {
  const [command, ...args] =
    process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '', url]
        : ['xdg-open', url];
  try {
    const child = spawn(command as string, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser here: the URL is printed.
  }
}

// ---------------------------------------------------------------------------------------------
// status
// ---------------------------------------------------------------------------------------------

async function status(
  args: TokenArgs,
  env: NodeJS.ProcessEnv,
  io: CliIo,
  store: TokenStore,
  deps: TokenDeps,
): Promise<number> {
  const now = deps.now ?? (() => new Date());
  const stored = await store.read();
  if (!stored) {
    io.err(`No token in ${store.describe}: get one with: ${store.renew}`);
    return EXIT.failed;
  }
  const problems: string[] = [];
  /** The only problem is the member's role, which no new token fixes. */
  let memberProblem = false;
  let expiresAt = new Date(stored.expiresAt);
  let scope = stored.scope;
  let source = 'as stored';
  const client = await readClient(args, env, store, deps, false);
  if (client) {
    const facts = await introspectToken(client, stored.accessToken, { baseUrl: args.oauthUrl });
    source = 'from LinkedIn (introspection)';
    if (!facts.active) {
      problems.push(`LinkedIn says the token is not active (${facts.status ?? 'inactive'})`);
    }
    if (facts.scope !== undefined) scope = facts.scope;
    if (facts.expires_at !== undefined) {
      const stated = new Date(facts.expires_at * 1000);
      if (Math.abs(stated.getTime() - expiresAt.getTime()) > EXPIRY_TOLERANCE_MS) {
        await store.write({
          ...stored,
          expiresAt: stated.toISOString(),
          ...(scope !== undefined && { scope }),
        });
        io.err(
          `Corrected expiresAt in ${store.describe}: ${stored.expiresAt} → ${stated.toISOString()} (LinkedIn's).`,
        );
      }
      expiresAt = stated;
    }
  }
  const days = daysLeft(expiresAt, now());
  const expired = expiresAt.getTime() <= now().getTime();
  if (expired) problems.push(`the token expired on ${expiresAt.toISOString()}`);
  const scopes = scopesOf(scope);
  if (scope !== undefined && !scopes.includes(SALES_NAV_SCOPE)) {
    problems.push(`the token lacks the ${SALES_NAV_SCOPE} scope (it has ${scope || 'none'})`);
  }
  io.out(`Token (${store.describe}): expires ${expiresAt.toISOString()} (${days} days left), ${source}`);
  io.out(`Scope: ${scope ?? '(not stated; give the client secret to ask LinkedIn)'}`);
  io.out(
    `Refresh token: ${stored.refreshToken ? `yes, until ${stored.refreshTokenExpiresAt ?? '(not stated)'}` : 'no (LinkedIn grants them to approved applications only: renew by hand)'}`,
  );
  if (!expired) {
    const linkedin = new LinkedInClient({
      baseUrl: args.apiUrl,
      getToken: () => Promise.resolve(stored.accessToken),
    });
    try {
      const contracts = await linkedin.listContracts();
      const reportable = contracts.filter((c) => c.hasReportingAccess);
      io.out(
        `Contracts: ${reportable.length} of ${contracts.length} with reporting access${reportable.length ? `: ${reportable.map((c) => c.name).join(', ')}` : ''}`,
      );
      if (reportable.length === 0) {
        memberProblem = true;
        problems.push(
          'the member has no contract with reporting access: a contract admin must give it the reporting role (README "Get access")',
        );
      }
    } catch (err) {
      const e = errorInfo(err);
      problems.push(
        e.name === 'LinkedInAuthError'
          ? 'LinkedIn refused the token (401): it is expired or revoked'
          : e.name === 'LinkedInForbiddenError'
            ? `LinkedIn answered 403: the token needs ${SALES_NAV_SCOPE} and the member a reporting role`
            : `the live check failed: ${e.message}`,
      );
    }
  }
  if (problems.length) {
    io.err(`Cannot export: ${problems.join('; ')}.`);
    if (!memberProblem || problems.length > 1) io.err(`Fix: ${store.renew}`);
    return EXIT.failed;
  }
  if (days < STATUS_WARNING_DAYS)
    io.err(`The token expires in ${days} days: renew it soon with: ${store.renew}`);
  return EXIT.ok;
}
