// LinkedInClient's CRM data validation calls against a real local HTTP server: LinkedIn's documented answers and the seed spec's.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  LinkedInAuthError,
  LinkedInForbiddenError,
  LinkedInRequestError,
  LinkedInResponseError,
} from '#common/errors';
import { LinkedInClient } from '#linkedin/client';

const TOKEN = 'AQX-secret-token-do-not-leak';
/** LinkedIn's documented sample instance and its documented encoding (API reference, create sample). */
const INSTANCE = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';
const ENCODED = 'urn%3Ali%3AcrmInstance%3A%28DYNAMICS%2C362a3584-0d9b-44a1-a547-25de5cd95d08%29';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as it is (`''` is no body); objects as JSON. */
  body?: unknown;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(reply: (req: Recorded) => Reply) {
  const requests: Recorded[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      const r = reply(recorded);
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
      res.writeHead(r.status ?? 200, r.headers).end(text);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const api = new LinkedInClient({
    baseUrl: `http://127.0.0.1:${port}/v2`,
    getToken: () => Promise.resolve(TOKEN),
    sleep: () => Promise.resolve(),
  });
  return { api, requests };
}

/** LinkedIn's documented create answer (API reference sample): 201, id in the headers, no body. */
const DOCUMENTED_CREATED: Reply = {
  status: 201,
  headers: {
    Location: '/crmDataValidationExportJobs/148',
    'X-RestLi-Id': '148',
    'X-RestLi-Protocol-Version': '2.0.0',
  },
  body: '',
};

describe('LinkedInClient.createCrmValidationJob', () => {
  it('sends the documented request and reads the id from X-RestLi-Id when there is no body', async () => {
    const { api, requests } = await serve(() => DOCUMENTED_CREATED);
    await expect(api.createCrmValidationJob(INSTANCE, 1_539_027_618_223)).resolves.toEqual({ id: 148 });
    const [post] = requests;
    expect(post?.method).toBe('POST');
    expect(post?.url).toBe(`/v2/crmDataValidationExportJobs?crmInstanceId=${ENCODED}`);
    expect(post?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(post?.headers['x-restli-protocol-version']).toBe('2.0.0');
    expect(post?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(post?.body ?? '')).toEqual({ exportStartAt: 1_539_027_618_223 });
  });

  it("accepts the seed spec's 201 with a JSON body and no header", async () => {
    const { api } = await serve(() => ({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: { jobId: 123456789, exportStartAt: 1640000000000, status: 'PROCESSING' },
    }));
    await expect(api.createCrmValidationJob(INSTANCE, 1640000000000)).resolves.toEqual({ id: 123456789 });
  });

  it('falls back to the Location header', async () => {
    const { api } = await serve(() => ({
      status: 201,
      headers: { Location: 'https://api.linkedin.com/v2/crmDataValidationExportJobs/77' },
      body: '',
    }));
    await expect(api.createCrmValidationJob(INSTANCE, 0)).resolves.toEqual({ id: 77 });
  });

  it('accepts header and body when they agree, and refuses them when they do not', async () => {
    let body = { jobId: 148 };
    const { api } = await serve(() => ({ ...DOCUMENTED_CREATED, body }));
    await expect(api.createCrmValidationJob(INSTANCE, 0)).resolves.toEqual({ id: 148 });
    body = { jobId: 149 };
    await expect(api.createCrmValidationJob(INSTANCE, 0)).rejects.toThrow(
      /job ids disagree \(X-RestLi-Id 148, Location 148, body jobId 149\)/,
    );
  });

  it.each([
    ['no id anywhere', { status: 201, body: '' }],
    ['a non-numeric X-RestLi-Id', { status: 201, headers: { 'X-RestLi-Id': 'abc' }, body: '' }],
    ['an unsafe integer', { status: 201, headers: { 'X-RestLi-Id': '9999999999999999' }, body: '' }],
  ])('refuses an answer with %s as a LinkedInResponseError', async (_, reply) => {
    const { api } = await serve(() => reply as Reply);
    const err = await api.createCrmValidationJob(INSTANCE, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInResponseError);
    expect((err as Error).message).toMatch(/without a usable job id/);
  });

  it('refuses a body that is not JSON', async () => {
    const { api } = await serve(() => ({ status: 201, headers: { 'X-RestLi-Id': '1' }, body: '<html>' }));
    await expect(api.createCrmValidationJob(INSTANCE, 0)).rejects.toThrow(LinkedInResponseError);
  });

  it.each([
    [401, LinkedInAuthError],
    [403, LinkedInForbiddenError],
    [404, LinkedInRequestError],
  ])('names a %i with its error class and LinkedIn’s message', async (status, type) => {
    const { api } = await serve(() => ({
      status,
      body: { message: 'CRM instance not found', serviceErrorCode: status, status },
    }));
    const err = await api.createCrmValidationJob(INSTANCE, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toContain(
      `POST /v2/crmDataValidationExportJobs: LinkedIn answered ${status}`,
    );
    expect((err as Error).message).toContain('CRM instance not found');
    expect((err as Error).message).not.toContain(TOKEN);
  });
});

describe('LinkedInClient.getCrmValidationJob', () => {
  it("reads the seed spec's completed job: several parts, nextExportStartAt, expireAt in ms", async () => {
    const { api, requests } = await serve(() => ({
      body: {
        jobId: 148,
        exportStartAt: 1640000000000,
        exportEndAt: 1640001000000,
        status: 'COMPLETED',
        downloadUrls: [
          'https://media.licdn.com/crm-validation/export_1.csv',
          'https://media.licdn.com/crm-validation/export_2.csv',
        ],
        nextExportStartAt: 1640001000000,
        expireAt: 1640100000000,
      },
    }));
    await expect(api.getCrmValidationJob(148, INSTANCE)).resolves.toEqual({
      id: 148,
      status: 'COMPLETED',
      exportStartAt: 1640000000000,
      exportEndAt: 1640001000000,
      downloadUrls: [
        'https://media.licdn.com/crm-validation/export_1.csv',
        'https://media.licdn.com/crm-validation/export_2.csv',
      ],
      nextExportStartAt: 1640001000000,
      expireAt: 1640100000000,
    });
    expect(requests[0]?.url).toBe(`/v2/crmDataValidationExportJobs/148?crmInstanceId=${ENCODED}`);
    expect(requests[0]?.method).toBe('GET');
  });

  it('reads a PROCESSING job with null fields and without jobId; expireAt in seconds becomes ms', async () => {
    const { api } = await serve(() => ({
      body: {
        status: 'PROCESSING',
        exportEndAt: null,
        downloadUrls: null,
        nextExportStartAt: null,
        expireAt: 1_640_100_000,
      },
    }));
    await expect(api.getCrmValidationJob(5, INSTANCE)).resolves.toEqual({
      id: 5,
      status: 'PROCESSING',
      downloadUrls: [],
      expireAt: 1_640_100_000_000,
    });
  });

  it("reads the tutorial's single downloadURL field as a one-part export", async () => {
    const { api } = await serve(() => ({
      body: {
        status: 'COMPLETED',
        downloadURL: 'https://www.linkedin.com/ambry/?x-li-ambry-ep=AQ',
        nextExportStartAt: 2,
      },
    }));
    const job = await api.getCrmValidationJob(5, INSTANCE);
    expect(job.downloadUrls).toEqual(['https://www.linkedin.com/ambry/?x-li-ambry-ep=AQ']);
  });

  it('keeps an unknown status by name', async () => {
    const { api } = await serve(() => ({ body: { status: 'QUEUED_FOR_VALIDATION' } }));
    await expect(api.getCrmValidationJob(5, INSTANCE)).resolves.toMatchObject({
      status: 'QUEUED_FOR_VALIDATION',
    });
  });

  it.each([
    ['a job of another id', { jobId: 6, status: 'PROCESSING' }, /answered job 6/],
    [
      'a download URL that is not a URL',
      { status: 'COMPLETED', downloadUrls: ['not a url'] },
      /downloadUrls\.0/,
    ],
    ['a negative time', { status: 'COMPLETED', nextExportStartAt: -1 }, /nextExportStartAt/],
  ])('refuses %s', async (_, body, message) => {
    const { api } = await serve(() => ({ body }));
    const err = await api.getCrmValidationJob(5, INSTANCE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInResponseError);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses an id that is not a safe integer before sending anything', async () => {
    const { api, requests } = await serve(() => ({ body: {} }));
    await expect(api.getCrmValidationJob(-1, INSTANCE)).rejects.toThrow(InvalidInputError);
    expect(requests).toHaveLength(0);
  });

  it('names an expired job id (404) as a LinkedInRequestError with status 404', async () => {
    const { api } = await serve(() => ({
      status: 404,
      body: { message: 'not found', serviceErrorCode: 404, status: 404 },
    }));
    const err = await api.getCrmValidationJob(5, INSTANCE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInRequestError);
    expect((err as LinkedInRequestError).status).toBe(404);
  });
});
