// What travels between the Task states of one CRM data validation export: the item and its progress.
import * as z from 'zod';
import { CrmItemSchema, EpochMsSchema } from '#common/crm';
import { ErrorInfoSchema, JobStatusSchema, RunIdSchema } from '#common/model';

/** Where the CRM export goes after a step. */
export const CRM_NEXT_STEPS = ['POLL', 'COPY', 'COMMIT', 'RECREATE', 'FAIL', 'DONE'] as const;
export type CrmNextStep = (typeof CRM_NEXT_STEPS)[number];

/** At most this many parts per export: the copied parts travel in the state (256 KiB limit). */
export const MAX_CRM_PARTS = 500;

export const CrmPartSchema = z.object({
  key: z.string(),
  bytes: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
});
export type CrmPart = z.infer<typeof CrmPartSchema>;

export const CrmResultSchema = z.object({
  status: z.enum(['EXPORTED', 'FAILED']),
  crmInstance: z.string(),
  parts: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative().optional(),
  rows: z.number().int().nonnegative().optional(),
});

/**
 * The state of one CRM export: its input and what each step takes and returns whole. Small on purpose
 * (it is in the execution history): never a download URL or a token, parts as keys and counts only.
 */
export const CrmStateSchema = z.object({
  runId: RunIdSchema,
  item: CrmItemSchema,
  attempts: z.object({ retry: z.number().int().min(0).default(0) }).prefault({}),
  jobIds: z.array(z.number().int()).default([]),
  job: z
    .object({
      id: z.number().int().nonnegative(),
      createdAt: z.iso.datetime(),
      polls: z.number().int().min(0),
    })
    .optional(),
  /** The finished job's range and part count, once CheckCrmJob found it COMPLETED. */
  export: z
    .object({
      startAt: EpochMsSchema,
      endAt: EpochMsSchema,
      nextExportStartAt: EpochMsSchema,
      parts: z.number().int().min(0).max(MAX_CRM_PARTS),
    })
    .optional(),
  /** The parts already whole in the store, in LinkedIn's order (CopyCrmPart copies the next one). */
  copied: z.array(CrmPartSchema).max(MAX_CRM_PARTS).default([]),
  next: z.enum(CRM_NEXT_STEPS).optional(),
  waitSeconds: z.number().int().min(0).optional(),
  status: JobStatusSchema.optional(),
  failure: ErrorInfoSchema.optional(),
  /** A caught exception (Step Functions Catch puts it here). */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
  result: CrmResultSchema.optional(),
});
export type CrmState = z.infer<typeof CrmStateSchema>;
export type CrmStateInput = z.input<typeof CrmStateSchema>;
