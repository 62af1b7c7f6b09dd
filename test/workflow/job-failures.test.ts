import { describe, expect, it } from 'vitest';
import type { ExportItem } from '#common/model';
import { itemKey } from '#storage/keys';
import {
  CONTRACT_A,
  FROM,
  item,
  laneJobs,
  recordOf,
  TO,
  type WorkflowEnv,
  workflowEnvs,
} from '#test/support/workflow';

const start = workflowEnvs();

/** One contract, one dataset: the lane under test is the whole run. */
const ACTIVITY = item(CONTRACT_A, 'activity');
const INPUT = { contracts: [CONTRACT_A], datasets: ['activity'], from: FROM, to: TO };

/** The item's object holds exactly what the emulator serves for its window. */
async function expectExported(env: WorkflowEnv, it: ExportItem): Promise<void> {
  const stored = await env.destination.read(itemKey(it));
  expect(stored?.equals(env.expectedCsv(it)), `${itemKey(it)} holds the served bytes`).toBe(true);
}

/** dataDelay.maxRetries and jobRetry.maxRetries are both 2 in the test settings: 3 jobs at most. */
const LIMIT = 2;

describe.each([
  'FAILED_DUE_TO_DATA_DELAY',
  'FAILED_DUE_TO_TIMED_OUT',
  'FAILED_DUE_TO_INTERNAL_ERROR',
] as const)('jobs ending %s', (status) => {
  it.each([1, LIMIT])('are re-created %i time(s), then the item is EXPORTED', async (times) => {
    const env = await start({
      emulator: { scenarios: { [CONTRACT_A]: { activity: { failJob: { status, times } } } } },
    });
    const { result, manifest } = await env.run(INPUT, `run-${status}-${times}`);

    expect(result.status).toBe('SUCCEEDED');
    const jobs = laneJobs(env.emulator, CONTRACT_A, 'activity');
    expect(jobs.map((j) => j.status)).toEqual([...Array(times).fill(status), 'COMPLETED']);
    expect(recordOf(manifest, ACTIVITY)).toMatchObject({
      status: 'EXPORTED',
      attempts: times + 1,
      jobIds: jobs.map((j) => j.id),
      bytes: env.expectedCsv(ACTIVITY).length,
    });
    expect(recordOf(manifest, ACTIVITY).error).toBeUndefined();
    await expectExported(env, ACTIVITY);
  });

  it('beyond the retry limit leave the item FAILED with ExportJobFailedError and no object', async () => {
    const env = await start({
      emulator: { scenarios: { [CONTRACT_A]: { activity: { failJob: { status, times: LIMIT + 5 } } } } },
    });
    const { result, manifest } = await env.run(INPUT, `run-${status}-exhausted`);

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('RunIncompleteError');
    const jobs = laneJobs(env.emulator, CONTRACT_A, 'activity');
    expect(jobs).toHaveLength(LIMIT + 1);
    expect(jobs.every((j) => j.status === status)).toBe(true);
    const record = recordOf(manifest, ACTIVITY);
    expect(record).toMatchObject({
      status: 'FAILED',
      attempts: LIMIT + 1,
      jobIds: jobs.map((j) => j.id),
      error: { name: 'ExportJobFailedError' },
    });
    expect(record.error?.message).toContain(status);
    expect(record.bytes).toBeUndefined();
    expect(manifest?.summary).toMatchObject({ planned: 1, exported: 0, failed: 1 });
    expect(await env.destination.read(itemKey(ACTIVITY))).toBeUndefined();
  });
});

describe('jobs ending FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR', () => {
  it('split the window in halves, and halves again, until every piece fits', async () => {
    // Three days, at most one per file: [01,04) → [01,02) + [02,04) → [02,03) + [03,04).
    const env = await start({
      emulator: { scenarios: { [CONTRACT_A]: { activity: { maxDaysPerFile: 1 } } } },
    });
    const { result, manifest, events } = await env.run(INPUT, 'run-split');

    expect(result.status).toBe('SUCCEEDED');
    const pieces = [
      item(CONTRACT_A, 'activity', '2026-10-01', '2026-10-02'),
      item(CONTRACT_A, 'activity', '2026-10-02', '2026-10-03'),
      item(CONTRACT_A, 'activity', '2026-10-03', '2026-10-04'),
    ];
    expect(manifest?.items.map((r) => r.window)).toEqual(pieces.map((p) => ({ start: p.start, end: p.end })));
    expect(manifest?.summary).toMatchObject({ planned: 1, exported: 3, failed: 0 });

    const jobs = laneJobs(env.emulator, CONTRACT_A, 'activity');
    const window = (startDay: string, endDay: string) => ({
      startAt: Date.parse(`${startDay}T00:00:00Z`),
      endAt: Date.parse(`${endDay}T00:00:00Z`),
    });
    expect(jobs.map((j) => [j.window, j.status])).toEqual([
      [window('2026-10-01', '2026-10-04'), 'FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR'],
      [window('2026-10-01', '2026-10-02'), 'COMPLETED'],
      [window('2026-10-02', '2026-10-04'), 'FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR'],
      [window('2026-10-02', '2026-10-03'), 'COMPLETED'],
      [window('2026-10-03', '2026-10-04'), 'COMPLETED'],
    ]);
    expect(events.filter((e) => e.type === 'split').map((e) => (e.type === 'split' ? e.halves : 0))).toEqual([
      2, 2,
    ]);

    for (const piece of pieces) {
      const job = jobs.find(
        (j) =>
          j.window.startAt === Date.parse(`${piece.start}T00:00:00Z`) &&
          j.status === 'COMPLETED' &&
          j.window.endAt === Date.parse(`${piece.end}T00:00:00Z`),
      );
      expect(recordOf(manifest, piece)).toMatchObject({
        status: 'EXPORTED',
        key: itemKey(piece),
        splitFrom: { start: FROM, end: TO },
        bytes: env.expectedCsv(piece).length,
        jobIds: [job?.id],
      });
      await expectExported(env, piece);
    }
    // Only the pieces exist: the window LinkedIn found too large has no object of its own.
    expect((await env.destination.allKeys()).filter((k) => !k.startsWith('manifests/'))).toEqual(
      pieces.map(itemKey).sort(),
    );
  });
});
