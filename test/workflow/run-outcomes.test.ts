import { describe, expect, it } from 'vitest';
import { DATASETS } from '#common/model';
import { itemKey } from '#storage/keys';
import {
  CONTRACT_A,
  CONTRACT_B,
  DESTINATIONS,
  FROM,
  item,
  laneJobs,
  REPORTABLE,
  recordOf,
  TO,
  workflowEnvs,
} from '#test/support/workflow';

const start = workflowEnvs();

const RANGE = { from: FROM, to: TO };
const ALL_ITEMS = REPORTABLE.flatMap((contract) => DATASETS.map((dataset) => item(contract, dataset)));

describe('a 401 from LinkedIn', () => {
  it('fails the run at PlanRun with LinkedInAuthError, before anything is exported', async () => {
    const env = await start();
    env.emulator.revokeToken();
    const { result, manifest, events } = await env.run(RANGE, 'run-revoked');

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('LinkedInAuthError');
    expect(result.error?.message).toMatch(/expired or revoked/i);
    expect(result.error?.message).not.toContain(env.emulator.token);
    expect(events).toEqual([]);
    expect(manifest).toBeUndefined();
    expect(await env.destination.allKeys()).toEqual([]);
    // One call, not retried: a human has to renew the token.
    expect(env.emulator.requests.map((r) => [r.path, r.status])).toEqual([['/v2/salesContracts', 401]]);
    expect(env.emulator.jobs()).toEqual([]);
  });

  it('in the middle of a run fails that item with LinkedInAuthError, unretried; the others export', async () => {
    const env = await start();
    // Once B's activity job exists, every call of that lane answers 401 (its first CheckJob).
    let armed = false;
    const { result, manifest } = await env.run(RANGE, 'run-401-lane', (event) => {
      if (
        !armed &&
        event.type === 'status' &&
        event.item.contract === CONTRACT_B &&
        event.item.dataset === 'activity'
      ) {
        armed = true;
        env.emulator.setScenario(CONTRACT_B, 'activity', { unauthorized: true });
      }
    });

    expect(armed).toBe(true);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('RunIncompleteError');
    const failedItem = item(CONTRACT_B, 'activity');
    const [job, ...more] = laneJobs(env.emulator, CONTRACT_B, 'activity');
    expect(more).toEqual([]);
    expect(recordOf(manifest, failedItem)).toMatchObject({
      status: 'FAILED',
      jobIds: [job?.id],
      attempts: 1,
      error: { name: 'LinkedInAuthError', message: expect.stringMatching(/expired or revoked/i) },
    });
    expect(env.emulator.requests.filter((r) => r.status === 401)).toEqual([
      { method: 'GET', path: `/v2/salesAnalyticsExportJobs/${job?.id}`, status: 401, at: expect.any(Number) },
    ]);
    expect(await env.destination.read(itemKey(failedItem))).toBeUndefined();
    expect(manifest?.summary).toMatchObject({ planned: 6, exported: 5, failed: 1 });
  });
});

describe.each(DESTINATIONS)('a rerun into %s', (destination) => {
  it('skips every item that exists, creating no job; with force it exports everything again', async () => {
    const env = await start({ destination });
    const first = await env.run(RANGE, 'run-first');
    expect(first.manifest?.summary).toMatchObject({ exported: 6, skipped: 0 });
    const jobsAfterFirst = env.emulator.jobs().length;
    expect(jobsAfterFirst).toBe(6);

    const second = await env.run(RANGE, 'run-second');
    expect(second.result.status).toBe('SUCCEEDED');
    expect(second.manifest?.summary).toEqual({
      planned: 6,
      exported: 0,
      skipped: 6,
      failed: 0,
      bytes: 0,
      rows: 0,
    });
    for (const it of ALL_ITEMS) {
      expect(recordOf(second.manifest, it)).toMatchObject({
        status: 'SKIPPED',
        key: itemKey(it),
        jobIds: [],
        attempts: 0,
      });
    }
    expect(env.emulator.jobs()).toHaveLength(jobsAfterFirst);

    const forced = await env.run({ ...RANGE, force: true }, 'run-forced');
    expect(forced.result.status).toBe('SUCCEEDED');
    expect(forced.manifest).toMatchObject({ force: true, summary: { exported: 6, skipped: 0, failed: 0 } });
    expect(env.emulator.jobs()).toHaveLength(2 * jobsAfterFirst);
    for (const it of ALL_ITEMS) {
      const [, secondJob] = laneJobs(env.emulator, it.contract, it.dataset);
      expect(recordOf(forced.manifest, it)).toMatchObject({ status: 'EXPORTED', jobIds: [secondJob?.id] });
      const stored = await env.destination.read(itemKey(it));
      expect(stored?.equals(env.expectedCsv(it))).toBe(true);
    }
  });
});

describe('a failed item', () => {
  it('does not stop the others; the manifest lists it and the run ends FAILED with RunIncompleteError', async () => {
    const env = await start({
      emulator: {
        scenarios: {
          [CONTRACT_A]: { seat: { failJob: { status: 'FAILED_DUE_TO_INTERNAL_ERROR', times: 100 } } },
        },
      },
    });
    const { result, manifest } = await env.run(RANGE, 'run-one-fails');

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('RunIncompleteError');
    expect(result.error?.message).toContain('1 of 6 item(s) failed');
    expect(manifest?.summary).toMatchObject({ planned: 6, exported: 5, skipped: 0, failed: 1 });

    const failed = item(CONTRACT_A, 'seat');
    expect(recordOf(manifest, failed)).toMatchObject({
      status: 'FAILED',
      attempts: 3,
      error: {
        name: 'ExportJobFailedError',
        message: expect.stringContaining('FAILED_DUE_TO_INTERNAL_ERROR'),
      },
    });
    expect(await env.destination.read(itemKey(failed))).toBeUndefined();
    for (const it of ALL_ITEMS.filter(
      (i) => i.contract !== failed.contract || i.dataset !== failed.dataset,
    )) {
      expect(recordOf(manifest, it).status).toBe('EXPORTED');
      const stored = await env.destination.read(itemKey(it));
      expect(stored?.equals(env.expectedCsv(it)), itemKey(it)).toBe(true);
    }
  });
});

describe('invalid execution input', () => {
  it.each([
    [{ from: '2026-02-30', to: '2026-03-01' }, /from: is not a real calendar date/],
    [{ from: FROM }, /to: from and to must be given together/],
    [{ from: TO, to: FROM }, /to: must be after from/],
    [{ ...RANGE, datasets: ['seats'] }, /datasets\.0:/],
    [{ ...RANGE, contracts: ['urn:li:salesContract:1003'] }, /contracts\.0: .*no reporting access/],
    [{ ...RANGE, color: 'blue' }, /color/],
  ])('%j fails the run at PlanRun with InvalidInputError naming the field', async (input, message) => {
    const env = await start();
    const { result, manifest } = await env.run(input, 'run-invalid');

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InvalidInputError');
    expect(result.error?.message).toMatch(message);
    expect(manifest).toBeUndefined();
    expect(env.emulator.jobs()).toEqual([]);
    expect(await env.destination.allKeys()).toEqual([]);
  });
});
