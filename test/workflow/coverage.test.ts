import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addDays, utcDay } from '#common/days';
import { DATASETS } from '#common/model';
import { itemKey } from '#storage/keys';
import {
  CONTRACT_A,
  CONTRACT_B,
  DESTINATIONS,
  item,
  laneJobs,
  REPORTABLE,
  workflowEnvs,
} from '#test/support/workflow';

const start = workflowEnvs();

/** The default lag (1 day) and look-back (7 days): the scheduled `{}` run covers [today-8, today-1). */
const today = () => utcDay(new Date());
const dailyRange = () => ({ from: addDays(today(), -8), to: addDays(today(), -1) });
const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
const dataKeys = async (keys: Promise<string[]>) => (await keys).filter((k) => !k.startsWith('manifests/'));

describe.each(DESTINATIONS)('coverage-aware runs into %s', (destination) => {
  it('a daily run after a backfill re-exports nothing: the backfill’s windows cover its look-back', async () => {
    const env = await start({ destination });
    const backfill = { from: addDays(today(), -40), to: addDays(today(), -1) };
    const first = await env.run(backfill, 'run-backfill');
    expect(first.result.status).toBe('SUCCEEDED');
    const jobsAfterBackfill = env.emulator.jobs().length;
    expect(jobsAfterBackfill).toBe(REPORTABLE.length * DATASETS.length);
    const keysAfterBackfill = await dataKeys(env.destination.allKeys());

    const daily = await env.run({}, 'run-daily');

    expect(daily.result.status).toBe('SUCCEEDED');
    expect(daily.manifest?.window).toEqual(dailyRange());
    expect(env.emulator.jobs()).toHaveLength(jobsAfterBackfill); // no LinkedIn job at all
    expect(daily.manifest?.summary).toMatchObject({ planned: 6, exported: 0, skipped: 6, failed: 0 });
    // The SKIPPED items are the backfill's own objects; the manifest says all 7 days were covered.
    expect(daily.manifest?.items.map((r) => r.key).sort()).toEqual(keysAfterBackfill);
    expect(daily.manifest?.coverage).toEqual(
      REPORTABLE.flatMap((contract) =>
        DATASETS.map((dataset) => ({ contract, dataset, days: 7, coveredDays: 7, exportDays: 0 })),
      ),
    );
    expect(await dataKeys(env.destination.allKeys())).toEqual(keysAfterBackfill);
  });
});

describe('the scheduled run heals holes', () => {
  it('refills only a deleted file, and never re-creates a once-split window whole', async () => {
    // CONTRACT_A's activity files hold at most 2 days: its 7-day window is split on the first run.
    const env = await start({
      emulator: { scenarios: { [CONTRACT_A]: { activity: { maxDaysPerFile: 2 } } } },
    });
    const range = dailyRange();
    const first = await env.run({}, 'run-1');
    expect(first.result.status).toBe('SUCCEEDED');
    expect(first.manifest?.window).toEqual(range);
    const split = laneJobs(env.emulator, CONTRACT_A, 'activity');
    expect(split.filter((j) => j.status === 'FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR').length).toBeGreaterThan(
      0,
    );
    const pieces = (first.manifest?.items ?? [])
      .filter((r) => r.contract === CONTRACT_A && r.dataset === 'activity')
      .map((r) => r.window);
    expect(pieces.length).toBeGreaterThan(1);
    const jobsAfterFirst = env.emulator.jobs().length;

    // Nothing missing: the next run creates no job, the split window is not tried whole again.
    const second = await env.run({}, 'run-2');
    expect(second.result.status).toBe('SUCCEEDED');
    expect(env.emulator.jobs()).toHaveLength(jobsAfterFirst);
    expect(second.manifest?.summary).toMatchObject({ exported: 0, skipped: 5 + pieces.length });

    // A hole: one piece of the split lane, and the whole window of another lane (its metadata too).
    const hole = pieces[1] as { start: string; end: string };
    const holeItem = item(CONTRACT_A, 'activity', hole.start, hole.end);
    const other = item(CONTRACT_B, 'seat', range.from, range.to);
    for (const it of [holeItem, other]) {
      const path = join(env.destination.store.location, itemKey(it));
      await rm(path);
      await rm(join(path, '..', `.${it.dataset}.csv.metadata.json`), { force: true });
    }

    const third = await env.run({}, 'run-3');

    expect(third.result.status).toBe('SUCCEEDED');
    const newJobs = env.emulator.jobs().slice(jobsAfterFirst);
    expect(newJobs.map((j) => [j.contract, j.dataset, j.window, j.status]).sort()).toEqual(
      [
        [CONTRACT_A, 'activity', { startAt: day(hole.start), endAt: day(hole.end) }, 'COMPLETED'],
        [CONTRACT_B, 'seat', { startAt: day(range.from), endAt: day(range.to) }, 'COMPLETED'],
      ].sort(),
    );
    for (const it of [holeItem, other]) {
      expect((await env.destination.read(itemKey(it)))?.equals(env.expectedCsv(it))).toBe(true);
    }
    expect(third.manifest?.summary).toMatchObject({ exported: 2, failed: 0 });
    expect(third.manifest?.coverage).toContainEqual({
      contract: CONTRACT_A,
      dataset: 'activity',
      days: 7,
      coveredDays: 7 - (day(hole.end) - day(hole.start)) / 86_400_000,
      exportDays: (day(hole.end) - day(hole.start)) / 86_400_000,
    });
  });

  it('counts empty exports (0-byte objects) and objects without source metadata as coverage', async () => {
    const env = await start({
      emulator: { scenarios: { [CONTRACT_A]: { seat: { emptyExport: true } } } },
    });
    const first = await env.run({}, 'run-1');
    expect(first.result.status).toBe('SUCCEEDED');
    const range = dailyRange();
    const empty = item(CONTRACT_A, 'seat', range.from, range.to);
    expect((await env.destination.read(itemKey(empty)))?.length).toBe(0);
    // An object as an earlier version wrote it: no metadata sidecar at all.
    const legacy = item(CONTRACT_B, 'activity', range.from, range.to);
    await rm(join(env.destination.store.location, itemKey(legacy), '..', '.activity.csv.metadata.json'));
    const jobs = env.emulator.jobs().length;

    const second = await env.run({}, 'run-2');

    expect(second.result.status).toBe('SUCCEEDED');
    expect(env.emulator.jobs()).toHaveLength(jobs);
    expect(second.manifest?.summary).toMatchObject({ exported: 0, skipped: 6 });
  });
});

