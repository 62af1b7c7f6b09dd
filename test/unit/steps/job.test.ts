import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExportJobFailedError, InvalidInputError } from '#common/errors';
import type { ItemRecord, JobStatus } from '#common/model';
import type { SettingsInput } from '#common/settings';
import { FolderStore } from '#local/folder-store';
import { checkJob, copyToStore, createJob, MAX_READS_WITHOUT_DOWNLOAD_URL, recordFailure } from '#steps/job';
import { type ItemState, type ItemStateInput, ItemStateSchema } from '#steps/state';
import { leaseKey } from '#storage/keys';
import { FakeLinkedIn, fakeDeps } from '#test/support/fake-linkedin';

const A = 'urn:li:contract:A';
const NOW = '2026-03-10T06:00:00.000Z';
const JOB_ID = 1000;
const FIVE_DAYS = { start: '2026-01-01', end: '2026-01-06' };
const KEY = 'sales-navigator/activity/contract=A/window=2026-01-01_2026-01-06/activity.csv';
const RECORDS = 'manifests/run-1/items/';

/** An ExportJob state as the handlers see it (defaults applied by the schema). */
function itemState(overrides: Partial<ItemStateInput> = {}): ItemState {
  return ItemStateSchema.parse({
    runId: 'run-1',
    item: { contract: A, dataset: 'activity', ...FIVE_DAYS },
    ...overrides,
  });
}

/** The halves of a SPLIT decision, checked to be valid ExportJob inputs. */
const halvesOf = (state: ItemState): ItemState[] => (state.halves ?? []).map((h) => ItemStateSchema.parse(h));

/** `NOW` minus `seconds`, as CreateJob stamps `job.createdAt`. */
const secondsAgo = (seconds: number) => new Date(Date.parse(NOW) - seconds * 1000).toISOString();

/** Deps whose LinkedIn reports job JOB_ID with `status`, and a state polling that job. */
function polling(status: JobStatus, state: Partial<ItemStateInput> = {}, settings?: SettingsInput) {
  const linkedin = new FakeLinkedIn();
  linkedin.setJob({
    id: JOB_ID,
    status,
    ...(status === 'COMPLETED' && {
      rowCount: 42,
      downloadUrl: 'https://www.linkedin.com/ambry/?x-li-ambry-ep=AQ',
    }),
  });
  const deps = fakeDeps({ now: NOW, linkedin, ...(settings && { settings }) });
  const input = itemState({
    jobIds: [JOB_ID],
    job: { id: JOB_ID, createdAt: secondsAgo(600), polls: 2 },
    ...state,
  });
  return { deps, input };
}

describe('createJob', () => {
  it('creates a job over the UTC midnights of the window and starts polling it', async () => {
    const deps = fakeDeps({ now: NOW });
    const before = itemState({
      jobIds: [7],
      next: 'RECREATE',
      waitSeconds: 14_400,
      status: 'FAILED_DUE_TO_DATA_DELAY',
    });

    const after = await createJob(before, deps);

    expect(deps.linkedin.created).toEqual([
      {
        id: JOB_ID,
        dataset: 'activity',
        contract: A,
        startAt: Date.UTC(2026, 0, 1),
        endAt: Date.UTC(2026, 0, 6),
      },
    ]);
    expect(deps.linkedin.created[0]?.startAt).toBe(1_767_225_600_000);
    expect(after).toEqual({
      runId: 'run-1',
      item: { contract: A, dataset: 'activity', ...FIVE_DAYS },
      force: false,
      depth: 0,
      attempts: { dataDelay: 0, retry: 0 },
      jobIds: [7, JOB_ID],
      job: { id: JOB_ID, createdAt: NOW, polls: 0 },
      status: 'ENQUEUED',
      // RECREATE does not leak: CreateJob routes to polling (Route), DONE only for a held item.
      next: 'POLL',
      waitSeconds: 30,
    });
  });
});

