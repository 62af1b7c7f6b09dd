// An in-memory LinkedIn API with the CRM data validation calls, for unit tests of the CRM steps.
import { LinkedInRequestError } from '#common/errors';
import type { CrmValidationApi, CrmValidationJob } from '#linkedin/api';
import { FakeLinkedIn } from './fake-linkedin.ts';

/**
 * FakeLinkedIn plus CRM jobs that stay as the test sets them (`setCrmJob`, or `onRead` to change a job
 * as it is read). Every create and read is recorded.
 */
export class FakeCrmLinkedIn extends FakeLinkedIn implements CrmValidationApi {
  readonly crmCreated: { id: number; crmInstance: string; exportStartAt: number }[] = [];
  readonly crmReads: { id: number; crmInstance: string }[] = [];
  readonly crmJobs = new Map<number, CrmValidationJob & { crmInstance: string }>();
  /** Called on every read before answering: return a job to answer instead of the stored one. */
  onRead?: (job: CrmValidationJob, reads: number) => CrmValidationJob | undefined;
  private nextCrmId = 148;

  async createCrmValidationJob(crmInstance: string, exportStartAt: number): Promise<{ id: number }> {
    const id = this.nextCrmId++;
    this.crmCreated.push({ id, crmInstance, exportStartAt });
    this.crmJobs.set(id, { id, crmInstance, status: 'PROCESSING', exportStartAt, downloadUrls: [] });
    return { id };
  }

  async getCrmValidationJob(id: number, crmInstance: string): Promise<CrmValidationJob> {
    this.crmReads.push({ id, crmInstance });
    const stored = this.crmJobs.get(id);
    if (!stored || stored.crmInstance !== crmInstance) {
      throw new LinkedInRequestError(`GET /crmDataValidationExportJobs/${id}: LinkedIn answered 404`, 404);
    }
    const { crmInstance: _, ...job } = stored;
    const reads = this.crmReads.filter((r) => r.id === id).length;
    return structuredClone(this.onRead?.(job, reads) ?? job);
  }

  setCrmJob(id: number, job: Partial<CrmValidationJob>): void {
    const stored = this.crmJobs.get(id);
    if (!stored) throw new Error(`no CRM job ${id}`);
    this.crmJobs.set(id, { ...stored, ...job });
  }
}
