// Steps of one CRM data validation export: plan, create, check, copy each part, commit the cursor, record a failure.

import { CRM_DATASET, type CrmCursor, CrmCursorSchema, type CrmItem, type CrmItemRecord } from '#common/crm';
import { addDays, dayToMs, utcDay } from '#common/days';
import {
  ConfigurationError,
  caughtErrorInfo,
  ExportJobFailedError,
  errorInfo,
  InvalidInputError,
  LinkedInRequestError,
  LinkedInResponseError,
  PollDeadlineExceededError,
} from '#common/errors';
import { logger } from '#common/powertools';
import type { CrmValidationJob } from '#linkedin/api';
import { crmCursorKey, crmExportMarkerKey, crmItemRecordKey, crmPartKey } from '#storage/crm-keys';
import type { Deps } from '../deps.ts';
import { copyCrmPartToStore } from './copy.ts';
import { crmApi } from './crm-api.ts';
import { crmJobRetryDelaySeconds, crmPollDelaySeconds, nextCrmPollWait } from './poll-policy.ts';
import { type CrmState, MAX_CRM_PARTS } from './state.ts';

/** The statuses LinkedIn's seed spec lists for a CRM job (LinkedIn's own table could not be read). */
export const CRM_JOB_STATUSES = ['PROCESSING', 'COMPLETED', 'FAILED_DUE_TO_INTERNAL_ERROR'] as const;

/**
 * The CRM items of a run: one per instance (the execution input's, else the configured ones), each
 * starting at its cursor, or for an instance never exported at UTC midnight `firstExportDays` before
 * the run's day (so every attempt of a first export that day asks for the same range). A cursor
 * object that does not parse is refused by name (it would otherwise restart the instance from scratch).
 */
export async function planCrmItems(
  instances: readonly string[],
  startedAt: Date,
  deps: Pick<Deps, 'store' | 'settings'>,
): Promise<CrmItem[]> {
  const items: CrmItem[] = [];
  for (const crmInstance of [...new Set(instances)]) {
    const cursor = await readCursor(crmInstance, deps);
    const startAt =
      cursor?.nextExportStartAt ?? dayToMs(addDays(utcDay(startedAt), -deps.settings.crm.firstExportDays));
    items.push({ crmInstance, startAt });
  }
  return items;
}

/** The instance's cursor, or undefined before its first complete export. */
export async function readCursor(
  crmInstance: string,
  deps: Pick<Deps, 'store'>,
): Promise<CrmCursor | undefined> {
  const key = crmCursorKey(crmInstance);
  const json = await deps.store.getJson(key);
  if (json === undefined) return undefined;
  const parsed = CrmCursorSchema.safeParse(json);
  if (!parsed.success || parsed.data.crmInstance !== crmInstance) {
    throw new ConfigurationError(
      `the CRM cursor at ${key} in ${deps.store.location} is not a valid cursor for ${crmInstance}: ` +
        'restore it from a previous version of the object (the bucket is versioned), or delete it to start again from settings.crm.firstExportDays',
    );
  }
  return parsed.data;
}

/** CreateCrmJob: a new export of the instance's stale records since the item's start. */
export async function createCrmJob(state: CrmState, deps: Deps): Promise<CrmState> {
  const { id } = await crmApi(deps).createCrmValidationJob(state.item.crmInstance, state.item.startAt);
  return {
    ...clearStep(state),
    job: { id, createdAt: deps.now().toISOString(), polls: 0 },
    jobIds: [...state.jobIds, id],
    export: undefined,
    copied: [],
    status: 'PROCESSING',
    waitSeconds: crmPollDelaySeconds(0, deps.settings.crm.poll),
  };
}

/** CheckCrmJob: reads the job and decides: poll again, copy its parts, commit an empty export, re-create, or fail. */
export async function checkCrmJob(state: CrmState, deps: Deps): Promise<CrmState> {
  const polled = state.job;
  if (!polled)
    throw new InvalidInputError('CheckCrmJob needs a job: the state has none (CreateCrmJob did not run)');
  const { crm } = deps.settings;
  const job = await readJob(state, deps);
  const base = { ...clearStep(state), status: job.status };
  const elapsed = (deps.now().getTime() - Date.parse(polled.createdAt)) / 1000;

  switch (job.status) {
    case 'COMPLETED':
      return completed(base, job);
    case 'FAILED_DUE_TO_INTERNAL_ERROR': {
      if (state.attempts.retry >= crm.jobRetry.maxRetries) {
        return fail(
          base,
          new ExportJobFailedError(
            `CRM job ${job.id} ended ${job.status}: still failing after ${crm.jobRetry.maxRetries} new job(s); the cursor is kept`,
          ),
        );
      }
      return {
        ...base,
        job: undefined,
        attempts: { retry: state.attempts.retry + 1 },
        next: 'RECREATE',
        waitSeconds: crmJobRetryDelaySeconds(state.attempts.retry, crm.jobRetry),
      };
    }
    default: {
      if (job.status.startsWith('FAILED')) {
        return fail(
          base,
          new ExportJobFailedError(`CRM job ${job.id} ended ${job.status}; the cursor is kept`),
        );
      }
      const known = job.status === 'PROCESSING';
      if (!known) {
        logger.warn('LinkedIn answered an unknown CRM job status; polling on until the deadline', {
          jobId: job.id,
          status: job.status,
        });
      }
      const wait = nextCrmPollWait(polled.polls + 1, elapsed, crm.poll);
      if (wait === undefined) {
        const what = known
          ? `still ${job.status}`
          : `still in status ${job.status}, which this pipeline does not know (known: ${CRM_JOB_STATUSES.join(', ')}),`;
        return fail(
          base,
          new PollDeadlineExceededError(
            `CRM job ${job.id} is ${what} ${Math.round(elapsed)} s after creation (deadline ${crm.poll.deadlineSeconds} s, settings.crm.poll.deadlineSeconds); the cursor is kept`,
          ),
        );
      }
      return { ...base, job: { ...polled, polls: polled.polls + 1 }, next: 'POLL', waitSeconds: wait };
    }
  }
}

