// Opens an export's download URL with node:http(s): redirects re-checked hop by hop, an idle timeout.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import {
  DownloadIncompleteError,
  DownloadUrlRejectedError,
  LinkedInRequestError,
  LinkedInResponseError,
} from '#common/errors';
import { assertAllowedDownloadUrl, isLinkedInHost, redactUrl } from './download-hosts.ts';

const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** What an expired or revoked signed URL answers. */
const REFUSED_STATUSES = new Set([401, 403, 410]);
const ContentLengthSchema = z.coerce.number().int().nonnegative();

export interface DownloadOptions {
  allowedHosts: readonly string[];
  /** The request fails when no byte arrives for this long (connecting, waiting for headers, or in the body). */
  idleTimeoutMs: number;
  /**
   * The LinkedIn bearer token. Sent only to https hosts under LinkedIn's own domains (never to any
   * other host, even an allow-listed redirect target); never logged, never in an error.
   */
  bearerToken?: string;
  /**
   * How connections are made. Default: a fresh connection per request, closed when the response
   * ends (no keep-alive socket outlives a copy). Tests route LinkedIn host names to a local server.
   */
  agents?: { http?: http.Agent; https?: https.Agent };
}

/** A 200 answer, its body not read yet (the caller must consume or destroy it). */
export interface OpenedDownload {
  kind: 'ok';
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
  /** Content-Length, when the server sent one (the body is identity-coded: anything else is refused). */
  contentLength?: number;
}

/** The URL was refused (401/403/410): an expired signed URL, or one that needs the token. */
export interface RefusedDownload {
  kind: 'refused';
  status: number;
  url: URL;
}

/**
 * GETs `url`, following at most MAX_REDIRECTS redirects, each target checked against the allow-list
 * before it is requested. Resolves to the 200 response or to a refusal (401/403/410).
 *
 * @throws DownloadUrlRejectedError (SSRF guard, too many redirects), DownloadIncompleteError
 *   (network, 5xx, 429, idle timeout), LinkedInRequestError (other 4xx), LinkedInResponseError.
 */
export async function openDownload(
  url: string,
  options: DownloadOptions,
): Promise<OpenedDownload | RefusedDownload> {
  let target = assertAllowedDownloadUrl(url, options.allowedHosts);
  for (let redirects = 0; ; redirects++) {
    const where = redactUrl(target);
    const response = await get(target, options).catch((err: unknown) => {
      throw new DownloadIncompleteError(`download ${where} failed: ${describe(err)}`);
    });
    const status = response.statusCode ?? 0;
    if (status === 200) {
      const encoding = response.headers['content-encoding']?.trim().toLowerCase();
      if (encoding && encoding !== 'identity') {
        // We ask for identity: an encoded body would be stored encoded, its size and rows unchecked.
        response.destroy();
        throw new LinkedInResponseError(
          `download ${where} answered Content-Encoding ${encoding} although identity was asked; refused`,
        );
      }
      return { kind: 'ok', body: response, url: target, ...contentLengthOf(response, where) };
    }
    response.destroy();
    if (REDIRECT_STATUSES.has(status)) {
      if (redirects === MAX_REDIRECTS) {
        throw new DownloadUrlRejectedError(`download ${where}: more than ${MAX_REDIRECTS} redirects`);
      }
      target = assertAllowedDownloadUrl(resolveLocation(response, target), options.allowedHosts);
      continue;
    }
    if (REFUSED_STATUSES.has(status)) return { kind: 'refused', status, url: target };
    if (status >= 500 || status === 429)
      throw new DownloadIncompleteError(`download ${where} answered ${status}`);
    if (status >= 400) throw new LinkedInRequestError(`download ${where} answered ${status}`, status);
    throw new LinkedInResponseError(`download ${where} answered an unexpected ${status}`);
  }
}

/** Whether the bearer token may be sent to `url`: https, on one of LinkedIn's own domains. */
export function mayCarryToken(url: URL): boolean {
  return url.protocol === 'https:' && isLinkedInHost(url.hostname);
}

/** One GET; the idle timeout covers connecting, the headers and (via the socket) the body. */
function get(target: URL, options: DownloadOptions): Promise<IncomingMessage> {
  const secure = target.protocol === 'https:';
  const agent = (secure ? options.agents?.https : options.agents?.http) ?? false;
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (options.bearerToken && mayCarryToken(target)) headers.authorization = `Bearer ${options.bearerToken}`;
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const request = (secure ? https : http).get(target, { agent, headers }, (res) => {
      response = res;
      // From now on a failure (a stall included) errors the body, where the reader sees it.
      request.off('error', reject);
      request.on('error', (err) => res.destroy(err));
      resolve(res);
    });
    request.on('error', reject);
    request.setTimeout(options.idleTimeoutMs, () => {
      const err = new Error(`no data received for ${options.idleTimeoutMs} ms`);
      response?.destroy(err);
      request.destroy(err);
    });
  });
}

function resolveLocation(response: IncomingMessage, base: URL): string {
  const location = response.headers.location;
  try {
    if (location) return new URL(location, base).href;
  } catch {
    // reported below
  }
  throw new DownloadUrlRejectedError(`download ${redactUrl(base)}: redirect without a valid Location`);
}

function contentLengthOf(response: IncomingMessage, where: string): { contentLength?: number } {
  const header = response.headers['content-length'];
  if (header === undefined) return {};
  const parsed = ContentLengthSchema.safeParse(header);
  if (!parsed.success) {
    response.destroy();
    throw new LinkedInResponseError(`download ${where} answered an invalid Content-Length`);
  }
  return { contentLength: parsed.data };
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
