// Steps CreateJob, CheckJob, RecordFailure: one LinkedIn export job from creation to its outcome.
import { Readable } from 'node:stream';
import { addDays, daysBetween, dayToMs } from '#common/days';
import {
  CreateJobAmbiguousError,
  caughtErrorInfo,
  ExportJobFailedError,
  errorInfo,
  InvalidInputError,
  LinkedInResponseError,
  LinkedInTransientError,
  PollDeadlineExceededError,
} from '#common/errors';
import { type ExportItem, type ItemRecord, type ItemStatus, JOB_STATUSES } from '#common/model';
import { logger } from '#common/powertools';
import type { ExportJob } from '#linkedin/api';
import { itemKey, itemRecordKey } from '#storage/keys';
import { acquireLease, type Lease, releaseLease } from '#storage/lease';
import { type CopyNotes, copyExport } from './copy.ts';
import { isCovered, sourceMetadata, sourceOf, sourceTags } from './coverage.ts';
import type { Deps } from './deps.ts';
import { jobRetryDelaySeconds, latencyBoundSeconds, nextPollWait, pollDelaySeconds } from './poll-policy.ts';
import type { ItemState } from './state.ts';

/**
 * The steps of one ExportJob execution. Each takes the whole item state and returns it updated;
 * the state machine routes on `next` and sleeps `waitSeconds` between steps.
 */

/**
 * CreateJob: a new LinkedIn export job for the item's window. A POST whose outcome is unknown (no
 * answer, or a socket error after sending; a 5xx is an answer) may have created a job we cannot see: it is re-sent
 * once per item, in-process; a second unknown outcome fails the item with CreateJobAmbiguousError
 * (not retried), and `ambiguousCreates` in its record says how many jobs may exist on LinkedIn.
 */
export async function createJob(state: ItemState, deps: Deps): Promise<ItemState> {
  const { item } = state;
  // A planned item takes its lease before its first job (and keeps it when re-creating one); halves
  // run inside their parent's lease.
  if (state.depth === 0) {
    const isRunOver = deps.isRunOver;
    const lease = await acquireLease(deps.store, item, {
      runId: state.runId,
      now: deps.now(),
      ...(isRunOver && { holderEnded: (holder: Lease) => isRunOver(holder.runId) }),
    });
    if (lease && !lease.ours) return heldByAnotherRun(state, lease.heldBy, deps);
    if (lease?.tookOverFrom) {
      logger.warn(
        lease.tookOverBecause === 'holderEnded'
          ? 'CreateJob: took over the lease of a run that ended without releasing it'
          : 'CreateJob: took over an expired lease of another run',
        {
          heldBy: lease.tookOverFrom.runId,
          expiresAt: lease.tookOverFrom.expiresAt,
        },
      );
    }
  }
  const post = () =>
    deps.linkedin.createExportJob(item.dataset, item.contract, dayToMs(item.start), dayToMs(item.end));
  let ambiguousCreates = state.ambiguousCreates ?? 0;
  let job: ExportJob;
  try {
    job = await post();
  } catch (err) {
    if (!(err instanceof LinkedInTransientError && err.ambiguous)) throw err;
    ambiguousCreates++;
    if (ambiguousCreates > MAX_AMBIGUOUS_CREATES) throw ambiguousFailure(state, ambiguousCreates, err);
    logger.warn('CreateJob: LinkedIn may have created the job without answering; sending it once more', {
      error: err.message,
    });
    try {
      job = await post();
    } catch (again) {
      // Whatever the re-POST met, the first may have created a job: never a third POST for it.
      const unknown = again instanceof LinkedInTransientError && again.ambiguous;
      throw ambiguousFailure(state, ambiguousCreates + (unknown ? 1 : 0), errorOf(again));
    }
  }
  return {
    ...clearStep(state),
    ...(ambiguousCreates > 0 && { ambiguousCreates }),
    job: { id: job.id, createdAt: deps.now().toISOString(), polls: 0 },
    jobIds: [...state.jobIds, job.id],
    status: job.status,
    next: 'POLL',
    waitSeconds: Math.min(
      pollDelaySeconds(0, deps.settings.poll),
      latencyBoundSeconds(0, deps.settings.poll),
    ),
  };
}

/**
 * Another run is exporting this item (it holds the lease, not expired): no job is created, the item
 * is recorded SKIPPED with reason heldByAnotherRun and that run's id, and this run does not fail for
 * it (the other run's manifest reports the export).
 */
