import { afterEach, describe, expect, it } from 'vitest';
import { DATASETS, type Dataset, EXPORT_ACTIONS } from '#common/model';
import { CSV_HEADERS, DAY_MS, OUTCOME_TYPES } from '#local/emulator/csv';
import {
  DEFAULT_CONTRACTS,
  defaultContracts,
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from '#local/emulator/server';

const EMEA = 'urn:li:contract:1001';
const AMERICAS = 'urn:li:contract:1002';
const NO_REPORTING = 'urn:li:contract:1003';
const DAY0 = Date.UTC(2024, 4, 1);
const T0 = Date.UTC(2024, 5, 1, 8);
const TIMINGS = { queuedMs: 200, processingMs: 300 };

let now = T0;
let emulator: Emulator | undefined;

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  now = T0;
  emulator = await startEmulator({ now: () => now, jobTimings: TIMINGS, ...options });
  return emulator;
}

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function call(em: Emulator, path: string, init: RequestInit & { token?: string | null } = {}) {
  const { token = em.token, ...rest } = init;
  const headers: Record<string, string> = {
    'x-restli-protocol-version': '2.0.0',
    accept: 'application/json',
  };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (rest.body) headers['content-type'] = 'application/json';
  return fetch(`${em.url}${path}`, { ...rest, headers: { ...headers, ...(rest.headers as object) } });
}

