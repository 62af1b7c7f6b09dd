import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DownloadIncompleteError,
  DownloadUrlExpiredError,
  DownloadUrlRejectedError,
  ExportJobFailedError,
  LinkedInResponseError,
} from '#common/errors';
import type { ExportItem } from '#common/model';
import { logger, metrics } from '#common/powertools';
import { parseSettings } from '#common/settings';
import type { ExportJob, LinkedInApi } from '#linkedin/api';
import { FolderStore } from '#local/folder-store';
import { type CopyDeps, copyExport, copyExportToStore } from '#steps/copy';
import { crc32Base64 } from '#storage/checksum';
import { S3ObjectStore } from '#storage/s3-store';
import type { ObjectStore } from '#storage/store';
import { type LocalS3, startS3rver } from '#test/support/s3rver';

const NOW = Date.parse('2025-03-02T08:00:00Z');
const JOB_ID = 4711;
const ITEM: ExportItem = {
  contract: 'urn:li:salesContract:123',
  dataset: 'activity',
  start: '2025-03-01',
  end: '2025-03-02',
};
const KEY = 'sales-navigator/activity/contract=123/window=2025-03-01_2025-03-02/activity.csv';
const SECRET = 'sig=SECRET-SIGNATURE';
const settings = parseSettings({ allowedDownloadHosts: ['*.licdn.com', '*.linkedin.com', '127.0.0.1:*'] });

