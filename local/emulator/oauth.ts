// The emulator's LinkedIn OAuth endpoints: authorization (consent answered by itself), token, refresh, introspection.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import * as z from 'zod';

/**
 * `/oauth/v2/authorization`, `/oauth/v2/accessToken` and `/oauth/v2/introspectToken` as LinkedIn
 * documents them (docs/linkedin-api-notes.md "OAuth"). The member's consent is answered by the
 * emulator itself (`consent`), so a test follows the authorization URL with fetch like a browser.
 */
export const OAUTH_BASE_PATH = '/oauth/v2';

export const OAuthEmulatorOptionsSchema = z
  .object({
    clientId: z.string().min(1).default('emulator-client-id'),
    clientSecret: z.string().min(1).default('emulator-client-secret'),
    /** Registered redirect URLs (exact match). Default: any http URL on 127.0.0.1 or localhost. */
    redirectUris: z.array(z.url()).optional(),
    /** Scopes the application has products for; any other requested scope is refused. */
    grantedScopes: z.array(z.string().min(1)).default(['r_sales_nav_analytics']),
    /** `expires_in` of the access tokens issued (LinkedIn: 60 days). */
    expiresInSeconds: z
      .number()
      .int()
      .min(1)
      .default(60 * 86_400),
    /** Whether the application is approved for programmatic refresh tokens. */
    refreshTokens: z.boolean().default(false),
    /** `refresh_token_expires_in` at the first grant (LinkedIn: a year, not renewed by a refresh). */
    refreshTokenExpiresInSeconds: z
      .number()
      .int()
      .min(1)
      .default(365 * 86_400),
    /** What the member does on the consent page. */
    consent: z.enum(['allow', 'user_cancelled_authorize', 'user_cancelled_login']).default('allow'),
  })
  .strict();
export type OAuthEmulatorOptions = z.input<typeof OAuthEmulatorOptionsSchema>;
type Knobs = z.output<typeof OAuthEmulatorOptionsSchema>;

interface Issued {
  scope: string;
  createdAt: number;
  expiresAt: number;
}

/** The OAuth side of the emulator; `server.ts` routes `/oauth/v2/*` here and asks it about tokens. */
export class OAuthEndpoints {
  private knobs: Knobs;
  private readonly codes = new Map<string, { redirectUri: string; scope: string; expiresAt: number }>();
  private readonly accessTokens = new Map<string, Issued>();
  private readonly refreshTokens = new Map<string, Issued>();

  constructor(
    options: OAuthEmulatorOptions,
    private readonly now: () => number,
  ) {
    this.knobs = OAuthEmulatorOptionsSchema.parse(options);
  }

  get clientId(): string {
    return this.knobs.clientId;
  }
  get clientSecret(): string {
    return this.knobs.clientSecret;
  }

  /** Changes knobs from now on (consent, expires_in, refresh on or off …). */
  configure(options: Partial<OAuthEmulatorOptions>): void {
    this.knobs = OAuthEmulatorOptionsSchema.parse({ ...this.knobs, ...options });
  }

  /** How many access tokens were issued (codes and refreshes). */
  issuedCount(): number {
    return this.accessTokens.size;
  }

  handles(path: string): boolean {
    return path.startsWith(`${OAUTH_BASE_PATH}/`);
  }

  /** An access token this endpoint issued: `valid`, `expired`, or `unknown` (not one of ours). */
  check(token: string): 'valid' | 'expired' | 'unknown' {
    const issued = this.accessTokens.get(token);
    if (!issued) return 'unknown';
    return issued.expiresAt > this.now() ? 'valid' : 'expired';
  }

