// The LinkedIn REST client: headers, paging, response validation, Retry-After, named errors.
import { setTimeout as delay } from 'node:timers/promises';
import * as z from 'zod';
import {
  ConfigurationError,
  InvalidInputError,
  LinkedInAuthError,
  LinkedInForbiddenError,
  LinkedInRequestError,
  LinkedInResponseError,
  LinkedInThrottledError,
  LinkedInTransientError,
  printableText,
} from '#common/errors';
import { type Dataset, EXPORT_ACTIONS, JobStatusSchema } from '#common/model';
import { logger } from '#common/powertools';
import { isSecureApiUrl } from '#common/settings';
import type { Contract, CrmValidationApi, CrmValidationJob, ExportJob, LinkedInApi } from './api.ts';
import { redactUrl } from './download-hosts.ts';
import { compileHttpParsersWithBaselineOnly } from './http-parser.ts';
import { restliQuery } from './restli.ts';

// ---------------------------------------------------------------------------------------------
// Response schemas (the seed spec, plus what real Rest.li answers where the two differ)
// ---------------------------------------------------------------------------------------------

export const ContractSchema = z.object({
  contract: z.string().min(1),
  name: z.string(),
  description: z.string().nullish(),
  hasReportingAccess: z.boolean(),
});

/** The seed spec types a link as a string; real Rest.li answers `{rel, href, type}`. Both are accepted. */
export const PagingLinkSchema = z.union([
  z.string(),
  z.object({ rel: z.string(), href: z.string(), type: z.string().optional() }),
]);

export const PagingSchema = z.object({
  count: z.number().int().nonnegative().optional(),
  start: z.number().int().nonnegative().optional(),
  links: z.array(PagingLinkSchema).optional(),
});

export const ContractsResponseSchema = z.object({
  elements: z.array(ContractSchema),
  paging: PagingSchema.optional(),
});

/**
 * LinkedIn documents `expireAt` in epoch milliseconds, but the seed spec's example (1640200000) is
 * in seconds. A millisecond timestamp below 1e12 would be before September 2001, so anything smaller
 * is read as seconds. Downstream code can then always compare it with `Date.now()`.
 */
export function normaliseEpochMs(value: number): number {
  return value < 1e12 ? value * 1000 : value;
}

/** `GET /salesAnalyticsExportJobs/{id}` and the `value` of the create action; nulls become absent fields. */
export const ExportJobSchema = z
  .object({
    id: z.number().int().nonnegative(),
    status: JobStatusSchema,
    downloadUrl: z.url().nullish(),
    expireAt: z.number().int().nonnegative().nullish(),
    rowCount: z.number().int().nonnegative().nullish(),
  })
  .transform(
    ({ id, status, downloadUrl, expireAt, rowCount }): ExportJob => ({
      id,
      status,
      ...(downloadUrl != null && { downloadUrl }),
      ...(expireAt != null && { expireAt: normaliseEpochMs(expireAt) }),
      ...(rowCount != null && { rowCount }),
    }),
  );

export const CreateExportJobResponseSchema = z.object({ value: ExportJobSchema });

const EpochSchema = z.number().int().nonnegative();

/**
 * `GET /crmDataValidationExportJobs/{id}` (the seed spec's CrmDataValidationExportJob; LinkedIn's own
 * GET sample could not be read). `downloadUrls` is the seed spec's array; LinkedIn's tutorial prose
 * speaks of "the downloadURL field", so a single `downloadURL`/`downloadUrl` is read as a one-part
 * export. `jobId` is optional (a Rest.li GET need not echo its key); nulls become absent fields.
 */