/** An activity export of `rows` data rows, CRLF, with a quoted multi-line field now and then: ~10 MiB. */
function activityCsv(rows: number): Buffer {
  const lines = ['activityId,activityType,createdAt,seatId,memberIdentityKey'];
  for (let i = 0; i < rows; i++) {
    const member = i % 1000 === 0 ? `"member ${i}, ""vip""\r\nsecond line"` : `member-${i}`;
    lines.push(`${i},PROFILE_VIEWED,03-01-2025 10:11:12 UTC,seat-${i % 50},${member}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}
const ROWS = 150_000;
const CSV = activityCsv(ROWS);

// --- the download server: a real HTTP server on 127.0.0.1 ------------------------------------------

type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
let server: Server;
let base: string;
let routes: Map<string, Route>;
let requests: string[];

/** Streams `body` in 64 KiB chunks; `stopAt` destroys the socket after that many bytes. */
async function serve(res: ServerResponse, body: Buffer, opts: { stopAt?: number } = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/csv', 'content-length': body.length });
  const end = opts.stopAt ?? body.length;
  for (let at = 0; at < end && !res.destroyed; at += 64 * 1024) {
    if (!res.write(body.subarray(at, Math.min(at + 64 * 1024, end)))) {
      // Whichever event loses the race must drop its listeners, or they pile up chunk after chunk.
      const loser = new AbortController();
      await Promise.race([
        once(res, 'drain', { signal: loser.signal }),
        once(res, 'close', { signal: loser.signal }),
      ]);
      loser.abort();
    }
  }
  if (opts.stopAt === undefined) res.end();
  else res.destroy();
}

function status(code: number, headers: Record<string, string> = {}): Route {
  return (_req, res) => {
    res.writeHead(code, headers).end('no');
  };
}

// --- destinations: a temp folder and a real s3rver -------------------------------------------------

interface Destination {
  store: ObjectStore;
  read(key: string): Promise<Buffer | undefined>;
  /** Object metadata; folders keep none. */
  metadata?(key: string): Promise<Record<string, string> | undefined>;
}

let s3rver: LocalS3;
let s3Client: S3Client;
const folderDirs: string[] = [];

const destinations: Record<'folder' | 's3', () => Promise<Destination>> = {
  folder: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'copy-folder-'));
    folderDirs.push(dir);
    return { store: new FolderStore(dir), read: (key) => readFile(join(dir, key)).catch(() => undefined) };
  },
  s3: async () => {
    const prefix = `test-${randomUUID()}`;
    const get = async (key: string) => {
      const object = await s3Client.send(
        new GetObjectCommand({ Bucket: 'exports', Key: `${prefix}/${key}` }),
      );
      return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    };
    return {
      store: new S3ObjectStore({ client: s3Client, bucket: 'exports', prefix }),
      read: (key) => get(key).catch(() => undefined),
      metadata: async (key) =>
        (await s3Client.send(new HeadObjectCommand({ Bucket: 'exports', Key: `${prefix}/${key}` }))).Metadata,
    };
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const route = routes.get(new URL(req.url ?? '/', base).pathname) ?? status(404);
    void route(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  s3rver = await startS3rver({ bucket: 'exports' });
  s3Client = s3rver.client;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await s3rver.close();
});

beforeEach(() => {
  routes = new Map([['/files/activity.csv', (_req, res) => serve(res, CSV)]]);
  requests = [];
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(folderDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

// --- LinkedIn: a fake that answers the given jobs in turn (the last one from then on) ---------------

function fakeLinkedIn(...jobs: ExportJob[]): { api: LinkedInApi; reads: Array<[number, string]> } {
  const reads: Array<[number, string]> = [];
  const api: LinkedInApi = {
    listContracts: () => Promise.reject(new Error('not expected')),
    createExportJob: () => Promise.reject(new Error('a copy never creates a job')),
    getExportJob: async (id, contract) => {
      reads.push([id, contract]);
      const job = jobs[Math.min(reads.length, jobs.length) - 1];
      if (!job) throw new Error('no job configured');
      return job;
    },
  };
  return { api, reads };
}

function completed(path: string, extra: Partial<ExportJob> = {}, origin = base): ExportJob {
  return {
    id: JOB_ID,
    status: 'COMPLETED',
    downloadUrl: `${origin}${path}?${SECRET}`,
    expireAt: NOW + 3600_000,
    rowCount: ROWS,
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error(`rejected with a non-Error: ${String(err)}`);
  expect(err.message).not.toContain('SECRET');
  return err;
}

describe.each(['folder', 's3'] as const)('copyExportToStore into %s', (kind) => {
  let dest: Destination;
  const copy = (linkedin: LinkedInApi, metadata?: Record<string, string>) => {
    const deps: CopyDeps = { linkedin, store: dest.store, settings, now: () => new Date(NOW) };
    return copyExportToStore({ item: ITEM, jobId: JOB_ID, key: KEY, ...(metadata && { metadata }) }, deps);
  };
  const copyFull = (linkedin: LinkedInApi) =>
    copyExport(
      { item: ITEM, jobId: JOB_ID, key: KEY },
      { linkedin, store: dest.store, settings, now: () => new Date(NOW) },
    );

  beforeEach(async () => {
    dest = await destinations[kind]();
  });

  it('streams the whole file, counts rows and sets the metadata', async () => {
    const { api, reads } = fakeLinkedIn(completed('/files/activity.csv'));

    const result = await copy(api, { RunId: 'run-1' });

    expect(result).toEqual({ key: KEY, bytes: CSV.length, rows: ROWS, expectedRows: ROWS });
    expect((await dest.read(KEY))?.equals(CSV)).toBe(true);
    expect(reads).toEqual([[JOB_ID, ITEM.contract]]);
    expect(requests).toEqual([`/files/activity.csv?${SECRET}`]);
    if (dest.metadata) {
      expect(await dest.metadata(KEY)).toEqual({
        runid: 'run-1',
        jobid: String(JOB_ID),
        rowcount: String(ROWS),
        dataset: 'activity',
        contract: 'urn:li:salesContract:123',
        windowstart: '2025-03-01',
        windowend: '2025-03-02',
      });
    }
  });

  it('accepts a rowCount that includes the header', async () => {
    const { api } = fakeLinkedIn(completed('/files/activity.csv', { rowCount: ROWS + 1 }));
    expect(await copy(api)).toMatchObject({ rows: ROWS, expectedRows: ROWS + 1 });
  });

  it.each([
    ['http://localhost (not listed)', 'http://localhost'],
    ['https://evil.example', 'https://evil.example'],
  ])('rejects a download URL on %s without requesting it', async (_label, origin) => {
    const port = new URL(base).port;
    const { api } = fakeLinkedIn(completed('/files/activity.csv', {}, `${origin}:${port}`));

    expect(await rejection(copy(api))).toBeInstanceOf(DownloadUrlRejectedError);
    expect(requests).toEqual([]);
    expect(await dest.store.exists(KEY)).toBe(false);
  });

  it('re-reads the job for a fresh URL when the first one is refused (403)', async () => {
    routes.set('/files/expired.csv', status(403));
    const { api, reads } = fakeLinkedIn(completed('/files/expired.csv'), completed('/files/activity.csv'));

    expect(await copy(api)).toMatchObject({ bytes: CSV.length, rows: ROWS });
    expect(reads).toHaveLength(2);
    expect(requests).toEqual([`/files/expired.csv?${SECRET}`, `/files/activity.csv?${SECRET}`]);
  });

  it('refreshes a URL whose expireAt has passed before requesting it', async () => {
    const { api, reads } = fakeLinkedIn(
      completed('/files/stale.csv', { expireAt: NOW + 30_000 }),
      completed('/files/activity.csv'),
    );

    expect(await copy(api)).toMatchObject({ bytes: CSV.length });
    expect(reads).toHaveLength(2);
    expect(requests).toEqual([`/files/activity.csv?${SECRET}`]);
  });

  it('gives up with DownloadUrlExpiredError when the fresh URL is refused too', async () => {
    routes.set('/files/expired.csv', status(410));
    const { api, reads } = fakeLinkedIn(completed('/files/expired.csv'));

    expect(await rejection(copy(api))).toBeInstanceOf(DownloadUrlExpiredError);
    expect(reads).toHaveLength(2);
    expect(requests).toHaveLength(2);
    expect(await dest.store.exists(KEY)).toBe(false);
  });

  it('fails with DownloadIncompleteError and leaves no object when the body is cut short', async () => {
    routes.set('/files/cut.csv', (_req, res) => serve(res, CSV, { stopAt: 9 * 1024 * 1024 }));
    const { api } = fakeLinkedIn(completed('/files/cut.csv'));

    const err = await rejection(copy(api));
    expect(err).toBeInstanceOf(DownloadIncompleteError);
    expect(err.message).toContain(`${base}/files/cut.csv`);
    expect(await dest.store.exists(KEY)).toBe(false);
    expect(await dest.store.list('')).toEqual([]);
  });

  /** The copy of the export at `path` with a 300 ms idle timeout: the error it fails with. */
  const copyWithIdleTimeout300 = (path: string) => {
    const { api } = fakeLinkedIn(completed(path));
    const deps: CopyDeps = {
      linkedin: api,
      store: dest.store,
      settings: { ...settings, downloadIdleTimeoutMs: 300 },
      now: () => new Date(NOW),
    };
    return rejection(copyExportToStore({ item: ITEM, jobId: JOB_ID, key: KEY }, deps));
  };

  it('abandons a download that stalls (no byte for downloadIdleTimeoutMs) as incomplete, leaving no object', async () => {
    routes.set('/files/stall.csv', (_req, res) => {
      // Headers and the first MiB, then silence with the connection left open: a hung CDN edge.
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': CSV.length });
      res.write(CSV.subarray(0, 1024 * 1024));
    });
    const err = await copyWithIdleTimeout300('/files/stall.csv');
    expect(err).toBeInstanceOf(DownloadIncompleteError);
    expect(err.message).toContain('no data received for 300 ms');
    expect(await dest.store.exists(KEY)).toBe(false);
    expect(await dest.store.list('')).toEqual([]);
  });

  it('abandons a download whose server never answers (no headers for downloadIdleTimeoutMs) as incomplete', async () => {
    routes.set('/files/silent.csv', () => {
      // The request is read, then nothing: no status line, the connection left open.
    });
    const err = await copyWithIdleTimeout300('/files/silent.csv');
    expect(err).toBeInstanceOf(DownloadIncompleteError);
    expect(err.message).toContain('no data received for 300 ms');
    expect(err.message).toContain(`${base}/files/silent.csv failed`);
    expect(await dest.store.list('')).toEqual([]);
  });

  it.each([ROWS - 1, ROWS + 2])(
    'keeps a download that is whole by Content-Length when rowCount is %i, noting both numbers',
    async (rowCount) => {
      const { api } = fakeLinkedIn(completed('/files/activity.csv', { rowCount }));
      const addMetric = vi.spyOn(metrics, 'addMetric');

      const { result, notes } = await copyFull(api);

      expect(result).toEqual({ key: KEY, bytes: CSV.length, rows: ROWS, expectedRows: rowCount });
      expect(notes.rowCount).toBe(rowCount);
      expect(notes.warnings).toEqual([
        `${ROWS} data rows, job rowCount ${rowCount}: kept, the body is whole by Content-Length`,
      ]);
      expect(addMetric).toHaveBeenCalledWith('RowCountMismatch', 'Count', 1);
      expect((await dest.read(KEY))?.equals(CSV)).toBe(true);
    },
  );

  it('without a Content-Length, fails on fewer rows than rowCount and keeps more rows with a warning', async () => {
    routes.set('/files/chunked.csv', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' }); // chunked: no Content-Length
      res.end(CSV);
    });
    const fewer = fakeLinkedIn(completed('/files/chunked.csv', { rowCount: ROWS + 2 }));
    const err = await rejection(copy(fewer.api));
    expect(err).toBeInstanceOf(DownloadIncompleteError);
    expect(err.message).toContain(`${ROWS} data rows, job rowCount ${ROWS + 2}`);
    expect(await dest.store.exists(KEY)).toBe(false);

    const more = fakeLinkedIn(completed('/files/chunked.csv', { rowCount: ROWS - 1 }));
    const { notes } = await copyFull(more.api);
    expect(notes.warnings).toEqual([
      `${ROWS} data rows, job rowCount ${ROWS - 1}: kept, the body is longer than rowCount says`,
    ]);
    expect((await dest.read(KEY))?.equals(CSV)).toBe(true);
  });

  it('notes the createdAt range of an activity file and, on S3, the CRC32 that S3 verified', async () => {
    const { api } = fakeLinkedIn(completed('/files/activity.csv'));
    const { notes } = await copyFull(api);
    expect(notes.createdAt).toEqual({
      earliest: '2025-03-01T10:11:12Z',
      latest: '2025-03-01T10:11:12Z',
      outsideWindow: 0,
      unreadable: 0,
    });
    expect(notes.warnings).toBeUndefined();
    if (kind === 's3') {
      expect(notes.checksum).toEqual({
        algorithm: 'CRC32',
        type: 'FULL_OBJECT',
        value: crc32Base64(crc32(CSV)),
      });
    }
  });

  it('warns about rows outside [start, end), with the window and the offending timestamps', async () => {
    const csv = Buffer.from(
      'activityId,activityType,createdAt,seatId,memberIdentityKey\r\n' +
        '1,PROFILE_VIEWED,02-28-2025 23:59:59,1,a\r\n2,SAVED_LEAD,03-01-2025 12:00:00,1,b\r\n' +
        '3,INMAIL_SENT,03-02-2025 00:00:00,1,c\r\n',
    );
    routes.set('/files/edges.csv', (_req, res) => serve(res, csv));
    const { api } = fakeLinkedIn(completed('/files/edges.csv', { rowCount: 3 }));
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const warn = vi.spyOn(logger, 'warn');

    const { result, notes } = await copyFull(api);

    expect(result.rows).toBe(3);
    expect(notes.createdAt).toEqual({
      earliest: '2025-02-28T23:59:59Z',
      latest: '2025-03-02T00:00:00Z',
      outsideWindow: 2,
      unreadable: 0,
    });
    expect(notes.warnings?.[0]).toContain(
      '2 row(s) with createdAt outside the window [2025-03-01, 2025-03-02)',
    );
    expect(addMetric).toHaveBeenCalledWith('RowsOutsideWindow', 'Count', 2);
    expect(warn).toHaveBeenCalledWith(
      'rows outside the export window',
      expect.objectContaining({
        window: { start: '2025-03-01', end: '2025-03-02', endExclusive: true },
        earliest: '2025-02-28T23:59:59Z',
        latest: '2025-03-02T00:00:00Z',
      }),
    );
  });

  it('follows an allowed redirect, validating its target', async () => {
    routes.set('/files/moved.csv', status(302, { location: '/files/activity.csv?moved=1' }));
    const { api } = fakeLinkedIn(completed('/files/moved.csv'));

    expect(await copy(api)).toMatchObject({ bytes: CSV.length, rows: ROWS });
    expect(requests).toEqual([`/files/moved.csv?${SECRET}`, '/files/activity.csv?moved=1']);
  });

  it('rejects a redirect to a host that is not allowed, without following it', async () => {
    const port = new URL(base).port;
    routes.set('/files/moved.csv', status(307, { location: `http://localhost:${port}/files/activity.csv` }));
    const { api } = fakeLinkedIn(completed('/files/moved.csv'));

    expect(await rejection(copy(api))).toBeInstanceOf(DownloadUrlRejectedError);
    expect(requests).toEqual([`/files/moved.csv?${SECRET}`]);
    expect(await dest.store.exists(KEY)).toBe(false);
  });
});

