// `npm run export -- coverage`: which days the lake holds per contract and dataset, as a calendar and as JSON.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { mapLimit } from '#common/concurrency';
import { addDays, daysBetween } from '#common/days';
import { contractUrnId, DATASETS, type Dataset } from '#common/model';
import { coverageOf, type DataSource } from '#steps/coverage';
import { type DayRange, dayCount, parseWindowKey, type WindowObject } from '#storage/coverage';
import { DATA_PREFIX } from '#storage/keys';
import type { ObjectStore } from '#storage/store';
import { DestinationError, openDestination } from '../destination.ts';
import { FolderStore } from '../folder-store.ts';
import type { CoverageArgs } from './args.ts';
import { type CliIo, EXIT } from './types.ts';

/** One lane's coverage in the report. */
export interface LaneReport {
  /** Contract id as in the keys (`contract=<id>`). */
  contract: string;
  dataset: Dataset;
  days: number;
  coveredDays: number;
  covered: DayRange[];
  gaps: DayRange[];
  /** Objects in the range that do not count: another source's data. */
  foreignObjects: number;
}

/** `--json`: the whole report. Exit code 1 when `gapDays` > 0. */
export interface CoverageReport {
  location: string;
  source: DataSource;
  /** `[from, to)`; absent when the lake holds nothing and no range was asked. */
  range?: { from: string; to: string };
  lanes: LaneReport[];
  days: number;
  coveredDays: number;
  gapDays: number;
}

export const COVERED = '#';
export const GAP = '.';

/** Runs the report; returns the exit code (0 no gap, 1 gaps, 2 usage/configuration). */
export async function runCoverage(args: CoverageArgs, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const store = await openReadable(args.dest, env);
  const report = await coverageReport(store, args);
  if (args.json) io.out(JSON.stringify(report, null, 2));
  else for (const line of renderCalendar(report)) io.out(line);
  return report.gapDays > 0 ? EXIT.failed : EXIT.ok;
}

/** A folder must exist (the report never creates one); an S3 destination must be reachable. */
async function openReadable(dest: string, env: NodeJS.ProcessEnv): Promise<ObjectStore> {
  if (dest.startsWith('s3://')) return (await openDestination(dest, env)).store;
  const root = resolve(dest);
  const found = await stat(root).catch(() => undefined);
  if (!found?.isDirectory()) {
    throw new DestinationError(`--dest ${dest}: no such folder; give the folder a local run exported into`);
  }
  return new FolderStore(root);
}

/**
 * The report: one listing of the data prefix; lanes are the contracts found in the keys (and every
 * `--contract`) × the asked datasets; the default range runs from the first day any object holds to
 * the last. One metadata read per object in the range (the source rule, as PlanRun applies it).
 */
export async function coverageReport(
  store: ObjectStore,
  args: Pick<CoverageArgs, 'from' | 'to' | 'contracts' | 'datasets' | 'source'>,
): Promise<CoverageReport> {
  const byLane = new Map<string, WindowObject[]>();
  const contracts = new Set<string>();
  for (const key of await store.list(`${DATA_PREFIX}/`)) {
    const parsed = parseWindowKey(key);
    if (!parsed || !(DATASETS as readonly string[]).includes(parsed.dataset)) continue;
    contracts.add(parsed.contractId);
    const lane = `${parsed.contractId} ${parsed.dataset}`;
    byLane.set(lane, [...(byLane.get(lane) ?? []), { key, start: parsed.start, end: parsed.end }]);
  }
  const asked = args.contracts?.map((urn) => contractUrnId(urn) as string);
  const ids = asked ? [...new Set(asked)] : [...contracts].sort();
  const datasets = args.datasets ?? [...DATASETS];
  let range: { from: string; to: string } | undefined;
  if (args.from && args.to) range = { from: args.from, to: args.to };
  else {
    const all = [...byLane.values()].flat();
    if (all.length) {
      range = {
        from: all.reduce((m, o) => (o.start < m ? o.start : m), all[0]?.start as string),
        to: all.reduce((m, o) => (o.end > m ? o.end : m), all[0]?.end as string),
      };
    }
  }
  const lanes: LaneReport[] = [];
  if (range) {
    const span = { start: range.from, end: range.to };
    const pairs = ids.flatMap((contract) => datasets.map((dataset) => ({ contract, dataset })));
    const found = await mapLimit(pairs, 4, (p) =>
      coverageOf(store, byLane.get(`${p.contract} ${p.dataset}`) ?? [], span, args.source),
    );
    pairs.forEach((p, i) => {
      const c = found[i];
      if (!c) return;
      lanes.push({
        ...p,
        days: daysBetween(span.start, span.end),
        coveredDays: dayCount(c.covered),
        covered: c.covered,
        gaps: c.gaps,
        foreignObjects: c.foreign.length,
      });
    });
  }
  const days = lanes.reduce((s, l) => s + l.days, 0);
  const coveredDays = lanes.reduce((s, l) => s + l.coveredDays, 0);
  return {
    location: store.location,
    source: args.source,
    ...(range && { range }),
    lanes,
    days,
    coveredDays,
    gapDays: days - coveredDays,
  };
}

/** The calendar: per lane, one line per month and a character per day (`#` covered, `.` gap). */
export function renderCalendar(report: CoverageReport): string[] {
  const lines: string[] = [];
  if (!report.range) {
    lines.push(`Coverage of ${report.location}: no export objects found (source ${report.source}).`);
    return lines;
  }
  const { from, to } = report.range;
  lines.push(
    `Coverage of ${report.location}, [${from}, ${to}) (${daysBetween(from, to)} days, source ${report.source})`,
  );
  lines.push(
    `legend: ${COVERED} covered  ${GAP} gap  (blank: outside the range)   day 1 is the first column`,
  );
  for (const lane of report.lanes) {
    lines.push('');
    lines.push(
      `contract=${lane.contract} ${lane.dataset}: ${lane.coveredDays}/${lane.days} days covered` +
        (lane.foreignObjects ? `, ${lane.foreignObjects} object(s) of another source not counted` : ''),
    );
    for (let month = `${from.slice(0, 7)}-01`; month < to; month = nextMonth(month)) {
      const end = nextMonth(month);
      let row = '';
      for (let d = month; d < end; d = addDays(d, 1)) {
        row +=
          d < from || d >= to ? ' ' : lane.covered.some((c) => c.start <= d && d < c.end) ? COVERED : GAP;
      }
      lines.push(`  ${month.slice(0, 7)} ${row.trimEnd()}`);
    }
    for (const gap of lane.gaps) {
      lines.push(`  gap [${gap.start}, ${gap.end}) ${daysBetween(gap.start, gap.end)} day(s)`);
    }
  }
  lines.push('');
  lines.push(
    report.gapDays
      ? `${report.gapDays} of ${report.days} lane-days missing: fill them with a run over the gaps (exit 1)`
      : `complete: every day of the range is covered in ${report.lanes.length} lane(s)`,
  );
  return lines;
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}
