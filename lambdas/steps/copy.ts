// Step CopyToS3: streams a finished export from its download URL into the store, verified.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CsvScanner, type TimestampRange } from '#common/csv-scan';
import { dayToMs } from '#common/days';
import {
  DownloadAuthError,
  DownloadIncompleteError,
  DownloadUrlExpiredError,
  ExportJobFailedError,
  LinkedInResponseError,
  NamedError,
} from '#common/errors';
import type { ExportItem, ItemRecord } from '#common/model';
import { logger, metrics } from '#common/powertools';
import { downloadHostsOf } from '#common/settings';
import type { ExportJob } from '#linkedin/api';
import {
  type DownloadConnectOptions,
  type DownloadOptions,
  describe,
  mayCarryToken,
  type OpenedDownload,
  openDownload,
} from '#linkedin/download';
import { redactUrl } from '#linkedin/download-hosts';
import type { BodyInspector } from '#storage/store';
import type { Deps } from './deps.ts';

export interface CopyInput {
  item: ExportItem;
  jobId: number;
  /** Destination key (relative to the store root). */
  key: string;
  /** Extra object metadata; the copy's own keys (jobid, rowcount, window..., dataset, contract) win. */
  metadata?: Record<string, string>;
  /** Object tags (coverage reads the `source` tag, see coverage.ts). */
  tags?: Record<string, string>;
}

export interface CopyResult {
  key: string;
  bytes: number;
  /** CSV data rows (lines after the header) counted while streaming. */
  rows: number;
  /** `rowCount` reported by LinkedIn, when it reported one. */
  expectedRows?: number;
}

/** What the item record notes about a copy, beyond bytes and rows. */
export type CopyNotes = Pick<ItemRecord, 'rowCount' | 'checksum' | 'createdAt' | 'warnings'>;

export type CopyDeps = Pick<Deps, 'linkedin' | 'store' | 'settings' | 'now' | 'getToken'> & {
  /** How downloads connect (name resolution, CAs); default the system's (tests route LinkedIn hosts locally). */
  downloadConnect?: DownloadConnectOptions;
};

/** A URL that expires within this margin is refreshed before use. */
const URL_EXPIRY_MARGIN_MS = 60_000;
/** The column of an activity export that the window self-check reads (LinkedIn's exports schema). */
const ACTIVITY_TIME_COLUMN = 'createdAt';

type CompletedJob = ExportJob & { downloadUrl: string };

/**
 * The CopyToS3 core: streams a COMPLETED export job's CSV into `deps.store` at `input.key`, in
 * constant memory, counting bytes and data rows on the way. The object appears only when whole
 * (Content-Length); otherwise the upload is aborted and nothing is left. An expired download URL is
 * refreshed by re-reading the job (never by creating a new one).
 *
 * @throws ExportJobFailedError, LinkedInResponseError (job not usable), DownloadUrlRejectedError (SSRF
 *   guard), DownloadUrlExpiredError, DownloadAuthError, DownloadIncompleteError (retryable), LinkedInRequestError.
 */
export async function copyExportToStore(input: CopyInput, deps: CopyDeps): Promise<CopyResult> {
  return (await copyExport(input, deps)).result;
}

/**
 * `copyExportToStore`, with what the item record notes: LinkedIn's rowCount, the object's checksum,
 * the createdAt range of an activity file, and the soft signals that did not fail the copy:
 *   - rowCount differs from the rows counted (LinkedIn never defines what it counts): a warning when
 *     the body is whole by Content-Length, or has more rows; without a Content-Length, fewer rows
 *     than rowCount is the only sign of a body cut off cleanly, so that still fails (retried);
 *   - rows whose createdAt lies outside the window `[start, end)` (does LinkedIn read the end as
 *     inclusive?): a warning with the window and the offending timestamps.
 * Each is logged, counted in a metric (RowCountMismatch, RowsOutsideWindow) and noted in `warnings`.
 */
