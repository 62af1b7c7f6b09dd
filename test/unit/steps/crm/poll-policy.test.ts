// The CRM polling policy: a backoff for jobs that take up to two hours, a deadline, bounded re-creation.
import { describe, expect, it } from 'vitest';
import { parseSettings } from '#common/settings';
import { crmJobRetryDelaySeconds, crmPollDelaySeconds, nextCrmPollWait } from '#steps/crm/poll-policy';

const { poll, jobRetry } = parseSettings({}).crm;

describe('CRM poll policy', () => {
  it('backs off from 5 minutes toward a 30-minute cap: six reads in the documented two hours', () => {
    const delays = Array.from({ length: 9 }, (_, polls) => crmPollDelaySeconds(polls, poll));
    expect(delays).toEqual([300, 450, 675, 1013, 1519, 1800, 1800, 1800, 1800]);
    let elapsed = 0;
    let reads = 0;
    while (elapsed + (delays[reads] as number) <= 2 * 3600) elapsed += delays[reads++] as number;
    expect(reads).toBe(6);
  });

  it('stops at the deadline and shortens the last wait to meet it', () => {
    expect(nextCrmPollWait(3, 0, poll)).toBe(1013);
    expect(nextCrmPollWait(10, poll.deadlineSeconds - 42.5, poll)).toBe(43);
    expect(nextCrmPollWait(10, poll.deadlineSeconds, poll)).toBeUndefined();
  });

  it('never waits less than a second', () => {
    expect(crmPollDelaySeconds(0, { ...poll, initialSeconds: 1, factor: 1 })).toBe(1);
    expect(nextCrmPollWait(0, poll.deadlineSeconds - 0.1, poll)).toBe(1);
  });

  it('doubles the wait before re-creating a failed job, capped', () => {
    expect([0, 1, 2, 3].map((n) => crmJobRetryDelaySeconds(n, jobRetry))).toEqual([600, 1200, 2400, 3600]);
  });
});