/**
 * A COMPLETED job: its range is `[exportStartAt, exportEndAt)`, the next export starts at
 * `nextExportStartAt` (each falls back on the other when LinkedIn sends only one). Without either we
 * cannot tell where the next export starts, so the item fails and the cursor stays. No download URL
 * is an empty export: nothing to copy, the cursor still advances.
 */
function completed(state: CrmState, job: CrmValidationJob): CrmState {
  const startAt = state.item.startAt;
  const endAt = job.exportEndAt ?? job.nextExportStartAt;
  const nextExportStartAt = job.nextExportStartAt ?? job.exportEndAt;
  if (endAt === undefined || nextExportStartAt === undefined) {
    return fail(
      state,
      new LinkedInResponseError(
        `CRM job ${job.id} is COMPLETED without nextExportStartAt or exportEndAt: where the next export starts is unknown, so nothing is copied and the cursor is kept`,
      ),
    );
  }
  if (nextExportStartAt < startAt || endAt < startAt) {
    return fail(
      state,
      new LinkedInResponseError(
        `CRM job ${job.id} ends before it starts (exportStartAt ${startAt}, exportEndAt ${endAt}, nextExportStartAt ${nextExportStartAt}): the cursor never moves back, so it is kept`,
      ),
    );
  }
  if (job.exportStartAt !== undefined && job.exportStartAt !== startAt) {
    logger.warn(
      'CRM job answers another exportStartAt than it was created with; keys use the requested one',
      {
        jobId: job.id,
        requested: startAt,
        answered: job.exportStartAt,
      },
    );
  }
  if (job.downloadUrls.length > MAX_CRM_PARTS) {
    return fail(
      state,
      new LinkedInResponseError(
        `CRM job ${job.id} has ${job.downloadUrls.length} download URLs; at most ${MAX_CRM_PARTS} parts are supported`,
      ),
    );
  }
  const parts = job.downloadUrls.length;
  return {
    ...state,
    export: { startAt, endAt, nextExportStartAt, parts },
    copied: [],
    next: parts > 0 ? 'COPY' : 'COMMIT',
  };
}

/**
 * CopyCrmPart: streams the next part (`copied.length`) of the finished export into the store at
 * `crm-data-validation/instance=<key>/export=<start>_<end>/part-NNNN.csv`, with the analytics copy's
 * guarantees (allow-list, redirects checked, Content-Length, whole or nothing, expired URLs refreshed
 * by re-reading the job). One part per invocation, so a large export never meets the Lambda timeout.
 */
export async function copyCrmPart(state: CrmState, deps: Deps): Promise<CrmState> {
  const { job, export: range } = state;
  if (!job || !range) throw new InvalidInputError('CopyCrmPart needs a COMPLETED job: the state has none');
  const index = state.copied.length;
  if (index >= range.parts) return { ...clearStep(state), next: 'COMMIT' };
  const key = crmPartKey(state.item.crmInstance, range.startAt, range.endAt, index);
  const copied = await copyCrmPartToStore(
    {
      crmInstance: state.item.crmInstance,
      jobId: job.id,
      index,
      parts: range.parts,
      key,
      range,
      metadata: { runid: state.runId },
    },
    deps,
  );
  const parts = [...state.copied, { key, bytes: copied.bytes, rows: copied.rows }];
  return {
    ...clearStep(state),
    copied: parts,
    next: parts.length < range.parts ? 'COPY' : 'COMMIT',
  };
}

/**
 * CommitCrmExport: every part is whole in the store, so the folder gets its `_export.json` marker and
 * the cursor moves to `nextExportStartAt`, and the
 * item is recorded EXPORTED. The cursor never moves back: if another run has moved it at least as far
 * (overlapping runs), it is left alone. Re-running this step after it wrote the cursor (a retry) finds
 * its own job in the cursor and only writes the record again.
 */
