// LinkedInClient against LinkedIn's own documented sample requests and answers, verbatim.
import { describe, expect, it } from 'vitest';
import { LinkedInAuthError } from '#common/errors';
import { LinkedInClient } from '#linkedin/client';

/** Verbatim from "Sales Contracts" (learn.microsoft.com/linkedin/sales/api-reference/r_sales_nav_analytics/sales-contracts). */
const SALES_CONTRACTS_SAMPLE = `{
  "elements": [
    {
      "contract": "urn:li:contract:123456",
      "name": "North America Sales Team",
      "description": "Organic american apparel eiusmod, high life craft beer mollit polaroid lo-fi sed culpa.",
      "hasReportingAccess": true
    },
    {
      "contract": "urn:li:contract:1234560",
      "name": "EMEA Sales-EnterpriseLicense",
      "description": "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
      "hasReportingAccess": false
    }
  ],
  "paging": {
    "count": 10,
    "start": 0,
    "links": []
  }
}`;

/** Verbatim from "Sales Analytics Export Jobs" (…/r_sales_nav_analytics/sales-analytics-export-jobs). */
const CREATE_SAMPLE = `{
  "value": {
    "id": 100002,
    "status": "ENQUEUED"
  }
}`;
const QUEUED_SAMPLE = `{
  "id": 100004,
  "status": "ENQUEUED"
}`;
const COMPLETED_SAMPLE = `{
  "downloadUrl": "https://www.linkedin.com/ambry/?x-li-ambry-ep=AQHk36gQOsHNTgAAAWWmqEE6ktywQjxy2pQSK2sJkLqme2jFV-a_XRc_wU3VtSYv9jMaehkEyVhld4sJcPB8FyMChpNiAl6GpyRrotD68pS55hd7pXNlkXgnpckmNxWJG6xIZv80N6XB9fTa9FibL3b6ivQ6iZezN2Xq6bBz_g3hwvfUQ6EH-fVrj1cBy8",
  "id": 100004,
  "rowCount": 3999,
  "expireAt": 1536102969282,
  "status": "COMPLETED"
}`;
const GET_URL_SAMPLE =
  'https://api.linkedin.com/v2/salesAnalyticsExportJobs/100004?contract=urn%3Ali%3Acontract%3A123456';

/** Verbatim from the shared "Error handling" page (learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling). */
const ERROR_SAMPLE = `{
    "message": "Empty oauth2_access_token",
    "serviceErrorCode": 401,
    "status": 401
}`;

interface Sent {
  url: string;
  method: string;
  body?: string;
}

/** A client on LinkedIn's real base URL whose `fetch` answers `text` with `status` and records the request. */
function clientAnswering(text: string, status = 200) {
  const sent: Sent[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(input), method: init?.method ?? 'GET', body: init?.body as string | undefined });
    return new Response(text, { status, headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  const api = new LinkedInClient({
    baseUrl: 'https://api.linkedin.com/v2',
    getToken: async () => 'AQXt-test-token',
    fetch,
  });
  return { api, sent };
}

describe('LinkedIn’s documented samples', () => {
  it('salesContracts: reads the sample answer, URNs in the documented urn:li:contract form', async () => {
    const { api, sent } = clientAnswering(SALES_CONTRACTS_SAMPLE);
    const contracts = await api.listContracts();
    expect(contracts.map((c) => [c.contract, c.hasReportingAccess])).toEqual([
      ['urn:li:contract:123456', true],
      ['urn:li:contract:1234560', false],
    ]);
    expect(sent[0]?.url).toBe(
      'https://api.linkedin.com/v2/salesContracts?q=contractsByMember&start=0&count=100',
    );
  });

  it('exportSeatData: sends the sample body, reads the sample answer', async () => {
    const { api, sent } = clientAnswering(CREATE_SAMPLE);
    await expect(
      api.createExportJob('seat', 'urn:li:contract:123456', 1525176000000, 1527854400000),
    ).resolves.toEqual({
      id: 100002,
      status: 'ENQUEUED',
    });
    expect(sent[0]?.url).toBe('https://api.linkedin.com/v2/salesAnalyticsExportJobs?action=exportSeatData');
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({
      contract: 'urn:li:contract:123456',
      endAt: 1527854400000,
      startAt: 1525176000000,
    });
  });

  it('get: requests the sample URL exactly, and reads the queued and completed sample answers', async () => {
    const queued = clientAnswering(QUEUED_SAMPLE);
    await expect(queued.api.getExportJob(100004, 'urn:li:contract:123456')).resolves.toEqual({
      id: 100004,
      status: 'ENQUEUED',
    });
    expect(queued.sent[0]?.url).toBe(GET_URL_SAMPLE);

    const completed = clientAnswering(COMPLETED_SAMPLE);
    await expect(completed.api.getExportJob(100004, 'urn:li:contract:123456')).resolves.toEqual({
      id: 100004,
      status: 'COMPLETED',
      downloadUrl: JSON.parse(COMPLETED_SAMPLE).downloadUrl,
      rowCount: 3999,
      expireAt: 1536102969282, // already epoch ms: kept as is
    });
  });

  it('error body: the message carries LinkedIn’s message, serviceErrorCode and status', async () => {
    const { api } = clientAnswering(ERROR_SAMPLE, 401);
    const err = await api.listContracts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInAuthError);
    expect((err as Error).message).toContain(
      'LinkedIn answered 401: Empty oauth2_access_token (serviceErrorCode 401, status 401)',
    );
    expect((err as Error).message).not.toContain('AQXt-test-token');
  });

  it('an undocumented job status is kept by name instead of failing the read', async () => {
    const { api } = clientAnswering('{"id": 100004, "status": "ARCHIVED"}');
    await expect(api.getExportJob(100004, 'urn:li:contract:123456')).resolves.toEqual({
      id: 100004,
      status: 'ARCHIVED',
    });
  });
});