describe.each(DESTINATIONS)('force over differently-cut objects in %s', (destination) => {
  it('re-exports the range, then removes the objects it superseded; one reaching outside stays', async () => {
    const env = await start({ destination });
    const lane = { contracts: [CONTRACT_A], datasets: ['seat'] };
    for (const [from, to] of [
      ['2026-10-01', '2026-10-02'],
      ['2026-10-02', '2026-10-03'],
      ['2026-10-03', '2026-10-05'],
    ]) {
      expect((await env.run({ ...lane, from, to }, `run-${from}`)).result.status).toBe('SUCCEEDED');
    }
    const jobs = env.emulator.jobs().length;

    const forced = await env.run({ ...lane, from: '2026-10-01', to: '2026-10-04', force: true }, 'run-force');

    expect(forced.result.status).toBe('SUCCEEDED');
    const fresh = item(CONTRACT_A, 'seat', '2026-10-01', '2026-10-03');
    const outside = item(CONTRACT_A, 'seat', '2026-10-03', '2026-10-05');
    // One new job, for the days no object reaching outside the range holds.
    expect(
      env.emulator
        .jobs()
        .slice(jobs)
        .map((j) => j.window),
    ).toEqual([{ startAt: day(fresh.start), endAt: day(fresh.end) }]);
    expect(forced.manifest?.superseded).toEqual({
      removed: [
        itemKey(item(CONTRACT_A, 'seat', '2026-10-01', '2026-10-02')),
        itemKey(item(CONTRACT_A, 'seat', '2026-10-02', '2026-10-03')),
      ],
      kept: [],
    });
    // The live layout: every day once.
    expect(await dataKeys(env.destination.allKeys())).toEqual([itemKey(fresh), itemKey(outside)]);
    expect((await env.destination.read(itemKey(fresh)))?.equals(env.expectedCsv(fresh))).toBe(true);
  });

  it('keeps a superseded object when the new export of its days failed: no day goes missing', async () => {
    const env = await start({ destination });
    const lane = { contracts: [CONTRACT_A], datasets: ['seat'] };
    await env.run({ ...lane, from: '2026-10-01', to: '2026-10-02' }, 'run-1');
    await env.run({ ...lane, from: '2026-10-02', to: '2026-10-03' }, 'run-2');
    env.emulator.setScenario(CONTRACT_A, 'seat', {
      failJob: { status: 'FAILED_DUE_TO_INTERNAL_ERROR', times: 10 },
    });

    const forced = await env.run({ ...lane, from: '2026-10-01', to: '2026-10-03', force: true }, 'run-force');

    expect(forced.result.status).toBe('FAILED');
    expect(forced.manifest?.superseded?.removed).toEqual([]);
    expect(await dataKeys(env.destination.allKeys())).toEqual([
      itemKey(item(CONTRACT_A, 'seat', '2026-10-01', '2026-10-02')),
      itemKey(item(CONTRACT_A, 'seat', '2026-10-02', '2026-10-03')),
    ]);
  });
});
