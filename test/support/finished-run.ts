// A run as FinishRun finds it: run-1's plan and the item records the steps wrote, in a store.
import type { ExportItem, ItemRecord } from '#common/model';
import type { PlanDocument } from '#steps/plan';
import { itemRecordKey } from '#storage/keys';
import type { ObjectStore } from '#storage/store';

/**
 * Writes the plan of run-1 (started 2026-03-10 06:00 UTC, window 2026-03-08 → 2026-03-09, all three
 * datasets of `contract`) for `items`, and each of `records` where the steps write it. Returns the plan.
 */
export async function seedFinishedRun(
  store: ObjectStore,
  contract: string,
  items: ExportItem[],
  records: ItemRecord[],
): Promise<PlanDocument> {
  const plan: PlanDocument = {
    version: 1,
    runId: 'run-1',
    startedAt: '2026-03-10T06:00:00.000Z',
    window: { from: '2026-03-08', to: '2026-03-09' },
    contracts: [contract],
    datasets: ['seat', 'activity', 'activityOutcome'],
    force: false,
    items,
  };
  await store.putJson('manifests/run-1/plan.json', plan);
  for (const r of records) {
    await store.putJson(itemRecordKey('run-1', { contract: r.contract, dataset: r.dataset, ...r.window }), r);
  }
  return plan;
}
