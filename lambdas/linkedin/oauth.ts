// LinkedIn's OAuth 2.0 endpoints: the authorization URL, code exchange, refresh and introspection, validated.
import * as z from 'zod';
import { DAY_MS } from '#common/days';
import {
  ConfigurationError,
  LinkedInResponseError,
  LinkedInTransientError,
  NamedError,
} from '#common/errors';
import { compileHttpParsersWithBaselineOnly } from './http-parser.ts';
import type { TokenSecret } from './token.ts';

/** LinkedIn's OAuth base (docs/linkedin-api-notes.md "OAuth"): authorization, accessToken, introspectToken. */
export const LINKEDIN_OAUTH_BASE_URL = 'https://www.linkedin.com/oauth/v2';
/** The one scope the exports need (Sales Navigator Analytics Services). */
export const SALES_NAV_SCOPE = 'r_sales_nav_analytics';

/**
 * An OAuth answer that is an error: `error` is LinkedIn's code (`invalid_grant`, `invalid_client`,
 * `user_cancelled_authorize`, …). The message says what to do; it never holds a token, code or secret.
 */
export class LinkedInOAuthError extends NamedError {
  constructor(
    message: string,
    readonly error: string,
  ) {
    super('LinkedInOAuthError', message);
  }
}

/** The application's credentials (LinkedIn Developer Portal → the app → Auth). */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

/** What the client secret's own Secrets Manager secret holds. */
export const OAuthClientSchema = z.object({
  clientId: z.string().trim().min(1).max(200),
  clientSecret: z.string().trim().min(1).max(500),
});

export interface OAuthEndpoints {
  /** @default LINKEDIN_OAUTH_BASE_URL */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** @default 30000 */
  timeoutMs?: number;
}

/** `POST /accessToken` 200 (authorization_code and refresh_token grants). */
export const AccessTokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  refresh_token: z.string().min(1).optional(),
  refresh_token_expires_in: z.number().int().positive().optional(),
  scope: z.string().optional(),
});

/** `POST /introspectToken` 200 (LinkedIn's "Token Introspection" page). Times are epoch seconds. */
export const IntrospectionSchema = z.object({
  active: z.boolean(),
  status: z.string().optional(),
  expires_at: z.number().int().nonnegative().optional(),
  scope: z.string().optional(),
  client_id: z.string().optional(),
  auth_type: z.string().optional(),
});
export type Introspection = z.infer<typeof IntrospectionSchema>;

/** OAuth error bodies: `{error, error_description}` (RFC 6749 §5.2, what LinkedIn's token endpoint sends). */
const OAuthErrorBodySchema = z.object({
  error: z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/),
  error_description: z.string().optional(),
});

/** The authorization URL the member opens (LinkedIn "Authorization Code Flow", step 2). */
export function authorizationUrl(opts: {
  clientId: string;
  redirectUri: string;
  state: string;
  scope?: string;
  baseUrl?: string;
}): URL {
  const url = new URL(`${(opts.baseUrl ?? LINKEDIN_OAUTH_BASE_URL).replace(/\/+$/, '')}/authorization`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: opts.clientId,
    redirect_uri: opts.redirectUri,
    state: opts.state,
    scope: opts.scope ?? SALES_NAV_SCOPE,
  }).toString();
  return url;
}

/**
 * What an error on the redirect means and how to fix it (LinkedIn documents `user_cancelled_login`
 * and `user_cancelled_authorize`; `unauthorized_scope_error` is what it sends for a scope the app
 * has no product for).
 */
export function describeAuthorizationError(error: string, description?: string | null): string {
  const detail = description ? ` (LinkedIn: ${description.slice(0, 200)})` : '';
  switch (error) {
    case 'user_cancelled_login':
      return `the member did not sign in to LinkedIn${detail}: run the command again and sign in as the member with the reporting role`;
    case 'user_cancelled_authorize':
      return `the member refused the permission request${detail}: run the command again and choose Allow`;
    case 'unauthorized_scope_error':
      return (
        `LinkedIn refused the scope ${SALES_NAV_SCOPE} for this application${detail}: the application needs ` +
        'the Sales Navigator Application Platform (SNAP) product, which LinkedIn grants to approved partners only (README "Get access")'
      );
    case 'invalid_redirect_uri':
    case 'redirect_uri_mismatch':
      return `LinkedIn refused the redirect URI${detail}: register it under the application's Auth tab → Authorized redirect URLs`;
    default:
      return `LinkedIn answered the authorization with ${error}${detail}`;
  }
}

