import { describe, expect, it } from 'vitest';
import { parseSettings } from '#common/settings';
import { jobRetryDelaySeconds, nextPollWait, pollDelaySeconds } from '#steps/poll-policy';

const { poll, jobRetry } = parseSettings({});

describe('pollDelaySeconds', () => {
  it('grows exponentially from the initial delay and stops at the cap', () => {
    const delays = Array.from({ length: 8 }, (_, polls) => pollDelaySeconds(polls, poll));

    expect(delays).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it('rounds a fractional factor to whole seconds and never goes below one second', () => {
    const gentle = { ...poll, initialSeconds: 10, factor: 1.5, maxSeconds: 100 };

    expect([0, 1, 2, 3, 4, 5, 6].map((n) => pollDelaySeconds(n, gentle))).toEqual([
      10, 15, 23, 34, 51, 76, 100,
    ]);
    expect(pollDelaySeconds(0, { ...poll, initialSeconds: 1, factor: 1 })).toBe(1);
  });
});

describe('nextPollWait', () => {
  it('is the backoff delay while the deadline is far', () => {
    expect(nextPollWait(0, 0, poll)).toBe(30);
    expect(nextPollWait(3, 1000, poll)).toBe(240);
    expect(nextPollWait(10, 3600, poll)).toBe(900);
  });

  it('shortens the last wait so the final poll lands on the deadline', () => {
    expect(poll.deadlineSeconds).toBe(21_600);
    expect(nextPollWait(10, 21_600 - 100, poll)).toBe(100);
    expect(nextPollWait(0, 21_600 - 12.2, poll)).toBe(13);
    expect(nextPollWait(10, 21_599.5, poll)).toBe(1);
  });

  it('is undefined at and after the deadline', () => {
    expect(nextPollWait(3, 21_600, poll)).toBeUndefined();
    expect(nextPollWait(3, 30_000, poll)).toBeUndefined();
  });
});

describe('jobRetryDelaySeconds', () => {
  it('doubles from the base and is capped', () => {
    expect([0, 1, 2, 3, 4, 5].map((retry) => jobRetryDelaySeconds(retry, jobRetry))).toEqual([
      300, 600, 1200, 2400, 3600, 3600,
    ]);
    expect(jobRetryDelaySeconds(2, { ...jobRetry, baseSeconds: 10, maxSeconds: 25 })).toBe(25);
  });
});
