// The LinkedIn calls the pipeline makes, as a port: contracts, create and read export jobs.
import type { Dataset, JobStatus } from '#common/model';

/** A Sales Navigator contract as returned by `GET /salesContracts?q=contractsByMember`. */
export interface Contract {
  contract: string;
  name: string;
  description?: string | null;
  hasReportingAccess: boolean;
}

/** `GET /salesAnalyticsExportJobs/{id}` after validation. `expireAt` is epoch ms. */
export interface ExportJob {
  id: number;
  status: JobStatus;
  downloadUrl?: string;
  expireAt?: number;
  rowCount?: number;
}

/** The three LinkedIn calls the pipeline makes. Implemented by `LinkedInClient` (linkedin.ts). */
export interface LinkedInApi {
  /** Every contract of the token's member, all pages. */
  listContracts(): Promise<Contract[]>;
  /** Creates an export job over `[startAt, endAt)` (epoch ms, UTC day boundaries). */
  createExportJob(dataset: Dataset, contract: string, startAt: number, endAt: number): Promise<ExportJob>;
  getExportJob(id: number, contract: string): Promise<ExportJob>;
}

/**
 * `GET /crmDataValidationExportJobs/{id}?crmInstanceId=…` after validation (times in epoch ms). Every
 * download URL is one part of the export. Fields LinkedIn does not send are absent (`downloadUrls` is
 * then empty).
 */
export interface CrmValidationJob {
  id: number;
  /** PROCESSING | COMPLETED | FAILED_DUE_TO_INTERNAL_ERROR, or a status LinkedIn added later (kept by name). */
  status: JobStatus;
  exportStartAt?: number;
  exportEndAt?: number;
  downloadUrls: string[];
  /** Where the next incremental export should start. */
  nextExportStartAt?: number;
  /** When the download URLs expire. */
  expireAt?: number;
}

/** The two CRM data validation calls (Sales Navigator sync services). Implemented by `LinkedInClient`. */
export interface CrmValidationApi {
  /** Creates an export of the instance's stale records since `exportStartAt` (epoch ms); answers the job id. */
  createCrmValidationJob(crmInstance: string, exportStartAt: number): Promise<{ id: number }>;
  getCrmValidationJob(id: number, crmInstance: string): Promise<CrmValidationJob>;
}