async function heldByAnotherRun(state: ItemState, lease: Lease, deps: Deps): Promise<ItemState> {
  logger.warn('CreateJob: another run is exporting this item; skipped', {
    heldBy: lease.runId,
    expiresAt: lease.expiresAt,
  });
  await writeRecord(deps, state, 'SKIPPED', { reason: 'heldByAnotherRun', heldBy: lease.runId });
  return { ...clearStep(state), next: 'DONE', result: { status: 'SKIPPED', key: itemKey(state.item) } };
}

/**
 * Releases a planned item's lease once its record is written. Best effort: a lease left behind
 * (release failed) is released by FinishRun, or expires after the item budget.
 */
export async function releaseItemLease(state: ItemState, deps: Deps): Promise<void> {
  if (state.depth !== 0) return;
  try {
    await releaseLease(deps.store, state.item, state.runId);
  } catch (err) {
    logger.warn('could not release the item lease; FinishRun releases it, or it expires', {
      error: errorOf(err).message,
    });
  }
}

function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Re-sent POSTs of an item whose first answer never came (see `createJob`). */
export const MAX_AMBIGUOUS_CREATES = 1;

function ambiguousFailure(state: ItemState, ambiguous: number, err: Error): CreateJobAmbiguousError {
  return new CreateJobAmbiguousError(
    `creating the job for ${state.item.dataset} ${state.item.contract} ${state.item.start}..${state.item.end} ` +
      `failed ${ambiguous} time(s) without an answer (last: ${err.message}); LinkedIn may hold up to ${ambiguous} ` +
      'job(s) for this window that this run cannot see, each taking the lane’s job slot until it ends; not retried so no more are made; the next run exports the window',
  );
}

/** CheckJob: reads the job and decides what happens next, as DESIGN.md §2 says for each status. */
export async function checkJob(state: ItemState, deps: Deps): Promise<ItemState> {
  if (!state.job)
    throw new InvalidInputError('CheckJob needs a job: the state has none (CreateJob did not run)');
  const { settings } = deps;
  const job = await deps.linkedin.getExportJob(state.job.id, state.item.contract);
  const base = { ...clearStep(state), status: job.status };

  switch (job.status) {
    case 'ENQUEUED':
    case 'PROCESSING': {
      const elapsed = (deps.now().getTime() - Date.parse(state.job.createdAt)) / 1000;
      const wait = nextPollWait(state.job.polls + 1, elapsed, settings.poll);
      if (wait === undefined) {
        return fail(
          base,
          new PollDeadlineExceededError(
            `job ${job.id} still ${job.status} ${Math.round(elapsed)} s after creation (deadline ${settings.poll.deadlineSeconds} s)`,
          ),
        );
      }
      return { ...base, job: { ...state.job, polls: state.job.polls + 1 }, next: 'POLL', waitSeconds: wait };
    }
    case 'COMPLETED':
      if (job.downloadUrl) return { ...base, next: 'COPY', rowCount: job.rowCount };
      if (job.rowCount === 0) return recordEmptyExport(base, job, deps);
      return completedWithoutUrl(base, job, deps);
    case 'FAILED_DUE_TO_DATA_DELAY': {
      const { maxRetries, waitSeconds } = settings.dataDelay;
      if (state.attempts.dataDelay >= maxRetries) {
        return fail(base, jobFailed(job.id, job.status, `data still delayed after ${maxRetries} new job(s)`));
      }
      return {
        ...base,
        job: undefined,
        attempts: { ...state.attempts, dataDelay: state.attempts.dataDelay + 1 },
        next: 'RECREATE',
        waitSeconds,
      };
    }
    case 'FAILED_DUE_TO_TIMED_OUT':
    case 'FAILED_DUE_TO_INTERNAL_ERROR': {
      const { maxRetries } = settings.jobRetry;
      if (state.attempts.retry >= maxRetries) {
        return fail(base, jobFailed(job.id, job.status, `still failing after ${maxRetries} new job(s)`));
      }
      return {
        ...base,
        job: undefined,
        attempts: { ...state.attempts, retry: state.attempts.retry + 1 },
        next: 'RECREATE',
        waitSeconds: jobRetryDelaySeconds(state.attempts.retry, settings.jobRetry),
      };
    }
    case 'FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR':
      return splitState(base, job.id, deps);
    default:
      return unknownStatus(base, job, deps);
  }
}

/** Reads of a COMPLETED job that has rows but no `downloadUrl` before the item fails. */
export const MAX_READS_WITHOUT_DOWNLOAD_URL = 5;