/** Exchanges an authorization code (valid for minutes, once) for a token. */
export function exchangeCode(
  client: OAuthClient,
  code: string,
  redirectUri: string,
  endpoints: OAuthEndpoints = {},
): Promise<z.infer<typeof AccessTokenResponseSchema>> {
  return post(
    endpoints,
    'accessToken',
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    },
    AccessTokenResponseSchema,
  );
}

/** A new access token from a refresh token (LinkedIn "Programmatic Refresh Tokens"). */
export function refreshAccessToken(
  client: OAuthClient,
  refreshToken: string,
  endpoints: OAuthEndpoints = {},
): Promise<z.infer<typeof AccessTokenResponseSchema>> {
  return post(
    endpoints,
    'accessToken',
    {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    },
    AccessTokenResponseSchema,
  );
}

/** The token's true state: active, expiry and scopes (LinkedIn "Token Introspection"). */
export function introspectToken(
  client: OAuthClient,
  token: string,
  endpoints: OAuthEndpoints = {},
): Promise<Introspection> {
  return post(
    endpoints,
    'introspectToken',
    { client_id: client.clientId, client_secret: client.clientSecret, token },
    IntrospectionSchema,
  );
}

/**
 * The secret's record from a token answer: `expiresAt` from `expires_in`, the refresh token's expiry
 * from `refresh_token_expires_in`. A refresh answer without a refresh token keeps the previous one
 * (its lifetime does not restart on refresh).
 */
export function tokenRecord(
  answer: z.infer<typeof AccessTokenResponseSchema>,
  now: Date,
  previous?: TokenSecret,
): TokenSecret {
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
  const refreshToken = answer.refresh_token ?? previous?.refreshToken;
  const refreshTokenExpiresAt =
    answer.refresh_token_expires_in !== undefined
      ? at(answer.refresh_token_expires_in)
      : previous?.refreshTokenExpiresAt;
  return {
    accessToken: answer.access_token,
    expiresAt: at(answer.expires_in),
    ...(refreshToken && { refreshToken }),
    ...(refreshToken && refreshTokenExpiresAt && { refreshTokenExpiresAt }),
    ...((answer.scope ?? previous?.scope) !== undefined && { scope: answer.scope ?? previous?.scope }),
  };
}

/** Whole days from `now` to `at` (negative once past), as the TokenExpiresInDays metric counts them. */
export function daysLeft(at: Date, now: Date): number {
  return Math.floor((at.getTime() - now.getTime()) / DAY_MS);
}

/** Scopes as LinkedIn writes them: comma- or space-separated. */
export function scopesOf(scope: string | undefined): string[] {
  return (scope ?? '').split(/[\s,]+/).filter(Boolean);
}

async function post<S extends z.ZodType>(
  endpoints: OAuthEndpoints,
  path: string,
  form: Record<string, string>,
  schema: S,
): Promise<z.output<S>> {
  const base = (endpoints.baseUrl ?? LINKEDIN_OAUTH_BASE_URL).replace(/\/+$/, '');
  if (!URL.canParse(base)) throw new ConfigurationError(`LinkedIn OAuth base URL is not a URL: ${base}`);
  const url = new URL(`${base}/${path}`);
  const endpoint = `POST ${url.pathname}`;
  const timeoutMs = endpoints.timeoutMs ?? 30_000;
  let res: Response;
  let text: string;
  compileHttpParsersWithBaselineOnly();
  try {
    res = await (endpoints.fetch ?? globalThis.fetch)(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const e = err as Error;
    const code = (e.cause as NodeJS.ErrnoException | undefined)?.code ?? e.name;
    throw new LinkedInTransientError(
      e.name === 'TimeoutError'
        ? `${endpoint}: no answer within ${timeoutMs} ms`
        : `${endpoint}: network error (${code}) reaching ${url.origin}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const body = OAuthErrorBodySchema.safeParse(json).data;
    const error = body?.error ?? `http_${res.status}`;
    const description = body?.error_description?.slice(0, 300);
    const said = `${endpoint}: LinkedIn answered ${res.status} ${error}${description ? ` (${description})` : ''}`;
    if (res.status >= 500) throw new LinkedInTransientError(said);
    if (error === 'invalid_client' || res.status === 401) {
      throw new LinkedInOAuthError(
        `${said}: the client id or client secret is wrong (LinkedIn Developer Portal → the app → Auth)`,
        error,
      );
    }
    if (error === 'invalid_grant') {
      throw new LinkedInOAuthError(
        `${said}: the code or refresh token is invalid, expired, already used or revoked, or the redirect URI differs from the one authorized`,
        error,
      );
    }
    throw new LinkedInOAuthError(said, error);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
    throw new LinkedInResponseError(`${endpoint}: unexpected answer (fields ${fields.join(', ')})`);
  }
  return parsed.data;
}
