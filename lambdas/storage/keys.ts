// The S3 layout: where each export, plan, item record and manifest is stored.
import type { ExportItem } from '#common/model';

/**
 * The S3 layout. Public: other tools read it. Keys are deterministic (same item → same key),
 * so a rerun overwrites or skips, never duplicates.
 *
 *   sales-navigator/<dataset>/contract=<contract id>/window=<start>_<end>/<dataset>.csv
 *   manifests/<run id>.json                    the run manifest
 *   manifests/<run id>/plan.json               the plan (written by PlanRun)
 *   manifests/<run id>/lanes.json              the lanes to export, a JSON array (PlanRun; read by the
 *                                              ExportEach Distributed Map's ItemReader)
 *   manifests/<run id>/items/<item id>.json    one record per finished item
 *   manifests/leases/<contract id>/<dataset>/<start>_<end>.json
 *                                              the lease of an item being exported (lease.ts); gone when it ends
 *   athena-results/                            the Athena workgroup's query results (AWS, lake on)
 */
export const DATA_PREFIX = 'sales-navigator';
export const MANIFEST_PREFIX = 'manifests';
export const ATHENA_RESULTS_PREFIX = 'athena-results';

export function contractId(contractUrn: string): string {
  const id = contractUrn.split(':').at(-1);
  if (!id) throw new Error(`not a contract URN: ${contractUrn}`);
  return id;
}

export function itemKey(item: ExportItem): string {
  return `${DATA_PREFIX}/${item.dataset}/contract=${contractId(item.contract)}/window=${item.start}_${item.end}/${item.dataset}.csv`;
}

/** The prefix every object of one lane (dataset × contract) is under, whatever its window. */
export function lanePrefix(dataset: string, contractUrn: string): string {
  return `${DATA_PREFIX}/${dataset}/contract=${contractId(contractUrn)}/`;
}

export function itemId(item: ExportItem): string {
  return `${item.dataset}-${contractId(item.contract)}-${item.start}_${item.end}`;
}

export function manifestKey(runId: string): string {
  return `${MANIFEST_PREFIX}/${runId}.json`;
}

export function planKey(runId: string): string {
  return `${MANIFEST_PREFIX}/${runId}/plan.json`;
}

export function lanesKey(runId: string): string {
  return `${MANIFEST_PREFIX}/${runId}/lanes.json`;
}

export function itemRecordPrefix(runId: string): string {
  return `${MANIFEST_PREFIX}/${runId}/items/`;
}

export function itemRecordKey(runId: string, item: ExportItem): string {
  return `${itemRecordPrefix(runId)}${itemId(item)}.json`;
}

/** Where the leases are: PutObject/GetObject/DeleteObject of the functions that take or release one. */
export const LEASE_PREFIX = `${MANIFEST_PREFIX}/leases`;

/** The lease of one item (contract × dataset × window): held by the run exporting it. */
export function leaseKey(item: ExportItem): string {
  return `${LEASE_PREFIX}/${contractId(item.contract)}/${item.dataset}/${item.start}_${item.end}.json`;
}