/** Seconds since the polled job was created (CreateJob's stamp). */
function secondsSinceCreated(state: ItemState, deps: Deps): number {
  return (deps.now().getTime() - Date.parse(state.job?.createdAt ?? '')) / 1000;
}

/**
 * A status LinkedIn did not document (or added later): reported by name (warning log, the item's
 * `status`, progress events), polled on like PROCESSING until the item's polling deadline, then
 * FAILED with a LinkedInResponseError that names it. A later read that answers a known status
 * is handled as usual.
 */
function unknownStatus(state: ItemState, job: ExportJob, deps: Deps): ItemState {
  const { poll } = deps.settings;
  const polled = state.job as NonNullable<ItemState['job']>;
  const elapsed = secondsSinceCreated(state, deps);
  const wait = nextPollWait(polled.polls + 1, elapsed, poll);
  logger.warn('LinkedIn answered an unknown export job status; polling on until the deadline', {
    jobId: job.id,
    status: job.status,
    elapsedSeconds: Math.round(elapsed),
    deadlineSeconds: poll.deadlineSeconds,
  });
  if (wait === undefined) {
    return fail(
      state,
      new LinkedInResponseError(
        `job ${job.id} is still in status ${job.status}, which this pipeline does not know ` +
          `(known: ${JOB_STATUSES.join(', ')}), ${Math.round(elapsed)} s after creation ` +
          `(deadline ${poll.deadlineSeconds} s); see docs/linkedin-api-notes.md`,
      ),
    );
  }
  return { ...state, job: { ...polled, polls: polled.polls + 1 }, next: 'POLL', waitSeconds: wait };
}

/**
 * COMPLETED, `rowCount` 0 and no `downloadUrl`: what an empty export may look like (LinkedIn does not
 * document it). The item is EXPORTED with 0 rows: an empty object is written at the item's key, so
 * PlanRun's existence check counts its days as covered exactly like any other export, and readers
 * see an empty file. Its metadata says why it is empty (`emptyexport`); it carries its source like
 * any export.
 */
async function recordEmptyExport(state: ItemState, job: ExportJob, deps: Deps): Promise<ItemState> {
  const { item } = state;
  const key = itemKey(item);
  // Its source too, like every export: an emulator's empty file never covers a real run's days.
  const { bytes } = await deps.store.upload(key, Readable.from([]), {
    contentType: 'text/csv',
    tags: sourceTags(deps),
    metadata: {
      ...sourceMetadata(deps),
      runid: state.runId,
      jobid: String(job.id),
      dataset: item.dataset,
      contract: item.contract,
      windowstart: item.start,
      windowend: item.end,
      rowcount: '0',
      emptyexport: 'completed-without-download-url',
    },
  });
  logger.info('export job COMPLETED with rowCount 0 and no downloadUrl: recorded as an empty export', {
    jobId: job.id,
    key,
  });
  await writeRecord(deps, state, 'EXPORTED', { bytes, rows: 0 });
  await releaseItemLease(state, deps);
  return { ...state, next: 'DONE', result: { status: 'EXPORTED', key, bytes, rows: 0 } };
}

/**
 * COMPLETED with rows (or no `rowCount`) but no `downloadUrl`: taken as a URL not handed out yet,
 * so the job is read again (the usual poll waits) up to MAX_READS_WITHOUT_DOWNLOAD_URL times
 * within the polling deadline; then the item FAILED with a LinkedInResponseError saying so (the
 * next run exports it again, since no object was written).
 */
function completedWithoutUrl(state: ItemState, job: ExportJob, deps: Deps): ItemState {
  const polled = state.job as NonNullable<ItemState['job']>;
  const reads = (polled.readsWithoutUrl ?? 0) + 1;
  const elapsed = secondsSinceCreated(state, deps);
  const wait = nextPollWait(polled.polls + 1, elapsed, deps.settings.poll);
  const rows = job.rowCount === undefined ? 'no rowCount' : `rowCount ${job.rowCount}`;
  logger.warn('export job COMPLETED without a downloadUrl; reading it again', {
    jobId: job.id,
    rowCount: job.rowCount,
    reads,
  });
  if (wait === undefined || reads >= MAX_READS_WITHOUT_DOWNLOAD_URL) {
    return fail(
      state,
      new LinkedInResponseError(
        `job ${job.id} is COMPLETED without a downloadUrl (${rows}) in ${reads} read(s) over ` +
          `${Math.round(elapsed)} s: an export with rows cannot be copied without one; the next run tries again`,
      ),
    );
  }
  return {
    ...state,
    job: { ...polled, polls: polled.polls + 1, readsWithoutUrl: reads },
    next: 'POLL',
    waitSeconds: wait,
  };
}