  async route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    writeHead: (status: number, headers: OutgoingHttpHeaders) => void,
  ): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const page = (status: number, text: string) => {
      writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const path = url.pathname.slice(OAUTH_BASE_PATH.length);
    if (path === '/authorization' && req.method === 'GET') {
      const outcome = this.authorize(url);
      if ('page' in outcome) return page(...outcome.page);
      const target = new URL(outcome.redirectUri);
      for (const [k, v] of Object.entries(outcome.params)) target.searchParams.set(k, v);
      writeHead(302, { location: target.toString(), 'content-length': 0 });
      res.end();
      return;
    }
    if (path === '/accessToken' && req.method === 'POST') {
      const [status, body] = this.token(await readForm(req));
      return send(status, body);
    }
    if (path === '/introspectToken' && req.method === 'POST') {
      const [status, body] = this.introspect(await readForm(req));
      return send(status, body);
    }
    return page(404, `No OAuth route for ${req.method} ${url.pathname}`);
  }

  /** LinkedIn shows an error page (never a redirect) for an unknown client or redirect URI. */
  private authorize(
    url: URL,
  ): { page: [number, string] } | { redirectUri: string; params: Record<string, string> } {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri') ?? '';
    if (q.get('client_id') !== this.knobs.clientId) return { page: [400, 'invalid client_id'] };
    if (!this.registered(redirectUri)) {
      return {
        page: [400, 'invalid redirect_uri. This value must match a URL registered with the API Key.'],
      };
    }
    const redirect = (params: Record<string, string>) => ({ redirectUri, params });
    const state = q.get('state') ?? '';
    if (q.get('response_type') !== 'code') {
      return redirect({ error: 'invalid_request', error_description: 'response_type must be code', state });
    }
    const requested = (q.get('scope') ?? '').split(/[\s,]+/).filter(Boolean);
    const refused = requested.find((s) => !this.knobs.grantedScopes.includes(s));
    if (refused || requested.length === 0) {
      return redirect({
        error: 'unauthorized_scope_error',
        error_description: `Scope "${refused ?? ''}" is not authorized for your application`,
        state,
      });
    }
    if (this.knobs.consent !== 'allow') {
      const description =
        this.knobs.consent === 'user_cancelled_login'
          ? 'The user cancelled LinkedIn login'
          : 'The user cancelled the authorization';
      return redirect({ error: this.knobs.consent, error_description: description, state });
    }
    const code = randomBytes(24).toString('base64url');
    // LinkedIn's codes live 30 minutes and work once.
    this.codes.set(code, { redirectUri, scope: requested.join(','), expiresAt: this.now() + 30 * 60_000 });
    return redirect({ code, state });
  }

  private token(form: URLSearchParams): [number, unknown] {
    const invalid = (status: number, error: string, description: string): [number, unknown] => [
      status,
      { error, error_description: description },
    ];
    if (
      form.get('client_id') !== this.knobs.clientId ||
      form.get('client_secret') !== this.knobs.clientSecret
    ) {
      return invalid(401, 'invalid_client', 'Client authentication failed');
    }
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      if (!code || code.expiresAt <= this.now() || code.redirectUri !== form.get('redirect_uri')) {
        return invalid(
          400,
          'invalid_grant',
          'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client',
        );
      }
      const refresh = this.knobs.refreshTokens
        ? this.issue(this.refreshTokens, code.scope, this.knobs.refreshTokenExpiresInSeconds)
        : undefined;
      return [200, this.answer(code.scope, refresh)];
    }
    if (grant === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const refresh = this.refreshTokens.get(presented);
      if (!this.knobs.refreshTokens || !refresh || refresh.expiresAt <= this.now()) {
        return invalid(400, 'invalid_grant', 'The provided refresh token is invalid, expired or revoked');
      }
      return [200, this.answer(refresh.scope, [presented, refresh])];
    }
    return invalid(400, 'unsupported_grant_type', `grant_type ${grant ?? '(none)'} is not supported`);
  }

  private answer(scope: string, refresh?: [string, Issued]): unknown {
    const [accessToken] = this.issue(this.accessTokens, scope, this.knobs.expiresInSeconds);
    return {
      access_token: accessToken,
      expires_in: this.knobs.expiresInSeconds,
      ...(refresh && {
        refresh_token: refresh[0],
        // The refresh token's lifetime runs from the first grant; a refresh does not restart it.
        refresh_token_expires_in: Math.floor((refresh[1].expiresAt - this.now()) / 1000),
      }),
      scope,
    };
  }

  private issue(map: Map<string, Issued>, scope: string, seconds: number): [string, Issued] {
    const token = `AQ${randomBytes(30).toString('base64url')}`;
    const issued = { scope, createdAt: this.now(), expiresAt: this.now() + seconds * 1000 };
    map.set(token, issued);
    return [token, issued];
  }

  private introspect(form: URLSearchParams): [number, unknown] {
    if (
      form.get('client_id') !== this.knobs.clientId ||
      form.get('client_secret') !== this.knobs.clientSecret
    ) {
      return [401, { error: 'invalid_client', error_description: 'Client authentication failed' }];
    }
    const issued = this.accessTokens.get(form.get('token') ?? '');
    if (!issued) return [200, { active: false, status: 'revoked' }];
    const active = issued.expiresAt > this.now();
    const seconds = (ms: number) => Math.floor(ms / 1000);
    return [
      200,
      {
        active,
        client_id: this.knobs.clientId,
        authorized_at: seconds(issued.createdAt),
        created_at: seconds(issued.createdAt),
        status: active ? 'active' : 'expired',
        expires_at: seconds(issued.expiresAt),
        scope: issued.scope,
        auth_type: '3L',
      },
    ];
  }

  private registered(redirectUri: string): boolean {
    if (this.knobs.redirectUris) return this.knobs.redirectUris.includes(redirectUri);
    if (!URL.canParse(redirectUri)) return false;
    const { protocol, hostname } = new URL(redirectUri);
    return protocol === 'http:' && (hostname === '127.0.0.1' || hostname === 'localhost');
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16 * 1024) break;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
