// Progress during long waits: a compact rewritten line on a TTY, a line per change otherwise.
import { expect, it } from 'vitest';
import { Progress } from '#local/cli/progress';

const item = {
  contract: 'urn:li:salesContract:1001',
  dataset: 'seat' as const,
  start: '2024-05-01',
  end: '2024-05-03',
};
const other = { ...item, dataset: 'activity' as const };

function feed(progress: Progress): void {
  progress.on({ type: 'planned', runId: 'r', planned: 2, skipped: 0, toExport: 2 });
  progress.on({ type: 'status', item, status: 'ENQUEUED', jobId: 1, nextInSeconds: 30 });
  progress.on({ type: 'status', item: other, status: 'PROCESSING', jobId: 2, nextInSeconds: 900 });
  progress.on({ type: 'status', item, status: 'ENQUEUED', jobId: 1, nextInSeconds: 60 });
  progress.on({ type: 'retry', state: 'CheckJob', error: 'LinkedInTransientError', attempt: 1 });
}

it('on a TTY: one rewritten line with jobs per status, the next poll and retries', () => {
  const lines: string[] = [];
  const progress = new Progress(
    { out: () => {}, err: () => {}, progress: (l) => lines.push(l) },
    false,
    () => 0,
  );
  feed(progress);
  progress.done();
  expect(lines[2]).toBe(
    '[0/2] 0 exported, 0 failed, 0 B (jobs: 1 ENQUEUED, 1 PROCESSING, next poll in 60 s) — seat urn:li:salesContract:1001 [2024-05-01, 2024-05-03): job 1 ENQUEUED, next poll in 60 s',
  );
  expect(lines[3]).toContain('1 retries');
  expect(lines[3]).toContain('retrying CheckJob after LinkedInTransientError (attempt 1)');
  expect(lines.at(-1)).toBe('');
});

it('without a TTY: a line per status change and per retry, repeated polls not printed', () => {
  const err: string[] = [];
  const progress = new Progress({ out: () => {}, err: (l) => err.push(l) }, false, () => 0);
  feed(progress);
  expect(err).toHaveLength(4); // planned, two changes, the retry; the unchanged ENQUEUED poll is not printed
  expect(err[1]).toMatch(/job 1 ENQUEUED, next poll in 30 s$/);
  expect(err[2]).toMatch(/job 2 PROCESSING, next poll in 15 min$/);
});