describe('createJob: the item lease of a run that ended', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** Deps on a folder store (conditional writes, so leases are taken) where run-stopped holds the item. */
  async function heldByStoppedRun(isRunOver?: (runId: string) => Promise<boolean>) {
    const dir = await mkdtemp(join(tmpdir(), 'lease-'));
    dirs.push(dir);
    const store = new FolderStore(dir);
    const item = { contract: A, dataset: 'activity' as const, ...FIVE_DAYS };
    // Acquired an hour ago: far from expiring (7 days).
    await store.putJson(leaseKey(item), {
      runId: 'run-stopped',
      acquiredAt: '2026-03-10T05:00:00.000Z',
      expiresAt: '2026-03-17T05:00:00.000Z',
    });
    const asked: string[] = [];
    const deps = {
      ...fakeDeps({ now: NOW }),
      store,
      ...(isRunOver && {
        isRunOver: (runId: string) => {
          asked.push(runId);
          return isRunOver(runId);
        },
      }),
    };
    return { deps, store, item, asked };
  }

  it('takes the lease over at once when the holder’s run is over (stopped by hand) and creates the job', async () => {
    const { deps, store, item, asked } = await heldByStoppedRun(async () => true);

    const after = await createJob(itemState(), deps);

    expect(asked).toEqual(['run-stopped']);
    expect(after).toMatchObject({ next: 'POLL', status: 'ENQUEUED', job: { id: JOB_ID } });
    expect(deps.linkedin.created).toHaveLength(1);
    expect(await store.getJson(leaseKey(item))).toMatchObject({ runId: 'run-1' });
  });

  it('keeps the item SKIPPED heldByAnotherRun while the holder still runs (or cannot be told)', async () => {
    const { deps, store, item, asked } = await heldByStoppedRun(async () => false);

    const after = await createJob(itemState(), deps);

    expect(asked).toEqual(['run-stopped']);
    expect(after).toMatchObject({ next: 'DONE', result: { status: 'SKIPPED' } });
    expect(deps.linkedin.created).toEqual([]);
    expect(await store.getJson(leaseKey(item))).toMatchObject({ runId: 'run-stopped' });
  });

  it('without isRunOver (local runs) a live lease holds until it expires', async () => {
    const { deps } = await heldByStoppedRun();
    expect(await createJob(itemState(), deps)).toMatchObject({ next: 'DONE', result: { status: 'SKIPPED' } });
  });
});