export async function commitCrmExport(state: CrmState, deps: Deps): Promise<CrmState> {
  const { job, export: range } = state;
  if (!job || !range)
    throw new InvalidInputError('CommitCrmExport needs a COMPLETED job: the state has none');
  if (state.copied.length !== range.parts) {
    throw new InvalidInputError(
      `CommitCrmExport: ${state.copied.length} of ${range.parts} part(s) copied; the cursor only moves when every part is whole`,
    );
  }
  const { crmInstance } = state.item;
  const bytes = state.copied.reduce((sum, p) => sum + p.bytes, 0);
  const rows = state.copied.reduce((sum, p) => sum + p.rows, 0);
  const current = await readCursor(crmInstance, deps);
  let cursor: CrmItemRecord['cursor'] = 'ADVANCED';
  if (current?.lastExport.jobId === job.id) {
    // This step already wrote it (retried after the write): only the record is left to write.
  } else if (current && current.nextExportStartAt >= range.nextExportStartAt) {
    cursor = 'ALREADY_ADVANCED';
    logger.warn('the CRM cursor was already moved as far by another run; leaving it', {
      crmInstance,
      cursor: current.nextExportStartAt,
      ours: range.nextExportStartAt,
    });
  } else {
    // The folder's completion marker first, then the cursor: a folder without one is not a finished export.
    await deps.store.putJson(crmExportMarkerKey(crmInstance, range.startAt, range.endAt), {
      version: 1,
      crmInstance,
      jobId: job.id,
      runId: state.runId,
      startAt: range.startAt,
      endAt: range.endAt,
      nextExportStartAt: range.nextExportStartAt,
      parts: state.copied,
    });
    const next: CrmCursor = {
      version: 1,
      crmInstance,
      nextExportStartAt: range.nextExportStartAt,
      lastExport: {
        runId: state.runId,
        jobId: job.id,
        startAt: range.startAt,
        endAt: range.endAt,
        parts: state.copied.map((p) => p.key),
        rows,
        bytes,
        committedAt: deps.now().toISOString(),
      },
    };
    await deps.store.putJson(crmCursorKey(crmInstance), next);
  }
  await writeRecord(deps, state, 'EXPORTED', { cursor });
  logger.info('CRM export committed', { crmInstance, parts: range.parts, rows, bytes, cursor });
  return {
    ...clearStep(state),
    next: 'DONE',
    result: { status: 'EXPORTED', crmInstance, parts: range.parts, bytes, rows },
  };
}

/** RecordCrmFailure: the export failed; its FAILED record names why. The cursor is never touched here. */
export async function recordCrmFailure(state: CrmState, deps: Deps): Promise<CrmState> {
  const failure =
    state.failure ??
    caughtErrorInfo(
      state.error,
      'the CRM export failed without an error (RecordCrmFailure reached directly)',
    );
  await writeRecord(deps, state, 'FAILED', { cursor: 'KEPT', error: failure });
  return {
    ...state,
    failure,
    result: { status: 'FAILED', crmInstance: state.item.crmInstance, parts: state.copied.length },
  };
}

/** Reads the polled job; a 404 is named: a CRM job id expires a week after creation. */
async function readJob(state: CrmState, deps: Deps): Promise<CrmValidationJob> {
  const id = state.job?.id as number;
  try {
    return await crmApi(deps).getCrmValidationJob(id, state.item.crmInstance);
  } catch (err) {
    if (err instanceof LinkedInRequestError && err.status === 404) {
      throw new LinkedInRequestError(
        `${err.message}. LinkedIn does not know CRM job ${id} for ${state.item.crmInstance} (job ids expire a week after creation, and a job belongs to one instance); the next run creates a new one from the same cursor`,
        404,
      );
    }
    throw err;
  }
}

function fail(state: CrmState, err: Error): CrmState {
  return { ...state, next: 'FAIL', failure: errorInfo(err) };
}

function clearStep(state: CrmState): CrmState {
  const { next: _n, waitSeconds: _w, failure: _f, error: _e, result: _r, ...rest } = state;
  return rest;
}

async function writeRecord(
  deps: Deps,
  state: CrmState,
  status: CrmItemRecord['status'],
  extra: Pick<CrmItemRecord, 'cursor' | 'error'>,
): Promise<void> {
  const { item, export: range } = state;
  const record: CrmItemRecord = {
    dataset: CRM_DATASET,
    crmInstance: item.crmInstance,
    status,
    startAt: item.startAt,
    ...(range && { endAt: range.endAt, nextExportStartAt: range.nextExportStartAt }),
    parts: state.copied,
    bytes: state.copied.reduce((sum, p) => sum + p.bytes, 0),
    rows: state.copied.reduce((sum, p) => sum + p.rows, 0),
    jobIds: state.jobIds,
    attempts: state.jobIds.length,
    ...extra,
    finishedAt: deps.now().toISOString(),
  };
  await deps.store.putJson(crmItemRecordKey(state.runId, item.crmInstance), record);
}
