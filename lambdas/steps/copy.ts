// Step CopyToS3: streams a finished export from its download URL into the store, verified.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { z } from 'zod';
import {
  DownloadIncompleteError,
  DownloadUrlExpiredError,
  DownloadUrlRejectedError,
  ExportJobFailedError,
  LinkedInRequestError,
  LinkedInResponseError,
} from '#common/errors';
import type { ExportItem } from '#common/model';
import { logger } from '#common/powertools';
import type { ExportJob } from '#linkedin/api';
import { assertAllowedDownloadUrl, redactUrl } from '#linkedin/download-hosts';
import type { Deps } from './deps.ts';

export interface CopyInput {
  item: ExportItem;
  jobId: number;
  /** Destination key (relative to the store root). */
  key: string;
  /** Extra object metadata; the copy's own keys (jobid, rowcount, window..., dataset, contract) win. */
  metadata?: Record<string, string>;
}

export interface CopyResult {
  key: string;
  bytes: number;
  /** CSV data rows (lines after the header) counted while streaming. */
  rows: number;
  /** `rowCount` reported by LinkedIn, when it reported one. */
  expectedRows?: number;
}

export type CopyDeps = Pick<Deps, 'linkedin' | 'store' | 'settings' | 'now'>;

/** A URL that expires within this margin is refreshed before use. */
const URL_EXPIRY_MARGIN_MS = 60_000;
const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** What an expired or revoked signed URL answers. */
const REFUSED_STATUSES = new Set([401, 403, 410]);

const ContentLengthSchema = z.coerce.number().int().nonnegative();

type CompletedJob = ExportJob & { downloadUrl: string };

/**
 * The CopyToS3 core: streams a COMPLETED export job's CSV into `deps.store` at `input.key`, in
 * constant memory, counting bytes and data rows on the way. The object appears only when whole and
 * verified (Content-Length, LinkedIn's rowCount); otherwise the upload is aborted and nothing is left.
 * An expired download URL is refreshed by re-reading the job (never by creating a new one).
 *
 * @throws ExportJobFailedError, LinkedInResponseError (job not usable), DownloadUrlRejectedError (SSRF
 *   guard), DownloadUrlExpiredError, DownloadIncompleteError (retryable), LinkedInRequestError.
 */
