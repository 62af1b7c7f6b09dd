import { describe, expect, it } from 'vitest';
import { parseSettings } from '#common/settings';
import {
  jobRetryDelaySeconds,
  latencyBoundSeconds,
  nextPollWait,
  pollDelaySeconds,
} from '#steps/poll-policy';

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
  it('is the backoff delay while the deadline is far and the latency bound allows it', () => {
    expect(nextPollWait(0, 0, poll)).toBe(30);
    expect(nextPollWait(1, 90, poll)).toBe(60);
    expect(nextPollWait(3, 5000, poll)).toBe(240);
    expect(nextPollWait(10, 12_000, poll)).toBe(900);
  });

  it('never waits longer than max(60 s, 10 % of the job age): a finished job is noticed that soon', () => {
    expect(nextPollWait(3, 1000, poll)).toBe(100);
    expect(nextPollWait(10, 3600, poll)).toBe(360);
    expect(nextPollWait(5, 300, poll)).toBe(60);
    // Whatever the poll count and age, a job finishing right after a poll at age a is seen within the bound.
    for (let age = 0; age < 21_000; age += 7) {
      for (const polls of [0, 3, 8, 20]) {
        const wait = nextPollWait(polls, age, poll) ?? 0;
        expect(wait).toBeLessThanOrEqual(Math.max(60, 0.1 * age));
      }
    }
  });

  it('takes the floor and the fraction from the settings', () => {
    const tight = { ...poll, latencyFloorSeconds: 5, latencyFraction: 0.02 };
    expect(latencyBoundSeconds(100, tight)).toBe(5);
    expect(latencyBoundSeconds(1000, tight)).toBe(20);
    expect(nextPollWait(10, 1000, tight)).toBe(20);
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
