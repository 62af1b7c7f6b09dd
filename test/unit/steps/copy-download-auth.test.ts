import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DownloadAuthError, DownloadUrlExpiredError } from '#common/errors';
import type { ExportItem } from '#common/model';
import { parseSettings } from '#common/settings';
import type { ExportJob, LinkedInApi } from '#linkedin/api';
import { FolderStore } from '#local/folder-store';
import { type CopyDeps, copyExportToStore } from '#steps/copy';

// A download host under LinkedIn's domain, served over TLS on 127.0.0.1 (the connection resolves the name there).
const TLS = new URL('../../support/tls/', import.meta.url);
const cert = readFileSync(new URL('linkedin-hosts.crt', TLS));
const key = readFileSync(new URL('linkedin-hosts.key', TLS));
const TOKEN = 'TOKEN-abc123';
const NOW = Date.parse('2025-03-02T08:00:00Z');
const ITEM: ExportItem = {
  contract: 'urn:li:salesContract:1',
  dataset: 'seat',
  start: '2025-03-01',
  end: '2025-03-02',
};
const CSV = Buffer.from('seatId,name\n1,a\n2,b\n');

type Route = (req: IncomingMessage, res: ServerResponse) => void;
let tls: Server;
let plain: ReturnType<typeof createHttpServer>;
let tlsPort: number;
let plainPort: number;
let routes: Map<string, Route>;
let seen: Array<{ host: string; path: string; authorization?: string }>;
let dir: string;

const toLoopback = (_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
  options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
const connect = { ca: cert, lookup: toLoopback as never };

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({ host: req.headers.host ?? '', path: url.pathname, authorization: req.headers.authorization });
  const route = routes.get(url.pathname);
  if (route) route(req, res);
  else res.writeHead(404).end();
}

beforeAll(async () => {
  tls = createServer({ key, cert }, handler).listen(0, '127.0.0.1');
  plain = createHttpServer(handler).listen(0, '127.0.0.1');
  await Promise.all([once(tls, 'listening'), once(plain, 'listening')]);
  tlsPort = (tls.address() as AddressInfo).port;
  plainPort = (plain.address() as AddressInfo).port;
});

afterAll(() => {
  for (const server of [tls, plain]) {
    server.closeAllConnections();
    server.close();
  }
});

beforeEach(async () => {
  routes = new Map();
  seen = [];
  dir = await mkdtemp(join(tmpdir(), 'copy-auth-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const linkedin = (url: string): LinkedInApi => ({
  listContracts: () => Promise.reject(new Error('not expected')),
  createExportJob: () => Promise.reject(new Error('not expected')),
  getExportJob: async (): Promise<ExportJob> => ({
    id: 7,
    status: 'COMPLETED',
    downloadUrl: url,
    expireAt: NOW + 3_600_000,
  }),
});

function copy(url: string, extra: Partial<CopyDeps> = {}) {
  const deps: CopyDeps = {
    linkedin: linkedin(url),
    store: new FolderStore(dir),
    settings: parseSettings({ allowedDownloadHosts: ['*.licdn.com:*', '*.linkedin.com', '127.0.0.1:*'] }),
    now: () => new Date(NOW),
    downloadConnect: connect,
    getToken: async () => TOKEN,
    ...extra,
  };
  return copyExportToStore({ item: ITEM, jobId: 7, key: 'seat.csv' }, deps);
}

const wantsToken: Route = (req, res) => {
  if (req.headers.authorization === `Bearer ${TOKEN}`)
    res.writeHead(200, { 'content-length': CSV.length }).end(CSV);
  else res.writeHead(401).end('unauthorized');
};

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e as Error,
  );
  expect(err.message).not.toContain(TOKEN);
  expect(err.message).not.toContain('sig=');
  return err;
}

describe('a download that answers 401 to a fresh URL', () => {
  it('is retried once with the bearer token when the host is an https LinkedIn host', async () => {
    routes.set('/dl/export.csv', wantsToken);
    const url = `https://media.licdn.com:${tlsPort}/dl/export.csv?sig=SECRET`;

    expect(await copy(url)).toMatchObject({ bytes: CSV.length, rows: 2 });
    // First URL, the re-read URL, then the same URL with the token: the token only on the last.
    expect(seen.map((r) => r.authorization)).toEqual([undefined, undefined, `Bearer ${TOKEN}`]);
  });

  it('is a DownloadAuthError naming the host when the token does not help either', async () => {
    routes.set('/dl/export.csv', (_req, res) => res.writeHead(401).end());
    const err = await failure(copy(`https://media.licdn.com:${tlsPort}/dl/export.csv?sig=SECRET`));

    expect(err).toBeInstanceOf(DownloadAuthError);
    expect(err.name).toBe('DownloadAuthError');
    expect(err.message).toContain('media.licdn.com');
    expect(seen).toHaveLength(3);
  });

  it('is a DownloadAuthError without a retry when no token is available', async () => {
    routes.set('/dl/export.csv', (_req, res) => res.writeHead(401).end());
    const err = await failure(
      copy(`https://media.licdn.com:${tlsPort}/dl/export.csv`, { getToken: undefined }),
    );
    expect(err).toBeInstanceOf(DownloadAuthError);
    expect(seen.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('never sends the token to a host outside LinkedIn’s domains, even an allow-listed one', async () => {
    routes.set('/dl/export.csv', (_req, res) => res.writeHead(401).end());
    const err = await failure(copy(`http://127.0.0.1:${plainPort}/dl/export.csv?sig=SECRET`));

    expect(err).toBeInstanceOf(DownloadUrlExpiredError);
    expect(seen).toHaveLength(2);
    expect(seen.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('does not carry the token across a redirect to an allow-listed host outside LinkedIn’s domains', async () => {
    routes.set('/dl/export.csv', (req, res) => {
      if (req.headers.authorization)
        res.writeHead(302, { location: `http://127.0.0.1:${plainPort}/files/x.csv` }).end();
      else res.writeHead(401).end();
    });
    routes.set('/files/x.csv', wantsToken);
    const err = await failure(copy(`https://media.licdn.com:${tlsPort}/dl/export.csv`));

    expect(err).toBeInstanceOf(DownloadAuthError);
    expect(seen.map((r) => [r.path, r.authorization])).toEqual([
      ['/dl/export.csv', undefined],
      ['/dl/export.csv', undefined],
      ['/dl/export.csv', `Bearer ${TOKEN}`],
      ['/files/x.csv', undefined],
    ]);
  });
});

describe('after a failed download', () => {
  it('leaves no timer armed and no socket open (the process can exit at once)', async () => {
    routes.set('/dl/gone.csv', (_req, res) => res.writeHead(410).end());
    const before = process.getActiveResourcesInfo();
    const count = (list: string[], type: string) => list.filter((r) => r === type).length;

    // The default idle timeout (60 s): a timer left armed would keep the process alive that long.
    const err = await failure(
      copy(`http://127.0.0.1:${plainPort}/dl/gone.csv`, { downloadConnect: undefined }),
    );
    expect(err).toBeInstanceOf(DownloadUrlExpiredError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(count(process.getActiveResourcesInfo(), 'Timeout')).toBeLessThanOrEqual(count(before, 'Timeout'));

    // Sockets close asynchronously (both ends of loopback are in this process): give them a moment.
    for (
      let i = 0;
      i < 50 && count(process.getActiveResourcesInfo(), 'TCPSocketWrap') > count(before, 'TCPSocketWrap');
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(count(process.getActiveResourcesInfo(), 'TCPSocketWrap')).toBeLessThanOrEqual(
      count(before, 'TCPSocketWrap'),
    );
  });
});
