// The CRM steps end to end on a memory store and real local downloads: parts, cursor, failures that keep it.
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CrmCursor, type CrmItemRecord, crmInstanceKey } from '#common/crm';
import {
  ConfigurationError,
  DownloadIncompleteError,
  InvalidInputError,
  LinkedInRequestError,
} from '#common/errors';
import type { SettingsInput } from '#common/settings';
import {
  checkCrmJob,
  commitCrmExport,
  copyCrmPart,
  createCrmJob,
  planCrmItems,
  recordCrmFailure,
} from '#steps/crm/job';
import type { CrmState } from '#steps/crm/state';
import { crmCursorKey, crmItemRecordKey } from '#storage/crm-keys';
import { FakeCrmLinkedIn } from '#test/support/fake-crm';
import { type FakeDeps, fakeDeps } from '#test/support/fake-linkedin';

const INSTANCE = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';
const NOW = '2026-11-20T07:00:00.000Z';
const START = Date.parse('2026-10-21T00:00:00.000Z');
const END = Date.parse('2026-11-20T06:00:00.000Z');
const NEXT = END + 1;
const PREFIX = `crm-data-validation/instance=DYNAMICS.362a3584-0d9b-44a1-a547-25de5cd95d08/export=${START}_${END}/`;

const PART = (n: number) =>
  `crmRecordId,linkedInMemberProfile\r\ncontact-${n}-a,https://www.linkedin.com/in/a${n}\r\ncontact-${n}-b,https://www.linkedin.com/in/b${n}\r\n`;

