// The CRM part of a run: which instances the execution input asks for, and their records for the manifest.
import { mapLimit } from '#common/concurrency';
import { CRM_DATASET, type CrmItem, type CrmItemRecord, CrmItemRecordSchema } from '#common/crm';
import { InvalidInputError } from '#common/errors';
import type { Settings } from '#common/settings';
import { crmItemRecordKey } from '#storage/crm-keys';
import type { Deps } from '../deps.ts';

/** The CRM fields of the ExportRun input (validated by RunInputSchema). */
export interface CrmRunInput {
  datasets?: readonly string[];
  crmInstances?: readonly string[];
}

/**
 * The CRM instances a run exports. `datasets` without `crmDataValidation` means none; `datasets` absent
 * means every configured family, so the configured instances (`settings.crm.instances`) unless the input
 * names its own (`crmInstances`). With no instance anywhere the family is off: a run without CRM input
 * behaves exactly as before the family existed. Contradictions are refused naming the field.
 */
export function crmInstancesOfRun(input: CrmRunInput, settings: Pick<Settings, 'crm'>): string[] {
  const asked = input.datasets?.includes(CRM_DATASET);
  const instances = input.crmInstances ?? settings.crm.instances;
  if (input.datasets && !asked) {
    if (input.crmInstances) {
      throw new InvalidInputError(
        `invalid execution input: crmInstances: given, but datasets does not include ${CRM_DATASET}; add it to datasets or drop crmInstances`,
      );
    }
    return [];
  }
  if (asked && instances.length === 0) {
    throw new InvalidInputError(
      `invalid execution input: datasets: ${CRM_DATASET} needs CRM instances: give crmInstances ` +
        '(urn:li:crmInstance:(<CRM_KEY>,<instance id>)), or configure them (deploy config crmInstances, settings.crm.instances)',
    );
  }
  return [...new Set(instances)];
}

/**
 * The manifest's `crmItems`: the record of each planned CRM item, in plan order. A planned item
 * without a record (its execution stopped before recording one) is listed FAILED, never dropped.
 */
export async function collectCrmItems(
  runId: string,
  planned: readonly CrmItem[],
  deps: Pick<Deps, 'store'>,
  finishedAt: string,
): Promise<CrmItemRecord[]> {
  return mapLimit([...planned], 16, async (item) => {
    const json = await deps.store.getJson(crmItemRecordKey(runId, item.crmInstance));
    if (json !== undefined) return CrmItemRecordSchema.parse(json);
    return {
      dataset: CRM_DATASET,
      crmInstance: item.crmInstance,
      status: 'FAILED',
      startAt: item.startAt,
      parts: [],
      bytes: 0,
      rows: 0,
      jobIds: [],
      attempts: 0,
      cursor: 'KEPT',
      error: {
        name: 'ItemNotRecorded',
        message:
          'no outcome was recorded for this CRM export: its ExportCrmJob execution stopped before recording one (see its execution history); the cursor is where it was',
      },
      finishedAt,
    } satisfies CrmItemRecord;
  });
}

/** The CRM figures of a run's summary. */
export interface CrmRunSummary {
  planned: number;
  exported: number;
  failed: number;
  parts: number;
  bytes: number;
  rows: number;
}

export function summariseCrm(records: readonly CrmItemRecord[]): CrmRunSummary {
  return {
    planned: records.length,
    exported: records.filter((r) => r.status === 'EXPORTED').length,
    failed: records.filter((r) => r.status === 'FAILED').length,
    parts: records.reduce((n, r) => n + (r.status === 'EXPORTED' ? r.parts.length : 0), 0),
    bytes: records.reduce((n, r) => n + (r.status === 'EXPORTED' ? r.bytes : 0), 0),
    rows: records.reduce((n, r) => n + (r.status === 'EXPORTED' ? r.rows : 0), 0),
  };
}