describe('copyExportToStore edge cases (folder)', () => {
  let store: FolderStore;
  const copy = (...jobs: ExportJob[]) =>
    copyExportToStore(
      { item: ITEM, jobId: JOB_ID, key: KEY },
      { linkedin: fakeLinkedIn(...jobs).api, store, settings, now: () => new Date(NOW) },
    );

  beforeEach(async () => {
    store = (await destinations.folder()).store as FolderStore;
  });

  it.each([
    ['an empty file', '', 0],
    ['a header only, no final newline', 'a,b', 0],
    ['a header only', 'a,b\n', 0],
    ['LF, no final newline', 'a,b\n1,2\n3,4', 2],
    ['CRLF', 'a,b\r\n1,2\r\n3,4\r\n', 2],
    ['a trailing blank line', 'a,b\n1,2\n\n', 1],
    ['quoted newlines', 'a,b\n1,"x\ny"\n2,"p ""q""\r\nr"\r\n', 2],
  ])('counts the data rows of %s', async (_label, body, rows) => {
    routes.set('/files/small.csv', (_req, res) => serve(res, Buffer.from(body)));
    const result = await copy(completed('/files/small.csv', { rowCount: undefined }));
    expect(result).toEqual({ key: KEY, bytes: Buffer.byteLength(body), rows });
    expect(await store.exists(KEY)).toBe(true);
  });

  it.each([500, 503, 429])('maps a %i download to a retryable DownloadIncompleteError', async (code) => {
    routes.set('/files/down.csv', status(code));
    expect(await rejection(copy(completed('/files/down.csv')))).toBeInstanceOf(DownloadIncompleteError);
  });

  it('rejects more than three redirects', async () => {
    for (const n of [1, 2, 3, 4])
      routes.set(`/files/r${n}.csv`, status(302, { location: `/files/r${n + 1}.csv` }));
    const err = await rejection(copy(completed('/files/r1.csv')));
    expect(err).toBeInstanceOf(DownloadUrlRejectedError);
    expect(err.message).toContain('more than 3 redirects');
    expect(requests).toHaveLength(4);
  });

  it('refuses a job that is not COMPLETED with a download URL', async () => {
    const failed: ExportJob = { id: JOB_ID, status: 'FAILED_DUE_TO_INTERNAL_ERROR' };
    expect(await rejection(copy(failed))).toBeInstanceOf(ExportJobFailedError);
    expect(await rejection(copy({ id: JOB_ID, status: 'COMPLETED' }))).toBeInstanceOf(LinkedInResponseError);
    expect(await rejection(copy({ id: JOB_ID, status: 'PROCESSING' }))).toBeInstanceOf(LinkedInResponseError);
    expect(requests).toEqual([]);
  });
});