function create(em: Emulator, dataset: Dataset, body: unknown) {
  return call(em, `/salesAnalyticsExportJobs?action=${EXPORT_ACTIONS[dataset]}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
}

async function createJob(em: Emulator, dataset: Dataset, contract = EMEA, days = 2, first = DAY0) {
  const res = await create(em, dataset, { contract, startAt: first, endAt: first + days * DAY_MS });
  expect(res.status).toBe(200);
  const { value } = (await res.json()) as { value: { id: number; status: string } };
  expect(value.status).toBe('ENQUEUED');
  return value.id;
}

interface JobBody {
  id: number;
  status: string;
  downloadUrl?: string;
  expireAt?: number;
  rowCount?: number;
}

async function getJob(em: Emulator, id: number, contract = EMEA): Promise<JobBody> {
  const res = await call(em, `/salesAnalyticsExportJobs/${id}?contract=${encodeURIComponent(contract)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as JobBody;
}

async function completedJob(em: Emulator, id: number, contract = EMEA): Promise<Required<JobBody>> {
  now += TIMINGS.queuedMs + TIMINGS.processingMs;
  const job = await getJob(em, id, contract);
  expect(job.status).toBe('COMPLETED');
  return job as Required<JobBody>;
}

/** An error answer in LinkedIn's documented shape, `{message, serviceErrorCode, status}`, and nothing else. */
async function expectError(res: Response, status: number, message?: string | RegExp) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { status: number; message: string; serviceErrorCode: number };
  expect(body).toEqual({ message: expect.any(String), serviceErrorCode: status, status });
  if (message) expect(body.message).toMatch(message);
  return body;
}

const statuses = (em: Emulator) => em.jobs().map((j) => j.status);

describe('salesContracts', () => {
  it('pages Rest.li style: count echoes the page size, the last page is short', async () => {
    const em = await start();
    const page = async (query: string) => {
      const res = await call(em, `/salesContracts?q=contractsByMember${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as { elements: { contract: string }[]; paging: unknown };
    };
    const all = await page('');
    expect(all.elements.map((c) => c.contract)).toEqual([EMEA, AMERICAS, NO_REPORTING]);
    expect(all.paging).toEqual({ count: 10, start: 0, links: [] });
    const first = await page('&start=0&count=2');
    expect(first.elements.map((c) => c.contract)).toEqual([EMEA, AMERICAS]);
    const second = await page('&start=2&count=2');
    expect(second.elements.map((c) => c.contract)).toEqual([NO_REPORTING]);
    expect(second.paging).toEqual({ count: 2, start: 2, links: [] });
    expect((await page('&start=3&count=2')).elements).toEqual([]);
  });

  it('serves configured contracts and rejects a bad finder or paging parameter', async () => {
    const em = await start({
      contracts: [{ contract: 'urn:li:salesContract:42', name: 'Solo', hasReportingAccess: true }],
    });
    const res = await call(em, '/salesContracts?q=contractsByMember');
    expect(await res.json()).toMatchObject({
      elements: [{ contract: 'urn:li:salesContract:42', name: 'Solo' }],
    });
    await expectError(await call(em, '/salesContracts'), 400);
    await expectError(await call(em, '/salesContracts?q=other'), 400);
    await expectError(await call(em, '/salesContracts?q=contractsByMember&count=-1'), 400);
  });
});

describe('contract URN forms', () => {
  it('serves LinkedIn’s documented form urn:li:contract:<id> by default', async () => {
    const em = await start();
    const res = await call(em, '/salesContracts?q=contractsByMember');
    const { elements } = (await res.json()) as { elements: { contract: string }[] };
    expect(elements.map((c) => c.contract)).toEqual([
      'urn:li:contract:1001',
      'urn:li:contract:1002',
      'urn:li:contract:1003',
    ]);
    expect(DEFAULT_CONTRACTS.map((c) => c.contract)).toEqual(elements.map((c) => c.contract));
  });

  it('serves the seed spec’s form urn:li:salesContract:<id> with contractUrns: seed, and exports under it', async () => {
    const em = await start({ contractUrns: 'seed' });
    const res = await call(em, '/salesContracts?q=contractsByMember');
    const { elements } = (await res.json()) as { elements: { contract: string }[] };
    expect(elements.map((c) => c.contract)).toEqual(defaultContracts('seed').map((c) => c.contract));
    expect(elements[0]?.contract).toBe('urn:li:salesContract:1001');
    const seedUrn = 'urn:li:salesContract:1001';
    const id = await createJob(em, 'seat', seedUrn);
    expect((await getJob(em, id, seedUrn)).status).toBe('ENQUEUED');
    // The emulator answers for the URN it serves, as LinkedIn would: the other form is another contract.
    await expectError(await create(em, 'seat', { contract: EMEA, startAt: DAY0, endAt: DAY0 + DAY_MS }), 403);
  });
});

describe('authentication and protocol', () => {
  it('answers 401 for a missing or wrong token, 400 without the Rest.li header', async () => {
    const em = await start({ token: 'the-right-token' });
    expect(em.token).toBe('the-right-token');
    const path = '/salesContracts?q=contractsByMember';
    await expectError(await call(em, path, { token: null }), 401, /^Empty oauth2_access_token$/);
    await expectError(await call(em, path, { token: 'the-wrong-token' }), 401, /^Invalid access token$/);
    await expectError(
      await call(em, path, { headers: { 'x-restli-protocol-version': '1.0.0' } }),
      400,
      /X-Restli-Protocol-Version: 2.0.0/,
    );
    expect((await call(em, path)).status).toBe(200);
  });

  it('revokeToken makes every API call 401 (token expired or revoked)', async () => {
    const em = await start();
    em.revokeToken();
    await expectError(await call(em, '/salesContracts?q=contractsByMember'), 401, /expired or was revoked/);
    await expectError(await create(em, 'seat', {}), 401, /expired or was revoked/);
  });

  it('answers 404 for unknown routes and 405 for a wrong method, and records every request', async () => {
    const em = await start();
    await expectError(await call(em, '/salesNavigatorProfileAssociations'), 404);
    await expectError(await fetch(`${em.origin}/v1/salesContracts`), 404);
    const res = await call(em, '/salesContracts?q=contractsByMember', { method: 'DELETE' });
    await expectError(res, 405);
    expect(res.headers.get('allow')).toBe('GET');
    expect(em.requests).toEqual([
      { method: 'GET', path: '/v2/salesNavigatorProfileAssociations', status: 404, at: expect.any(Number) },
      { method: 'GET', path: '/v1/salesContracts', status: 404, at: expect.any(Number) },
      { method: 'DELETE', path: '/v2/salesContracts', status: 405, at: expect.any(Number) },
    ]);
  });

  it('rejects invalid options', async () => {
    await expect(startEmulator({ rowsPerDay: -1 })).rejects.toThrow();
    await expect(startEmulator({ token: 'has space inside' })).rejects.toThrow();
  });
});

describe('creating export jobs', () => {
  const window = { contract: EMEA, startAt: DAY0, endAt: DAY0 + DAY_MS };

  it.each([
    ['an unknown action', '?action=exportEverything', window],
    ['no action', '', window],
    ['a missing field', `?action=${EXPORT_ACTIONS.seat}`, { contract: EMEA, startAt: DAY0 }],
    ['an unknown field', `?action=${EXPORT_ACTIONS.seat}`, { ...window, fields: 'all' }],
    ['a string date', `?action=${EXPORT_ACTIONS.seat}`, { ...window, startAt: '2024-05-01' }],
    [
      'a bound that is not midnight UTC',
      `?action=${EXPORT_ACTIONS.seat}`,
      { ...window, endAt: DAY0 + 3_600_000 },
    ],
    ['endAt equal to startAt', `?action=${EXPORT_ACTIONS.seat}`, { ...window, endAt: DAY0 }],
    ['endAt before startAt', `?action=${EXPORT_ACTIONS.seat}`, { ...window, endAt: DAY0 - DAY_MS }],
    ['a range over 90 days', `?action=${EXPORT_ACTIONS.seat}`, { ...window, endAt: DAY0 + 91 * DAY_MS }],
  ])('answers 400 for %s', async (_, query, body) => {
    const em = await start();
    const res = await call(em, `/salesAnalyticsExportJobs${query}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    await expectError(res, 400);
    expect(em.jobs()).toEqual([]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const em = await start();
    const res = await call(em, `/salesAnalyticsExportJobs?action=${EXPORT_ACTIONS.seat}`, {
      method: 'POST',
      body: '{"contract":',
    });
    await expectError(res, 400);
  });

  it('accepts exactly 90 days', async () => {
    const em = await start();
    await createJob(em, 'activity', EMEA, 90);
  });

  it('answers 403 for an unknown contract or one without reporting access', async () => {
    const em = await start();
    await expectError(
      await create(em, 'seat', { ...window, contract: NO_REPORTING }),
      403,
      /Not enough permissions/,
    );
    await expectError(await create(em, 'seat', { ...window, contract: 'urn:li:contract:9' }), 403);
  });
});

describe('job lifecycle', () => {
  it('moves ENQUEUED → PROCESSING → COMPLETED with the clock', async () => {
    const em = await start();
    const id = await createJob(em, 'activity');
    expect((await getJob(em, id)).status).toBe('ENQUEUED');
    now += TIMINGS.queuedMs - 1;
    expect(await getJob(em, id)).toEqual({ id, status: 'ENQUEUED' });
    now += 1;
    expect(await getJob(em, id)).toEqual({ id, status: 'PROCESSING' });
    now += TIMINGS.processingMs;
    const job = await getJob(em, id);
    expect(job).toMatchObject({ id, status: 'COMPLETED', expireAt: now + 3_600_000, rowCount: 10 });
    expect(job.downloadUrl).toMatch(
      new RegExp(
        `^${em.origin}/media/exports/${id}/activity-1001-2024-05-01_2024-05-03\\.csv\\?sig=[0-9a-f]{32}&exp=${job.expireAt}$`,
      ),
    );
  });

  it('runs at most one job per (contract, dataset), the others wait in FIFO order', async () => {
    const em = await start();
    const a1 = await createJob(em, 'activity');
    const a2 = await createJob(em, 'activity', EMEA, 1);
    const a3 = await createJob(em, 'activity', EMEA, 3);
    const seat = await createJob(em, 'seat');
    const other = await createJob(em, 'activity', AMERICAS);
    expect(em.jobs().map((j) => j.id)).toEqual([a1, a2, a3, seat, other]);

    now += TIMINGS.queuedMs;
    expect(statuses(em)).toEqual(['PROCESSING', 'ENQUEUED', 'ENQUEUED', 'PROCESSING', 'PROCESSING']);
    now += TIMINGS.processingMs;
    expect(statuses(em)).toEqual(['COMPLETED', 'PROCESSING', 'ENQUEUED', 'COMPLETED', 'COMPLETED']);
    now += TIMINGS.processingMs;
    expect(statuses(em)).toEqual(['COMPLETED', 'COMPLETED', 'PROCESSING', 'COMPLETED', 'COMPLETED']);
    expect((await getJob(em, a3)).status).toBe('PROCESSING');
    now += TIMINGS.processingMs;
    expect((await getJob(em, a3)).status).toBe('COMPLETED');

    // A job created in an idle lane only waits its own queue time.
    const a4 = await createJob(em, 'activity');
    now += TIMINGS.queuedMs;
    expect((await getJob(em, a4)).status).toBe('PROCESSING');
  });

  it('answers 404 for an unknown job or the wrong contract, 400 without a contract', async () => {
    const em = await start();
    const id = await createJob(em, 'seat');
    const path = (jobId: unknown, contract: string) =>
      `/salesAnalyticsExportJobs/${jobId}?contract=${encodeURIComponent(contract)}`;
    await expectError(await call(em, path(id + 1, EMEA)), 404);
    await expectError(await call(em, path(id, AMERICAS)), 404);
    await expectError(await call(em, `/salesAnalyticsExportJobs/${id}`), 400);
    await expectError(await call(em, path('abc', EMEA)), 400);
  });
});

describe('downloads', () => {
  it('serves the expected bytes with Content-Length, and rowCount counts data rows', async () => {
    const em = await start({ rowsPerDay: 3000 });
    const job = await completedJob(em, await createJob(em, 'activity', EMEA, 3));
    const res = await fetch(job.downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const body = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    expect(body.equals(em.expectedCsv(EMEA, 'activity', DAY0, DAY0 + 3 * DAY_MS))).toBe(true);
    const lines = body.toString('utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.length - 2).toBe(job.rowCount);
    expect(job.rowCount).toBe(9000);
    expect(em.requests.at(-1)).toEqual({
      method: 'GET',
      path: new URL(job.downloadUrl).pathname,
      status: 200,
      at: expect.any(Number),
    });
  });

  it('answers 403 for an expired URL; re-reading the job gives a fresh URL to the same file', async () => {
    const em = await start({ urlTtlMs: 60_000 });
    const id = await createJob(em, 'seat');
    const first = await completedJob(em, id);
    expect(first.expireAt).toBe(now + 60_000);
    expect((await getJob(em, id)).downloadUrl).toBe(first.downloadUrl);
    now = first.expireAt;
    await expectError(await fetch(first.downloadUrl), 403);
    const fresh = await getJob(em, id);
    expect(fresh.expireAt).toBe(now + 60_000);
    expect(fresh.downloadUrl).not.toBe(first.downloadUrl);
    expect(new URL(fresh.downloadUrl as string).pathname).toBe(new URL(first.downloadUrl).pathname);
    const res = await fetch(fresh.downloadUrl as string);
    expect(
      Buffer.from(await res.arrayBuffer()).equals(em.expectedCsv(EMEA, 'seat', DAY0, DAY0 + 2 * DAY_MS)),
    ).toBe(true);
  });

  it('answers 403 for a forged signature or expiry', async () => {
    const em = await start();
    const url = new URL((await completedJob(em, await createJob(em, 'seat'))).downloadUrl);
    const forged = (param: string, value: string) => {
      const copy = new URL(url);
      copy.searchParams.set(param, value);
      return fetch(copy);
    };
    await expectError(await forged('sig', '0'.repeat(32)), 403);
    await expectError(await forged('exp', String(Number(url.searchParams.get('exp')) + 1)), 403);
    await expectError(await fetch(`${url.origin}${url.pathname}`), 403);
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('CSV files', () => {
  const end = DAY0 + 2 * DAY_MS;

  it.each(DATASETS)('%s: header, rowsPerDay rows per day, deterministic', async (dataset) => {
    const em = await start({ rowsPerDay: 7 });
    const csv = em.expectedCsv(EMEA, dataset, DAY0, end).toString('utf8');
    const [header, ...rows] = csv.trimEnd().split('\n');
    expect(header?.split(',')).toEqual(CSV_HEADERS[dataset]);
    expect(rows).toHaveLength(14);
    expect(rows.every((r) => r.split(',').length === CSV_HEADERS[dataset].length)).toBe(true);
    expect(csv).not.toContain('\r');
    expect(em.expectedCsv(EMEA, dataset, DAY0, end).toString('utf8')).toBe(csv);
    expect(em.expectedCsv(AMERICAS, dataset, DAY0, end).toString('utf8')).not.toBe(csv);
  });

  it('activity rows use LinkedIn types and timestamps inside the window, in time order', async () => {
    const em = await start({ rowsPerDay: 50 });
    const rows = em.expectedCsv(EMEA, 'activity', DAY0, end).toString('utf8').trimEnd().split('\n').slice(1);
    const types = new Set(rows.map((r) => r.split(',')[1]));
    expect(
      [...types].every((t) =>
        /^(SAVED_LEAD|SAVED_ACCOUNT|SEARCH_PERFORMED|PROFILE_VIEWED|INMAIL_SENT|MESSAGE_SENT|CONNECTION_MADE)$/.test(
          t ?? '',
        ),
      ),
    ).toBe(true);
    const times = rows.map((r) => {
      const m = /^(\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)$/.exec(r.split(',')[2] ?? '');
      expect(m).not.toBeNull();
      const [, mo, d, y, h, mi, s] = (m as RegExpExecArray).map(Number);
      return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
    });
    expect(times.every((t) => t >= DAY0 && t < end)).toBe(true);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(rows.map((r) => r.split(',')[0])).size).toBe(rows.length);
  });

  it('a window is the concatenation of its days, so split halves hold the rows of the whole', async () => {
    const em = await start();
    const whole = em.expectedCsv(EMEA, 'activityOutcome', DAY0, DAY0 + 4 * DAY_MS).toString('utf8');
    const half = (s: number, e: number) => em.expectedCsv(EMEA, 'activityOutcome', s, e).toString('utf8');
    const [header, ...firstRows] = half(DAY0, DAY0 + 2 * DAY_MS).split('\n');
    const secondRows = half(DAY0 + 2 * DAY_MS, DAY0 + 4 * DAY_MS)
      .split('\n')
      .slice(1);
    expect([header, ...firstRows.slice(0, -1), ...secondRows].join('\n')).toBe(whole);
  });

  it('outcome rows are the outcomes of the same day’s activities, their activityType an outcome type', async () => {
    const em = await start();
    const rows = (dataset: Dataset) =>
      em
        .expectedCsv(EMEA, dataset, DAY0, end)
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((r) => r.split(','));
    const activity = rows('activity');
    const outcome = rows('activityOutcome');
    expect(outcome.map((r) => r[0])).toEqual(activity.map((r) => r[0]));
    expect(outcome.map((r) => r[3])).toEqual(activity.map((r) => r[3]));
    expect(outcome.every((r) => (OUTCOME_TYPES as readonly string[]).includes(r[1] ?? ''))).toBe(true);
  });

  it('memberIdentityKey is empty exactly for activities not about a lead (SAVED_ACCOUNT, SEARCH_PERFORMED)', async () => {
    const em = await start({ rowsPerDay: 200 });
    const rows = em.expectedCsv(EMEA, 'activity', DAY0, end).toString('utf8').trimEnd().split('\n').slice(1);
    const byLead = rows.map((r) => r.split(',')).map(([, type, , , lead]) => [type, lead] as const);
    const withoutLead = byLead.filter(([type]) => type === 'SAVED_ACCOUNT' || type === 'SEARCH_PERFORMED');
    expect(withoutLead.length).toBeGreaterThan(0);
    expect(withoutLead.every(([, lead]) => lead === '')).toBe(true);
    const aboutLead = byLead.filter(([type]) => type !== 'SAVED_ACCOUNT' && type !== 'SEARCH_PERFORMED');
    expect(aboutLead.every(([, lead]) => /^[0-9a-f]{16}$/.test(lead ?? ''))).toBe(true);
  });

  it('seat rows follow the seat schema: seat holder, status, SSI (empty when inactive), connections, MM-DD-YYYY day', async () => {
    const em = await start({ rowsPerDay: 60 });
    const [header, ...rows] = em.expectedCsv(EMEA, 'seat', DAY0, end).toString('utf8').trimEnd().split('\n');
    expect(header).toBe('seatId,seatHolderName,seatStatus,socialSellingIndex,totalConnections,reportDate');
    const fields = rows.map((r) => r.split(','));
    expect(fields.every(([id]) => /^\d+$/.test(id ?? ''))).toBe(true);
    expect(fields.every(([, , status, ssi]) => (status === 'ACTIVE' ? Number(ssi) > 0 : ssi === ''))).toBe(
      true,
    );
    expect(fields.some(([, , status]) => status === 'INACTIVE')).toBe(true);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10).split('-');
    const [y, m, d] = day(DAY0);
    expect(fields.slice(0, 60).every((r) => r[5] === `${m}-${d}-${y}`)).toBe(true);
  });
});

describe('scenario knobs', () => {
  it('throttle: 429 with Retry-After on create and get, then normal service', async () => {
    const em = await start();
    em.setScenario(EMEA, 'activity', { throttle: { times: 2, retryAfterSeconds: 7 } });
    const body = { contract: EMEA, startAt: DAY0, endAt: DAY0 + DAY_MS };
    const res = await create(em, 'activity', body);
    await expectError(res, 429, /throttle limit/);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(em.scenario(EMEA, 'activity').throttle?.times).toBe(1);
    await createJob(em, 'seat'); // another lane is not throttled
    await expectError(await create(em, 'activity', body), 429);
    const id = await createJob(em, 'activity');
    em.setScenario(EMEA, 'activity', { throttle: { times: 1, retryAfterSeconds: 1 } });
    const get = await call(em, `/salesAnalyticsExportJobs/${id}?contract=${encodeURIComponent(EMEA)}`);
    await expectError(get, 429);
    expect((await getJob(em, id)).status).toBe('ENQUEUED');
  });

  it('serverError: the configured 5xx, default 500', async () => {
    const em = await start({ scenarios: { [EMEA]: { seat: { serverError: { times: 1, status: 503 } } } } });
    await expectError(await create(em, 'seat', { contract: EMEA, startAt: DAY0, endAt: DAY0 + DAY_MS }), 503);
    const id = await createJob(em, 'seat');
    em.setScenario(EMEA, 'seat', { serverError: { times: 1 } });
    await expectError(
      await call(em, `/salesAnalyticsExportJobs/${id}?contract=${encodeURIComponent(EMEA)}`),
      500,
    );
    expect(em.scenario(EMEA, 'seat')).toEqual({ serverError: { times: 0, status: 500 } });
  });

  it.each(['FAILED_DUE_TO_DATA_DELAY', 'FAILED_DUE_TO_TIMED_OUT', 'FAILED_DUE_TO_INTERNAL_ERROR'] as const)(
    'failJob: the next jobs end %s, later ones complete',
    async (status) => {
      const em = await start();
      em.setScenario(EMEA, 'activity', { failJob: { status, times: 2 } });
      const ids = [
        await createJob(em, 'activity'),
        await createJob(em, 'activity'),
        await createJob(em, 'activity'),
      ];
      now += TIMINGS.queuedMs + 3 * TIMINGS.processingMs;
      const jobs = await Promise.all(ids.map((id) => getJob(em, id)));
      expect(jobs).toEqual([
        { id: ids[0], status },
        { id: ids[1], status },
        expect.objectContaining({ id: ids[2], status: 'COMPLETED' }),
      ]);
    },
  );

  it('maxDaysPerFile: longer windows fail with EXCEEDED_FILE_SIZE', async () => {
    const em = await start({ scenarios: { [EMEA]: { activity: { maxDaysPerFile: 2 } } } });
    const big = await createJob(em, 'activity', EMEA, 3);
    const small = await createJob(em, 'activity', EMEA, 2);
    now += TIMINGS.queuedMs + 2 * TIMINGS.processingMs;
    expect((await getJob(em, big)).status).toBe('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR');
    expect((await getJob(em, small)).status).toBe('COMPLETED');
  });

  it('expiredUrls: the first URL is already expired, the next read gives a working one', async () => {
    const em = await start({ scenarios: { [EMEA]: { seat: { expiredUrls: 1 } } } });
    const id = await createJob(em, 'seat');
    const first = await completedJob(em, id);
    expect(first.expireAt).toBeLessThan(now);
    await expectError(await fetch(first.downloadUrl), 403);
    const second = await getJob(em, id);
    expect(second.expireAt).toBe(now + 3_600_000);
    expect((await fetch(second.downloadUrl as string)).status).toBe(200);
  });

  it('truncateDownloads: Content-Length is sent, the body stops early, the connection is reset', async () => {
    const em = await start({
      rowsPerDay: 2000,
      scenarios: { [EMEA]: { activity: { truncateDownloads: 1 } } },
    });
    const job = await completedJob(em, await createJob(em, 'activity'));
    const size = em.expectedCsv(EMEA, 'activity', DAY0, DAY0 + 2 * DAY_MS).length;
    const res = await fetch(job.downloadUrl);
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(size);
    let received = 0;
    const drain = async () => {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) received += chunk.length;
    };
    await expect(drain()).rejects.toThrow();
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(size);
    const again = await fetch(job.downloadUrl);
    expect((await again.arrayBuffer()).byteLength).toBe(size);
  });

  it('malformedJson: the job read answers 200 with a body that is not JSON', async () => {
    const em = await start({ scenarios: { [EMEA]: { seat: { malformedJson: 1 } } } });
    const id = await createJob(em, 'seat');
    const res = await call(em, `/salesAnalyticsExportJobs/${id}?contract=${encodeURIComponent(EMEA)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    await expect(res.json()).rejects.toThrow(SyntaxError);
    expect((await getJob(em, id)).status).toBe('ENQUEUED');
  });

  it('unauthorized: every call of that lane answers 401, other lanes work', async () => {
    const em = await start();
    const id = await createJob(em, 'activity');
    em.setScenario(EMEA, 'activity', { unauthorized: true });
    await expectError(
      await call(em, `/salesAnalyticsExportJobs/${id}?contract=${encodeURIComponent(EMEA)}`),
      401,
    );
    await expectError(
      await create(em, 'activity', { contract: EMEA, startAt: DAY0, endAt: DAY0 + DAY_MS }),
      401,
    );
    await createJob(em, 'activity', AMERICAS);
    em.setScenario(EMEA, 'activity', {});
    expect((await getJob(em, id)).status).toBe('ENQUEUED');
  });

  it('emptyExport: a COMPLETED job answers rowCount 0 and no downloadUrl; other lanes serve files', async () => {
    const em = await start({ scenarios: { [EMEA]: { activity: { emptyExport: true } } } });
    const empty = await createJob(em, 'activity');
    const full = await createJob(em, 'seat');
    now += TIMINGS.queuedMs + TIMINGS.processingMs;
    expect(await getJob(em, empty)).toEqual({ id: empty, status: 'COMPLETED', rowCount: 0 });
    expect(await getJob(em, full)).toMatchObject({ status: 'COMPLETED', downloadUrl: expect.any(String) });
  });

  it('completedWithoutUrl: the next reads of a COMPLETED job carry its rowCount but no downloadUrl', async () => {
    const em = await start({ rowsPerDay: 3, scenarios: { [EMEA]: { seat: { completedWithoutUrl: 2 } } } });
    const id = await createJob(em, 'seat');
    expect((await getJob(em, id)).status).toBe('ENQUEUED'); // a counter only fires on COMPLETED reads
    now += TIMINGS.queuedMs + TIMINGS.processingMs;
    expect(await getJob(em, id)).toEqual({ id, status: 'COMPLETED', rowCount: 6 });
    expect(await getJob(em, id)).toEqual({ id, status: 'COMPLETED', rowCount: 6 });
    expect(await getJob(em, id)).toMatchObject({ status: 'COMPLETED', downloadUrl: expect.any(String) });
    expect(em.scenario(EMEA, 'seat')).toEqual({ completedWithoutUrl: 0 });
  });

  it('unknownStatus: the next reads answer a status LinkedIn does not document, then the real one', async () => {
    const em = await start({
      scenarios: { [EMEA]: { seat: { unknownStatus: { status: 'ARCHIVED', times: 2 } } } },
    });
    const id = await createJob(em, 'seat');
    expect(await getJob(em, id)).toEqual({ id, status: 'ARCHIVED' });
    expect(await getJob(em, id)).toEqual({ id, status: 'ARCHIVED' });
    expect(await getJob(em, id)).toEqual({ id, status: 'ENQUEUED' });
    expect(() => em.setScenario(EMEA, 'seat', { unknownStatus: { status: 'COMPLETED', times: 1 } })).toThrow(
      /documented/,
    );
  });

  it('rejects malformed knobs', async () => {
    const em = await start();
    expect(() => em.setScenario(EMEA, 'seat', { expiredUrls: -1 })).toThrow();
    expect(() => em.setScenario(EMEA, 'seat', { throttle: { times: 1 } } as never)).toThrow();
  });
});
