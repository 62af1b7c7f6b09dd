// Coverage arithmetic of the lake: which UTC days a lane's window keys hold, the gaps, the windows to fill them.
import { addDays, daysBetween } from '#common/days';
import { DATA_PREFIX } from './keys.ts';

/** A half-open range of whole UTC days, `[start, end)`, as `YYYY-MM-DD`. */
export interface DayRange {
  start: string;
  end: string;
}

/** An export object found under a lane's prefix: its key and the window its name says it holds. */
export interface WindowObject extends DayRange {
  key: string;
}

const DAY = '(\\d{4}-\\d{2}-\\d{2})';
/** `sales-navigator/<dataset>/contract=<id>/window=<start>_<end>/<dataset>.csv` (keys.ts `itemKey`). */
const WINDOW_KEY = new RegExp(
  `^${DATA_PREFIX}/([A-Za-z]+)/contract=([A-Za-z0-9_-]+)/window=${DAY}_${DAY}/([A-Za-z]+)\\.csv$`,
);

function isRealDay(day: string): boolean {
  const d = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === day;
}

/**
 * The window an export key names, or undefined for any other key (a temp file, a sidecar, a key
 * whose dataset folder and file name disagree, a window that is empty or not real days).
 */
export function parseWindowKey(
  key: string,
): { dataset: string; contractId: string; start: string; end: string } | undefined {
  const match = WINDOW_KEY.exec(key);
  if (!match) return undefined;
  const [, dataset, contractId, start, end, file] = match as unknown as string[];
  if (dataset !== file || !isRealDay(start as string) || !isRealDay(end as string)) return undefined;
  if ((start as string) >= (end as string)) return undefined;
  return {
    dataset: dataset as string,
    contractId: contractId as string,
    start: start as string,
    end: end as string,
  };
}

/** The windows of the keys that name one, sorted by start (then end). */
export function windowObjects(keys: readonly string[]): WindowObject[] {
  const objects: WindowObject[] = [];
  for (const key of keys) {
    const parsed = parseWindowKey(key);
    if (parsed) objects.push({ key, start: parsed.start, end: parsed.end });
  }
  return objects.sort((a, b) => a.start.localeCompare(b.start) || a.end.localeCompare(b.end));
}

/** True when the two ranges share at least one day. */
export function overlaps(a: DayRange, b: DayRange): boolean {
  return a.start < b.end && b.start < a.end;
}

/** The union of ranges as disjoint, sorted ranges; adjacent ranges (`a.end === b.start`) are merged. */
export function unionOf(ranges: readonly DayRange[]): DayRange[] {
  const sorted = ranges
    .filter((r) => r.start < r.end)
    .map((r) => ({ start: r.start, end: r.end }))
    .sort((a, b) => a.start.localeCompare(b.start));
  const union: DayRange[] = [];
  for (const range of sorted) {
    const last = union.at(-1);
    if (last && range.start <= last.end) {
      if (range.end > last.end) last.end = range.end;
    } else union.push(range);
  }
  return union;
}

/** The parts of `range` that `covered` holds, clipped to `range`, disjoint and sorted. */
export function coveredWithin(range: DayRange, covered: readonly DayRange[]): DayRange[] {
  return unionOf(covered)
    .filter((r) => overlaps(r, range))
    .map((r) => ({
      start: r.start < range.start ? range.start : r.start,
      end: r.end > range.end ? range.end : r.end,
    }));
}

/** The parts of `range` none of `covered` holds, disjoint and sorted. */
export function gapsOf(range: DayRange, covered: readonly DayRange[]): DayRange[] {
  const gaps: DayRange[] = [];
  let cursor = range.start;
  for (const part of coveredWithin(range, covered)) {
    if (part.start > cursor) gaps.push({ start: cursor, end: part.start });
    cursor = part.end;
  }
  if (cursor < range.end) gaps.push({ start: cursor, end: range.end });
  return gaps;
}

/** Number of days in the ranges (meant for disjoint ranges, e.g. from `coveredWithin` or `gapsOf`). */
export function dayCount(ranges: readonly DayRange[]): number {
  return ranges.reduce((sum, r) => sum + daysBetween(r.start, r.end), 0);
}

/** Each range cut into consecutive day-aligned windows of at most `maxDays` days. */
export function windowsOf(ranges: readonly DayRange[], maxDays: number): DayRange[] {
  const windows: DayRange[] = [];
  for (const range of ranges) {
    for (let start = range.start; start < range.end; ) {
      const end = daysBetween(start, range.end) > maxDays ? addDays(start, maxDays) : range.end;
      windows.push({ start, end });
      start = end;
    }
  }
  return windows;
}
