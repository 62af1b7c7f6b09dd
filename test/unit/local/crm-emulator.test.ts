// The emulator's CRM data validation endpoints: LinkedIn's documented answers, parts, incremental ranges, knobs.
import { afterEach, describe, expect, it } from 'vitest';
import { LinkedInClient } from '#linkedin/client';
import { CRM_CSV_HEADER, DEFAULT_CRM_INSTANCE } from '#local/emulator/crm';
import { type Emulator, type EmulatorOptions, startEmulator } from '#local/emulator/server';

const INSTANCE = DEFAULT_CRM_INSTANCE;
const ENCODED = 'urn%3Ali%3AcrmInstance%3A%28DYNAMICS%2C362a3584-0d9b-44a1-a547-25de5cd95d08%29';
const T0 = Date.UTC(2026, 10, 20, 7);
const DAY = 86_400_000;

let now = T0;
let emulator: Emulator | undefined;

async function start(options: EmulatorOptions = {}) {
  now = T0;
  emulator = await startEmulator({ now: () => now, ...options });
  const client = new LinkedInClient({ baseUrl: emulator.url, getToken: async () => emulator?.token ?? '' });
  return { em: emulator, client };
}

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function call(em: Emulator, path: string, init: RequestInit & { token?: string | null } = {}) {
  const { token = em.token, ...rest } = init;
  const headers: Record<string, string> = { 'x-restli-protocol-version': '2.0.0' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (rest.body) headers['content-type'] = 'application/json';
  return fetch(`${em.url}${path}`, { ...rest, headers });
}

const create = (em: Emulator, exportStartAt: unknown, query = `crmInstanceId=${ENCODED}`) =>
  call(em, `/crmDataValidationExportJobs?${query}`, {
    method: 'POST',
    body: JSON.stringify({ exportStartAt }),
  });

async function text(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

describe('emulator: CRM data validation create', () => {
  it("answers LinkedIn's documented 201: X-RestLi-Id and Location, no body", async () => {
    const { em } = await start();
    const res = await create(em, T0 - DAY);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-restli-id')).toBe('148');
    expect(res.headers.get('location')).toBe('/crmDataValidationExportJobs/148');
    expect(res.headers.get('x-restli-protocol-version')).toBe('2.0.0');
    expect(await res.text()).toBe('');
    expect(em.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v2/crmDataValidationExportJobs',
      status: 201,
    });
  });

  it("answers the seed spec's JSON body as well with the seedCreateBody knob", async () => {
    const { em } = await start({ crm: { knobs: { [INSTANCE]: { seedCreateBody: true } } } });
    const res = await create(em, T0 - DAY);
    expect(await res.json()).toEqual({ jobId: 148, exportStartAt: T0 - DAY, status: 'PROCESSING' });
  });

  it.each([
    ['no crmInstanceId', T0 - DAY, '', 400, /query\.crmInstanceId: is required/],
    [
      'the seed spec’s URN without a tuple',
      T0 - DAY,
      'crmInstanceId=urn%3Ali%3AcrmInstance%3Asf-instance-001',
      400,
      /must be urn:li:crmInstance:\(CRM_KEY,VALUE\)/,
    ],
    [
      'an instance of someone else',
      T0 - DAY,
      `crmInstanceId=${encodeURIComponent('urn:li:crmInstance:(SFDC,other)')}`,
      403,
      /Not enough permissions/,
    ],
    ['a string start', 'yesterday', `crmInstanceId=${ENCODED}`, 400, /body\.exportStartAt/],
    ['a start in the future', T0 + 1, `crmInstanceId=${ENCODED}`, 400, /must be in the past/],
  ])('refuses %s', async (_, exportStartAt, query, status, message) => {
    const { em } = await start();
    const res = await create(em, exportStartAt, query);
    expect(res.status).toBe(status);
    const body = (await res.json()) as { message: string; serviceErrorCode: number; status: number };
    expect(body.message).toMatch(message);
    expect(body).toMatchObject({ serviceErrorCode: status, status });
  });

  it('needs the token', async () => {
    const { em } = await start();
    const res = await call(em, `/crmDataValidationExportJobs?crmInstanceId=${ENCODED}`, {
      method: 'POST',
      token: null,
      body: '{"exportStartAt":1}',
    });
    expect(res.status).toBe(401);
  });
});

describe('emulator: CRM data validation jobs', () => {
  it('is PROCESSING, then COMPLETED with several parts whose rows are exactly the range', async () => {
    const { em, client } = await start();
    const { id } = await client.createCrmValidationJob(INSTANCE, T0 - 10 * DAY);
    expect(await client.getCrmValidationJob(id, INSTANCE)).toEqual({
      id,
      status: 'PROCESSING',
      exportStartAt: T0 - 10 * DAY,
      downloadUrls: [],
    });
    now += 300;
    const job = await client.getCrmValidationJob(id, INSTANCE);
    expect(job).toMatchObject({
      status: 'COMPLETED',
      exportStartAt: T0 - 10 * DAY,
      exportEndAt: T0,
      nextExportStartAt: T0,
      expireAt: T0 + 300 + 3_600_000,
    });
    expect(job.downloadUrls).toHaveLength(3);
    const rows: string[] = [];
    for (const url of job.downloadUrls) {
      const { status, body } = await text(url);
      expect(status).toBe(200);
      const [header, ...lines] = body.trimEnd().split('\r\n');
      expect(header).toBe(CRM_CSV_HEADER);
      rows.push(...lines);
    }
    expect(rows).toEqual(em.expectedCrmRows(INSTANCE, T0 - 10 * DAY, T0));
    expect(rows).toHaveLength(20);
  });

  it('continues at nextExportStartAt without overlap or gap, queuing one job behind the other', async () => {
    const { em, client } = await start();
    const first = await client.createCrmValidationJob(INSTANCE, T0 - 2 * DAY);
    now += 3 * 3600_000;
    const second = await client.createCrmValidationJob(INSTANCE, T0);
    const [a, b] = em.crmJobs();
    expect(a).toMatchObject({ id: first.id, exportStartAt: T0 - 2 * DAY, exportEndAt: T0 });
    expect(b).toMatchObject({ id: second.id, exportStartAt: T0, exportEndAt: T0 + 3 * 3600_000 });
    expect(em.expectedCrmRows(INSTANCE, T0 - 2 * DAY, T0 + 3 * 3600_000)).toEqual([
      ...em.expectedCrmRows(INSTANCE, T0 - 2 * DAY, T0),
      ...em.expectedCrmRows(INSTANCE, T0, T0 + 3 * 3600_000),
    ]);
  });

  it('runs one job at a time per instance: a second one is PROCESSING until the first is done, plus its own time', async () => {
    const { em, client } = await start();
    await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    const [a, b] = em.crmJobs();
    expect(b?.processingUntil).toBe((a?.processingUntil as number) + 300);
  });

  it('answers COMPLETED without downloadUrls for a range with no stale record', async () => {
    const { client } = await start();
    const { id } = await client.createCrmValidationJob(INSTANCE, T0 - 60_000);
    now += 300;
    const job = await client.getCrmValidationJob(id, INSTANCE);
    expect(job).toMatchObject({ status: 'COMPLETED', downloadUrls: [], nextExportStartAt: T0 });
  });

  it('answers 404 for a job of another instance, and for a job id older than a week', async () => {
    const { em, client } = await start({ crm: { instances: [INSTANCE, 'urn:li:crmInstance:(SFDC,00D5e)'] } });
    const { id } = await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    await expect(client.getCrmValidationJob(id, 'urn:li:crmInstance:(SFDC,00D5e)')).rejects.toThrow(
      /answered 404/,
    );
    now += 7 * DAY + 1;
    await expect(client.getCrmValidationJob(id, INSTANCE)).rejects.toThrow(/answered 404/);
    expect(em.requests.at(-1)?.status).toBe(404);
  });

  it('serves parts only to their signature, and refuses expired URLs', async () => {
    const { client } = await start({ urlTtlMs: 1000 });
    const { id } = await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    now += 300;
    const [url] = (await client.getCrmValidationJob(id, INSTANCE)).downloadUrls;
    expect((await text((url as string).replace(/sig=\w+/, 'sig=forged'))).status).toBe(403);
    now += 1000;
    expect(await text(url as string)).toEqual({
      status: 403,
      body: expect.stringContaining('Request has expired'),
    });
    const [fresh] = (await client.getCrmValidationJob(id, INSTANCE)).downloadUrls;
    expect(fresh).not.toBe(url);
    expect((await text(fresh as string)).status).toBe(200);
  });
});

describe('emulator: CRM knobs', () => {
  it('failJobs ends the next jobs FAILED_DUE_TO_INTERNAL_ERROR', async () => {
    const { em, client } = await start();
    em.setCrmScenario(INSTANCE, { failJobs: 1 });
    const failed = await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    const ok = await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    now += 1000;
    expect((await client.getCrmValidationJob(failed.id, INSTANCE)).status).toBe(
      'FAILED_DUE_TO_INTERNAL_ERROR',
    );
    expect((await client.getCrmValidationJob(ok.id, INSTANCE)).status).toBe('COMPLETED');
    expect(em.crmScenario(INSTANCE)).toEqual({ failJobs: 0 });
  });

  it('expiredUrls hands out URLs that are already expired', async () => {
    const { em, client } = await start();
    em.setCrmScenario(INSTANCE, { expiredUrls: 1 });
    const { id } = await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    now += 300;
    const [url] = (await client.getCrmValidationJob(id, INSTANCE)).downloadUrls;
    expect((await text(url as string)).status).toBe(403);
  });

  it('truncateDownloads promises the full Content-Length and resets mid-body', async () => {
    const { em, client } = await start();
    em.setCrmScenario(INSTANCE, { truncateDownloads: 1 });
    const { id } = await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    now += 300;
    const [url] = (await client.getCrmValidationJob(id, INSTANCE)).downloadUrls;
    await expect(text(url as string)).rejects.toThrow();
    expect((await text(url as string)).status).toBe(200);
  });

  it('unknownStatus, omitExportEndAt, throttle, serverError and unauthorized', async () => {
    const { em, client } = await start();
    const { id } = await client.createCrmValidationJob(INSTANCE, T0 - DAY);
    now += 300;
    em.setCrmScenario(INSTANCE, { unknownStatus: { status: 'VALIDATING', times: 1 }, omitExportEndAt: true });
    expect((await client.getCrmValidationJob(id, INSTANCE)).status).toBe('VALIDATING');
    const job = await client.getCrmValidationJob(id, INSTANCE);
    expect(job.exportEndAt).toBeUndefined();
    expect(job.nextExportStartAt).toBe(T0);
    em.setCrmScenario(INSTANCE, { throttle: { times: 1, retryAfterSeconds: 3600 } });
    await expect(client.getCrmValidationJob(id, INSTANCE)).rejects.toThrow(/answered 429/);
    em.setCrmScenario(INSTANCE, { serverError: { times: 1, status: 503 } });
    await expect(client.getCrmValidationJob(id, INSTANCE)).rejects.toThrow(/answered 503/);
    em.setCrmScenario(INSTANCE, { unauthorized: true });
    await expect(client.createCrmValidationJob(INSTANCE, T0 - DAY)).rejects.toThrow(/answered 401/);
  });
});