export const CrmValidationJobSchema = z
  .object({
    jobId: z.number().int().nonnegative().nullish(),
    status: JobStatusSchema,
    exportStartAt: EpochSchema.nullish(),
    exportEndAt: EpochSchema.nullish(),
    downloadUrls: z.array(z.url()).max(10_000).nullish(),
    downloadURL: z.url().nullish(),
    downloadUrl: z.url().nullish(),
    nextExportStartAt: EpochSchema.nullish(),
    expireAt: EpochSchema.nullish(),
  })
  .transform((job): Omit<CrmValidationJob, 'id'> & { jobId?: number } => {
    const single = job.downloadURL ?? job.downloadUrl;
    return {
      ...(job.jobId != null && { jobId: job.jobId }),
      status: job.status,
      ...(job.exportStartAt != null && { exportStartAt: job.exportStartAt }),
      ...(job.exportEndAt != null && { exportEndAt: job.exportEndAt }),
      downloadUrls: job.downloadUrls ?? (single ? [single] : []),
      ...(job.nextExportStartAt != null && { nextExportStartAt: job.nextExportStartAt }),
      ...(job.expireAt != null && { expireAt: normaliseEpochMs(job.expireAt) }),
    };
  });

/** The seed spec's 201 body for the CRM create (LinkedIn sends none); read only for its `jobId`. */
export const CrmCreateBodySchema = z.object({ jobId: z.number().int().nonnegative() });

/**
 * LinkedIn's error body, `{message, serviceErrorCode, status}` (shared "Error handling" page); the
 * seed spec's string `code` is read too. Best-effort: it enriches an error message, never required.
 */
export const ErrorResponseSchema = z.object({
  status: z.number().int().optional().catch(undefined),
  message: z.string().optional().catch(undefined),
  serviceErrorCode: z.number().int().optional().catch(undefined),
  code: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,80}$/)
    .optional()
    .catch(undefined),
});

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

export interface LinkedInClientOptions {
  /** e.g. `https://api.linkedin.com/v2` (Settings.apiBaseUrl) or the local emulator. */
  baseUrl: string;
  /** Called before every request, so a renewed token is picked up without a new client. */
  getToken: () => Promise<string>;
  /** Longest `Retry-After` waited in-process; a longer one is handed to the state machine. @default 20 */
  maxRetryAfterSeconds?: number;
  /** In-process retries after a 429 with a short enough `Retry-After`. @default 2 */
  maxThrottleRetries?: number;
  /** Per request, including reading the body. @default 30000 */
  requestTimeoutMs?: number;
  /** Contracts requested per page. @default 100 */
  pageSize?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Clock used to resolve an HTTP-date `Retry-After`. @default Date.now */
  now?: () => number;
  /**
   * Milliseconds left before the caller is cut off (in Lambda: `context.getRemainingTimeInMillis()`).
   * No in-process wait and no request outlasts it (less END_MARGIN_MS): a 429 whose wait would not
   * fit is thrown as LinkedInThrottledError and a request that would not fit times out as
   * LinkedInTransientError, both named and retried by the state machine, instead of the Lambda
   * timing out (`Lambda.Unknown`, "Task timed out"). @default no limit
   */
  remainingMs?: () => number;
}

/** Time kept back from `remainingMs` for the step's own work after the call (an S3 record, the answer). */
export const END_MARGIN_MS = 5_000;

/** Upper bound on contract pages, so a server that always claims "more" cannot loop us forever. */
export const MAX_CONTRACT_PAGES = 100;
/** The largest API answer read (a contracts page or a job is a few KiB); beyond it, refused. */
export const MAX_API_BODY_BYTES = 4 * 2 ** 20;
/** LinkedIn error messages are echoed into our errors; keep them short. */
const MAX_ERROR_MESSAGE_CHARS = 300;

type Method = 'GET' | 'POST';

