// The domain model: datasets, job statuses, contract URNs, days, export items and item records.
import * as z from 'zod';

/** The three Sales Navigator analytics exports. The names are part of the public S3 layout. */
export const DATASETS = ['seat', 'activity', 'activityOutcome'] as const;
export type Dataset = (typeof DATASETS)[number];
export const DatasetSchema = z.enum(DATASETS);

/**
 * A run id (the ExportRun execution name): it becomes a key part (`manifests/<run id>/...`), so
 * letters, digits, `.`, `_` and `-` only, not only dots (no `..` folder), at most 80 characters
 * (Step Functions' limit for execution names). Every step's input uses this one schema.
 */
export const RunIdSchema = z
  .string()
  .min(1)
  .max(80)
  .regex(
    /^[A-Za-z0-9._-]+$/,
    'a run id (the execution name) must be 1-80 letters, digits, ".", "_" or "-"; start the execution with such a name',
  )
  .refine((id) => !/^\.+$/.test(id), 'a run id cannot be only dots');

/** `action` of `POST /salesAnalyticsExportJobs` for each dataset. */
export const EXPORT_ACTIONS: Record<
  Dataset,
  'exportSeatData' | 'exportActivityData' | 'exportActivityOutcomeData'
> = {
  seat: 'exportSeatData',
  activity: 'exportActivityData',
  activityOutcome: 'exportActivityOutcomeData',
};

/** The statuses LinkedIn documents (and the seed spec enumerates) for an analytics export job. */
export const JOB_STATUSES = [
  'ENQUEUED',
  'PROCESSING',
  'COMPLETED',
  'FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR',
  'FAILED_DUE_TO_TIMED_OUT',
  'FAILED_DUE_TO_DATA_DELAY',
  'FAILED_DUE_TO_INTERNAL_ERROR',
] as const;
export type KnownJobStatus = (typeof JOB_STATUSES)[number];
/**
 * A job status as LinkedIn answered it: one of JOB_STATUSES, or a status LinkedIn added later. An
 * unknown one is kept by name (CheckJob polls on and reports it), so the schema accepts any short
 * token-like string; the character set keeps it safe to echo into logs and error messages.
 */
export type JobStatus = KnownJobStatus | (string & {});
export const JobStatusSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,80}$/, 'must be a status name (letters, digits, _ . -, at most 80)');

export function isKnownJobStatus(status: string): status is KnownJobStatus {
  return (JOB_STATUSES as readonly string[]).includes(status);
}

/**
 * The contract URN forms accepted everywhere (API answers, execution input, CLI flags):
 * `urn:li:contract:<id>` is what LinkedIn's reference writes, `urn:li:salesContract:<id>` what the
 * seed spec writes. Only `<id>` becomes part of an S3 key (keys.ts `contractId`), so both forms of one
 * id name the same contract and the same objects; it is restricted to characters safe in a key.
 */
export const CONTRACT_URN_FORMS = ['urn:li:contract:<id>', 'urn:li:salesContract:<id>'] as const;
const CONTRACT_URN = /^urn:li:(?:contract|salesContract):([A-Za-z0-9_-]{1,64})$/;
export const ContractUrnSchema = z
  .string()
  .regex(
    CONTRACT_URN,
    `must look like ${CONTRACT_URN_FORMS[0]} (LinkedIn's form) or ${CONTRACT_URN_FORMS[1]} (the seed spec's), ` +
      '<id> being 1-64 letters, digits, _ or -',
  );

/** The id of a contract URN in either accepted form, or undefined when it is not one. */
export function contractUrnId(urn: string): string | undefined {
  return CONTRACT_URN.exec(urn)?.[1];
}

/** A UTC calendar day, `YYYY-MM-DD`, that really exists. */
export const IsoDaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date written YYYY-MM-DD', abort: true })
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'is not a real calendar date');

