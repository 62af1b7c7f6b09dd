// CRM data validation exports (stale CRM contacts): the instance URN, its key part, the item and its cursor.
import * as z from 'zod';
import { ErrorInfoSchema } from './model.ts';

/**
 * The dataset name of the second export family: LinkedIn's "No Longer with Company" validation of the
 * contact and lead records ingested through CRM Sync (`/crmDataValidationExportJobs`). Public: it is the
 * value of `datasets` in the execution input and of `--datasets` on the CLI.
 */
export const CRM_DATASET = 'crmDataValidation';
export type CrmDataset = typeof CRM_DATASET;

/**
 * `urn:li:crmInstance:(CRM_KEY,VALUE)` as LinkedIn's reference writes it ("crmDataValidationExportJobs":
 * "the CRM type in the format urn:li:crmInstance:(CRM_KEY,VALUE)", sample
 * `urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)`). The CRM key is upper case
 * (LinkedIn's list of keys was not retrievable; DYNAMICS is the documented one); the instance id is
 * restricted to characters that are safe in an S3 key, because `<CRM_KEY>.<id>` becomes one.
 */
const CRM_INSTANCE_URN = /^urn:li:crmInstance:\(([A-Z][A-Z0-9_]{0,31}),([A-Za-z0-9_-]{1,100})\)$/;
export const CRM_INSTANCE_URN_FORM = 'urn:li:crmInstance:(<CRM_KEY>,<instance id>)';
export const CrmInstanceUrnSchema = z
  .string()
  .regex(
    CRM_INSTANCE_URN,
    `must look like ${CRM_INSTANCE_URN_FORM}, e.g. urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08): ` +
      '<CRM_KEY> upper-case letters, digits or _ (at most 32), <instance id> 1-100 letters, digits, _ or -',
  );

/**
 * The S3 key part of an instance, `<CRM_KEY>.<instance id>` (e.g. `DYNAMICS.362a3584-…`): `.` occurs in
 * neither part, so the key names exactly one instance. Throws for anything CrmInstanceUrnSchema refuses.
 */
export function crmInstanceKey(urn: string): string {
  const match = CRM_INSTANCE_URN.exec(urn);
  if (!match) throw new Error(`not a CRM instance URN (${CRM_INSTANCE_URN_FORM}): ${urn}`);
  return `${match[1]}.${match[2]}`;
}

/** An epoch-millisecond instant as LinkedIn sends it (`exportStartAt`, `nextExportStartAt`). */
export const EpochMsSchema = z.number().int().min(0).max(8.64e15);

/**
 * One CRM item: one incremental export of one instance, from `startAt` (the instance's cursor, or the
 * configured first start) to wherever LinkedIn ends it. One per instance per run: LinkedIn exports
 * everything since `exportStartAt`, so a second job for the same instance would only overlap the first.
 */
export const CrmItemSchema = z.object({
  crmInstance: CrmInstanceUrnSchema,
  startAt: EpochMsSchema,
});
export type CrmItem = z.infer<typeof CrmItemSchema>;

/**
 * The per-instance cursor, stored at `state/crm-data-validation/instance=<key>.json` (keys.ts). Written
 * only after every part of an export is whole in the store, so a failed or interrupted run leaves the
 * previous cursor and the next run exports the same range again (never skips one). Public: fields are
 * only added.
 */
export const CrmCursorSchema = z.object({
  version: z.literal(1),
  crmInstance: CrmInstanceUrnSchema,
  /** Where the next export starts: LinkedIn's `nextExportStartAt` of the last complete export. */
  nextExportStartAt: EpochMsSchema,
  lastExport: z.object({
    runId: z.string(),
    jobId: z.number().int().nonnegative(),
    startAt: EpochMsSchema,
    endAt: EpochMsSchema,
    /** The keys of its parts, in LinkedIn's order. */
    parts: z.array(z.string()),
    rows: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    committedAt: z.string(),
  }),
});
export type CrmCursor = z.infer<typeof CrmCursorSchema>;

/** What an export did to its instance's cursor (item record `cursor`). */
export const CURSOR_OUTCOMES = [
  /** Moved to this export's `nextExportStartAt`. */
  'ADVANCED',
  /** Another run had already moved it at least as far (overlapping runs); left as it was. */
  'ALREADY_ADVANCED',
  /** The export failed: the cursor stays where it was, and the next run exports the same range again. */
  'KEPT',
] as const;

/**
 * The outcome of one CRM item, stored at `manifests/<runId>/crm-items/<key>.json` (crm-keys.ts) and
 * copied into the run manifest's `crmItems`. Public: fields are only added.
 */
export const CrmItemRecordSchema = z.object({
  dataset: z.literal(CRM_DATASET),
  crmInstance: CrmInstanceUrnSchema,
  status: z.enum(['EXPORTED', 'FAILED']),
  /** The `exportStartAt` the job was created with (the cursor the run started from). */
  startAt: EpochMsSchema,
  endAt: EpochMsSchema.optional(),
  nextExportStartAt: EpochMsSchema.optional(),
  parts: z.array(
    z.object({
      key: z.string(),
      bytes: z.number().int().nonnegative(),
      rows: z.number().int().nonnegative(),
    }),
  ),
  bytes: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  jobIds: z.array(z.number().int()),
  attempts: z.number().int().nonnegative(),
  cursor: z.enum(CURSOR_OUTCOMES),
  error: ErrorInfoSchema.optional(),
  finishedAt: z.string(),
});
export type CrmItemRecord = z.infer<typeof CrmItemRecordSchema>;
