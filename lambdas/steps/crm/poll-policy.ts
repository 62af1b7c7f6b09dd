// The polling policy of a CRM data validation job (up to about two hours): pure functions of counters and settings.
import type { Settings } from '#common/settings';

type CrmSettings = Settings['crm'];

/** Delay before read number `polls` (0-based): initial × factor^polls, rounded, capped, at least 1 s. */
export function crmPollDelaySeconds(polls: number, poll: CrmSettings['poll']): number {
  const delay = poll.initialSeconds * poll.factor ** polls;
  return Math.max(1, Math.min(poll.maxSeconds, Math.round(delay)));
}

/**
 * The wait before the next read of a job still PROCESSING, `elapsedSeconds` after it was created, or
 * `undefined` once the deadline has passed. The last wait is shortened so the final read happens at
 * the deadline, not after it.
 */
export function nextCrmPollWait(
  polls: number,
  elapsedSeconds: number,
  poll: CrmSettings['poll'],
): number | undefined {
  const remaining = poll.deadlineSeconds - elapsedSeconds;
  if (remaining <= 0) return undefined;
  return Math.max(1, Math.min(crmPollDelaySeconds(polls, poll), Math.ceil(remaining)));
}

/** Wait before re-creating a job that ended FAILED_DUE_TO_INTERNAL_ERROR for the `retry`-th time (0-based). */
export function crmJobRetryDelaySeconds(retry: number, jobRetry: CrmSettings['jobRetry']): number {
  return Math.min(jobRetry.maxSeconds, jobRetry.baseSeconds * 2 ** retry);
}