// --- download server: /part/<n>?sig=<s>; sig 'old' is refused (an expired URL), /cut/<n> breaks off ----
let server: Server;
let base: string;
let downloads: string[];
beforeAll(async () => {
  server = createServer((req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    downloads.push(url.pathname);
    const n = Number(url.pathname.split('/').at(-1));
    const body = Buffer.from(PART(n));
    if (url.searchParams.get('sig') === 'old') return void res.writeHead(403).end('expired');
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': body.length });
    if (url.pathname.startsWith('/cut/')) {
      res.write(body.subarray(0, 10));
      return void setTimeout(() => res.destroy(), 10);
    }
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let linkedin: FakeCrmLinkedIn;
let deps: FakeDeps;
const settings: SettingsInput = { allowedDownloadHosts: ['127.0.0.1:*'], crm: { instances: [INSTANCE] } };
beforeEach(() => {
  downloads = [];
  linkedin = new FakeCrmLinkedIn();
  deps = fakeDeps({ now: NOW, linkedin, settings });
});

const urls = (n: number, sig = 'new', path = 'part') =>
  Array.from({ length: n }, (_, i) => `${base}/${path}/${i + 1}?sig=${sig}`);

async function firstState(): Promise<CrmState> {
  const [item] = await planCrmItems([INSTANCE], new Date(NOW), deps);
  return { runId: 'run-1', item: item as CrmState['item'], attempts: { retry: 0 }, jobIds: [], copied: [] };
}

/** Create, then one read that finds the job COMPLETED with `completed`. */
async function toCompleted(completed: Parameters<FakeCrmLinkedIn['setCrmJob']>[1]): Promise<CrmState> {
  const created = await createCrmJob(await firstState(), deps);
  linkedin.setCrmJob(created.job?.id as number, { status: 'COMPLETED', ...completed });
  return checkCrmJob(created, deps);
}

/** Runs COPY until COMMIT. */
async function copyAll(state: CrmState): Promise<CrmState> {
  let s = state;
  while (s.next === 'COPY') s = await copyCrmPart(s, deps);
  return s;
}

describe('planCrmItems', () => {
  it('starts an instance never exported at UTC midnight firstExportDays before the run day, once per instance', async () => {
    await expect(planCrmItems([INSTANCE, INSTANCE], new Date(NOW), deps)).resolves.toEqual([
      { crmInstance: INSTANCE, startAt: START },
    ]);
  });

  it("starts an instance at its cursor's nextExportStartAt", async () => {
    const cursor: CrmCursor = {
      version: 1,
      crmInstance: INSTANCE,
      nextExportStartAt: 1_700_000_000_123,
      lastExport: {
        runId: 'r0',
        jobId: 1,
        startAt: 1,
        endAt: 2,
        parts: [],
        rows: 0,
        bytes: 0,
        committedAt: NOW,
      },
    };
    await deps.store.putJson(crmCursorKey(INSTANCE), cursor);
    const [item] = await planCrmItems([INSTANCE], new Date(NOW), deps);
    expect(item?.startAt).toBe(1_700_000_000_123);
  });

  it('refuses a cursor object that does not parse, naming its key and the fix', async () => {
    await deps.store.putJson(crmCursorKey(INSTANCE), { nextExportStartAt: 'soon' });
    const err = await planCrmItems([INSTANCE], new Date(NOW), deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toContain(crmCursorKey(INSTANCE));
    expect((err as Error).message).toMatch(/restore it .* or delete it/);
  });
});

describe('a complete CRM export', () => {
  it('creates the job from the start, polls, copies every part with metadata, then moves the cursor', async () => {
    const created = await createCrmJob(await firstState(), deps);
    expect(linkedin.crmCreated).toEqual([{ id: 148, crmInstance: INSTANCE, exportStartAt: START }]);
    expect(created).toMatchObject({ job: { id: 148, polls: 0 }, jobIds: [148], waitSeconds: 300 });

    const polling = await checkCrmJob(created, deps);
    expect(polling).toMatchObject({ next: 'POLL', waitSeconds: 450, status: 'PROCESSING' });

    linkedin.setCrmJob(148, {
      status: 'COMPLETED',
      exportEndAt: END,
      nextExportStartAt: NEXT,
      downloadUrls: urls(3),
      expireAt: Date.parse(NOW) + 3_600_000,
    });
    const done = await checkCrmJob(polling, deps);
    expect(done).toMatchObject({
      next: 'COPY',
      export: { startAt: START, endAt: END, nextExportStartAt: NEXT, parts: 3 },
    });

    const afterOne = await copyCrmPart(done, deps);
    expect(afterOne.next).toBe('COPY');
    await expect(deps.store.exists(crmCursorKey(INSTANCE))).resolves.toBe(false);
    const copied = await copyAll(afterOne);
    expect(copied.next).toBe('COMMIT');
    expect(downloads).toEqual(['/part/1', '/part/2', '/part/3']);

    for (const n of [1, 2, 3]) {
      const object = deps.store.objects.get(`${PREFIX}part-000${n}.csv`);
      expect(object?.body.toString()).toBe(PART(n));
      expect(object?.metadata).toMatchObject({
        runid: 'run-1',
        jobid: '148',
        dataset: 'crmDataValidation',
        contract: INSTANCE,
        crminstance: INSTANCE,
        exportstartat: String(START),
        exportendat: String(END),
        part: `${n}/3`,
      });
    }

    const committed = await commitCrmExport(copied, deps);
    expect(committed.result).toEqual({
      status: 'EXPORTED',
      crmInstance: INSTANCE,
      parts: 3,
      bytes: 3 * PART(1).length,
      rows: 6,
    });
    const cursor = deps.store.json<CrmCursor>(crmCursorKey(INSTANCE));
    expect(cursor).toMatchObject({
      nextExportStartAt: NEXT,
      lastExport: { jobId: 148, startAt: START, endAt: END, rows: 6 },
    });
    expect(cursor.lastExport.parts).toEqual([1, 2, 3].map((n) => `${PREFIX}part-000${n}.csv`));
    expect(deps.store.json(`${PREFIX}_export.json`)).toMatchObject({ jobId: 148, parts: copied.copied });
    const record = deps.store.json<CrmItemRecord>(crmItemRecordKey('run-1', INSTANCE));
    expect(record).toMatchObject({
      status: 'EXPORTED',
      cursor: 'ADVANCED',
      startAt: START,
      endAt: END,
      rows: 6,
      jobIds: [148],
    });
    expect(record.parts.map((p) => p.key)).toEqual(cursor.lastExport.parts);

    // The next run starts where this one ended.
    const [next] = await planCrmItems([INSTANCE], new Date(NOW), deps);
    expect(next?.startAt).toBe(NEXT);
  });

  it('commits an export without download URLs (nothing stale) and still moves the cursor', async () => {
    const state = await toCompleted({ nextExportStartAt: NEXT });
    expect(state).toMatchObject({ next: 'COMMIT', export: { endAt: NEXT, parts: 0 } });
    await commitCrmExport(state, deps);
    expect(deps.store.json<CrmCursor>(crmCursorKey(INSTANCE)).nextExportStartAt).toBe(NEXT);
  });

  it('refreshes an expired download URL by re-reading the job, and takes the same part', async () => {
    const state = await toCompleted({
      exportEndAt: END,
      nextExportStartAt: NEXT,
      downloadUrls: urls(2, 'old'),
    });
    linkedin.onRead = (job, reads) => (reads > 2 ? { ...job, downloadUrls: urls(2, 'new') } : undefined);
    const copied = await copyAll(state);
    expect(copied.copied.map((p) => p.rows)).toEqual([2, 2]);
    expect(deps.store.objects.get(`${PREFIX}part-0002.csv`)?.body.toString()).toBe(PART(2));
  });

  it('re-running the commit after it wrote the cursor only writes the record again', async () => {
    const state = await copyAll(
      await toCompleted({ exportEndAt: END, nextExportStartAt: NEXT, downloadUrls: urls(1) }),
    );
    await commitCrmExport(state, deps);
    const again = await commitCrmExport(state, deps);
    expect(again.result?.status).toBe('EXPORTED');
    expect(deps.store.json<CrmItemRecord>(crmItemRecordKey('run-1', INSTANCE)).cursor).toBe('ADVANCED');
  });

  it('never moves a cursor back that another run already moved as far', async () => {
    const state = await copyAll(
      await toCompleted({ exportEndAt: END, nextExportStartAt: NEXT, downloadUrls: urls(1) }),
    );
    const ahead: CrmCursor = {
      version: 1,
      crmInstance: INSTANCE,
      nextExportStartAt: NEXT + 1000,
      lastExport: {
        runId: 'other',
        jobId: 9,
        startAt: START,
        endAt: NEXT + 1000,
        parts: [],
        rows: 0,
        bytes: 0,
        committedAt: NOW,
      },
    };
    await deps.store.putJson(crmCursorKey(INSTANCE), ahead);
    await commitCrmExport(state, deps);
    expect(deps.store.json(crmCursorKey(INSTANCE))).toEqual(ahead);
    expect(deps.store.json<CrmItemRecord>(crmItemRecordKey('run-1', INSTANCE)).cursor).toBe(
      'ALREADY_ADVANCED',
    );
  });

  it('refuses to commit before every part is copied', async () => {
    const state = await toCompleted({ exportEndAt: END, nextExportStartAt: NEXT, downloadUrls: urls(2) });
    const one = await copyCrmPart(state, deps);
    await expect(commitCrmExport(one, deps)).rejects.toThrow(/1 of 2 part\(s\) copied/);
    expect(await deps.store.exists(crmCursorKey(INSTANCE))).toBe(false);
  });
});

describe('a failed or interrupted CRM export keeps the cursor', () => {
  it('a part that breaks off leaves no object for it and no cursor; the failure is recorded; the next run starts over', async () => {
    const state = await toCompleted({
      exportEndAt: END,
      nextExportStartAt: NEXT,
      downloadUrls: [
        urls(1)[0] as string,
        ...urls(1, 'new', 'cut').map((u) => u.replace('/cut/1', '/cut/2')),
      ],
    });
    const one = await copyCrmPart(state, deps);
    const err = await copyCrmPart(one, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadIncompleteError);
    expect(deps.store.objects.has(`${PREFIX}part-0002.csv`)).toBe(false);
    expect(await deps.store.exists(crmCursorKey(INSTANCE))).toBe(false);

    const failed = await recordCrmFailure(
      {
        ...one,
        error: {
          Error: 'DownloadIncompleteError',
          Cause: JSON.stringify({ errorMessage: (err as Error).message }),
        },
      },
      deps,
    );
    expect(failed.result).toEqual({ status: 'FAILED', crmInstance: INSTANCE, parts: 1 });
    const record = deps.store.json<CrmItemRecord>(crmItemRecordKey('run-1', INSTANCE));
    expect(record).toMatchObject({
      status: 'FAILED',
      cursor: 'KEPT',
      error: { name: 'DownloadIncompleteError' },
    });
    const [next] = await planCrmItems([INSTANCE], new Date(NOW), deps);
    expect(next?.startAt).toBe(START);
  });

  it('re-creates a FAILED_DUE_TO_INTERNAL_ERROR job from the same start, up to the bound, with backoff', async () => {
    let state = await createCrmJob(await firstState(), deps);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      linkedin.setCrmJob(state.job?.id as number, { status: 'FAILED_DUE_TO_INTERNAL_ERROR' });
      state = await checkCrmJob(state, deps);
      expect(state).toMatchObject({ next: 'RECREATE', job: undefined });
      waits.push(state.waitSeconds as number);
      state = await createCrmJob(state, deps);
    }
    expect(waits).toEqual([600, 1200, 2400]);
    expect(linkedin.crmCreated.map((c) => c.exportStartAt)).toEqual([START, START, START, START]);
    linkedin.setCrmJob(state.job?.id as number, { status: 'FAILED_DUE_TO_INTERNAL_ERROR' });
    const failed = await checkCrmJob(state, deps);
    expect(failed).toMatchObject({ next: 'FAIL', failure: { name: 'ExportJobFailedError' } });
    expect(failed.failure?.message).toMatch(/still failing after 3 new job\(s\); the cursor is kept/);
  });

  it('fails a job still PROCESSING at the deadline, shortening the last wait to reach it', async () => {
    const created = await createCrmJob(await firstState(), deps);
    const late = fakeDeps({
      now: new Date(Date.parse(NOW) + 6 * 3600_000 - 100_000).toISOString(),
      linkedin,
      settings,
    });
    expect(
      await checkCrmJob(
        { ...created, job: { ...(created.job as NonNullable<CrmState['job']>), polls: 9 } },
        late,
      ),
    ).toMatchObject({
      next: 'POLL',
      waitSeconds: 100,
    });
    const over = fakeDeps({
      now: new Date(Date.parse(NOW) + 6 * 3600_000).toISOString(),
      linkedin,
      settings,
    });
    const failed = await checkCrmJob(created, over);
    expect(failed.failure).toMatchObject({ name: 'PollDeadlineExceededError' });
    expect(failed.failure?.message).toMatch(
      /still PROCESSING 21600 s after creation .*settings\.crm\.poll\.deadlineSeconds/,
    );
  });

  it('polls an unknown status on, then fails naming it', async () => {
    const created = await createCrmJob(await firstState(), deps);
    linkedin.setCrmJob(148, { status: 'VALIDATING' });
    expect(await checkCrmJob(created, deps)).toMatchObject({ next: 'POLL', status: 'VALIDATING' });
    const over = fakeDeps({
      now: new Date(Date.parse(NOW) + 7 * 3600_000).toISOString(),
      linkedin,
      settings,
    });
    const failed = await checkCrmJob(created, over);
    expect(failed.failure?.message).toMatch(
      /status VALIDATING, which this pipeline does not know \(known: PROCESSING, COMPLETED, FAILED_DUE_TO_INTERNAL_ERROR\)/,
    );
  });

  it('fails any other FAILED_* status by name', async () => {
    const created = await createCrmJob(await firstState(), deps);
    linkedin.setCrmJob(148, { status: 'FAILED_DUE_TO_TIMED_OUT' });
    expect((await checkCrmJob(created, deps)).failure).toEqual({
      name: 'ExportJobFailedError',
      message: 'CRM job 148 ended FAILED_DUE_TO_TIMED_OUT; the cursor is kept',
    });
  });

  it.each([
    ['neither nextExportStartAt nor exportEndAt', {}, /without nextExportStartAt or exportEndAt/],
    ['a next start before the start', { nextExportStartAt: START - 1 }, /ends before it starts/],
  ])('fails a COMPLETED job with %s and keeps the cursor', async (_, completed, message) => {
    const state = await toCompleted({ downloadUrls: urls(1), ...completed });
    expect(state).toMatchObject({ next: 'FAIL', failure: { name: 'LinkedInResponseError' } });
    expect(state.failure?.message).toMatch(message);
  });

  it('fails a part copy when the job now lists another number of parts', async () => {
    const state = await toCompleted({ exportEndAt: END, nextExportStartAt: NEXT, downloadUrls: urls(2) });
    linkedin.setCrmJob(148, { downloadUrls: urls(3) });
    await expect(copyCrmPart(state, deps)).rejects.toThrow(/now has 3 download URL\(s\) instead of 2/);
  });

  it('names an expired job id (404) with what happens next', async () => {
    const created = await createCrmJob(await firstState(), deps);
    linkedin.crmJobs.delete(148);
    const err = await checkCrmJob(created, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInRequestError);
    expect((err as Error).message).toMatch(/job ids expire a week after creation.*same cursor/);
  });

  it('needs a job before reading one, and CRM calls on the LinkedIn API', async () => {
    await expect(checkCrmJob(await firstState(), deps)).rejects.toThrow(InvalidInputError);
    const bare = fakeDeps({ now: NOW, settings });
    await expect(createCrmJob(await firstState(), bare)).rejects.toThrow(/no CRM data validation calls/);
  });

  it('uses the instance key part in every key', () => {
    expect(crmInstanceKey(INSTANCE)).toBe('DYNAMICS.362a3584-0d9b-44a1-a547-25de5cd95d08');
  });
});