/** One export: one dataset of one contract over `[start, end)` in whole UTC days (at most 90). */
export const ExportItemSchema = z.object({
  contract: ContractUrnSchema,
  dataset: DatasetSchema,
  start: IsoDaySchema,
  end: IsoDaySchema,
});
export type ExportItem = z.infer<typeof ExportItemSchema>;

/**
 * EXPORTED, SKIPPED (already exported), FAILED; in the manifest of a run stopped by the user (Ctrl-C)
 * also NOT_STARTED (no LinkedIn job was created for it) and INTERRUPTED (its job was under way):
 * neither is a failure, and a rerun exports exactly those.
 */
export const ITEM_STATUSES = ['EXPORTED', 'SKIPPED', 'FAILED', 'NOT_STARTED', 'INTERRUPTED'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export const ErrorInfoSchema = z.object({ name: z.string(), message: z.string() });

/**
 * The stored object's checksum, as the store verified it (S3 checks every part's CRC32 and the
 * whole object's): a consumer checks a downloaded file by its CRC32 (base64 of the 4 big-endian bytes).
 */
export const ObjectChecksumSchema = z.object({
  algorithm: z.literal('CRC32'),
  type: z.literal('FULL_OBJECT'),
  value: z.string(),
});

/** An activity file's `createdAt` range, read while copying (ISO 8601 UTC), against its window. */
export const CreatedAtRangeSchema = z.object({
  earliest: z.string().optional(),
  latest: z.string().optional(),
  /** Rows whose createdAt is before the window's start or at/after its end. */
  outsideWindow: z.number().int().nonnegative(),
  /** Rows whose createdAt is missing or not `MM-DD-YYYY HH:MM:SS`. */
  unreadable: z.number().int().nonnegative(),
});

/**
 * The full outcome of one item, stored at `manifests/<runId>/items/<itemId>.json` by whichever
 * step finished the item, and copied into the run manifest by FinishRun. Public: fields are only added.
 */
export const ItemRecordSchema = z.object({
  contract: ContractUrnSchema,
  dataset: DatasetSchema,
  window: z.object({ start: IsoDaySchema, end: IsoDaySchema }),
  status: z.enum(ITEM_STATUSES),
  key: z.string(),
  bytes: z.number().int().nonnegative().optional(),
  rows: z.number().int().nonnegative().optional(),
  /** LinkedIn's `rowCount` for the job, when it reported one; `rows` is what the copy counted. */
  rowCount: z.number().int().nonnegative().optional(),
  /** EXPORTED to S3: the object's checksum, verified by S3 on upload. */
  checksum: ObjectChecksumSchema.optional(),
  /** activity exports: the createdAt range found while copying. */
  createdAt: CreatedAtRangeSchema.optional(),
  /** What the copy noticed without failing the item (a rowCount mismatch, rows outside the window). */
  warnings: z.array(z.string()).optional(),
  jobIds: z.array(z.number().int()),
  attempts: z.number().int().nonnegative(),
  /**
   * POSTs that created a job or not, we cannot tell (no answer, a socket error after sending):
   * LinkedIn may hold that many jobs for this window whose ids are not in `jobIds`.
   */
  ambiguousCreates: z.number().int().nonnegative().optional(),
  error: ErrorInfoSchema.optional(),
  /**
   * Why a SKIPPED item was not exported when it is not "already exported": `heldByAnotherRun`, another
   * run held its lease (it was exporting the same item at the time; see storage/lease.ts).
   */
  reason: z.string().optional(),
  /** `reason` heldByAnotherRun: the run id that held the item's lease. */
  heldBy: z.string().optional(),
  /** Set when this item is a half (or quarter...) of a planned window that LinkedIn found too large. */
  splitFrom: z.object({ start: IsoDaySchema, end: IsoDaySchema }).optional(),
  finishedAt: z.string(),
});
export type ItemRecord = z.infer<typeof ItemRecordSchema>;

/** What a child (ExportJob) execution returns to its parent: small on purpose (256 KiB state limit). */
export interface ItemResult {
  status: ItemStatus | 'SPLIT';
  key: string;
  bytes?: number;
  rows?: number;
}
