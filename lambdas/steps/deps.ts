// What a step may use (the Deps port): settings, LinkedIn, the store, the clock.
import type { Settings } from '#common/settings';
import type { LinkedInApi } from '#linkedin/api';
import type { LakeCatalog } from '#storage/lake-catalog';
import type { ObjectStore } from '#storage/store';

/**
 * Everything a core function needs from the outside world. AWS handlers build it from the
 * environment (Secrets Manager token, S3 bucket); the local runner builds it from the emulator
 * and a folder or S3 endpoint. Core functions never read `process.env` themselves.
 */
export interface Deps {
  settings: Settings;
  linkedin: LinkedInApi;
  store: ObjectStore;
  now: () => Date;
  /** The Glue tables FinishRun registers the run's objects in; absent (local runs, `lake: false`): none. */
  lake?: LakeCatalog;
  /** Where the data comes from; absent means LinkedIn (AWS). The local demo sets `emulator`. */
  source?: 'linkedin' | 'emulator';
  /**
   * The LinkedIn access token, for the one case a download host may want it (a 401 to a fresh URL
   * from an https LinkedIn host). Absent: such a download fails with DownloadAuthError.
   */
  getToken?: () => Promise<string>;
  /**
   * Whether the run `runId` has ended: its ExportRun execution is no longer RUNNING (CreateJob on AWS,
   * from Step Functions). A lease such a run left (stopped by hand before FinishRun released it) is
   * then taken over at once. Absent (local runs, which a destination lock keeps apart), or false when
   * it cannot tell: a lease holds until it expires.
   */
  isRunOver?: (runId: string) => Promise<boolean>;
}