export async function copyExport(
  input: CopyInput,
  deps: CopyDeps,
): Promise<{ result: CopyResult; notes: CopyNotes }> {
  const { item, jobId } = input;
  const options: DownloadOptions = {
    allowedHosts: downloadHostsOf(deps.settings),
    idleTimeoutMs: deps.settings.downloadIdleTimeoutMs,
    ...(deps.downloadConnect && { connect: deps.downloadConnect }),
  };
  const readJob = () => readCompletedJob(deps, jobId, item.contract);

  let job = await readJob();
  if (job.expireAt !== undefined && job.expireAt - URL_EXPIRY_MARGIN_MS <= deps.now().getTime()) {
    logger.info('download URL expired or about to; re-reading the job', { jobId });
    job = await readJob();
  }
  let opened = await openDownload(job.downloadUrl, options);
  if (opened.kind === 'refused') {
    logger.info('download URL refused; re-reading the job for a fresh one', { jobId, status: opened.status });
    job = await readJob();
    opened = await openDownload(job.downloadUrl, options);
    if (opened.kind === 'refused' && opened.status === 401 && mayCarryToken(opened.url)) {
      opened = await openWithToken(job.downloadUrl, opened.url, options, deps);
    }
    if (opened.kind === 'refused') {
      throw new DownloadUrlExpiredError(
        `job ${jobId}: the download URL is still refused (${opened.status}) after re-reading the job`,
      );
    }
  }
  return await copyBody(input, job, opened, deps);
}

/**
 * A fresh URL answered 401 by a LinkedIn host: perhaps the host wants the token. Asks once more with
 * it (sent to https LinkedIn hosts only, see `mayCarryToken`); a second refusal is a DownloadAuthError.
 */
async function openWithToken(
  url: string,
  refusedBy: URL,
  options: DownloadOptions,
  deps: CopyDeps,
): Promise<OpenedDownload> {
  const host = refusedBy.hostname;
  if (!deps.getToken) {
    throw new DownloadAuthError(
      `download host ${host} answered 401 to a fresh URL, and no LinkedIn token is available to retry with`,
    );
  }
  logger.warn('download host answered 401 to a fresh URL; retrying once with the LinkedIn token', { host });
  const retried = await openDownload(url, { ...options, bearerToken: await deps.getToken() });
  if (retried.kind === 'refused') {
    throw new DownloadAuthError(
      `download host ${retried.url.hostname} answered ${retried.status} to a fresh URL, with and without the LinkedIn token: check the token's Sales Navigator reporting access`,
    );
  }
  return retried;
}

