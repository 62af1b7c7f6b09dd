// What travels between the Task states of ExportJob: the item and its progress.
import * as z from 'zod';
import { CrmItemSchema } from '#common/crm';
import {
  ContractUrnSchema,
  DatasetSchema,
  ErrorInfoSchema,
  ExportItemSchema,
  IsoDaySchema,
  JobStatusSchema,
  RunIdSchema,
} from '#common/model';

/** Where the ExportJob state machine goes after a step; read by its `Route` Choice state. */
export const NEXT_STEPS = ['POLL', 'COPY', 'RECREATE', 'SPLIT', 'FAIL', 'DONE'] as const;
export type NextStep = (typeof NEXT_STEPS)[number];

export const ItemResultSchema = z.object({
  status: z.enum(['EXPORTED', 'SKIPPED', 'FAILED', 'SPLIT']),
  key: z.string(),
  bytes: z.number().int().nonnegative().optional(),
  rows: z.number().int().nonnegative().optional(),
});

/**
 * The state of one ExportJob execution: its input, and what every Lambda takes and returns whole
 * (so each handler is a pure `state → state` step). Kept small: it crosses the 256 KiB state limit
 * and is stored in the execution history, so it never holds a download URL or a token.
 */
export const ItemStateSchema = z.object({
  runId: RunIdSchema,
  item: ExportItemSchema,
  force: z.boolean().default(false),
  /** 0 for a planned item; n for a window halved n times after FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR. */
  depth: z.number().int().min(0).default(0),
  /** The planned window this item was split from. */
  splitFrom: z.object({ start: IsoDaySchema, end: IsoDaySchema }).optional(),
  attempts: z
    .object({
      dataDelay: z.number().int().min(0).default(0),
      retry: z.number().int().min(0).default(0),
    })
    .prefault({}),
  jobIds: z.array(z.number().int()).default([]),
  /** CreateJob POSTs whose outcome is unknown (see CreateJobAmbiguousError); at most one is re-sent. */
  ambiguousCreates: z.number().int().min(0).optional(),
  job: z
    .object({
      id: z.number().int(),
      createdAt: z.iso.datetime(),
      polls: z.number().int().min(0),
      /** Reads that found the job COMPLETED with rows but without a downloadUrl (CheckJob). */
      readsWithoutUrl: z.number().int().min(0).optional(),
    })
    .optional(),
  next: z.enum(NEXT_STEPS).optional(),
  waitSeconds: z.number().int().min(0).optional(),
  status: JobStatusSchema.optional(),
  rowCount: z.number().int().min(0).optional(),
  /** Decided failure (CheckJob gave up); `error` is a caught exception (Step Functions Catch). */
  failure: ErrorInfoSchema.optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
  halves: z.array(z.lazy((): z.ZodType => ItemStateSchema)).optional(),
  result: ItemResultSchema.optional(),
});
export type ItemState = z.infer<typeof ItemStateSchema>;
export type ItemStateInput = z.input<typeof ItemStateSchema>;

/** A lane: one contract × dataset, whose windows run one after another (LinkedIn runs one job per endpoint per contract). */
export const LaneSchema = z.object({
  contract: ContractUrnSchema,
  dataset: DatasetSchema,
  windows: z.array(z.object({ start: IsoDaySchema, end: IsoDaySchema })),
});
export type Lane = z.infer<typeof LaneSchema>;

/**
 * PlanRun's output, the input of the ExportEach Distributed Map. Small whatever the run's size: the
 * lanes themselves are in the store at `lanesKey` (a JSON array the Map's ItemReader reads).
 */
export const PlanOutputSchema = z.object({
  runId: z.string(),
  force: z.boolean(),
  /** Store-relative key of the lanes (`manifests/<run id>/lanes.json`). */
  lanesKey: z.string(),
  /** Number of lanes in that array. */
  lanes: z.number().int(),
  /** Windows to export over all lanes. */
  toExport: z.number().int(),
  planned: z.number().int(),
  skipped: z.number().int(),
  /** The CRM items, exported by the ExportCrm Map after the lanes (absent when the family is off). */
  crmItems: z.array(CrmItemSchema).optional(),
});
export type PlanOutput = z.infer<typeof PlanOutputSchema>;