/** Network errors raised before a request left: a POST that failed so was certainly not carried out. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

export class LinkedInClient implements LinkedInApi, CrmValidationApi {
  private readonly baseUrl: string;
  private readonly getToken: () => Promise<string>;
  private readonly maxRetryAfterSeconds: number;
  private readonly maxThrottleRetries: number;
  private readonly requestTimeoutMs: number;
  private readonly pageSize: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly remainingMs: () => number;

  constructor(options: LinkedInClientOptions) {
    if (!URL.canParse(options.baseUrl)) {
      throw new ConfigurationError(`LinkedIn base URL is not a URL: ${options.baseUrl}`);
    }
    if (!isSecureApiUrl(options.baseUrl)) {
      // The bearer token would travel in cleartext: only the local emulator on loopback may use http.
      throw new ConfigurationError(
        `LinkedIn base URL ${redactUrl(options.baseUrl)} must be https (http only to a loopback IP such as 127.0.0.1)`,
      );
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.getToken = options.getToken;
    this.maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 20;
    this.maxThrottleRetries = options.maxThrottleRetries ?? 2;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.pageSize = options.pageSize ?? 100;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.now = options.now ?? Date.now;
    this.remainingMs = options.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  }

  /** Milliseconds this call may still use: the caller's remaining time less the margin. */
  private budgetMs(): number {
    return this.remainingMs() - END_MARGIN_MS;
  }

  async listContracts(): Promise<Contract[]> {
    const contracts: Contract[] = [];
    let start = 0;
    for (let page = 0; page < MAX_CONTRACT_PAGES; page++) {
      const path = `/salesContracts?${restliQuery({ q: 'contractsByMember', start, count: this.pageSize })}`;
      const { elements, paging } = await this.request('GET', path, ContractsResponseSchema);
      contracts.push(...elements);
      const full = elements.length >= (paging?.count || this.pageSize);
      if (elements.length === 0 || !(full || hasNextLink(paging?.links, start, this.url(path)))) {
        return contracts;
      }
      start += elements.length;
    }
    throw new LinkedInResponseError(
      `GET /salesContracts: still more contracts after ${MAX_CONTRACT_PAGES} pages; paging looks broken`,
    );
  }

  async createExportJob(
    dataset: Dataset,
    contract: string,
    startAt: number,
    endAt: number,
  ): Promise<ExportJob> {
    const path = `/salesAnalyticsExportJobs?${restliQuery({ action: EXPORT_ACTIONS[dataset] })}`;
    const { value } = await this.request('POST', path, CreateExportJobResponseSchema, {
      contract,
      startAt,
      endAt,
    });
    return value;
  }

  async getExportJob(id: number, contract: string): Promise<ExportJob> {
    if (!Number.isSafeInteger(id) || id < 0) throw new InvalidInputError(`not an export job id: ${id}`);
    return this.request(
      'GET',
      `/salesAnalyticsExportJobs/${id}?${restliQuery({ contract })}`,
      ExportJobSchema,
    );
  }

  /**
   * `POST /crmDataValidationExportJobs?crmInstanceId=<URN>` with `{exportStartAt}`. LinkedIn answers
   * `201 Created` with the id in `X-RestLi-Id` (and `Location: /crmDataValidationExportJobs/<id>`) and no
   * body; the seed spec answers a JSON body with `jobId`. Either is accepted; when both are there they
   * must agree (otherwise we could not know which job to poll).
   */
  async createCrmValidationJob(crmInstance: string, exportStartAt: number): Promise<{ id: number }> {
    const path = `/crmDataValidationExportJobs?${restliQuery({ crmInstanceId: crmInstance })}`;
    const { res, text, endpoint } = await this.call('POST', path, { exportStartAt });
    const fromHeader = res.headers.get('x-restli-id')?.trim();
    const location = res.headers.get('location')?.trim();
    const fromLocation = location
      ? /\/crmDataValidationExportJobs\/(\d+)\/?(?:[?#].*)?$/.exec(location)?.[1]
      : undefined;
    let fromBody: number | undefined;
    if (text.trim() !== '') {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new LinkedInResponseError(`${endpoint}: response body is not valid JSON`);
      }
      fromBody = CrmCreateBodySchema.safeParse(json).data?.jobId;
    }
    const ids = [
      fromHeader !== undefined && { from: 'X-RestLi-Id', id: jobIdFrom(fromHeader) },
      fromLocation !== undefined && { from: 'Location', id: jobIdFrom(fromLocation) },
      fromBody !== undefined && { from: 'body jobId', id: fromBody },
    ].filter((x): x is { from: string; id: number | undefined } => x !== false);
    const id = ids[0]?.id;
    if (id === undefined || !Number.isSafeInteger(id)) {
      throw new LinkedInResponseError(
        `${endpoint}: LinkedIn answered ${res.status} without a usable job id (no numeric X-RestLi-Id header, Location or jobId in the body)`,
      );
    }
    const other = ids.find((x) => x.id !== id);
    if (other) {
      throw new LinkedInResponseError(
        `${endpoint}: the job ids disagree (${ids.map((x) => `${x.from} ${x.id}`).join(', ')})`,
      );
    }
    return { id };
  }

  /** `GET /crmDataValidationExportJobs/{id}?crmInstanceId=<URN>`. */
  async getCrmValidationJob(id: number, crmInstance: string): Promise<CrmValidationJob> {
    if (!Number.isSafeInteger(id) || id < 0) throw new InvalidInputError(`not an export job id: ${id}`);
    const path = `/crmDataValidationExportJobs/${id}?${restliQuery({ crmInstanceId: crmInstance })}`;
    const { jobId, ...job } = await this.request('GET', path, CrmValidationJobSchema);
    if (jobId !== undefined && jobId !== id) {
      throw new LinkedInResponseError(`GET /crmDataValidationExportJobs/${id}: answered job ${jobId}`);
    }
    return { id, ...job };
  }

  private url(pathAndQuery: string): URL {
    return new URL(`${this.baseUrl}${pathAndQuery}`);
  }

  /**
   * One call, with the in-process 429 retries. Every outcome is either the parsed body or one of
   * the named errors; messages carry the method and path, never the token or the response body.
   */
  private async request<S extends z.ZodType>(
    method: Method,
    pathAndQuery: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const { text, endpoint } = await this.call(method, pathAndQuery, body);
    return parseBody(endpoint, text, schema);
  }

  /** One call, with the in-process 429 retries: the 2xx response and its text, or a named error. */
  private async call(
    method: Method,
    pathAndQuery: string,
    body?: unknown,
  ): Promise<{ res: Response; text: string; endpoint: string }> {
    const url = this.url(pathAndQuery);
    const endpoint = `${method} ${url.pathname}`;
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(method, url, endpoint, body);
      if (res.ok) return { res, text: await this.readText(res, endpoint), endpoint };

      const detail = errorDetail(await this.readText(res, endpoint).catch(() => ''));
      const answered = `${endpoint}: LinkedIn answered ${res.status}${detail}`;
      if (res.status === 401) {
        throw new LinkedInAuthError(
          `${answered}. The access token is expired or revoked (LinkedIn tokens live 60 days, 1 year for ` +
            'compliance apps, with no guaranteed refresh token): renew the token and update the secret.',
        );
      }
      if (res.status === 403) {
        throw new LinkedInForbiddenError(
          `${answered}. The token's member may not use this contract or endpoint.`,
        );
      }
      if (res.status === 429) {
        const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'), this.now());
        // The wait and the next request must both end before the caller is cut off.
        const fits =
          retryAfterSeconds !== undefined &&
          retryAfterSeconds * 1000 + Math.min(this.requestTimeoutMs, 1_000) < this.budgetMs();
        if (
          retryAfterSeconds !== undefined &&
          retryAfterSeconds <= this.maxRetryAfterSeconds &&
          attempt < this.maxThrottleRetries &&
          fits
        ) {
          logger.debug('LinkedIn throttled, waiting', { method, path: url.pathname, retryAfterSeconds });
          await this.sleep(retryAfterSeconds * 1000);
          continue;
        }
        const wait =
          retryAfterSeconds === undefined ? 'no Retry-After' : `Retry-After ${retryAfterSeconds} s`;
        throw new LinkedInThrottledError(
          `${answered} (${wait}, after ${attempt} in-process retries); LinkedIn's daily limits reset at midnight UTC`,
          retryAfterSeconds,
        );
      }
      // A 5xx is LinkedIn's answer that the call failed: retried as such (never ambiguous).
      if (res.status >= 500) throw new LinkedInTransientError(answered);
      if (res.status >= 400) throw new LinkedInRequestError(answered, res.status);
      throw new LinkedInResponseError(`${endpoint}: unexpected HTTP status ${res.status}`);
    }
  }

  private async send(method: Method, url: URL, endpoint: string, body: unknown): Promise<Response> {
    const token = await this.getToken();
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      'X-Restli-Protocol-Version': '2.0.0',
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const started = Date.now();
    const timeoutMs = Math.max(1, Math.min(this.requestTimeoutMs, this.budgetMs()));
    compileHttpParsersWithBaselineOnly();
    try {
      const res = await this.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // The API never redirects; following one would send the token somewhere unexpected.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      logger.debug('LinkedIn request', {
        method,
        path: url.pathname,
        status: res.status,
        ms: Date.now() - started,
      });
      return res;
    } catch (err) {
      throw this.transportError(endpoint, err, timeoutMs, method === 'POST');
    }
  }

  /**
   * The body as text, read up to MAX_API_BODY_BYTES (after any decoding fetch did, so a gzip bomb is
   * cut too): a larger answer is refused, named, before it can exhaust a 256 MB Lambda.
   */
  private async readText(res: Response, endpoint: string): Promise<string> {
    const tooLarge = () =>
      new LinkedInResponseError(
        `${endpoint}: the response body is larger than ${MAX_API_BODY_BYTES / 2 ** 20} MiB, more than any API answer needs; refused`,
      );
    if (Number(res.headers.get('content-length')) > MAX_API_BODY_BYTES) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > MAX_API_BODY_BYTES) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof LinkedInResponseError) throw err;
      // The answer was under way: whatever it said was done.
      throw this.transportError(endpoint, err, this.requestTimeoutMs, endpoint.startsWith('POST'));
    }
    return new TextDecoder().decode(Buffer.concat(chunks)); // as res.text(): UTF-8, BOM dropped
  }

  /** A network failure or timeout. The message is built from error names and codes only. */
  private transportError(
    endpoint: string,
    err: unknown,
    timeoutMs = this.requestTimeoutMs,
    post = false,
  ): LinkedInTransientError {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return new LinkedInTransientError(`${endpoint}: no answer within ${timeoutMs} ms`, { ambiguous: post });
    }
    const cause = err instanceof Error ? err.cause : undefined;
    const code =
      (cause instanceof Error && ((cause as NodeJS.ErrnoException).code ?? cause.name)) ||
      (err instanceof Error ? err.name : 'unknown error');
    // A connection that was never made carried no request; any other failure may have come after it.
    return new LinkedInTransientError(`${endpoint}: network error (${code})`, {
      ambiguous: post && !NOT_SENT_CODES.has(String(code)),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function parseBody<S extends z.ZodType>(endpoint: string, text: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LinkedInResponseError(`${endpoint}: response is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new LinkedInResponseError(`${endpoint}: unexpected response: ${issues}`);
}

/** A job id from a header: digits only, a safe integer; otherwise undefined. */
function jobIdFrom(text: string): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : undefined;
}

/**
 * `: <LinkedIn's message> (serviceErrorCode N, status N)` from an error body, each part only when
 * LinkedIn sent it (the seed spec's `code` too); empty when the body is not a JSON object.
 */
export function errorDetail(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return '';
  }
  const body = ErrorResponseSchema.safeParse(json).data;
  if (!body) return '';
  const message = body.message && printableText(body.message.trim(), MAX_ERROR_MESSAGE_CHARS);
  const codes = [
    body.serviceErrorCode !== undefined && `serviceErrorCode ${body.serviceErrorCode}`,
    body.code !== undefined && `code ${body.code}`,
    body.status !== undefined && `status ${body.status}`,
  ].filter(Boolean);
  const parts = [message, codes.length ? `(${codes.join(', ')})` : ''].filter(Boolean).join(' ');
  return parts ? `: ${parts}` : '';
}

/** `Retry-After` as whole seconds from now: delta-seconds or an HTTP-date. Undefined if absent or invalid. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * Whether `links` announce a page after `start`: an object link with `rel: "next"`, or (string
 * style) a link whose `start` parameter is beyond the current one. The link is only a signal: the
 * next request is always built from our own base URL, never from a server-supplied href.
 */
function hasNextLink(
  links: z.infer<typeof PagingLinkSchema>[] | undefined,
  start: number,
  base: URL,
): boolean {
  return (links ?? []).some((link) => {
    if (typeof link !== 'string') return link.rel === 'next';
    if (!URL.canParse(link, base.href)) return false;
    const linkStart = new URL(link, base).searchParams.get('start');
    return linkStart != null && Number(linkStart) > start;
  });
}
