import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { InvalidInputError } from '#common/errors';
import { STATE } from '#lib/workflow';
import { defineStep } from '#steps/define-step';
import { steps } from '#steps/index';
import { contract, FakeLinkedIn, fakeDeps } from '#test/support/fake-linkedin';

const NOW = '2026-03-10T06:00:00.000Z';
const ITEM = { contract: 'urn:li:salesContract:A', dataset: 'seat', start: '2026-03-08', end: '2026-03-09' };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInputError);
  return err as Error;
}

describe('defineStep', () => {
  it('hands the parsed (not the raw) event to the core', async () => {
    const seen: unknown[] = [];
    const step = defineStep('Double', z.object({ n: z.coerce.number() }), async (input) => {
      seen.push(input);
      return input.n * 2;
    });

    expect(await step.run({ n: '21' }, fakeDeps({ now: NOW }))).toBe(42);
    expect(seen).toEqual([{ n: 21 }]);
    expect(step.name).toBe('Double');
  });

  it('throws InvalidInputError naming the step and every bad field, without calling the core', async () => {
    let called = false;
    const step = defineStep('Pair', z.object({ a: z.string(), b: z.object({ c: z.number() }) }), async () => {
      called = true;
    });

    const err = await rejection(step.run({ a: 1, b: { c: 'x' } }, fakeDeps({ now: NOW })));
    expect(err.message).toBe(
      'Pair received an invalid event: a: Invalid input: expected string, received number; ' +
        'b.c: Invalid input: expected number, received string',
    );
    expect((await rejection(step.run('nope', fakeDeps({ now: NOW })))).message).toContain(
      '(event): Invalid input',
    );
    expect(called).toBe(false);
  });
});

describe('steps', () => {
  it('are named like the Task states that run them', () => {
    expect(Object.fromEntries(Object.entries(steps).map(([key, step]) => [key, step.name]))).toEqual({
      planRun: STATE.planRun,
      createJob: STATE.createJob,
      checkJob: STATE.checkJob,
      copyToS3: STATE.copyToS3,
      recordFailure: STATE.recordFailure,
      finishRun: STATE.finishRun,
    });
  });

  it.each([
    [
      'createJob',
      { runId: 'run-1', item: { ...ITEM, start: '2026-02-30' } },
      'CreateJob received an invalid event: item.start: is not a real calendar date',
    ],
    [
      'checkJob',
      { runId: 'run-1', item: ITEM, next: 'WAIT' },
      'CheckJob received an invalid event: next: Invalid option',
    ],
    [
      'checkJob',
      { runId: 'run-1', item: ITEM, job: { id: 1, createdAt: 'yesterday', polls: 0 } },
      'job.createdAt: Invalid ISO datetime',
    ],
    ['copyToS3', { item: ITEM }, 'CopyToS3 received an invalid event: runId: Invalid input: expected string'],
    [
      'recordFailure',
      { runId: 'run-1', item: ITEM, halves: [{ runId: 'run-1', item: { ...ITEM, dataset: 'seats' } }] },
      'halves.0.item.dataset: Invalid option',
    ],
    [
      'planRun',
      { input: {}, runId: 'run-1', startedAt: 'now' },
      'PlanRun received an invalid event: startedAt: Invalid ISO datetime',
    ],
    ['finishRun', { runId: '' }, 'FinishRun received an invalid event: runId: Too small'],
    // A run id is a key part: no `/`, no `..`, nothing that could reach another run's manifests.
    ['finishRun', { runId: '../other-run' }, 'runId: a run id (the execution name) must be'],
    ['finishRun', { runId: 'run-1/items' }, 'runId: a run id (the execution name) must be'],
    ['finishRun', { runId: '..' }, 'runId: a run id cannot be only dots'],
    [
      'createJob',
      { runId: 'other/../x', item: ITEM },
      'CreateJob received an invalid event: runId: a run id',
    ],
    ['copyToS3', { runId: 'run 1', item: ITEM }, 'runId: a run id (the execution name) must be'],
    ['recordFailure', { runId: 'a'.repeat(81), item: ITEM }, 'runId: Too big'],
    [
      'planRun',
      { input: {}, runId: 'manifests/x', startedAt: NOW },
      'PlanRun received an invalid event: runId: a run id',
    ],
  ] as const)('%s rejects an invalid event: %j', async (key, event, message) => {
    const deps = fakeDeps({ now: NOW });

    const err = await rejection(steps[key].run(event, deps));

    expect(err.message).toContain(message);
    expect(deps.linkedin.created).toEqual([]);
    expect(deps.linkedin.listCalls).toBe(0);
    expect(deps.store.keys()).toEqual([]);
  });

  it('fills the ExportJob input defaults (a planned item sends only runId, item, force, depth)', async () => {
    const deps = fakeDeps({ now: NOW });

    const state = await steps.createJob.run({ runId: 'run-1', item: ITEM, force: false, depth: 0 }, deps);

    expect(state).toMatchObject({
      attempts: { dataDelay: 0, retry: 0 },
      jobIds: [1000],
      job: { id: 1000, polls: 0 },
    });
  });

  it('passes the execution input to planRun, whose own errors name the input field', async () => {
    const deps = fakeDeps({ now: NOW, linkedin: new FakeLinkedIn([contract('A')]) });
    const event = (input: unknown) => ({ input, runId: 'run-1', startedAt: NOW });

    const err = await rejection(steps.planRun.run(event({ datasets: ['nope'] }), deps));
    expect(err.message).toContain('invalid execution input: datasets.0: Invalid option');

    const output = await steps.planRun.run(event({}), deps);
    expect(output).toMatchObject({ runId: 'run-1', planned: 3, skipped: 0 });
  });
});
