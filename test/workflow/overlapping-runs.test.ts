// Overlapping runs through the local executor (folder store): an item leased by another run is skipped, never exported twice.
import { describe, expect, it } from 'vitest';
import { DATASETS } from '#common/model';
import { itemKey, LEASE_PREFIX, leaseKey } from '#storage/keys';
import {
  CONTRACT_A,
  FROM,
  item,
  laneJobs,
  REPORTABLE,
  recordOf,
  TO,
  workflowEnvs,
} from '#test/support/workflow';

const start = workflowEnvs();
const input = { from: FROM, to: TO };

describe('runs that overlap', () => {
  it('an item whose lease another run holds is SKIPPED heldByAnotherRun, with no LinkedIn job', async () => {
    const env = await start({ destination: 'folder' });
    const held = item(CONTRACT_A, 'seat');
    const other = {
      runId: 'run-daily',
      acquiredAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    };
    await env.destination.store.putJson(leaseKey(held), other);

    const { result, manifest } = await env.run(input, 'run-manual');

    expect(result.status).toBe('SUCCEEDED');
    expect(recordOf(manifest, held)).toMatchObject({
      status: 'SKIPPED',
      reason: 'heldByAnotherRun',
      heldBy: 'run-daily',
      jobIds: [],
    });
    expect(laneJobs(env.emulator, CONTRACT_A, 'seat')).toHaveLength(0);
    expect(await env.destination.store.exists(itemKey(held))).toBe(false);
    expect(manifest?.summary).toMatchObject({ exported: 5, skipped: 1, heldByAnotherRun: 1, failed: 0 });
    // The other run's lease is untouched; none of this run's is left behind.
    expect(await env.destination.store.getJson(leaseKey(held))).toEqual(other);
    expect(await env.destination.store.list(`${LEASE_PREFIX}/`)).toEqual([leaseKey(held)]);
  });

  it('an expired lease is taken over and the item exported', async () => {
    const env = await start({ destination: 'folder' });
    const stale = item(CONTRACT_A, 'activity');
    await env.destination.store.putJson(leaseKey(stale), {
      runId: 'run-dead',
      acquiredAt: '2026-10-01T00:00:00.000Z',
      expiresAt: '2026-10-08T00:00:00.000Z',
    });

    const { result, manifest } = await env.run(input, 'run-next');

    expect(result.status).toBe('SUCCEEDED');
    expect(recordOf(manifest, stale).status).toBe('EXPORTED');
    expect(laneJobs(env.emulator, CONTRACT_A, 'activity')).toHaveLength(1);
    expect(await env.destination.store.list(`${LEASE_PREFIX}/`)).toEqual([]);
  });

  it('two runs over the same window at once: each item gets exactly one LinkedIn job', async () => {
    // Jobs take long enough that the second run plans before the first exported anything.
    const env = await start({
      destination: 'folder',
      emulator: { jobTimings: { queuedMs: 200, processingMs: 300 } },
    });

    const [first, second] = await Promise.all([env.run(input, 'run-a'), env.run(input, 'run-b')]);

    expect(first.result.status).toBe('SUCCEEDED');
    expect(second.result.status).toBe('SUCCEEDED');
    let held = 0;
    for (const contract of REPORTABLE) {
      for (const dataset of DATASETS) {
        const it = item(contract, dataset);
        expect(laneJobs(env.emulator, contract, dataset), `${contract} ${dataset}`).toHaveLength(1);
        const a = recordOf(first.manifest, it);
        const b = recordOf(second.manifest, it);
        const [exported, skipped] = a.status === 'EXPORTED' ? [a, b] : [b, a];
        expect(exported.status).toBe('EXPORTED');
        expect(skipped).toMatchObject({ status: 'SKIPPED', reason: 'heldByAnotherRun' });
        expect(skipped.heldBy).toBe(exported === a ? 'run-a' : 'run-b');
        held++;
      }
    }
    expect(held).toBe(6);
    expect(
      (first.manifest?.summary.heldByAnotherRun ?? 0) + (second.manifest?.summary.heldByAnotherRun ?? 0),
    ).toBe(6);
    expect(await env.destination.store.list(`${LEASE_PREFIX}/`)).toEqual([]);
  });
});
