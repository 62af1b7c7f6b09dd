// One part of a CRM export into the store, through the analytics copy (same guarantees, no second copier).

import { CRM_DATASET } from '#common/crm';
import { LinkedInResponseError } from '#common/errors';
import type { ExportItem } from '#common/model';
import type { ExportJob, LinkedInApi } from '#linkedin/api';
import { type CopyDeps, type CopyResult, copyExportToStore } from '../copy.ts';
import { crmApi } from './crm-api.ts';

export interface CrmPartCopyInput {
  crmInstance: string;
  jobId: number;
  /** 0-based index into the job's `downloadUrls`. */
  index: number;
  /** How many download URLs the job had when CheckCrmJob found it COMPLETED. */
  parts: number;
  key: string;
  range: { startAt: number; endAt: number };
  metadata?: Record<string, string>;
}

/**
 * Streams part `index` of a COMPLETED CRM job into the store with `copyExportToStore`: the download is
 * allow-listed, redirects are checked, Content-Length is verified, the object appears only when whole,
 * and an expired URL is refreshed by re-reading the job (here: the CRM job, taking the same part). The
 * copy reads "the job" through a view of the CRM job as an export job with that one download URL.
 * Object metadata: the copy's own (jobid, dataset `crmDataValidation`, contract = the instance URN,
 * windowstart/windowend = the export's range in ISO 8601), plus `crminstance`, `exportstartat`,
 * `exportendat` (epoch ms) and `part` (`1/3`).
 */
export async function copyCrmPartToStore(input: CrmPartCopyInput, deps: CopyDeps): Promise<CopyResult> {
  const { crmInstance, jobId, index, parts, range } = input;
  const api = crmApi(deps);
  const partOfJob = async (id: number): Promise<ExportJob> => {
    const job = await api.getCrmValidationJob(id, crmInstance);
    if (job.status === 'COMPLETED' && job.downloadUrls.length !== parts) {
      throw new LinkedInResponseError(
        `CRM job ${id} now has ${job.downloadUrls.length} download URL(s) instead of ${parts}: its parts cannot be matched, nothing more is copied and the cursor is kept`,
      );
    }
    const downloadUrl = job.downloadUrls[index];
    return {
      id: job.id,
      status: job.status,
      ...(downloadUrl !== undefined && { downloadUrl }),
      ...(job.expireAt !== undefined && { expireAt: job.expireAt }),
    };
  };
  const view: LinkedInApi = {
    listContracts: () => Promise.reject(new Error('not used by a CRM part copy')),
    createExportJob: () => Promise.reject(new Error('not used by a CRM part copy')),
    getExportJob: (id) => partOfJob(id),
  };
  // The copy writes its subject into the object metadata; for a CRM part that is the instance and range.
  const subject = {
    dataset: CRM_DATASET,
    contract: crmInstance,
    start: new Date(range.startAt).toISOString(),
    end: new Date(range.endAt).toISOString(),
  } as unknown as ExportItem;
  return copyExportToStore(
    {
      item: subject,
      jobId,
      key: input.key,
      metadata: {
        ...input.metadata,
        crminstance: crmInstance,
        exportstartat: String(range.startAt),
        exportendat: String(range.endAt),
        part: `${index + 1}/${parts}`,
      },
    },
    { ...deps, linkedin: view },
  );
}
