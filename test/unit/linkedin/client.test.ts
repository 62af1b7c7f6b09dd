import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  LinkedInAuthError,
  LinkedInForbiddenError,
  LinkedInRequestError,
  LinkedInResponseError,
  LinkedInThrottledError,
  LinkedInTransientError,
} from '#common/errors';
import { LinkedInClient, type LinkedInClientOptions, MAX_CONTRACT_PAGES } from '#linkedin/client';

const TOKEN = 'AQX-secret-token-do-not-leak';
const CONTRACT = 'urn:li:contract:123456';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON, strings as they are; `hang` never answers. */
  body?: unknown;
  hang?: true;
}

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A real HTTP server on 127.0.0.1 that records every request and answers with `reply(request, index)`. */
async function serve(reply: (req: Recorded, index: number) => Reply) {
  const requests: Recorded[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      const r = reply(recorded, requests.length - 1);
      if (r.hang) return;
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers }).end(text);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v2`, requests };
}

function client(baseUrl: string, options: Partial<LinkedInClientOptions> = {}) {
  const sleep = vi.fn((_ms: number) => Promise.resolve());
  return {
    sleep,
    api: new LinkedInClient({ baseUrl, getToken: () => Promise.resolve(TOKEN), sleep, ...options }),
  };
}

const contract = (n: number) => ({
  contract: `urn:li:contract:${n}`,
  name: `C${n}`,
  hasReportingAccess: true,
});
const JOB = { id: 42, status: 'COMPLETED', downloadUrl: 'https://media.licdn.com/x.csv?sig=1', rowCount: 7 };

describe('LinkedInClient requests', () => {
  it('sends the bearer token and Rest.li headers, and JSON only on POST', async () => {
    const { baseUrl, requests } = await serve((req) =>
      req.method === 'POST' ? { body: { value: { id: 7, status: 'ENQUEUED' } } } : { body: JOB },
    );
    const { api } = client(baseUrl);

    await expect(
      api.createExportJob('activity', CONTRACT, 1_700_000_000_000, 1_700_086_400_000),
    ).resolves.toEqual({
      id: 7,
      status: 'ENQUEUED',
    });
    await api.getExportJob(42, CONTRACT);

    const [post, get] = requests;
    for (const req of [post, get]) {
      expect(req?.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(req?.headers['x-restli-protocol-version']).toBe('2.0.0');
      expect(req?.headers.accept).toBe('application/json');
    }
    expect(post?.method).toBe('POST');
    expect(post?.url).toBe('/v2/salesAnalyticsExportJobs?action=exportActivityData');
    expect(post?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(post?.body ?? '')).toEqual({
      contract: CONTRACT,
      startAt: 1_700_000_000_000,
      endAt: 1_700_086_400_000,
    });
    expect(get?.headers['content-type']).toBeUndefined();
  });

  it.each([
    ['seat', 'exportSeatData'],
    ['activity', 'exportActivityData'],
    ['activityOutcome', 'exportActivityOutcomeData'],
  ] as const)('creates a %s export with action=%s', async (dataset, action) => {
    const { baseUrl, requests } = await serve(() => ({ body: { value: { id: 1, status: 'ENQUEUED' } } }));
    await client(baseUrl).api.createExportJob(dataset, CONTRACT, 0, 86_400_000);
    expect(requests[0]?.url).toBe(`/v2/salesAnalyticsExportJobs?action=${action}`);
  });

  it('URL-encodes the contract URN and drops null fields of a job', async () => {
    const { baseUrl, requests } = await serve(() => ({
      body: { id: 42, status: 'PROCESSING', downloadUrl: null, expireAt: null, rowCount: null },
    }));
    await expect(client(baseUrl).api.getExportJob(42, CONTRACT)).resolves.toEqual({
      id: 42,
      status: 'PROCESSING',
    });
    expect(requests[0]?.url).toBe('/v2/salesAnalyticsExportJobs/42?contract=urn%3Ali%3Acontract%3A123456');
  });

  it.each([
    ['seconds (seed spec example)', 1_640_200_000, 1_640_200_000_000],
    ['milliseconds (LinkedIn docs)', 1_640_200_000_123, 1_640_200_000_123],
  ])('normalises expireAt given in %s to epoch ms', async (_, expireAt, expected) => {
    const { baseUrl } = await serve(() => ({ body: { ...JOB, expireAt } }));
    await expect(client(baseUrl).api.getExportJob(42, CONTRACT)).resolves.toEqual({
      ...JOB,
      expireAt: expected,
    });
  });
});

describe('LinkedInClient.listContracts paging', () => {
  const ALL = [1, 2, 3, 4, 5].map(contract);
  const startOf = (req: Recorded) => Number(new URL(req.url, 'http://x').searchParams.get('start'));

  it('follows full pages until a short one', async () => {
    const { baseUrl, requests } = await serve((req) => {
      const start = startOf(req);
      return { body: { elements: ALL.slice(start, start + 2), paging: { start, count: 2, links: [] } } };
    });
    await expect(client(baseUrl, { pageSize: 2 }).api.listContracts()).resolves.toEqual(ALL);
    expect(requests.map((r) => r.url)).toEqual([
      '/v2/salesContracts?q=contractsByMember&start=0&count=2',
      '/v2/salesContracts?q=contractsByMember&start=2&count=2',
      '/v2/salesContracts?q=contractsByMember&start=4&count=2',
    ]);
  });

  it.each([
    ['string links (seed spec)', (next: string) => next],
    ['Rest.li link objects', (next: string) => ({ rel: 'next', href: next, type: 'application/json' })],
  ])('follows short pages that carry a next link: %s', async (_, link) => {
    const { baseUrl, requests } = await serve((req) => {
      const start = startOf(req);
      const elements = ALL.slice(start, start + 2);
      const next = `/v2/salesContracts?q=contractsByMember&start=${start + 2}&count=10`;
      const links = start + 2 < ALL.length ? [link(next)] : [];
      return { body: { elements, paging: { start, count: 10, links } } };
    });
    await expect(client(baseUrl, { pageSize: 10 }).api.listContracts()).resolves.toEqual(ALL);
    expect(requests.map(startOf)).toEqual([0, 2, 4]);
  });

  it('ignores a previous-page link and stops on an empty page after a full one', async () => {
    const { baseUrl, requests } = await serve((req) => {
      const start = startOf(req);
      const prev = { rel: 'prev', href: '/v2/salesContracts?start=0', type: 'application/json' };
      return { body: { elements: ALL.slice(start, start + 5), paging: { start, count: 5, links: [prev] } } };
    });
    await expect(client(baseUrl, { pageSize: 5 }).api.listContracts()).resolves.toEqual(ALL);
    expect(requests.map(startOf)).toEqual([0, 5]);
  });

  it('gives up on a server that never stops paging', async () => {
    const { baseUrl, requests } = await serve((req) => ({
      body: { elements: [contract(startOf(req))], paging: { count: 1 } },
    }));
    await expect(client(baseUrl, { pageSize: 1 }).api.listContracts()).rejects.toThrow(LinkedInResponseError);
    expect(requests).toHaveLength(MAX_CONTRACT_PAGES);
  });
});

describe('LinkedInClient errors', () => {
  const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

  it.each([
    [401, LinkedInAuthError, /expired or revoked.*60 days/],
    [403, LinkedInForbiddenError, /403: Not enough permissions/],
    [404, LinkedInRequestError, /GET \/v2\/salesAnalyticsExportJobs\/42: LinkedIn answered 404: Not enough/],
    [400, LinkedInRequestError, /answered 400/],
    [500, LinkedInTransientError, /answered 500/],
    [503, LinkedInTransientError, /answered 503/],
  ])('maps %i to %s', async (status, type, message) => {
    const { baseUrl } = await serve(() => ({
      status,
      body: { status, message: 'Not enough permissions', code: 'X' },
    }));
    const err = await client(baseUrl)
      .api.getExportJob(42, CONTRACT)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain(TOKEN);
    if (err instanceof LinkedInRequestError) expect(err.status).toBe(status);
  });

  it.each([
    ['delta-seconds', '3', 3000],
    ['an HTTP-date', new Date(NOW + 7000).toUTCString(), 7000],
  ])('waits out a 429 with Retry-After as %s, then succeeds', async (_, retryAfter, waitedMs) => {
    const { baseUrl, requests } = await serve((_req, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': retryAfter } } : { body: JOB },
    );
    const { api, sleep } = client(baseUrl, { now: () => NOW });
    await expect(api.getExportJob(42, CONTRACT)).resolves.toEqual(JOB);
    expect(sleep.mock.calls).toEqual([[waitedMs]]);
    expect(requests).toHaveLength(2);
  });

  it('hands a Retry-After longer than the in-process limit to the caller without waiting', async () => {
    const { baseUrl, requests } = await serve(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const { api, sleep } = client(baseUrl, { maxRetryAfterSeconds: 20 });
    const err = await api.getExportJob(42, CONTRACT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInThrottledError);
    expect((err as LinkedInThrottledError).retryAfterSeconds).toBe(3600);
    expect(sleep).not.toHaveBeenCalled();
    expect(requests).toHaveLength(1);
  });

  it('stops after maxThrottleRetries, and throws without Retry-After', async () => {
    const { baseUrl, requests } = await serve(() => ({ status: 429, headers: { 'retry-after': '1' } }));
    const { api, sleep } = client(baseUrl, { maxThrottleRetries: 2 });
    await expect(api.listContracts()).rejects.toMatchObject({
      name: 'LinkedInThrottledError',
      retryAfterSeconds: 1,
    });
    expect(requests).toHaveLength(3);
    expect(sleep).toHaveBeenCalledTimes(2);

    const bare = await serve(() => ({ status: 429 }));
    const err = await client(bare.baseUrl)
      .api.listContracts()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInThrottledError);
    expect((err as LinkedInThrottledError).retryAfterSeconds).toBeUndefined();
  });

  it('maps a refused connection and a timeout to LinkedInTransientError without the token', async () => {
    const { baseUrl } = await serve(() => ({ hang: true }));
    const timedOut = await client(baseUrl, { requestTimeoutMs: 50 })
      .api.getExportJob(42, CONTRACT)
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(LinkedInTransientError);
    expect((timedOut as Error).message).toMatch(/no answer within 50 ms/);

    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const refused = await client(baseUrl)
      .api.getExportJob(42, CONTRACT)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LinkedInTransientError);
    expect((refused as Error).message).toMatch(/network error \(ECONNREFUSED\)/);
    for (const err of [timedOut, refused]) expect(JSON.stringify(err) + String(err)).not.toContain(TOKEN);
  });

  it('does not follow a redirect (the token would go with it)', async () => {
    const { baseUrl, requests } = await serve(() => ({
      status: 302,
      headers: { location: 'http://127.0.0.1:1/' },
    }));
    await expect(client(baseUrl).api.listContracts()).rejects.toThrow(LinkedInResponseError);
    expect(requests).toHaveLength(1);
  });
});

describe('LinkedInClient response validation', () => {
  const SENTINEL = 'member-data-sentinel';

  it.each([
    [
      'malformed JSON',
      `{"id": 42, "status": "${SENTINEL}"`,
      /GET \/v2\/salesAnalyticsExportJobs\/42: .*not valid JSON/,
    ],
    [
      'a status that is not a status name',
      { id: 42, status: `${SENTINEL} <b>` },
      /unexpected response: status:/,
    ],
    [
      'an id given as a string',
      { id: '42', status: 'COMPLETED', downloadUrl: SENTINEL },
      /unexpected response: id:/,
    ],
  ])('rejects %s with LinkedInResponseError naming the field, not the body', async (_, body, message) => {
    const { baseUrl } = await serve(() => ({ body }));
    const err = await client(baseUrl)
      .api.getExportJob(42, CONTRACT)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInResponseError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain(SENTINEL);
  });

  it('names the failing path inside a contracts page and a create response', async () => {
    const { baseUrl } = await serve((req) =>
      req.method === 'POST'
        ? { body: { id: 1, status: 'ENQUEUED' } }
        : { body: { elements: [contract(1), { contract: CONTRACT, name: 'x' }] } },
    );
    const { api } = client(baseUrl);
    await expect(api.listContracts()).rejects.toThrow(
      /GET \/v2\/salesContracts: unexpected response: elements\.1\.hasReportingAccess/,
    );
    await expect(api.createExportJob('seat', CONTRACT, 0, 1)).rejects.toThrow(/unexpected response: value:/);
  });
});
