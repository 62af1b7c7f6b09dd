import { describe, expect, it } from 'vitest';
import { LinkedInThrottledError, LinkedInTransientError } from '#common/errors';
import type { Dataset } from '#common/model';
import type { ExportJob } from '#linkedin/api';
import { createJob } from '#steps/job';
import type { ItemState } from '#steps/state';
import { FakeLinkedIn, fakeDeps } from '#test/support/fake-linkedin';

/** A LinkedIn whose POSTs meet the scripted failures first (then create jobs as usual). */
class FlakyCreate extends FakeLinkedIn {
  posts = 0;
  constructor(private readonly failures: Error[]) {
    super();
  }
  override async createExportJob(
    dataset: Dataset,
    contract: string,
    startAt: number,
    endAt: number,
  ): Promise<ExportJob> {
    this.posts++;
    const failure = this.failures.shift();
    if (failure) throw failure;
    return super.createExportJob(dataset, contract, startAt, endAt);
  }
}

const noAnswer = () =>
  new LinkedInTransientError('POST /salesAnalyticsExportJobs: no answer within 30000 ms', {
    ambiguous: true,
  });
const refused = () =>
  new LinkedInTransientError('POST /salesAnalyticsExportJobs: network error (ECONNREFUSED)');
const state: ItemState = {
  runId: 'run-1',
  item: { contract: 'urn:li:contract:1', dataset: 'seat', start: '2026-10-01', end: '2026-10-02' },
  force: false,
  depth: 0,
  attempts: { dataDelay: 0, retry: 0 },
  jobIds: [],
};
const deps = (linkedin: FakeLinkedIn) => fakeDeps({ now: '2026-11-24T07:00:00Z', linkedin });

describe('CreateJob: a POST whose outcome is unknown', () => {
  it('is re-sent once, and the item carries ambiguousCreates: 1 (a job may exist that it cannot see)', async () => {
    const linkedin = new FlakyCreate([noAnswer()]);
    const next = await createJob(state, deps(linkedin));
    expect(linkedin.posts).toBe(2);
    expect(next.jobIds).toEqual([1000]);
    expect(next.ambiguousCreates).toBe(1);
  });

  it('fails the item with CreateJobAmbiguousError (never retried) after a second unknown outcome', async () => {
    const linkedin = new FlakyCreate([noAnswer(), noAnswer()]);
    const err = await createJob(state, deps(linkedin)).catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'CreateJobAmbiguousError',
      message: expect.stringContaining('up to 2 job(s)'),
    });
    expect(linkedin.posts).toBe(2);
  });

  it('sends no third POST when the re-sent one fails otherwise', async () => {
    const linkedin = new FlakyCreate([noAnswer(), new LinkedInThrottledError('429')]);
    await expect(createJob(state, deps(linkedin))).rejects.toMatchObject({ name: 'CreateJobAmbiguousError' });
    expect(linkedin.posts).toBe(2);
  });

  it('is not re-sent at all for an item that already had its one re-POST', async () => {
    const linkedin = new FlakyCreate([noAnswer()]);
    await expect(createJob({ ...state, ambiguousCreates: 1 }, deps(linkedin))).rejects.toMatchObject({
      name: 'CreateJobAmbiguousError',
    });
    expect(linkedin.posts).toBe(1);
  });

  it('a POST that certainly never left (connection refused) stays LinkedInTransientError for the state machine to retry', async () => {
    const linkedin = new FlakyCreate([refused()]);
    await expect(createJob(state, deps(linkedin))).rejects.toMatchObject({ name: 'LinkedInTransientError' });
    expect(linkedin.posts).toBe(1);
  });
});
