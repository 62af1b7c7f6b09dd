// Opens an export's download URL with undici: redirects re-checked hop by hop, an idle timeout.
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
// undici's parts, not its index: the index loads fetch, WebSocket, caches and mocks too (about
// 250 KB more of bundle for every Lambda start to compile). See undici-parts.d.ts for their types.
import request from 'undici/lib/api/api-request.js';
import buildConnector from 'undici/lib/core/connect.js';
import Client from 'undici/lib/dispatcher/client.js';
import * as z from 'zod';
import {
  DownloadIncompleteError,
  DownloadUrlRejectedError,
  LinkedInRequestError,
  LinkedInResponseError,
} from '#common/errors';
import { assertAllowedDownloadUrl, isLinkedInHost, redactUrl } from './download-hosts.ts';
import { compileHttpParsersWithBaselineOnly } from './http-parser.ts';

const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** What an expired or revoked signed URL answers. */
const REFUSED_STATUSES = new Set([401, 403, 410]);
const ContentLengthSchema = z.coerce.number().int().nonnegative();
/**
 * The body's buffer between the socket and its reader: one socket read. Larger costs CPU, because a
 * reader's `read()` (an async iterator's) then gets several reads joined into a fresh buffer (a copy).
 */
const BODY_BUFFER_BYTES = 64 * 1024;

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
   * How connections are made: each request has a fresh connection, closed when the response ends
   * (no keep-alive socket outlives a copy). Tests route LinkedIn host names to a local TLS server.
   */
  connect?: DownloadConnectOptions;
}

/** Name resolution and trusted CAs for download connections (default: the system's). */
export interface DownloadConnectOptions {
  lookup?: LookupFunction;
  ca?: string | Buffer;
}

/** A 200 answer, its body not read yet (the caller must consume or destroy it). */
export interface OpenedDownload {
  kind: 'ok';
  body: Readable;
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
    const status = response.statusCode;
    if (status === 200) {
      const encoding = header(response, 'content-encoding', where)?.trim().toLowerCase();
      if (encoding && encoding !== 'identity') {
        // We ask for identity: an encoded body would be stored encoded, its size and rows unchecked.
        response.close();
        throw new LinkedInResponseError(
          `download ${where} answered Content-Encoding ${encoding} although identity was asked; refused`,
        );
      }
      return { kind: 'ok', body: response.body, url: target, ...contentLengthOf(response, where) };
    }
    response.close();
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

/** A response whose body is not read yet; `close()` discards it and the connection. */
interface Response {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Readable;
  close(): void;
}

/**
 * One GET on a connection of its own (undici: it reads the socket with a third of node:http's CPU).
 * The idle timeout covers connecting, the headers and the body; the connection is closed once the
 * body ends, errors or is destroyed.
 */
async function get(target: URL, options: DownloadOptions): Promise<Response> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (options.bearerToken && mayCarryToken(target)) headers.authorization = `Bearer ${options.bearerToken}`;
  const idle = options.idleTimeoutMs;
  compileHttpParsersWithBaselineOnly();
  // Connecting has undici's connect timeout; from then on the socket's idle timeout covers the
  // headers and the body (undici's own timeouts are off: they name no duration).
  const connector = buildConnector({ ...options.connect, timeout: idle });
  const client = new Client(target.origin, {
    connect: (connectOptions, callback) =>
      connector(connectOptions, (...args) => {
        const socket = args[1];
        socket?.setTimeout(idle, () => socket.destroy(new Error(`no data received for ${idle} ms`)));
        callback(...args);
      }),
    headersTimeout: 0,
    bodyTimeout: 0,
    pipelining: 1,
  });
  const close = (): void => {
    client.destroy(CONNECTION_CLOSED).catch(() => {});
  };
  try {
    const response = await request.call(client, {
      method: 'GET',
      path: `${target.pathname}${target.search}`,
      headers,
      highWaterMark: BODY_BUFFER_BYTES,
    });
    response.body.once('close', close);
    // undici errors a body destroyed before its end (RequestAbortedError): discarding one unread is
    // not a failure. Every other error still reaches the reader's own 'error' listener.
    response.body.on('error', ignore);
    return {
      statusCode: response.statusCode,
      headers: response.headers,
      body: response.body,
      close: () => {
        response.body.destroy();
        close();
      },
    };
  } catch (err) {
    close();
    throw err;
  }
}

function ignore(): void {}

/**
 * What a download's connection is destroyed with once its body is read (or discarded). Without an
 * error, undici makes a ClientDestroyedError; Node reads the stack of any error a socket is
 * destroyed with, and under `--enable-source-maps` (as the Lambdas run) the first stack read
 * decodes the whole bundle's source map: about 50 MiB and 0.4 CPU s, on every successful copy. This
 * error has no frames to map.
 */
const CONNECTION_CLOSED = stackless('download connection closed');

function stackless(message: string): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Error(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** One header's value; a repeated header is refused (a server that sends two Content-Lengths lies in one). */
function header(response: Response, name: string, where: string): string | undefined {
  const value = response.headers[name];
  if (Array.isArray(value)) {
    response.close();
    throw new LinkedInResponseError(`download ${where} answered ${value.length} ${name} headers; refused`);
  }
  return value;
}

function resolveLocation(response: Response, base: URL): string {
  const location = header(response, 'location', redactUrl(base));
  try {
    if (location) return new URL(location, base).href;
  } catch {
    // reported below
  }
  throw new DownloadUrlRejectedError(`download ${redactUrl(base)}: redirect without a valid Location`);
}

function contentLengthOf(response: Response, where: string): { contentLength?: number } {
  const value = header(response, 'content-length', where);
  if (value === undefined) return {};
  const parsed = ContentLengthSchema.safeParse(value);
  if (!parsed.success) {
    response.close();
    throw new LinkedInResponseError(`download ${where} answered an invalid Content-Length`);
  }
  return { contentLength: parsed.data };
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