async function copyBody(
  input: CopyInput,
  job: CompletedJob,
  opened: OpenedDownload,
  deps: CopyDeps,
): Promise<{ result: CopyResult; notes: CopyNotes }> {
  const { item, jobId, key } = input;
  const source = redactUrl(opened.url);
  const maxBytes = deps.settings.maxDownloadBytes;
  if (opened.contentLength !== undefined && opened.contentLength > maxBytes) {
    opened.body.destroy();
    throw downloadTooLarge(source, `${opened.contentLength} bytes (Content-Length)`, maxBytes);
  }
  const window = { start: dayToMs(item.start), end: dayToMs(item.end) };
  const counter = new CsvCounter(
    source,
    opened.contentLength,
    job.rowCount,
    new CsvScanner(
      item.dataset === 'activity' ? { timestamps: { column: ACTIVITY_TIME_COLUMN, ...window } } : {},
    ),
    maxBytes,
  );
  const body = opened.body;
  // The store reads the download itself and shows the counter each chunk (no stream stage between).
  let broke: unknown;
  body.on('error', (err) => {
    broke ??= err;
  });

  const metadata = {
    ...Object.fromEntries(Object.entries(input.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    jobid: String(jobId),
    dataset: item.dataset,
    contract: item.contract,
    windowstart: item.start,
    windowend: item.end,
    // Object metadata is sent before the body, so this is LinkedIn's count (compared with ours).
    ...(job.rowCount !== undefined && { rowcount: String(job.rowCount) }),
  };
  let stored: Awaited<ReturnType<CopyDeps['store']['upload']>>;
  try {
    stored = await deps.store.upload(key, body, {
      contentType: 'text/csv',
      metadata,
      ...(input.tags && { tags: input.tags }),
      inspect: counter,
    });
  } catch (err) {
    // The connection failed (reset, stall, cut short): retryable. Our own errors (the counter's
    // checks, an interrupted run) already say what happened.
    if (err === broke && !(err instanceof NamedError)) {
      throw new DownloadIncompleteError(
        `download ${source} broke off after ${counter.bytes} bytes: ${describe(err)}`,
      );
    }
    throw err;
  } finally {
    body.destroy();
  }

  const warnings: string[] = [];
  if (counter.rowCountMismatch) {
    warnings.push(counter.rowCountMismatch);
    logger.warn('rowCount differs from the rows copied', {
      jobId,
      key,
      rows: counter.rows,
      rowCount: job.rowCount,
    });
    metrics.addMetric('RowCountMismatch', MetricUnit.Count, 1);
  }
  const createdAt = counter.scanner.timestamps();
  if (createdAt && createdAt.outsideWindow > 0) {
    warnings.push(outsideWindowWarning(item, createdAt));
    logger.warn('rows outside the export window', {
      jobId,
      key,
      window: { start: item.start, end: item.end, endExclusive: true },
      rowsOutside: createdAt.outsideWindow,
      ...(createdAt.earliest &&
        createdAt.earliest < new Date(window.start).toISOString() && {
          earliest: createdAt.earliest,
        }),
      ...(createdAt.latest &&
        createdAt.latest >= new Date(window.end).toISOString() && {
          latest: createdAt.latest,
        }),
    });
    metrics.addMetric('RowsOutsideWindow', MetricUnit.Count, createdAt.outsideWindow);
  }

  logger.info('export copied', { jobId, key, bytes: counter.bytes, rows: counter.rows, source });
  return {
    result: {
      key,
      bytes: counter.bytes,
      rows: counter.rows,
      ...(job.rowCount !== undefined && { expectedRows: job.rowCount }),
    },
    notes: {
      ...(job.rowCount !== undefined && { rowCount: job.rowCount }),
      ...(stored.checksum && { checksum: stored.checksum }),
      ...(createdAt && {
        createdAt: {
          ...(createdAt.earliest && { earliest: createdAt.earliest, latest: createdAt.latest }),
          outsideWindow: createdAt.outsideWindow,
          unreadable: createdAt.unreadable,
        },
      }),
      ...(warnings.length > 0 && { warnings }),
    },
  };
}

function outsideWindowWarning(item: ExportItem, range: TimestampRange): string {
  return `${range.outsideWindow} row(s) with ${range.column} outside the window [${item.start}, ${item.end}) (earliest ${range.earliest}, latest ${range.latest}): LinkedIn may read the window's end as inclusive`;
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

/** Too large for an export (`settings.maxDownloadBytes`). Not retried: the URL would answer the same. */
function downloadTooLarge(source: string, size: string, max: number): LinkedInResponseError {
  return new LinkedInResponseError(
    `download ${source} is ${size}, above the ${max} bytes an export may hold ` +
      "(maxDownloadBytes; LinkedIn's 3 GB export limit + 10 %); aborted, nothing stored. Export a shorter window.",
  );
}

/**
 * Counts the bytes and the CSV's data rows (see CsvScanner) of a download as the store takes it (its
 * `inspect` hook). Too many bytes fail the upload at once; at the end it verifies the totals, before
 * the object is completed.
 */
class CsvCounter implements BodyInspector {
  bytes = 0;
  /** Set at the end when LinkedIn's rowCount differs but the copy is kept (see `copyExport`). */
  rowCountMismatch: string | undefined;

  constructor(
    private readonly source: string,
    private readonly expectedBytes: number | undefined,
    private readonly expectedRows: number | undefined,
    readonly scanner: CsvScanner,
    private readonly maxBytes: number,
  ) {}

  get rows(): number {
    return this.scanner.rows;
  }

  chunk(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      // A server (no Content-Length, no rowCount) could otherwise make us store or hold any size.
      throw downloadTooLarge(this.source, `more than ${this.maxBytes} bytes`, this.maxBytes);
    }
    this.scanner.update(chunk);
  }

  end(): void {
    const { bytes, rows, expectedBytes, expectedRows } = this;
    if (expectedBytes !== undefined && bytes !== expectedBytes) {
      throw new DownloadIncompleteError(
        `download ${this.source}: ${bytes} bytes, Content-Length ${expectedBytes}`,
      );
    }
    // rowCount may or may not count the header: either matches.
    if (expectedRows !== undefined && rows !== expectedRows && rows + 1 !== expectedRows) {
      const difference = `${rows} data rows, job rowCount ${expectedRows}`;
      if (expectedBytes === undefined && rows < expectedRows) {
        throw new DownloadIncompleteError(
          `download ${this.source}: ${difference} (and no Content-Length to tell a cut-off body)`,
        );
      }
      this.rowCountMismatch = `${difference}: kept, the body is ${expectedBytes === undefined ? 'longer than rowCount says' : 'whole by Content-Length'}`;
    }
  }
}
