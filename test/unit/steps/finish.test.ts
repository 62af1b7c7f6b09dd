import { describe, expect, it } from 'vitest';
import { ConfigurationError, RunIncompleteError } from '#common/errors';
import type { Dataset, ExportItem, ItemRecord } from '#common/model';
import { finishRun, type Manifest, recordsFor } from '#steps/finish';
import { itemKey } from '#storage/keys';
import { fakeDeps } from '#test/support/fake-linkedin';
import { seedFinishedRun } from '#test/support/finished-run';

const A = 'urn:li:salesContract:A';
const B = 'urn:li:salesContract:B';
const NOW = '2026-03-10T07:00:00.000Z';
const DONE_AT = '2026-03-10T06:30:00.000Z';
const DAY = { start: '2026-03-08', end: '2026-03-09' };
const FIVE_DAYS = { start: '2026-01-01', end: '2026-01-06' };

const planned = (dataset: Dataset, window = DAY, contract = A): ExportItem => ({
  contract,
  dataset,
  ...window,
});

/** An item record as a step writes it; `window` defaults to the item's. */
function rec(
  item: ExportItem,
  status: ItemRecord['status'],
  extra: Partial<ItemRecord> & { window?: { start: string; end: string } } = {},
): ItemRecord {
  const window = extra.window ?? { start: item.start, end: item.end };
  return {
    contract: item.contract,
    dataset: item.dataset,
    window,
    status,
    key: itemKey({ ...item, ...window }),
    jobIds: status === 'SKIPPED' ? [] : [1],
    attempts: status === 'SKIPPED' ? 0 : 1,
    finishedAt: DONE_AT,
    ...extra,
  };
}

function gap(
  item: ExportItem,
  window: { start: string; end: string },
  splitFrom?: typeof window,
): ItemRecord {
  return {
    contract: item.contract,
    dataset: item.dataset,
    window,
    status: 'FAILED',
    key: itemKey({ ...item, ...window }),
    jobIds: [],
    attempts: 0,
    error: {
      name: 'ItemNotRecorded',
      message:
        'no outcome was recorded for this window: its ExportJob execution stopped before recording one (see its execution history)',
    },
    ...(splitFrom && { splitFrom }),
    finishedAt: NOW,
  };
}

/** A store holding the plan of run-1 for `items`, and `records` where the steps write them. */
async function runWith(items: ExportItem[], records: ItemRecord[]) {
  const deps = fakeDeps({ now: NOW });
  const plan = await seedFinishedRun(deps.store, A, items, records);
  return { deps, plan };
}