export async function copyExportToStore(input: CopyInput, deps: CopyDeps): Promise<CopyResult> {
  const { item, jobId, key } = input;
  const allowedHosts = deps.settings.allowedDownloadHosts;
  const readJob = () => readCompletedJob(deps, jobId, item.contract);

  // Aborts the request when no byte arrives for `downloadIdleTimeoutMs` (re-armed by every chunk).
  const idle = new IdleTimeout(deps.settings.downloadIdleTimeoutMs);
  let job = await readJob();
  if (job.expireAt !== undefined && job.expireAt - URL_EXPIRY_MARGIN_MS <= deps.now().getTime()) {
    logger.info('download URL expired or about to; re-reading the job', { jobId });
    job = await readJob();
  }
  let response = await openDownload(job.downloadUrl, allowedHosts, idle);
  if (!response) {
    logger.info('download URL refused; re-reading the job for a fresh one', { jobId });
    job = await readJob();
    response = await openDownload(job.downloadUrl, allowedHosts, idle);
    if (!response) {
      throw new DownloadUrlExpiredError(
        `job ${jobId}: the download URL is still refused after re-reading the job`,
      );
    }
  }

  const source = redactUrl(response.url || job.downloadUrl);
  if (!response.body) throw new LinkedInResponseError(`download ${source} answered without a body`);
  const counter = new CsvCounter(source, contentLengthOf(response), job.rowCount, () => idle.rearm());
  const body = Readable.fromWeb(response.body);
  body.once('error', (err) =>
    counter.destroy(
      new DownloadIncompleteError(
        `download ${source} broke off after ${counter.bytes} bytes: ${describe(err)}`,
      ),
    ),
  );
  counter.once('close', () => body.destroy());
  body.pipe(counter);

  const metadata = {
    ...Object.fromEntries(Object.entries(input.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    jobid: String(jobId),
    dataset: item.dataset,
    contract: item.contract,
    windowstart: item.start,
    windowend: item.end,
    // Object metadata is sent before the body, so this is LinkedIn's count (verified against ours).
    ...(job.rowCount !== undefined && { rowcount: String(job.rowCount) }),
  };
  try {
    await deps.store.upload(key, counter, { contentType: 'text/csv', metadata });
  } finally {
    idle.clear();
    counter.destroy();
  }

  logger.info('export copied', { jobId, key, bytes: counter.bytes, rows: counter.rows, source });
  return {
    key,
    bytes: counter.bytes,
    rows: counter.rows,
    ...(job.rowCount !== undefined && { expectedRows: job.rowCount }),
  };
}

async function readCompletedJob(deps: CopyDeps, jobId: number, contract: string): Promise<CompletedJob> {
  const job = await deps.linkedin.getExportJob(jobId, contract);
  if (job.status.startsWith('FAILED')) throw new ExportJobFailedError(`job ${jobId} is ${job.status}`);
  if (job.status !== 'COMPLETED') {
    throw new LinkedInResponseError(`job ${jobId} is ${job.status}, but only a COMPLETED job can be copied`);
  }
  if (!job.downloadUrl) throw new LinkedInResponseError(`job ${jobId} is COMPLETED without a downloadUrl`);
  return { ...job, downloadUrl: job.downloadUrl };
}

/**
 * GETs `url`, following at most MAX_REDIRECTS redirects, each target checked against the allow-list
 * before it is requested. Resolves to the 200 response, or `undefined` when the URL is refused
 * (401/403/410: an expired signed URL).
 */
async function openDownload(
  url: string,
  allowedHosts: readonly string[],
  idle: IdleTimeout,
): Promise<Response | undefined> {
  let target = assertAllowedDownloadUrl(url, allowedHosts);
  for (let redirects = 0; ; redirects++) {
    const where = redactUrl(target);
    let response: Response;
    try {
      idle.rearm();
      response = await fetch(target, {
        redirect: 'manual',
        headers: { 'accept-encoding': 'identity' },
        signal: idle.signal,
      });
    } catch (err) {
      throw new DownloadIncompleteError(`download ${where} failed: ${describe(err)}`);
    }
    if (response.status === 200) return response;
    await response.body?.cancel().catch(() => undefined);
    const status = response.status;
    if (REDIRECT_STATUSES.has(status)) {
      if (redirects === MAX_REDIRECTS) {
        throw new DownloadUrlRejectedError(`download ${where}: more than ${MAX_REDIRECTS} redirects`);
      }
      target = assertAllowedDownloadUrl(resolveLocation(response, target), allowedHosts);
      continue;
    }
    if (REFUSED_STATUSES.has(status)) return undefined;
    if (status >= 500 || status === 429)
      throw new DownloadIncompleteError(`download ${where} answered ${status}`);
    if (status >= 400) throw new LinkedInRequestError(`download ${where} answered ${status}`, status);
    throw new LinkedInResponseError(`download ${where} answered an unexpected ${status}`);
  }
}

/** An AbortSignal that fires when `rearm` has not been called for `ms`: a stalled download. */
class IdleTimeout {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  readonly signal = this.controller.signal;

  constructor(private readonly ms: number) {}

  rearm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.controller.abort(new Error(`no data received for ${this.ms} ms`)),
      this.ms,
    );
    // Paths that throw before the upload's `finally` (a 429/5xx answer, a refused redirect) leave the
    // timer armed; unref'd, it can no longer keep the process alive after the work is done (#13).
    this.timer.unref();
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

function resolveLocation(response: Response, base: URL): string {
  const location = response.headers.get('location');
  try {
    if (location) return new URL(location, base).href;
  } catch {
    // reported below
  }
  throw new DownloadUrlRejectedError(`download ${redactUrl(base)}: redirect without a valid Location`);
}

/** Content-Length, when it describes the bytes we will read (no content coding in between). */
function contentLengthOf(response: Response): number | undefined {
  const header = response.headers.get('content-length');
  const encoding = response.headers.get('content-encoding');
  if (header === null || (encoding && encoding !== 'identity')) return undefined;
  const parsed = ContentLengthSchema.safeParse(header);
  if (!parsed.success) throw new LinkedInResponseError(`download answered an invalid Content-Length`);
  return parsed.data;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/**
 * Passes bytes through unchanged while counting them and the CSV's non-empty lines (RFC 4180:
 * newlines inside quoted fields do not end a line; CRLF and a missing final newline are fine).
 * On end it verifies the totals: failing there errors the stream before the upload can complete.
 */
class CsvCounter extends Transform {
  bytes = 0;
  private lines = 0;
  private lineHasContent = false;
  private inQuotes = false;

  constructor(
    private readonly source: string,
    private readonly expectedBytes: number | undefined,
    private readonly expectedRows: number | undefined,
    private readonly onChunk: () => void,
  ) {
    super();
  }

  /** Data rows: lines after the header. */
  get rows(): number {
    return Math.max(0, this.lines + (this.lineHasContent ? 1 : 0) - 1);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) {
        this.inQuotes = !this.inQuotes;
        this.lineHasContent = true;
      } else if (byte === LF && !this.inQuotes) {
        if (this.lineHasContent) this.lines++;
        this.lineHasContent = false;
      } else if (byte !== CR) {
        this.lineHasContent = true;
      }
    }
    this.bytes += chunk.length;
    this.onChunk();
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { bytes, rows, expectedBytes, expectedRows } = this;
    if (expectedBytes !== undefined && bytes !== expectedBytes) {
      callback(
        new DownloadIncompleteError(
          `download ${this.source}: ${bytes} bytes, Content-Length ${expectedBytes}`,
        ),
      );
    } else if (expectedRows !== undefined && rows !== expectedRows && rows + 1 !== expectedRows) {
      callback(
        new DownloadIncompleteError(
          `download ${this.source}: ${rows} data rows, job rowCount ${expectedRows}`,
        ),
      );
    } else {
      callback();
    }
  }
}
