import { describe, expect, it } from 'vitest';
import type { ScenarioKnobs } from '#local/emulator/scenarios';
import { itemKey } from '#storage/keys';
import {
  CONTRACT_A,
  DESTINATIONS,
  FROM,
  item,
  laneJobs,
  recordOf,
  TO,
  type WorkflowEnvOptions,
  workflowEnvs,
} from '#test/support/workflow';

const start = workflowEnvs();

const ACTIVITY = item(CONTRACT_A, 'activity');
const INPUT = { contracts: [CONTRACT_A], datasets: ['activity'], from: FROM, to: TO };
const JOBS_PATH = '/v2/salesAnalyticsExportJobs';

/** A run of the one-lane INPUT with `knobs` on that lane; the item must end EXPORTED from one job. */
async function runFaulty(runId: string, knobs: ScenarioKnobs, options: WorkflowEnvOptions = {}) {
  const env = await start({
    ...options,
    emulator: { ...options.emulator, scenarios: { [CONTRACT_A]: { activity: knobs } } },
  });
  const outcome = await env.run(INPUT, runId);

  expect(outcome.result.status).toBe('SUCCEEDED');
  const jobs = laneJobs(env.emulator, CONTRACT_A, 'activity');
  expect(jobs, 'no new job is created for a transient fault').toHaveLength(1);
  expect(recordOf(outcome.manifest, ACTIVITY)).toMatchObject({
    status: 'EXPORTED',
    attempts: 1,
    jobIds: [jobs[0]?.id],
    bytes: env.expectedCsv(ACTIVITY).length,
  });
  const stored = await env.destination.read(itemKey(ACTIVITY));
  expect(stored?.equals(env.expectedCsv(ACTIVITY)), 'the object holds the served bytes').toBe(true);
  const media = env.emulator.requests.filter((r) => r.path.startsWith(`/media/exports/${jobs[0]?.id}/`));
  const statuses = (path: string, method: string) =>
    env.emulator.requests.filter((r) => r.method === method && r.path.startsWith(path)).map((r) => r.status);
  return { env, ...outcome, media, statuses };
}

describe('an expired download URL', () => {
  it('is refreshed by re-reading the job, never by creating a new one', async () => {
    // CheckJob's read, CopyToS3's read and its early re-read all hand out expired URLs; the download
    // of the third is refused (403), and the re-read after that gives a live one.
    const { env, media, statuses } = await runFaulty('run-expired-url', { expiredUrls: 3 });

    expect(media.map((r) => r.status)).toEqual([403, 200]);
    const jobId = laneJobs(env.emulator, CONTRACT_A, 'activity')[0]?.id;
    expect(statuses(JOBS_PATH, 'POST')).toEqual([200]);
    // Polls while the job ran, then the four reads of the COMPLETED job.
    expect(statuses(`${JOBS_PATH}/${jobId}`, 'GET').slice(-4)).toEqual([200, 200, 200, 200]);
    expect(env.emulator.scenario(CONTRACT_A, 'activity').expiredUrls).toBe(0);
  });
});

describe('throttling and server errors', () => {
  it('a 429 with a short Retry-After is waited out in the client', async () => {
    const { statuses } = await runFaulty('run-429-short', { throttle: { times: 2, retryAfterSeconds: 0 } });

    expect(statuses(JOBS_PATH, 'POST')).toEqual([429, 429, 200]);
  });

  it('a 429 whose Retry-After outlasts the in-process limit is retried by the state machine', async () => {
    // The state machine waits 60 s before each retry: compress time further than usual.
    const { statuses, env } = await runFaulty(
      'run-429-long',
      { throttle: { times: 2, retryAfterSeconds: 120 } },
      { timeScale: 0.002 },
    );

    expect(env.settings.maxInProcessRetryAfterSeconds).toBeLessThan(120);
    expect(statuses(JOBS_PATH, 'POST')).toEqual([429, 429, 200]);
  });

  it.each([500, 503])('%i answers are retried by the state machine', async (status) => {
    const { statuses } = await runFaulty(`run-${status}`, { serverError: { times: 3, status } });

    expect(statuses(JOBS_PATH, 'POST')).toEqual([status, status, status, 200]);
  });
});

describe.each(DESTINATIONS)('a truncated download into %s', (destination) => {
  it('is retried, the object is whole, and no partial object is left', async () => {
    const { env, media } = await runFaulty('run-truncated', { truncateDownloads: 1 }, { destination });

    // The first download promised the whole Content-Length and broke off; the retry got it all.
    expect(media).toHaveLength(2);
    expect(media[0]?.status).toBe(200);
    expect(env.emulator.scenario(CONTRACT_A, 'activity').truncateDownloads).toBe(0);
    const keys = await env.destination.allKeys();
    expect(keys.filter((k) => k.endsWith('.partial'))).toEqual([]);
    expect(keys.filter((k) => !k.startsWith('manifests/'))).toEqual([itemKey(ACTIVITY)]);
  });
});
