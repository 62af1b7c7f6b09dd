import type { Deps } from '#shared/deps';
import { LinkedInClient } from '#shared/linkedin';
import type { Settings } from '#shared/settings';
import type { ObjectStore } from '#shared/store';
import { staticTokenProvider } from '#shared/token';

/** Dependencies of a local run: a LinkedIn API (the emulator or the real one) and a destination. */
export function localDeps(opts: {
  settings: Settings;
  token: string;
  store: ObjectStore;
  now?: () => Date;
}): Deps {
  return {
    settings: opts.settings,
    store: opts.store,
    linkedin: new LinkedInClient({
      baseUrl: opts.settings.apiBaseUrl,
      getToken: staticTokenProvider(opts.token),
      maxRetryAfterSeconds: opts.settings.maxInProcessRetryAfterSeconds,
    }),
    now: opts.now ?? (() => new Date()),
  };
}
