// The polling policy: how long to wait before reading a LinkedIn job again.
import type { Settings } from '#common/settings';

/**
 * Polling and retry delays. Pure functions of counters and settings: CheckJob computes them and the
 * state machine's Wait state sleeps (`SecondsPath`), so no Lambda ever sleeps while it is billed.
 */

/** Delay before poll number `polls` (0-based): initial × factor^polls, capped. */
export function pollDelaySeconds(polls: number, poll: Settings['poll']): number {
  const delay = poll.initialSeconds * poll.factor ** polls;
  return Math.max(1, Math.min(poll.maxSeconds, Math.round(delay)));
}

/**
 * Longest wait after a poll at `ageSeconds` that still notices a job finishing right after that poll
 * within max(floor, fraction × its age): the latency bound of the polling.
 */
export function latencyBoundSeconds(ageSeconds: number, poll: Settings['poll']): number {
  return Math.max(poll.latencyFloorSeconds, Math.floor(poll.latencyFraction * Math.max(0, ageSeconds)));
}

/**
 * Next wait while a job is ENQUEUED/PROCESSING (it is `elapsedSeconds` old), or `undefined` when the
 * deadline has passed: the backoff delay, never longer than the latency bound, and shortened so the
 * final poll happens at the deadline, not after it.
 */
export function nextPollWait(
  polls: number,
  elapsedSeconds: number,
  poll: Settings['poll'],
): number | undefined {
  const remaining = poll.deadlineSeconds - elapsedSeconds;
  if (remaining <= 0) return undefined;
  const wait = Math.min(pollDelaySeconds(polls, poll), latencyBoundSeconds(elapsedSeconds, poll));
  return Math.max(1, Math.min(wait, Math.ceil(remaining)));
}

/** Wait before re-creating a job that ended TIMED_OUT / INTERNAL_ERROR for the `retry`-th time (0-based). */
export function jobRetryDelaySeconds(retry: number, jobRetry: Settings['jobRetry']): number {
  return Math.min(jobRetry.maxSeconds, jobRetry.baseSeconds * 2 ** retry);
}
