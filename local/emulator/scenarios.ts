// The emulator's scenario knobs: per-lane statuses, delays and faults for tests.
import * as z from 'zod';
import { type Dataset, DatasetSchema, isKnownJobStatus } from '#common/model';

/**
 * Misbehaviour the emulator can be told to show, per (contract, dataset) lane. Counters
 * (`times`, `expiredUrls`, ...) decrement each time the knob fires; a knob at 0 is inert.
 */
export const FAIL_STATUSES = [
  'FAILED_DUE_TO_DATA_DELAY',
  'FAILED_DUE_TO_TIMED_OUT',
  'FAILED_DUE_TO_INTERNAL_ERROR',
] as const;
export type FailStatus = (typeof FAIL_STATUSES)[number];

const times = z.number().int().min(0);

export const ScenarioKnobsSchema = z
  .object({
    /** 429 with `Retry-After` on create and get. */
    throttle: z.object({ times, retryAfterSeconds: z.number().int().min(0) }).strict(),
    /** 5xx (default 500) on create and get. */
    serverError: z.object({ times, status: z.number().int().min(500).max(599).default(500) }).strict(),
    /** The next `times` jobs created end in `status` instead of COMPLETED. */
    failJob: z.object({ status: z.enum(FAIL_STATUSES), times }).strict(),
    /** Jobs over windows longer than this many days end FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR. */
    maxDaysPerFile: z.number().int().min(1),
    /** The first n download URLs handed out are already expired (the download answers 403). */
    expiredUrls: times,
    /** The next n downloads send the full Content-Length, then about half the body, then reset. */
    truncateDownloads: times,
    /** The next n job reads answer 200 with a body that is not valid JSON. */
    malformedJson: times,
    /** Every call for this lane answers 401. */
    unauthorized: z.boolean(),
    /**
     * The lane's exports hold no rows, and a COMPLETED job answers `rowCount: 0` without a
     * `downloadUrl` (what an empty export may look like; LinkedIn does not document it).
     */
    emptyExport: z.boolean(),
    /** The next n reads of a COMPLETED job answer its `rowCount` but no `downloadUrl` yet. */
    completedWithoutUrl: times,
    /** The next `times` job reads answer `status`, a status LinkedIn does not document, instead of the real one. */
    unknownStatus: z
      .object({
        status: z
          .string()
          .regex(/^[A-Z][A-Z0-9_]{0,79}$/)
          .refine((s) => !isKnownJobStatus(s), 'must not be a documented status'),
        times,
      })
      .strict(),
  })
  .partial()
  .strict();

export type ScenarioKnobs = z.input<typeof ScenarioKnobsSchema>;
type Knobs = z.output<typeof ScenarioKnobsSchema>;

/** `options.scenarios`: `{ [contractUrn]: { [dataset]: knobs } }`. */
export const ScenariosSchema = z.record(z.string(), z.partialRecord(DatasetSchema, ScenarioKnobsSchema));
export type Scenarios = z.input<typeof ScenariosSchema>;

type CounterKnob = 'expiredUrls' | 'truncateDownloads' | 'malformedJson' | 'completedWithoutUrl';

/** The live knobs of every lane, with the decrementing logic in one place. */
export class ScenarioBook {
  private readonly lanes = new Map<string, Knobs>();

  constructor(initial: Scenarios = {}) {
    for (const [contract, byDataset] of Object.entries(ScenariosSchema.parse(initial))) {
      for (const [dataset, knobs] of Object.entries(byDataset)) {
        if (knobs) this.lanes.set(laneKey(contract, dataset as Dataset), knobs);
      }
    }
  }

  /** Replaces the lane's knobs (`{}` clears them). */
  set(contract: string, dataset: Dataset, knobs: ScenarioKnobs): void {
    this.lanes.set(laneKey(contract, dataset), ScenarioKnobsSchema.parse(knobs));
  }

  /** A copy of the lane's current knobs, counters as they are now. */
  get(contract: string, dataset: Dataset): Knobs {
    return structuredClone(this.lanes.get(laneKey(contract, dataset)) ?? {});
  }

  unauthorized(contract: string, dataset: Dataset): boolean {
    return this.lanes.get(laneKey(contract, dataset))?.unauthorized === true;
  }

  emptyExport(contract: string, dataset: Dataset): boolean {
    return this.lanes.get(laneKey(contract, dataset))?.emptyExport === true;
  }

  /** Fires `unknownStatus` if armed: the status the job read must answer instead of the real one. */
  takeUnknownStatus(contract: string, dataset: Dataset): string | undefined {
    const knob = this.lanes.get(laneKey(contract, dataset))?.unknownStatus;
    if (!knob || knob.times <= 0) return undefined;
    knob.times -= 1;
    return knob.status;
  }

  maxDaysPerFile(contract: string, dataset: Dataset): number | undefined {
    return this.lanes.get(laneKey(contract, dataset))?.maxDaysPerFile;
  }

  /** Fires `throttle` or `serverError` if armed: the response the call must get instead. */
  takeFault(contract: string, dataset: Dataset): { status: number; retryAfterSeconds?: number } | undefined {
    const knobs = this.lanes.get(laneKey(contract, dataset));
    if (knobs?.throttle && knobs.throttle.times > 0) {
      knobs.throttle.times -= 1;
      return { status: 429, retryAfterSeconds: knobs.throttle.retryAfterSeconds };
    }
    if (knobs?.serverError && knobs.serverError.times > 0) {
      knobs.serverError.times -= 1;
      return { status: knobs.serverError.status };
    }
    return undefined;
  }

  /** Fires `failJob` if armed: the FAILED_* status the new job must end in. */
  takeJobFailure(contract: string, dataset: Dataset): FailStatus | undefined {
    const failJob = this.lanes.get(laneKey(contract, dataset))?.failJob;
    if (!failJob || failJob.times <= 0) return undefined;
    failJob.times -= 1;
    return failJob.status;
  }

  /** Fires a plain counter knob: true if it was armed (and is now one lower). */
  take(contract: string, dataset: Dataset, knob: CounterKnob): boolean {
    const knobs = this.lanes.get(laneKey(contract, dataset));
    const left = knobs?.[knob] ?? 0;
    if (!knobs || left <= 0) return false;
    knobs[knob] = left - 1;
    return true;
  }
}

/** Identifies a (contract, dataset) lane: LinkedIn runs one job at a time per lane. */
export function laneKey(contract: string, dataset: Dataset): string {
  return `${contract}\n${dataset}`;
}
