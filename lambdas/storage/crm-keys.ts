// The S3 layout of the CRM data validation exports: parts, the per-instance cursor, item records.
import { crmInstanceKey } from '#common/crm';
import { MANIFEST_PREFIX } from './keys.ts';

/**
 * Public and stable, like keys.ts. Everything of one instance lives under its key part
 * `<CRM_KEY>.<instance id>` (crmInstanceKey), and an export's folder names its exact range in epoch ms:
 *
 *   crm-data-validation/instance=<key>/export=<startAt>_<endAt>/part-0001.csv   one object per download URL
 *   crm-data-validation/instance=<key>/export=<startAt>_<endAt>/_export.json  written last: the export is whole
 *   state/crm-data-validation/instance=<key>.json                               the cursor (CrmCursorSchema)
 *   manifests/<run id>/crm-items/<key>.json                                     the run's record of the item
 *
 * `startAt` is the `exportStartAt` the job was created with, `endAt` LinkedIn's `exportEndAt` (or, when
 * it sends none, its `nextExportStartAt`). Part numbers follow the order of LinkedIn's `downloadUrls`.
 */
export const CRM_DATA_PREFIX = 'crm-data-validation';
export const CRM_STATE_PREFIX = 'state/crm-data-validation';

/** Part numbers are zero-padded to four digits (LinkedIn has never been seen to split into more). */
const PART_DIGITS = 4;

export function crmExportPrefix(crmInstance: string, startAt: number, endAt: number): string {
  return `${CRM_DATA_PREFIX}/instance=${crmInstanceKey(crmInstance)}/export=${startAt}_${endAt}/`;
}

/** The key of part `index` (0-based) of an export: `part-0001.csv` for the first. */
export function crmPartKey(crmInstance: string, startAt: number, endAt: number, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`not a part index: ${index}`);
  const number = String(index + 1).padStart(PART_DIGITS, '0');
  return `${crmExportPrefix(crmInstance, startAt, endAt)}part-${number}.csv`;
}

/** The completion marker of an export folder: written after every part, before the cursor moves. */
export function crmExportMarkerKey(crmInstance: string, startAt: number, endAt: number): string {
  return `${crmExportPrefix(crmInstance, startAt, endAt)}_export.json`;
}

export function crmCursorKey(crmInstance: string): string {
  return `${CRM_STATE_PREFIX}/instance=${crmInstanceKey(crmInstance)}.json`;
}

export function crmItemRecordPrefix(runId: string): string {
  return `${MANIFEST_PREFIX}/${runId}/crm-items/`;
}

export function crmItemRecordKey(runId: string, crmInstance: string): string {
  return `${crmItemRecordPrefix(runId)}${crmInstanceKey(crmInstance)}.json`;
}
