import type { LinkedInApi } from './linkedin-api.ts';
import type { Settings } from './settings.ts';
import type { ObjectStore } from './store.ts';

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
}