describe('checkJob', () => {
  it('needs a job', async () => {
    const { deps } = polling('PROCESSING');
    await expect(checkJob(itemState(), deps)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it.each(['ENQUEUED', 'PROCESSING'] as const)('polls a %s job again with backoff', async (status) => {
    const { deps, input } = polling(status);

    const after = await checkJob(input, deps);

    expect(deps.linkedin.reads).toEqual([{ id: JOB_ID, contract: A }]);
    // Backoff says 240 s; a 600 s old job is polled again within 10 % of its age.
    expect(after).toMatchObject({ status, next: 'POLL', waitSeconds: 60, job: { id: JOB_ID, polls: 3 } });
    expect(after.job?.createdAt).toBe(input.job?.createdAt);
    expect(after.failure).toBeUndefined();
  });

  it('caps the poll delay and shortens the last wait to the deadline', async () => {
    const bounded = polling('PROCESSING', { job: { id: JOB_ID, createdAt: secondsAgo(3600), polls: 9 } });
    expect((await checkJob(bounded.input, bounded.deps)).waitSeconds).toBe(360);
    const capped = polling('PROCESSING', { job: { id: JOB_ID, createdAt: secondsAgo(20_000), polls: 20 } });
    expect((await checkJob(capped.input, capped.deps)).waitSeconds).toBe(900);

    const last = polling('PROCESSING', {
      job: { id: JOB_ID, createdAt: secondsAgo(21_600 - 100), polls: 9 },
    });
    expect(await checkJob(last.input, last.deps)).toMatchObject({ next: 'POLL', waitSeconds: 100 });
  });

  it('fails with PollDeadlineExceededError once the deadline has passed', async () => {
    const { deps, input } = polling('ENQUEUED', {
      job: { id: JOB_ID, createdAt: secondsAgo(21_600), polls: 30 },
    });

    const after = await checkJob(input, deps);

    expect(after.next).toBe('FAIL');
    expect(after.failure).toEqual({
      name: 'PollDeadlineExceededError',
      message: `job ${JOB_ID} still ENQUEUED 21600 s after creation (deadline 21600 s)`,
    });
    expect(after.waitSeconds).toBeUndefined();
  });

  it('copies a COMPLETED job and keeps LinkedIn’s row count', async () => {
    const { deps, input } = polling('COMPLETED', { next: 'POLL', waitSeconds: 240 });

    const after = await checkJob(input, deps);

    expect(after).toMatchObject({ status: 'COMPLETED', next: 'COPY', rowCount: 42, job: input.job });
    expect(after.waitSeconds).toBeUndefined();
  });

  describe('a status LinkedIn does not document', () => {
    it('is kept by name and polled on with the usual backoff', async () => {
      const { deps, input } = polling('ARCHIVED');

      const after = await checkJob(input, deps);

      expect(after).toMatchObject({ status: 'ARCHIVED', next: 'POLL', waitSeconds: 60, job: { polls: 3 } });
      expect(after.failure).toBeUndefined();
      expect(ItemStateSchema.parse(after).status).toBe('ARCHIVED'); // survives the state machine's round trip
    });

    it('fails at the item’s deadline with a LinkedInResponseError naming the status', async () => {
      const { deps, input } = polling('ARCHIVED', {
        job: { id: JOB_ID, createdAt: secondsAgo(21_600), polls: 30 },
      });

      const after = await checkJob(input, deps);

      expect(after.next).toBe('FAIL');
      expect(after.failure?.name).toBe('LinkedInResponseError');
      expect(after.failure?.message).toMatch(
        new RegExp(
          `^job ${JOB_ID} is still in status ARCHIVED, which this pipeline does not know \\(known: ENQUEUED, `,
        ),
      );
      expect(after.failure?.message).toContain('21600 s after creation (deadline 21600 s)');
    });

    it('is handled as usual once LinkedIn answers a documented status again', async () => {
      const { deps, input } = polling('ARCHIVED');
      const polled = await checkJob(input, deps);
      deps.linkedin.setJob({ id: JOB_ID, status: 'FAILED_DUE_TO_TIMED_OUT' });
      expect(await checkJob(polled, deps)).toMatchObject({
        next: 'RECREATE',
        status: 'FAILED_DUE_TO_TIMED_OUT',
      });
    });
  });

  describe('COMPLETED without a downloadUrl', () => {
    it('with rowCount 0 is an EXPORTED item of 0 rows: an empty object at the item key covers its days', async () => {
      const { deps, input } = polling('COMPLETED');
      deps.linkedin.setJob({ id: JOB_ID, status: 'COMPLETED', rowCount: 0 });

      const after = await checkJob(input, deps);

      expect(after).toMatchObject({
        status: 'COMPLETED',
        next: 'DONE',
        result: { status: 'EXPORTED', key: KEY, bytes: 0, rows: 0 },
      });
      expect(deps.store.objects.get(KEY)).toEqual({
        body: Buffer.alloc(0),
        contentType: 'text/csv',
        metadata: {
          source: 'linkedin',
          apihost: 'api.linkedin.com',
          runid: 'run-1',
          jobid: String(JOB_ID),
          dataset: 'activity',
          contract: A,
          windowstart: FIVE_DAYS.start,
          windowend: FIVE_DAYS.end,
          rowcount: '0',
          emptyexport: 'completed-without-download-url',
        },
        // The source as tags, which coverage reads: the empty file counts only for its own source.
        tags: { source: 'linkedin' },
      });
      expect(deps.store.json<ItemRecord>(`${RECORDS}activity-A-2026-01-01_2026-01-06.json`)).toEqual({
        contract: A,
        dataset: 'activity',
        window: FIVE_DAYS,
        status: 'EXPORTED',
        key: KEY,
        bytes: 0,
        rows: 0,
        jobIds: [JOB_ID],
        attempts: 1,
        finishedAt: NOW,
      });
      expect(await deps.store.exists(KEY)).toBe(true); // what PlanRun checks to skip the window next time
    });

    it.each([
      ['rows', { rowCount: 42 }, 'rowCount 42'],
      ['no rowCount', {}, 'no rowCount'],
    ])('with %s is read again, then FAILED naming the problem', async (_, fields, shown) => {
      const { deps, input } = polling('COMPLETED');
      deps.linkedin.setJob({ id: JOB_ID, status: 'COMPLETED', ...fields });

      let state = await checkJob(input, deps);
      expect(state).toMatchObject({ next: 'POLL', waitSeconds: 60, job: { polls: 3, readsWithoutUrl: 1 } });
      for (let read = 2; read < MAX_READS_WITHOUT_DOWNLOAD_URL; read++) {
        state = await checkJob(ItemStateSchema.parse(state), deps);
        expect(state).toMatchObject({ next: 'POLL', job: { readsWithoutUrl: read } });
      }
      state = await checkJob(state, deps);

      expect(state.next).toBe('FAIL');
      expect(state.failure).toEqual({
        name: 'LinkedInResponseError',
        message: expect.stringContaining(
          `job ${JOB_ID} is COMPLETED without a downloadUrl (${shown}) in ${MAX_READS_WITHOUT_DOWNLOAD_URL} read(s)`,
        ),
      });
      expect(deps.store.keys()).toEqual([]);
    });

    it('copies once the downloadUrl appears', async () => {
      const { deps, input } = polling('COMPLETED');
      deps.linkedin.setJob({ id: JOB_ID, status: 'COMPLETED', rowCount: 42 });
      const polled = await checkJob(input, deps);
      deps.linkedin.setJob({
        id: JOB_ID,
        status: 'COMPLETED',
        rowCount: 42,
        downloadUrl: 'https://www.linkedin.com/ambry/?x=1',
      });
      expect(await checkJob(polled, deps)).toMatchObject({ next: 'COPY', rowCount: 42 });
    });
  });

  it('re-creates the job after a data delay, waiting dataDelay.waitSeconds, until maxRetries', async () => {
    const settings = { dataDelay: { maxRetries: 2, waitSeconds: 7200 } };
    const decisions = [];
    for (const dataDelay of [0, 1, 2]) {
      const { deps, input } = polling(
        'FAILED_DUE_TO_DATA_DELAY',
        { attempts: { dataDelay, retry: 1 } },
        settings,
      );
      decisions.push(await checkJob(input, deps));
    }

    expect(decisions.slice(0, 2).map((s) => [s.next, s.waitSeconds, s.attempts, s.job])).toEqual([
      ['RECREATE', 7200, { dataDelay: 1, retry: 1 }, undefined],
      ['RECREATE', 7200, { dataDelay: 2, retry: 1 }, undefined],
    ]);
    expect(decisions[2]?.next).toBe('FAIL');
    expect(decisions[2]?.failure).toEqual({
      name: 'ExportJobFailedError',
      message: `job ${JOB_ID} ended FAILED_DUE_TO_DATA_DELAY: data still delayed after 2 new job(s)`,
    });
  });

  it('waits 4 hours after a data delay by default and gives up after 6 new jobs', async () => {
    const again = polling('FAILED_DUE_TO_DATA_DELAY', { attempts: { dataDelay: 5, retry: 0 } });
    expect(await checkJob(again.input, again.deps)).toMatchObject({ next: 'RECREATE', waitSeconds: 14_400 });

    const last = polling('FAILED_DUE_TO_DATA_DELAY', { attempts: { dataDelay: 6, retry: 0 } });
    expect((await checkJob(last.input, last.deps)).next).toBe('FAIL');
  });

  it.each(['FAILED_DUE_TO_TIMED_OUT', 'FAILED_DUE_TO_INTERNAL_ERROR'] as const)(
    're-creates a %s job with a growing delay until maxRetries, then fails',
    async (status) => {
      const decisions = [];
      for (const retry of [0, 1, 2, 3]) {
        const { deps, input } = polling(status, { attempts: { dataDelay: 4, retry } });
        decisions.push(await checkJob(input, deps));
      }

      expect(decisions.map((s) => [s.next, s.waitSeconds, s.attempts.retry])).toEqual([
        ['RECREATE', 300, 1],
        ['RECREATE', 600, 2],
        ['RECREATE', 1200, 3],
        ['FAIL', undefined, 3],
      ]);
      expect(decisions.every((s) => s.attempts.dataDelay === 4)).toBe(true);
      expect(decisions[3]?.failure).toEqual({
        name: new ExportJobFailedError('').name,
        message: `job ${JOB_ID} ended ${status}: still failing after 3 new job(s)`,
      });
    },
  );

  it('feeds a RECREATE decision back into createJob, which appends the new job id', async () => {
    const linkedin = new FakeLinkedIn();
    const deps = fakeDeps({ now: NOW, linkedin });
    const first = await createJob(itemState(), deps);
    linkedin.setJob({ id: JOB_ID, status: 'FAILED_DUE_TO_INTERNAL_ERROR' });

    const decided = await checkJob(first, deps);
    const second = await createJob(decided, deps);

    expect(second.jobIds).toEqual([JOB_ID, JOB_ID + 1]);
    expect(second).toMatchObject({
      job: { id: JOB_ID + 1, polls: 0 },
      attempts: { retry: 1 },
      waitSeconds: 30,
    });
    expect(second.next).toBe('POLL');
  });

  describe('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR', () => {
    const fresh = { attempts: { dataDelay: 0, retry: 0 }, jobIds: [] };

    it('splits the window in two halves (the longer second for an odd day count), each a fresh item', async () => {
      const { deps, input } = polling('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR', {
        force: true,
        attempts: { dataDelay: 1, retry: 2 },
      });

      const after = await checkJob(input, deps);

      expect(after.next).toBe('SPLIT');
      expect(after.result).toEqual({ status: 'SPLIT', key: KEY });
      expect(after.job).toBeUndefined();
      const splitFrom = FIVE_DAYS;
      expect(after.halves).toEqual([
        {
          runId: 'run-1',
          item: { contract: A, dataset: 'activity', start: '2026-01-01', end: '2026-01-03' },
          force: true,
          depth: 1,
          splitFrom,
          ...fresh,
        },
        {
          runId: 'run-1',
          item: { contract: A, dataset: 'activity', start: '2026-01-03', end: '2026-01-06' },
          force: true,
          depth: 1,
          splitFrom,
          ...fresh,
        },
      ]);
      expect(deps.store.keys()).toEqual([]);
    });

    it('keeps the planned window as splitFrom when a half is split again', async () => {
      const { deps, input } = polling('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR', {
        item: { contract: A, dataset: 'activity', start: '2026-01-03', end: '2026-01-06' },
        depth: 1,
        splitFrom: FIVE_DAYS,
      });

      const after = await checkJob(input, deps);

      expect(halvesOf(after).map((h) => [h.item.start, h.item.end, h.depth, h.splitFrom])).toEqual([
        ['2026-01-03', '2026-01-04', 2, FIVE_DAYS],
        ['2026-01-04', '2026-01-06', 2, FIVE_DAYS],
      ]);
    });

    it('fails a one-day window, and a window split maxSplitDepth times', async () => {
      const oneDay = polling('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR', {
        item: { contract: A, dataset: 'activity', start: '2026-01-05', end: '2026-01-06' },
        depth: 3,
        splitFrom: FIVE_DAYS,
      });
      const deep = polling('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR', { depth: 7 });

      const [single, tooDeep] = [
        await checkJob(oneDay.input, oneDay.deps),
        await checkJob(deep.input, deep.deps),
      ];

      expect(single.next).toBe('FAIL');
      expect(single.failure).toEqual({
        name: 'ExportJobFailedError',
        message: `job ${JOB_ID} ended FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR: a single day is over LinkedIn’s 3 GB file limit`,
      });
      expect(single.halves).toBeUndefined();
      expect(tooDeep.next).toBe('FAIL');
      expect(tooDeep.failure?.message).toContain('window already split 7 times');
    });

    it('records a half whose object exists as SKIPPED and exports only the other', async () => {
      const { deps, input } = polling('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR');
      deps.store.put('sales-navigator/activity/contract=A/window=2026-01-01_2026-01-03/activity.csv', 'x\n');

      const after = await checkJob(input, deps);

      expect(after.next).toBe('SPLIT');
      expect(halvesOf(after).map((h) => h.item.start)).toEqual(['2026-01-03']);
      expect(deps.store.keys(RECORDS)).toEqual([`${RECORDS}activity-A-2026-01-01_2026-01-03.json`]);
      expect(deps.store.json<ItemRecord>(`${RECORDS}activity-A-2026-01-01_2026-01-03.json`)).toEqual({
        contract: A,
        dataset: 'activity',
        window: { start: '2026-01-01', end: '2026-01-03' },
        status: 'SKIPPED',
        key: 'sales-navigator/activity/contract=A/window=2026-01-01_2026-01-03/activity.csv',
        jobIds: [],
        attempts: 0,
        splitFrom: FIVE_DAYS,
        finishedAt: NOW,
      });
    });

    it('does not skip a half whose object is tagged as the emulator’s (only its metadata says LinkedIn)', async () => {
      const { deps, input } = polling('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR');
      const half = 'sales-navigator/activity/contract=A/window=2026-01-01_2026-01-03/activity.csv';
      deps.store.objects.set(half, {
        body: Buffer.from('x\n'),
        contentType: 'text/csv',
        // Coverage reads the tags (s3:GetObjectTagging), never the metadata (s3:GetObject).
        metadata: { source: 'linkedin' },
        tags: { source: 'emulator', apihost: '127.0.0.1:4010' },
      });

      const after = await checkJob(input, deps);

      expect(after.next).toBe('SPLIT');
      expect(halvesOf(after).map((h) => h.item.start)).toEqual(['2026-01-01', '2026-01-03']);
      expect(deps.store.keys(RECORDS)).toEqual([]);
    });

    it('is DONE when both halves exist', async () => {
      const { deps, input } = polling('FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR');
      deps.store.put('sales-navigator/activity/contract=A/window=2026-01-01_2026-01-03/activity.csv', 'x\n');
      deps.store.put('sales-navigator/activity/contract=A/window=2026-01-03_2026-01-06/activity.csv', 'x\n');

      const after = await checkJob(input, deps);

      expect(after.next).toBe('DONE');
      expect(after.result).toEqual({ status: 'SPLIT', key: KEY });
      expect(after.halves).toBeUndefined();
      expect(deps.store.keys(RECORDS)).toHaveLength(2);
    });
  });
});

describe('recordFailure', () => {
  const recordKey = `${RECORDS}activity-A-2026-01-01_2026-01-06.json`;

  async function record(state: Partial<ItemStateInput>) {
    const deps = fakeDeps({ now: NOW });
    const after = await recordFailure(itemState({ jobIds: [JOB_ID, JOB_ID + 1], ...state }), deps);
    return { after, stored: deps.store.json<ItemRecord>(recordKey) };
  }

  it('writes the decided failure as a FAILED record', async () => {
    const failure = {
      name: 'ExportJobFailedError',
      message: 'job 1001 ended FAILED_DUE_TO_TIMED_OUT: still failing',
    };

    const { after, stored } = await record({ failure, next: 'FAIL' });

    expect(stored).toEqual({
      contract: A,
      dataset: 'activity',
      window: FIVE_DAYS,
      status: 'FAILED',
      key: KEY,
      error: failure,
      jobIds: [JOB_ID, JOB_ID + 1],
      attempts: 2,
      finishedAt: NOW,
    });
    expect(after.failure).toEqual(failure);
    expect(after.result).toEqual({ status: 'FAILED', key: KEY });
  });

  it('reads a caught Lambda error from the JSON Cause', async () => {
    const Cause = JSON.stringify({
      errorType: 'LinkedInAuthError',
      errorMessage: 'LinkedIn answered 401: the token is expired or revoked',
      trace: ['LinkedInAuthError: ...', '    at check (file:///var/task/index.mjs:1:1)'],
    });

    const { after, stored } = await record({ error: { Error: 'LinkedInAuthError', Cause } });

    const error = {
      name: 'LinkedInAuthError',
      message: 'LinkedIn answered 401: the token is expired or revoked',
    };
    expect(stored.error).toEqual(error);
    expect(after.failure).toEqual(error);
  });

  it('keeps a non-JSON Cause as it is, and falls back to the error name without one', async () => {
    const timeout = await record({
      error: { Error: 'States.Timeout', Cause: 'Task timed out after 120 seconds' },
    });
    const bare = await record({ error: { Error: 'States.TaskFailed' } });
    const none = await record({});

    expect(timeout.stored.error).toEqual({
      name: 'States.Timeout',
      message: 'Task timed out after 120 seconds',
    });
    expect(bare.stored.error).toEqual({ name: 'States.TaskFailed', message: 'States.TaskFailed' });
    expect(none.stored.error?.name).toBe('UnknownError');
  });

  it('records the planned window a split piece came from', async () => {
    const deps = fakeDeps({ now: NOW });
    const piece = { contract: A, dataset: 'activity' as const, start: '2026-01-05', end: '2026-01-06' };

    await recordFailure(
      itemState({ item: piece, depth: 2, splitFrom: FIVE_DAYS, failure: { name: 'X', message: 'm' } }),
      deps,
    );

    expect(deps.store.json<ItemRecord>(`${RECORDS}activity-A-2026-01-05_2026-01-06.json`)).toMatchObject({
      window: { start: '2026-01-05', end: '2026-01-06' },
      splitFrom: FIVE_DAYS,
      status: 'FAILED',
    });
  });
});

describe('copyToStore', () => {
  const CSV = 'activityId,activityType\n1,SAVED_LEAD\n2,"INMAIL\nSENT"\n';
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  async function serveCsv(): Promise<string> {
    server = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': Buffer.byteLength(CSV) });
      res.end(CSV);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/exports/1.csv?signature=secret`;
  }

  it('streams the download to the item key and records it as EXPORTED', async () => {
    const linkedin = new FakeLinkedIn();
    linkedin.setJob({ id: JOB_ID, status: 'COMPLETED', rowCount: 2, downloadUrl: await serveCsv() });
    const deps = fakeDeps({ now: NOW, linkedin, settings: { allowedDownloadHosts: ['127.0.0.1:*'] } });
    const input = itemState({
      jobIds: [JOB_ID],
      job: { id: JOB_ID, createdAt: NOW, polls: 3 },
      next: 'COPY',
      rowCount: 2,
    });

    const after = await copyToStore(input, deps);

    const bytes = Buffer.byteLength(CSV);
    expect(after.next).toBe('DONE');
    expect(after.result).toEqual({ status: 'EXPORTED', key: KEY, bytes, rows: 2 });
    const object = deps.store.objects.get(KEY);
    expect(object?.body.toString('utf8')).toBe(CSV);
    expect(object?.metadata).toMatchObject({ runid: 'run-1', jobid: String(JOB_ID), rowcount: '2' });
    expect(deps.store.json<ItemRecord>(`${RECORDS}activity-A-2026-01-01_2026-01-06.json`)).toEqual({
      contract: A,
      dataset: 'activity',
      window: FIVE_DAYS,
      status: 'EXPORTED',
      key: KEY,
      bytes,
      rows: 2,
      rowCount: 2,
      jobIds: [JOB_ID],
      attempts: 1,
      finishedAt: NOW,
    });
  });

  it('writes nothing when the copy fails, and needs a job', async () => {
    const { deps, input } = polling('FAILED_DUE_TO_INTERNAL_ERROR');

    await expect(copyToStore(input, deps)).rejects.toBeInstanceOf(ExportJobFailedError);
    await expect(copyToStore(itemState(), deps)).rejects.toBeInstanceOf(InvalidInputError);
    expect(deps.store.keys()).toEqual([]);
  });
});
