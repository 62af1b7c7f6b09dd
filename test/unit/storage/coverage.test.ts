import { describe, expect, it } from 'vitest';
import {
  coveredWithin,
  dayCount,
  gapsOf,
  parseWindowKey,
  unionOf,
  windowObjects,
  windowsOf,
} from '#storage/coverage';
import { itemKey } from '#storage/keys';

const r = (start: string, end: string) => ({ start, end });
const key = (start: string, end: string, dataset = 'activity') =>
  itemKey({ contract: 'urn:li:contract:42', dataset: dataset as 'activity', start, end });

describe('parseWindowKey', () => {
  it('reads the window of an export key of either dataset', () => {
    expect(parseWindowKey(key('2026-01-01', '2026-04-01'))).toEqual({
      dataset: 'activity',
      contractId: '42',
      start: '2026-01-01',
      end: '2026-04-01',
    });
    expect(parseWindowKey(key('2024-02-28', '2024-03-01', 'activityOutcome'))?.dataset).toBe(
      'activityOutcome',
    );
  });

  it.each([
    ['a temp file', `${key('2026-01-01', '2026-01-02')}.partial`],
    [
      'a metadata sidecar',
      'sales-navigator/activity/contract=42/window=2026-01-01_2026-01-02/.activity.csv.metadata.json',
    ],
    ['a manifest', 'manifests/run-1.json'],
    ['an empty window', key('2026-01-02', '2026-01-02')],
    ['a reversed window', key('2026-01-03', '2026-01-02')],
    ['a day that does not exist', key('2025-02-28', '2025-02-29')],
    [
      'a file of another dataset',
      'sales-navigator/activity/contract=42/window=2026-01-01_2026-01-02/seat.csv',
    ],
  ])('ignores %s', (_, k) => {
    expect(parseWindowKey(k)).toBeUndefined();
  });

  it('accepts 29 February of a leap year', () => {
    expect(parseWindowKey(key('2024-02-29', '2024-03-01'))).toMatchObject({ start: '2024-02-29' });
  });

  it('windowObjects keeps export keys only, sorted by window', () => {
    const keys = [key('2026-02-01', '2026-02-02'), 'manifests/x.json', key('2026-01-01', '2026-02-01')];
    expect(windowObjects(keys).map((o) => [o.start, o.end])).toEqual([
      ['2026-01-01', '2026-02-01'],
      ['2026-02-01', '2026-02-02'],
    ]);
  });
});

describe('union, coverage and gaps', () => {
  const range = r('2026-01-01', '2026-01-31');

  it('merges adjacent windows into one run of days', () => {
    expect(unionOf([r('2026-01-05', '2026-01-10'), r('2026-01-01', '2026-01-05')])).toEqual([
      r('2026-01-01', '2026-01-10'),
    ]);
  });

  it('merges overlapping windows and swallows nested ones', () => {
    const windows = [
      r('2026-01-01', '2026-01-20'),
      r('2026-01-03', '2026-01-04'),
      r('2026-01-15', '2026-01-25'),
    ];
    expect(unionOf(windows)).toEqual([r('2026-01-01', '2026-01-25')]);
    expect(dayCount(coveredWithin(range, windows))).toBe(24);
    expect(gapsOf(range, windows)).toEqual([r('2026-01-25', '2026-01-31')]);
  });

  it('the halves of a split window cover it exactly as the whole would', () => {
    const halves = [
      r('2026-01-01', '2026-01-02'),
      r('2026-01-02', '2026-01-03'),
      r('2026-01-03', '2026-01-04'),
    ];
    expect(gapsOf(r('2026-01-01', '2026-01-04'), halves)).toEqual([]);
    expect(gapsOf(r('2026-01-01', '2026-01-05'), halves)).toEqual([r('2026-01-04', '2026-01-05')]);
  });

  it('finds holes between windows, at both ends, and clips windows reaching outside the range', () => {
    const windows = [
      r('2025-12-01', '2026-01-03'),
      r('2026-01-10', '2026-01-11'),
      r('2026-01-30', '2026-03-01'),
    ];
    expect(gapsOf(range, windows)).toEqual([r('2026-01-03', '2026-01-10'), r('2026-01-11', '2026-01-30')]);
    expect(coveredWithin(range, windows)).toEqual([
      r('2026-01-01', '2026-01-03'),
      r('2026-01-10', '2026-01-11'),
      r('2026-01-30', '2026-01-31'),
    ]);
    expect(gapsOf(range, [])).toEqual([range]);
    expect(gapsOf(range, [r('2025-01-01', '2025-02-01')])).toEqual([range]);
  });

  it('counts 29 February as a day of a leap year', () => {
    const feb = r('2024-02-01', '2024-03-01');
    expect(dayCount([feb])).toBe(29);
    expect(gapsOf(feb, [r('2024-02-01', '2024-02-29')])).toEqual([r('2024-02-29', '2024-03-01')]);
    expect(dayCount([r('2023-02-01', '2023-03-01')])).toBe(28);
  });
});

describe('windowsOf', () => {
  it('cuts each gap into day-aligned windows of at most 90 days, never across a gap', () => {
    const gaps = [r('2025-01-01', '2025-07-01'), r('2025-08-01', '2025-08-03')];
    expect(windowsOf(gaps, 90)).toEqual([
      r('2025-01-01', '2025-04-01'), // 90 days
      r('2025-04-01', '2025-06-30'), // 90 days
      r('2025-06-30', '2025-07-01'),
      r('2025-08-01', '2025-08-03'),
    ]);
  });

  it('crosses a leap day and a year boundary in 90-day steps', () => {
    const windows = windowsOf([r('2023-12-15', '2024-06-01')], 90);
    expect(windows[0]).toEqual(r('2023-12-15', '2024-03-14'));
    expect(windows.map((w) => dayCount([w]))).toEqual([90, 79]);
  });

  it('a range of exactly 90 days stays one window; 91 days become 90 + 1', () => {
    expect(windowsOf([r('2026-01-01', '2026-04-01')], 90)).toHaveLength(1);
    expect(windowsOf([r('2026-01-01', '2026-04-02')], 90)).toEqual([
      r('2026-01-01', '2026-04-01'),
      r('2026-04-01', '2026-04-02'),
    ]);
  });
});
