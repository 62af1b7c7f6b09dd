import { LinkedInRequestError } from '#common/errors';
import type { Dataset } from '#common/model';
import { parseSettings, type SettingsInput } from '#common/settings';
import type { Contract, ExportJob, LinkedInApi } from '#linkedin/api';
import type { Deps } from '#steps/deps';
import { MemoryStore } from './memory-store.ts';

export interface CreatedJob {
  id: number;
  dataset: Dataset;
  contract: string;
  startAt: number;
  endAt: number;
}

/**
 * An in-memory LinkedInApi: a fixed contract list, and export jobs that stay as the test sets them
 * (`setJob`). Every call is recorded so a test can assert on what the core asked for.
 */
export class FakeLinkedIn implements LinkedInApi {
  readonly created: CreatedJob[] = [];
  readonly reads: { id: number; contract: string }[] = [];
  readonly jobs = new Map<number, ExportJob>();
  listCalls = 0;

  constructor(
    public contracts: Contract[] = [],
    private nextId = 1000,
  ) {}

  async listContracts(): Promise<Contract[]> {
    this.listCalls++;
    return this.contracts.map((c) => ({ ...c }));
  }

  async createExportJob(
    dataset: Dataset,
    contract: string,
    startAt: number,
    endAt: number,
  ): Promise<ExportJob> {
    const id = this.nextId++;
    this.created.push({ id, dataset, contract, startAt, endAt });
    this.jobs.set(id, { id, status: 'ENQUEUED' });
    return { id, status: 'ENQUEUED' };
  }

  async getExportJob(id: number, contract: string): Promise<ExportJob> {
    this.reads.push({ id, contract });
    const job = this.jobs.get(id);
    if (!job) throw new LinkedInRequestError(`job ${id} not found`, 404);
    return { ...job };
  }

  setJob(job: ExportJob): void {
    this.jobs.set(job.id, job);
  }
}

/** A contract of the token's member; reportable unless told otherwise. */
export function contract(id: string, hasReportingAccess = true): Contract {
  return { contract: `urn:li:contract:${id}`, name: `Contract ${id}`, hasReportingAccess };
}

export interface FakeDeps extends Deps {
  linkedin: FakeLinkedIn;
  store: MemoryStore;
}

/** Deps for a core under test: a fixed clock, default settings (plus overrides), a fake LinkedIn, a memory store. */
export function fakeDeps(options: {
  now: string;
  settings?: SettingsInput;
  linkedin?: FakeLinkedIn;
  store?: MemoryStore;
}): FakeDeps {
  const now = new Date(options.now);
  if (Number.isNaN(now.getTime())) throw new Error(`fakeDeps: not a date: ${options.now}`);
  return {
    settings: parseSettings(options.settings ?? {}),
    linkedin: options.linkedin ?? new FakeLinkedIn(),
    store: options.store ?? new MemoryStore(),
    now: () => new Date(now),
  };
}