// #17: a server could make us store or hold any size (no Content-Length, no rowCount), or send an
// encoded body that was inflated and stored unchecked. Each is refused by name; nothing at the key.
describe.each(['folder', 's3'] as const)('download bounds into %s', (kind) => {
  const MAX = 4 * 1024 * 1024;
  const bounded = parseSettings({ ...settings, maxDownloadBytes: MAX });
  let dest: Destination;
  const copy = (job: ExportJob) =>
    copyExportToStore(
      { item: ITEM, jobId: JOB_ID, key: KEY },
      { linkedin: fakeLinkedIn(job).api, store: dest.store, settings: bounded, now: () => new Date(NOW) },
    );
  beforeEach(async () => {
    dest = await destinations[kind]();
  });

  it('aborts an endless body without Content-Length past maxDownloadBytes, storing nothing', async () => {
    let sent = 0;
    routes.set('/files/endless.csv', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      const chunk = Buffer.from(`${'1,PROFILE_VIEWED,03-01-2025 10:11:12 UTC,seat,member\n'.repeat(1200)}`);
      res.write('activityId,activityType,createdAt,seatId,memberIdentityKey\n');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const err = await rejection(copy(completed('/files/endless.csv', { rowCount: undefined })));
    expect(err).toBeInstanceOf(LinkedInResponseError);
    expect(err.message).toContain(`above the ${MAX} bytes an export may hold`);
    expect(await dest.read(KEY)).toBeUndefined();
    expect(sent).toBeLessThan(64 * MAX);
  });

  it('refuses a declared Content-Length above the bound before reading the body', async () => {
    routes.set('/files/huge.csv', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(2 ** 40) });
      res.write('a,b\n');
    });
    const err = await rejection(copy(completed('/files/huge.csv')));
    expect(err).toBeInstanceOf(LinkedInResponseError);
    expect(err.message).toContain(`${2 ** 40} bytes (Content-Length)`);
    expect(await dest.read(KEY)).toBeUndefined();
  });

  it('refuses a gzip-encoded answer (we ask for identity): never stored encoded or inflated', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MAX, 0x41));
    routes.set('/files/bomb.csv', (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/csv',
        'content-encoding': 'gzip',
        'content-length': bomb.length,
      });
      res.end(bomb);
    });
    const err = await rejection(copy(completed('/files/bomb.csv')));
    expect(err).toBeInstanceOf(LinkedInResponseError);
    expect(err.message).toContain('Content-Encoding gzip although identity was asked');
    expect(await dest.read(KEY)).toBeUndefined();
  });

  it('refuses an answer with two Content-Encoding headers (which one the body is in is a guess)', async () => {
    routes.set('/files/twice.csv', (_req, res) => {
      res.setHeader('content-encoding', ['identity', 'gzip']);
      res.writeHead(200, { 'content-type': 'text/csv' }).end(CSV);
    });
    const err = await rejection(copy(completed('/files/twice.csv')));
    expect(err).toBeInstanceOf(LinkedInResponseError);
    expect(err.message).toContain('2 content-encoding headers; refused');
    expect(err.message).toContain(`${base}/files/twice.csv`);
    expect(await dest.read(KEY)).toBeUndefined();
  });

  it('refuses a redirect with two Location headers instead of picking one', async () => {
    routes.set('/files/moved.csv', (_req, res) => {
      res.setHeader('location', [`${base}/files/export.csv`, 'http://elsewhere.invalid/x.csv']);
      res.writeHead(302).end();
    });
    const err = await rejection(copy(completed('/files/moved.csv')));
    expect(err).toBeInstanceOf(LinkedInResponseError);
    expect(err.message).toContain('2 location headers; refused');
    expect(await dest.read(KEY)).toBeUndefined();
  });
});