/** Over 3 GB: export each half of the window instead (each half is a child execution), down to one day. */
async function splitState(state: ItemState, jobId: number, deps: Deps): Promise<ItemState> {
  const { item } = state;
  const days = daysBetween(item.start, item.end);
  if (days < 2 || state.depth >= deps.settings.maxSplitDepth) {
    return fail(
      state,
      jobFailed(
        jobId,
        'FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR',
        days < 2
          ? 'a single day is over LinkedIn’s 3 GB file limit'
          : `window already split ${state.depth} times`,
      ),
    );
  }
  const middle = addDays(item.start, Math.floor(days / 2));
  const halves: ExportItem[] = [
    { ...item, end: middle },
    { ...item, start: middle },
  ];
  const splitFrom = state.splitFrom ?? { start: item.start, end: item.end };
  const pending: ItemState[] = [];
  for (const half of halves) {
    if (!state.force && (await isCovered(deps.store, itemKey(half), sourceOf(deps)))) {
      await writeRecord(deps, { ...state, item: half, splitFrom, jobIds: [] }, 'SKIPPED', {});
      continue;
    }
    pending.push({
      runId: state.runId,
      item: half,
      force: state.force,
      depth: state.depth + 1,
      splitFrom,
      attempts: { dataDelay: 0, retry: 0 },
      jobIds: [],
    });
  }
  const result = { status: 'SPLIT' as const, key: itemKey(item) };
  if (pending.length === 0) return { ...state, job: undefined, next: 'DONE', result };
  return { ...state, job: undefined, next: 'SPLIT', halves: pending, result };
}

/** CopyToS3: streams the finished export into the store and records the item as EXPORTED. */
export async function copyToStore(state: ItemState, deps: Deps): Promise<ItemState> {
  if (!state.job) throw new InvalidInputError('CopyToS3 needs a completed job: the state has none');
  const key = itemKey(state.item);
  const { result: copied, notes } = await copyExport(
    {
      item: state.item,
      jobId: state.job.id,
      key,
      metadata: { runid: state.runId, ...sourceMetadata(deps) },
      tags: sourceTags(deps),
    },
    deps,
  );
  await writeRecord(deps, state, 'EXPORTED', { bytes: copied.bytes, rows: copied.rows, ...notes });
  await releaseItemLease(state, deps);
  return {
    ...clearStep(state),
    next: 'DONE',
    result: { status: 'EXPORTED', key, bytes: copied.bytes, rows: copied.rows },
  };
}

/** RecordFailure: the item could not be exported; write its FAILED record with the reason. */
export async function recordFailure(state: ItemState, deps: Deps): Promise<ItemState> {
  const failure =
    state.failure ??
    caughtErrorInfo(state.error, 'the item failed without an error (RecordFailure reached directly)');
  await writeRecord(deps, state, 'FAILED', { error: failure });
  await releaseItemLease(state, deps);
  return { ...state, failure, result: { status: 'FAILED', key: itemKey(state.item) } };
}

function jobFailed(jobId: number, status: string, detail: string): ExportJobFailedError {
  return new ExportJobFailedError(`job ${jobId} ended ${status}: ${detail}`);
}

function fail(state: ItemState, err: Error): ItemState {
  return { ...state, next: 'FAIL', failure: errorInfo(err) };
}

/** Drops what belonged to the previous step so it cannot leak into the next decision. */
function clearStep(state: ItemState): ItemState {
  const { next: _n, waitSeconds: _w, failure: _f, error: _e, halves: _h, result: _r, ...rest } = state;
  return rest;
}

async function writeRecord(
  deps: Deps,
  state: ItemState,
  status: ItemStatus,
  extra: Pick<ItemRecord, 'bytes' | 'rows' | 'error' | 'reason' | 'heldBy'> & CopyNotes,
): Promise<void> {
  const { item } = state;
  const record: ItemRecord = {
    contract: item.contract,
    dataset: item.dataset,
    window: { start: item.start, end: item.end },
    status,
    key: itemKey(item),
    ...extra,
    jobIds: state.jobIds,
    attempts: state.jobIds.length,
    ...(state.ambiguousCreates ? { ambiguousCreates: state.ambiguousCreates } : {}),
    ...(state.splitFrom ? { splitFrom: state.splitFrom } : {}),
    finishedAt: deps.now().toISOString(),
  };
  await deps.store.putJson(itemRecordKey(state.runId, item), record);
}
