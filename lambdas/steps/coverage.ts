// Coverage: whether an object already in the store counts as exported data for this run's source.
import { mapLimit } from '#common/concurrency';
import {
  coveredWithin,
  type DayRange,
  gapsOf,
  overlaps,
  type WindowObject,
  windowObjects,
} from '#storage/coverage';
import { lanePrefix } from '#storage/keys';
import type { ObjectStore } from '#storage/store';
import type { Deps } from './deps.ts';

/** Where exported data came from: LinkedIn itself, or the built-in emulator's made-up data. */
export type DataSource = 'linkedin' | 'emulator';

/**
 * Keys recording the source of an export as object metadata (S3 `x-amz-meta-source`, `-apihost`,
 * for people and tools reading the object); `source` is also an object tag, which coverage reads:
 * S3 lets a function read an object's tags (s3:GetObjectTagging) without reading its content.
 */
export const SOURCE_METADATA_KEY = 'source';
export const API_HOST_METADATA_KEY = 'apihost';

/** The run's data source (`Deps.source`; LinkedIn unless the local runner says otherwise). */
export function sourceOf(deps: Pick<Deps, 'source'>): DataSource {
  return deps.source ?? 'linkedin';
}

/** Host of the LinkedIn API the run talks to, e.g. `api.linkedin.com` or `127.0.0.1:4010`. */
export function apiHostOf(deps: Pick<Deps, 'settings'>): string {
  return new URL(deps.settings.apiBaseUrl).host;
}

/** The metadata every exported object carries about where its data came from. */
export function sourceMetadata(deps: Pick<Deps, 'source' | 'settings'>): Record<string, string> {
  return { [SOURCE_METADATA_KEY]: sourceOf(deps), [API_HOST_METADATA_KEY]: apiHostOf(deps) };
}

/** The tag every exported object carries: its source, which coverage reads (one tag: S3 bills per tag). */
export function sourceTags(deps: Pick<Deps, 'source'>): Record<string, string> {
  return { [SOURCE_METADATA_KEY]: sourceOf(deps) };
}

/** Whether an object's tags say it holds data from `source` (untagged objects are LinkedIn's). */
function isFromSource(tags: Record<string, string>, source: DataSource): boolean {
  return (tags[SOURCE_METADATA_KEY] ?? 'linkedin') === source;
}

/**
 * True when `key` holds an export that counts as done for a run reading from `source`: an object
 * from the same source, by its `source` tag. Objects without one (written before the source was
 * recorded, or before it was a tag) are LinkedIn data. So emulator data never stands in for a real
 * export, nor real data for a demo.
 */
export async function isCovered(store: ObjectStore, key: string, source: DataSource): Promise<boolean> {
  const tags = await store.tagsOf(key);
  return tags !== undefined && isFromSource(tags, source);
}

/** What a lane's existing objects hold of a range, for a run reading from one source. */
export interface LaneCoverage {
  /** Objects of this source whose window shares a day with the range, sorted by window. */
  objects: WindowObject[];
  /** Objects sharing a day with the range that do not count (another source's data). */
  foreign: WindowObject[];
  /** The days of the range those objects hold, disjoint and sorted. */
  covered: DayRange[];
  /** The days of the range no object holds. */
  gaps: DayRange[];
}

/** Tag reads at once while computing coverage (one per object overlapping the range, at most). */
export const COVERAGE_METADATA_CONCURRENCY = 16;

/**
 * The coverage of `range` for one lane: one listing of the lane's prefix, then one tag read per
 * object whose window overlaps the range (objects of another source do not count; objects without
 * a source tag are LinkedIn's). Objects of any window count: a backfill's 90-day
 * window, the halves of a split window, yesterday's daily file, a 0-byte empty export.
 */
export async function laneCoverage(
  store: ObjectStore,
  lane: { contract: string; dataset: string },
  range: DayRange,
  source: DataSource,
): Promise<LaneCoverage> {
  const keys = await store.list(lanePrefix(lane.dataset, lane.contract));
  return coverageOf(store, windowObjects(keys), range, source);
}

/**
 * The coverage of `range` by `objects` (one lane's, e.g. from `windowObjects`): one tag read per
 * object overlapping the range, at most COVERAGE_METADATA_CONCURRENCY at once.
 */
export async function coverageOf(
  store: ObjectStore,
  objects: readonly WindowObject[],
  range: DayRange,
  source: DataSource,
): Promise<LaneCoverage> {
  const candidates = objects.filter((object) => overlaps(object, range));
  const counts = await mapLimit(candidates, COVERAGE_METADATA_CONCURRENCY, async (object) => {
    const tags = await store.tagsOf(object.key);
    return tags !== undefined && isFromSource(tags, source);
  });
  const counted = candidates.filter((_, i) => counts[i]);
  const foreign = candidates.filter((_, i) => !counts[i]);
  return {
    objects: counted,
    foreign,
    covered: coveredWithin(range, counted),
    gaps: gapsOf(range, counted),
  };
}
