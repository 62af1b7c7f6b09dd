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
