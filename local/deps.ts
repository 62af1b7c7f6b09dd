// The Deps of a local run: settings, the LinkedIn client with a fixed token, a local store.
import type { Settings } from '#common/settings';
import { LinkedInClient } from '#linkedin/client';
import { staticTokenProvider } from '#linkedin/token';
import type { Deps } from '#steps/deps';
import type { ObjectStore } from '#storage/store';

/** Dependencies of a local run: a LinkedIn API (the emulator or the real one) and a destination. */
export function localDeps(opts: {
  settings: Settings;
  token: string;
  store: ObjectStore;
  now?: () => Date;
}): Deps {
  const getToken = staticTokenProvider(opts.token);
  return {
    settings: opts.settings,
    store: opts.store,
    linkedin: new LinkedInClient({
      baseUrl: opts.settings.apiBaseUrl,
      getToken,
      maxRetryAfterSeconds: opts.settings.maxInProcessRetryAfterSeconds,
    }),
    now: opts.now ?? (() => new Date()),
    getToken,
  };
}