// #13: a download that answered anything but 200 left the idle-timeout timer armed, and the CLI
// lingered for downloadIdleTimeoutMs after its work was done. Only ref'd timers keep Node alive.
describe('copyExportToStore leaves nothing that keeps the process alive', () => {
  const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it.each([
    ['a 500', () => routes.set('/files/end.csv', status(500))],
    ['a 429', () => routes.set('/files/end.csv', status(429))],
    ['a 403, twice', () => routes.set('/files/end.csv', status(403))],
    [
      'a redirect to a host that is not allowed',
      () => routes.set('/files/end.csv', status(302, { location: 'http://elsewhere.invalid/x.csv' })),
    ],
  ])('after %s', async (_label, route) => {
    const store = (await destinations.folder()).store;
    route();
    const before = refTimers();
    await rejection(
      copyExportToStore(
        { item: ITEM, jobId: JOB_ID, key: KEY },
        {
          linkedin: fakeLinkedIn(completed('/files/end.csv'), completed('/files/end.csv')).api,
          store,
          settings,
          now: () => new Date(NOW),
        },
      ),
    );
    expect(refTimers()).toBeLessThanOrEqual(before);
  });
});

// Node reads the stack of any error a socket is destroyed with; under --enable-source-maps (as the
// Lambdas run) the first stack read decodes the whole bundle's source map (about 50 MiB and 0.4 CPU
// s). undici's own ClientDestroyedError made every successful copy pay that.
describe('a successful copy formats no error stack', () => {
  it.each(['folder', 's3'] as const)(
    'into %s: the download connection closes with a frameless error',
    async (kind) => {
      const { store } = await destinations[kind]();
      const formatted: string[] = [];
      const original = Error.prepareStackTrace;
      Error.prepareStackTrace = (err, frames) => {
        if (frames.length > 0) formatted.push(`${err.name}: ${err.message}`);
        return `${err.name}: ${err.message}`;
      };
      try {
        await copyExportToStore(
          { item: ITEM, jobId: JOB_ID, key: KEY },
          {
            linkedin: fakeLinkedIn(completed('/files/activity.csv')).api,
            store,
            settings,
            now: () => new Date(NOW),
          },
        );
        // The connection is destroyed once the body's 'close' event has run.
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        Error.prepareStackTrace = original;
      }
      expect(formatted).toEqual([]);
    },
  );
});
