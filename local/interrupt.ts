// Ctrl-C for a local run: after the signal no LinkedIn call is made and every upload under way is cancelled.
import type { Readable } from 'node:stream';
import { NamedError } from '#common/errors';
import type { CrmValidationApi, LinkedInApi } from '#linkedin/api';
import type { Deps } from '#steps/deps';
import type { ObjectStore } from '#storage/store';

/** The run was stopped by the user (SIGINT/SIGTERM); what it was doing is abandoned, not failed. */
export class RunInterruptedError extends NamedError {
  constructor() {
    super('RunInterruptedError', 'the run was interrupted (Ctrl-C)');
  }
}

/**
 * `deps` for a run that `signal` can stop: once it fires, every LinkedIn call is refused (so no new
 * export job is created) and a call under way is abandoned at once; every upload under way has its
 * body destroyed, so the store removes its temp file and nothing partial reaches a final key. Writes
 * of records and manifests still go through: they record what really finished.
 */
export function interruptibleDeps(deps: Deps, signal: AbortSignal): Deps {
  return {
    ...deps,
    linkedin: interruptibleLinkedIn(deps.linkedin, signal),
    store: interruptibleStore(deps.store, signal),
  };
}

function interruptibleLinkedIn(
  api: LinkedInApi & Partial<CrmValidationApi>,
  signal: AbortSignal,
): LinkedInApi & Partial<CrmValidationApi> {
  const guard = <T>(call: () => Promise<T>): Promise<T> => {
    if (signal.aborted) return Promise.reject(new RunInterruptedError());
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new RunInterruptedError());
      signal.addEventListener('abort', onAbort, { once: true });
      call()
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  };
  const { createCrmValidationJob: createCrm, getCrmValidationJob: getCrm } = api;
  return {
    listContracts: () => guard(() => api.listContracts()),
    createExportJob: (...a) => guard(() => api.createExportJob(...a)),
    getExportJob: (...a) => guard(() => api.getExportJob(...a)),
    // The CRM data validation calls, when the API has them (LinkedInClient does).
    ...(createCrm &&
      getCrm && {
        createCrmValidationJob: (...a: Parameters<CrmValidationApi['createCrmValidationJob']>) =>
          guard(() => createCrm.apply(api, a)),
        getCrmValidationJob: (...a: Parameters<CrmValidationApi['getCrmValidationJob']>) =>
          guard(() => getCrm.apply(api, a)),
      }),
  };
}

function interruptibleStore(store: ObjectStore, signal: AbortSignal): ObjectStore {
  return {
    get location() {
      return store.location;
    },
    exists: (key) => store.exists(key),
    tagsOf: (key) => store.tagsOf(key),
    getJson: (key) => store.getJson(key),
    putJson: (key, value) => store.putJson(key, value),
    list: (prefix) => store.list(prefix),
    remove: (key) => store.remove(key),
    // Leases (item claims against an overlapping run) go through unchanged: releasing one after Ctrl-C
    // is what lets the next run take the item at once.
    ...(store.conditional && { conditional: store.conditional }),
    upload: async (key: string, body: Readable, options) => {
      if (signal.aborted) {
        body.destroy();
        throw new RunInterruptedError();
      }
      const onAbort = (): void => {
        body.destroy(new RunInterruptedError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await store.upload(key, body, options);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
