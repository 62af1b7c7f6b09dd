// Coverage: whether an object already in the store counts as exported data for this run's source.
import type { ObjectStore } from '#storage/store';
import type { Deps } from './deps.ts';

/** Where exported data came from: LinkedIn itself, or the built-in emulator's made-up data. */
export type DataSource = 'linkedin' | 'emulator';

/** Object-metadata keys recording the source of an export (S3 `x-amz-meta-source`, `-apihost`). */
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

/**
 * True when `key` holds an export that counts as done for a run reading from `source`: an object
 * from the same source. Objects written before the source was recorded (no `source` metadata) are
 * LinkedIn data. So emulator data never stands in for a real export, nor real data for a demo.
 */
export async function isCovered(store: ObjectStore, key: string, source: DataSource): Promise<boolean> {
  const metadata = await store.metadataOf(key);
  if (metadata === undefined) return false;
  return (metadata[SOURCE_METADATA_KEY] ?? 'linkedin') === source;
}