describe('finishRun', () => {
  const items = [planned('seat'), planned('activity'), planned('activityOutcome')];

  it('writes the manifest with every item in plan order and a summary', async () => {
    const records = [
      rec(items[2] as ExportItem, 'EXPORTED', { bytes: 50, rows: 1 }),
      rec(items[0] as ExportItem, 'EXPORTED', { bytes: 100, rows: 3 }),
      rec(items[1] as ExportItem, 'SKIPPED'),
    ];
    const { deps, plan } = await runWith(items, records);

    const output = await finishRun({ runId: 'run-1' }, deps);

    const summary = { planned: 3, exported: 2, skipped: 1, failed: 0, bytes: 150, rows: 4 };
    expect(output).toEqual({ runId: 'run-1', manifestKey: 'manifests/run-1.json', summary });
    expect(deps.store.json<Manifest>('manifests/run-1.json')).toEqual({
      version: 1,
      runId: 'run-1',
      startedAt: plan.startedAt,
      finishedAt: NOW,
      window: plan.window,
      contracts: [A],
      datasets: ['seat', 'activity', 'activityOutcome'],
      force: false,
      summary,
      items: [records[1], records[2], records[0]],
    });
  });

  it('for an interrupted run lists items without a record as NOT_STARTED or INTERRUPTED, not FAILED', async () => {
    const exported = rec(items[0] as ExportItem, 'EXPORTED', { bytes: 10, rows: 1 });
    const { deps } = await runWith(items, [exported]);
    const jobs = new Map([['activity', [7]]]);

    const output = await finishRun({ runId: 'run-1' }, deps, {
      interrupted: { jobIdsOf: (item) => jobs.get(item.dataset) ?? [] },
    });

    expect(output.summary).toMatchObject({
      planned: 3,
      exported: 1,
      failed: 0,
      notStarted: 1,
      interrupted: 1,
    });
    const manifest = deps.store.json<Manifest>('manifests/run-1.json');
    expect(manifest.interrupted).toBe(true);
    expect(manifest.items.map((i) => [i.dataset, i.status, i.jobIds])).toEqual([
      ['seat', 'EXPORTED', [1]],
      ['activity', 'INTERRUPTED', [7]],
      ['activityOutcome', 'NOT_STARTED', []],
    ]);
  });

  it('lists a planned item without a record as FAILED, and throws RunIncompleteError after writing the manifest', async () => {
    const exported = rec(items[0] as ExportItem, 'EXPORTED', { bytes: 10, rows: 1 });
    const failed = rec(items[2] as ExportItem, 'FAILED', {
      error: { name: 'LinkedInAuthError', message: '401' },
    });
    const { deps } = await runWith(items, [exported, failed]);

    const error = await finishRun({ runId: 'run-1' }, deps).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(RunIncompleteError);
    expect((error as Error).message).toBe(
      '2 of 3 item(s) failed in run run-1; see manifests/run-1.json in memory://exports; window 2026-03-08 to 2026-03-09 (exclusive)',
    );
    const manifest = deps.store.json<Manifest>('manifests/run-1.json');
    expect(manifest.summary).toEqual({ planned: 3, exported: 1, skipped: 0, failed: 2, bytes: 10, rows: 1 });
    expect(manifest.items).toEqual([exported, gap(items[1] as ExportItem, DAY), failed]);
  });

  it('lists the pieces of a split window in order, filling a missing piece as FAILED', async () => {
    const item = planned('activity', FIVE_DAYS);
    const pieces = [
      rec(item, 'EXPORTED', {
        window: { start: '2026-01-04', end: '2026-01-06' },
        splitFrom: FIVE_DAYS,
        bytes: 7,
        rows: 2,
      }),
      rec(item, 'SKIPPED', { window: { start: '2026-01-01', end: '2026-01-03' }, splitFrom: FIVE_DAYS }),
    ];
    const { deps } = await runWith([item], pieces);

    await expect(finishRun({ runId: 'run-1' }, deps)).rejects.toThrow(RunIncompleteError);

    const manifest = deps.store.json<Manifest>('manifests/run-1.json');
    expect(manifest.items).toEqual([
      pieces[1],
      gap(item, { start: '2026-01-03', end: '2026-01-04' }, FIVE_DAYS),
      pieces[0],
    ]);
    expect(manifest.summary).toEqual({ planned: 1, exported: 1, skipped: 1, failed: 1, bytes: 7, rows: 2 });
  });

  it('needs the plan', async () => {
    const deps = fakeDeps({ now: NOW });
    await expect(finishRun({ runId: 'run-9' }, deps)).rejects.toThrow(
      new ConfigurationError('no plan for run run-9 at manifests/run-9/plan.json: PlanRun did not finish'),
    );
    expect(deps.store.keys()).toEqual([]);
  });
});

describe('recordsFor', () => {
  const item = planned('activity', FIVE_DAYS);

  it('takes only the records of this contract, dataset and planned window', () => {
    const own = rec(item, 'EXPORTED');
    const others = [
      rec(planned('activity', FIVE_DAYS, B), 'EXPORTED'),
      rec(planned('seat', FIVE_DAYS), 'EXPORTED'),
      rec(planned('activity', { start: '2026-01-06', end: '2026-01-08' }), 'EXPORTED'),
      // A piece of another planned window that happens to lie inside this one.
      rec(item, 'EXPORTED', {
        window: { start: '2026-01-02', end: '2026-01-03' },
        splitFrom: { start: '2025-12-01', end: '2026-01-06' },
      }),
    ];

    expect(recordsFor(item, [...others, own], NOW)).toEqual([own]);
  });

  it('fills the whole window with one FAILED entry (no splitFrom) when nothing was recorded', () => {
    expect(recordsFor(item, [], NOW)).toEqual([gap(item, FIVE_DAYS)]);
  });

  it('fills gaps at the start and the end of a split window', () => {
    const middle = rec(item, 'EXPORTED', {
      window: { start: '2026-01-02', end: '2026-01-04' },
      splitFrom: FIVE_DAYS,
    });

    expect(recordsFor(item, [middle], NOW)).toEqual([
      gap(item, { start: '2026-01-01', end: '2026-01-02' }, FIVE_DAYS),
      middle,
      gap(item, { start: '2026-01-04', end: '2026-01-06' }, FIVE_DAYS),
    ]);
  });

  it('lists a piece recorded twice once', () => {
    const first = rec(item, 'EXPORTED', {
      window: { start: '2026-01-01', end: '2026-01-03' },
      splitFrom: FIVE_DAYS,
    });
    const second = rec(item, 'EXPORTED', {
      window: { start: '2026-01-03', end: '2026-01-06' },
      splitFrom: FIVE_DAYS,
    });

    expect(recordsFor(item, [second, first, { ...first }], NOW)).toEqual([first, second]);
  });
});
