// Step PlanRun: validates the execution input, finds the contracts and plans the items per lane.
import * as z from 'zod';
import { mapLimit } from '#common/concurrency';
import { CRM_DATASET, CrmInstanceUrnSchema, CrmItemSchema } from '#common/crm';
import { addDays, daysBetween, utcDay } from '#common/days';
import {
  ConfigurationError,
  InvalidInputError,
  LinkedInResponseError,
  PlanTooLargeError,
  quotedList,
} from '#common/errors';
import {
  CONTRACT_URN_FORMS,
  ContractUrnSchema,
  contractUrnId,
  DATASETS,
  type Dataset,
  DatasetSchema,
  type ExportItem,
  IsoDaySchema,
  type ItemRecord,
  RunIdSchema,
} from '#common/model';
import { dayCount, gapsOf, windowsOf } from '#storage/coverage';
import { itemKey, itemRecordKey, lanesKey, planKey } from '#storage/keys';
import { apiHostOf, type LaneCoverage, laneCoverage, sourceOf } from './coverage.ts';
import { planCrmItems } from './crm/job.ts';
import { crmInstancesOfRun } from './crm/run.ts';
import type { Deps } from './deps.ts';
import type { Lane, PlanOutput } from './state.ts';

/** LinkedIn accepts at most 90 days per export job. */
export const MAX_WINDOW_DAYS = 90;

/**
 * The ExportRun execution input. Public: the schedule sends `{}`, users send backfills.
 * Every field is optional; `from`/`to` are UTC days and `to` is exclusive.
 */
export const RunInputSchema = z
  .object({
    contracts: z.array(ContractUrnSchema).min(1).optional(),
    /** The analytics datasets, and `crmDataValidation` for the CRM family (crm/run.ts `crmInstancesOfRun`). */
    datasets: z
      .array(z.enum([...DATASETS, CRM_DATASET]))
      .min(1)
      .optional(),
    /** CRM instances this run exports instead of `settings.crm.instances`. */
    crmInstances: z.array(CrmInstanceUrnSchema).min(1).max(100).optional(),
    from: IsoDaySchema.optional(),
    to: IsoDaySchema.optional(),
    force: z.boolean().optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if ((input.from === undefined) !== (input.to === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [input.from === undefined ? 'from' : 'to'],
        message: 'from and to must be given together (or neither, for the default window)',
      });
    } else if (
      input.from &&
      input.to &&
      IsoDaySchema.safeParse(input.from).success &&
      IsoDaySchema.safeParse(input.to).success &&
      input.from >= input.to
    ) {
      // (zod 4 runs this refinement even when a field failed: only compare two real days)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `must be after from (${input.from}); to is exclusive`,
      });
    }
  });
export type RunInput = z.infer<typeof RunInputSchema>;

export const PlanRunEventSchema = z.object({
  /** The execution input, validated here (not by the state machine) so errors name the field. */
  input: z.unknown(),
  runId: RunIdSchema,
  startedAt: z.iso.datetime({ offset: true }),
});
export type PlanRunEvent = z.infer<typeof PlanRunEventSchema>;

/** One lane's coverage when the run was planned (plan.json and the manifest's `coverage`). */
export const LaneCoverageSummarySchema = z.object({
  contract: ContractUrnSchema,
  dataset: DatasetSchema,
  /** Days in the run's range `[from, to)`. */
  days: z.number().int().nonnegative(),
  /** Days of the range existing objects (of the run's source, any window) already held. */
  coveredDays: z.number().int().nonnegative(),
  /** Days the run planned to export: the gaps, or the whole range with `force`. */
  exportDays: z.number().int().nonnegative(),
});
export type LaneCoverageSummary = z.infer<typeof LaneCoverageSummarySchema>;

/** What PlanRun stores at `manifests/<runId>/plan.json`; FinishRun reads it back. */
export const PlanDocumentSchema = z.object({
  version: z.literal(1),
  runId: z.string(),
  startedAt: z.string(),
  window: z.object({ from: IsoDaySchema, to: IsoDaySchema }),
  contracts: z.array(ContractUrnSchema),
  datasets: z.array(DatasetSchema),
  force: z.boolean(),
  items: z.array(
    z.object({ contract: ContractUrnSchema, dataset: DatasetSchema, start: IsoDaySchema, end: IsoDaySchema }),
  ),
  /** Where the run's data comes from (absent in plans of earlier versions: LinkedIn). */
  source: z.enum(['linkedin', 'emulator']).optional(),
  /** Host of the API the run read from. */
  apiHost: z.string().optional(),
  /** The CRM data validation exports of the run, one per instance (absent when the family is off). */
  crmItems: z.array(CrmItemSchema).optional(),
  /** Per lane: days of the run's range, days existing objects already held, days planned for export. */
  coverage: z.array(LaneCoverageSummarySchema).optional(),
  /**
   * `force` only: keys of objects inside the range cut differently from the new windows. FinishRun
   * removes each once EXPORTED records of this run hold every one of its days.
   */
  superseded: z.array(z.string()).optional(),
});
export type PlanDocument = z.infer<typeof PlanDocumentSchema>;

export function parseRunInput(value: unknown): RunInput {
  const parsed = RunInputSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(input)';
    return `${field}: ${issue.message}`;
  });
  throw new InvalidInputError(`invalid execution input: ${problems.join('; ')}`);
}

/**
 * `[from, to)` of the run: the given range, or the `lookBackDays` complete UTC days before `startedAt`
 * moved back by `lagDays` (LinkedIn refreshes data once a day; the newest day is often not ready).
 * Coverage then keeps only the days no object holds, so the daily run heals the holes of its look-back.
 */
export function resolveRange(
  input: RunInput,
  startedAt: Date,
  lagDays: number,
  /** Days the default range reaches back (settings `lookBackDays`); 1 = only the newest complete day. */
  lookBackDays = 1,
): { from: string; to: string } {
  const today = utcDay(startedAt);
  if (input.from && input.to) {
    if (input.to > today) {
      throw new InvalidInputError(
        `invalid execution input: to: ${input.to} is after today (${today} UTC); only complete days can be exported`,
      );
    }
    return { from: input.from, to: input.to };
  }
  const to = addDays(today, -lagDays);
  return { from: addDays(to, -lookBackDays), to };
}

/** Splits `[from, to)` into consecutive day-aligned windows of at most 90 days. */
export function splitRange(
  from: string,
  to: string,
  maxDays = MAX_WINDOW_DAYS,
): { start: string; end: string }[] {
  const windows: { start: string; end: string }[] = [];
  for (let start = from; start < to; ) {
    const end = daysBetween(start, to) > maxDays ? addDays(start, maxDays) : to;
    windows.push({ start, end });
    start = end;
  }
  return windows;
}

/**
 * Contracts the run covers: the requested ones (each must be reportable) or every reportable one,
 * as LinkedIn writes their URNs (that is what its create and get calls are sent). Contracts are
 * matched and de-duplicated by id: `urn:li:contract:42` and `urn:li:salesContract:42` are the same
 * contract, and share the same S3 keys, so a run exports it once.
 */
async function resolveContracts(input: RunInput, deps: Pick<Deps, 'linkedin'>): Promise<string[]> {
  const all = await deps.linkedin.listContracts();
  const unusable = all
    .filter((c) => c.hasReportingAccess && contractUrnId(c.contract) === undefined)
    .map((c) => c.contract);
  if (unusable.length) {
    // Its id becomes part of S3 keys: refuse loudly rather than skip a contract silently.
    throw new LinkedInResponseError(
      `LinkedIn returned contract URN(s) this pipeline cannot use as S3 key parts: ${quotedList(unusable)} ` +
        `(accepted: ${CONTRACT_URN_FORMS.join(' or ')}, <id> of letters, digits, _ or -)`,
    );
  }
  /** id → LinkedIn's URN; the first one LinkedIn listed wins if it lists both forms of one id. */
  const reportable = new Map<string, string>();
  for (const c of all) {
    const id = contractUrnId(c.contract);
    if (c.hasReportingAccess && id !== undefined && !reportable.has(id)) reportable.set(id, c.contract);
  }
  if (!input.contracts) {
    if (reportable.size === 0) {
      throw new ConfigurationError(
        `the token's member has no Sales Navigator contract with reporting access (${all.length} contract(s) found)`,
      );
    }
    return [...reportable.values()].sort();
  }
  const chosen = new Set<string>();
  input.contracts.forEach((contract, index) => {
    const id = contractUrnId(contract) as string; // validated by RunInputSchema
    const urn = reportable.get(id);
    if (urn) {
      chosen.add(urn);
      return;
    }
    const known = all.some((c) => contractUrnId(c.contract) === id);
    throw new InvalidInputError(
      `invalid execution input: contracts.${index}: ${contract} ${
        known ? 'has no reporting access for this token' : 'is not a contract of this token'
      }`,
    );
  });
  return [...chosen];
}

/**
 * PlanRun: validates the input, resolves the range, discovers contracts, lists each lane's objects
 * and plans only the days none of them holds (any window counts; `force` plans the whole range),
 * merged into day-aligned windows of at most 90 days; the objects it relies on are SKIPPED items, stores the plan and the lanes (`lanes.json`, read by the ExportEach
 * Distributed Map), and returns a small summary.
 *
 * The `maxItemsPerRun` bound only applies to a plan with several windows per lane (a backfill): that
 * one can be split by dates into several runs (`npm run export` does it). A one-window plan (the daily
 * `{}` run) is never refused, whatever the number of contracts: its lanes are read from the store by
 * the Distributed Map, so neither the state size nor the history limits them.
 */
export async function planRun(event: PlanRunEvent, deps: Deps): Promise<PlanOutput> {
  const input = parseRunInput(event.input);
  const range = resolveRange(
    input,
    new Date(event.startedAt),
    deps.settings.lagDays,
    deps.settings.lookBackDays,
  );
  const windows = splitRange(range.from, range.to);
  const datasets = input.datasets ? analyticsDatasets(input.datasets) : [...DATASETS];
  const force = input.force ?? false;
  const bounded = windows.length > 1;

  const requested = input.contracts ? new Set(input.contracts.map(contractUrnId)).size : 1;
  const itemCount = windows.length * datasets.length * requested;
  if (bounded) assertWithinBound(itemCount, deps.settings.maxItemsPerRun);
  // A CRM-only run asks LinkedIn for no contract (its member may have none with reporting access).
  const contracts = datasets.length ? await resolveContracts(input, deps) : [];

  // Coverage per lane: one listing of its prefix, one metadata read per overlapping object at most.
  // Only an object from the same source counts: emulator data never covers a real export.
  const source = sourceOf(deps);
  const laneIds = contracts.flatMap((contract) => datasets.map((dataset) => ({ contract, dataset })));
  const span = { start: range.from, end: range.to };
  const coverages = await mapLimit(laneIds, LANE_LISTING_CONCURRENCY, (lane) =>
    laneCoverage(deps.store, lane, span, source),
  );

  const items: ExportItem[] = [];
  const superseded: string[] = [];
  const skippedItems: ExportItem[] = [];
  const exportItems: ExportItem[] = [];
  const coverage: LaneCoverageSummary[] = [];
  laneIds.forEach((lane, i) => {
    const found = coverages[i] as LaneCoverage;
    // With force, an object reaching outside the range keeps its days (removing it would lose the
    // days outside); every other day of the range is exported again, and the objects it replaces
    // are removed by FinishRun once the new ones are whole (so no day is doubled or missing).
    const kept = force
      ? found.objects.filter((o) => o.start < span.start || o.end > span.end)
      : found.objects;
    const toFill = force ? gapsOf(span, kept) : found.gaps;
    const skipped = kept.map((o) => ({ ...lane, start: o.start, end: o.end }));
    const exported = windowsOf(toFill, MAX_WINDOW_DAYS).map((w) => ({ ...lane, ...w }));
    if (force) {
      const fresh = new Set(exported.map(itemKey));
      for (const o of found.objects) if (!kept.includes(o) && !fresh.has(o.key)) superseded.push(o.key);
    }
    skippedItems.push(...skipped);
    exportItems.push(...exported);
    items.push(...[...skipped, ...exported].sort((a, b) => a.start.localeCompare(b.start)));
    coverage.push({
      ...lane,
      days: daysBetween(range.from, range.to),
      coveredDays: dayCount(found.covered),
      exportDays: dayCount(toFill),
    });
  });
  if (bounded) assertWithinBound(items.length, deps.settings.maxItemsPerRun);

  const finishedAt = deps.now().toISOString();
  await mapLimit(skippedItems, 32, (item) =>
    deps.store.putJson(itemRecordKey(event.runId, item), skippedRecord(item, finishedAt)),
  );

  // The CRM family: one item per instance, from its cursor (none when the family is off).
  const crmItems = await planCrmItems(
    crmInstancesOfRun(input, deps.settings),
    new Date(event.startedAt),
    deps,
  );

  const plan: PlanDocument = {
    version: 1,
    runId: event.runId,
    startedAt: event.startedAt,
    window: range,
    contracts,
    datasets,
    force,
    items,
    source,
    apiHost: apiHostOf(deps),
    ...(crmItems.length > 0 && { crmItems }),
    coverage,
    ...(superseded.length && { superseded }),
  };
  await deps.store.putJson(planKey(event.runId), plan);

  const lanes = interleaveContracts(lanesOf(exportItems));
  const key = lanesKey(event.runId);
  await deps.store.putJson(key, lanes);
  return {
    runId: event.runId,
    force,
    lanesKey: key,
    lanes: lanes.length,
    toExport: exportItems.length,
    planned: items.length,
    skipped: skippedItems.length,
    ...(crmItems.length > 0 && { crmItems }),
  };
}

/** Lanes whose prefix PlanRun lists at once (each then reads up to 16 objects' metadata at once). */
const LANE_LISTING_CONCURRENCY = 4;

/** Items grouped into lanes (contract × dataset), windows in order. */
function lanesOf(items: ExportItem[]): Lane[] {
  const lanes = new Map<string, Lane>();
  for (const item of items) {
    const id = `${item.contract} ${item.dataset}`;
    const lane = lanes.get(id) ?? { contract: item.contract, dataset: item.dataset, windows: [] };
    lane.windows.push({ start: item.start, end: item.end });
    lanes.set(id, lane);
  }
  return [...lanes.values()];
}

/**
 * Lanes ordered so consecutive lanes are different contracts whenever there are several: dataset by
 * dataset, every contract once per round. When the Map's concurrency is lower than the lane count,
 * the lanes running at once then spread over as many contracts as possible.
 */
export function interleaveContracts(lanes: Lane[]): Lane[] {
  const byContract = new Map<string, Lane[]>();
  for (const lane of lanes) byContract.set(lane.contract, [...(byContract.get(lane.contract) ?? []), lane]);
  const queues = [...byContract.values()];
  const ordered: Lane[] = [];
  for (let round = 0; ordered.length < lanes.length; round++) {
    for (const queue of queues) {
      const lane = queue[round];
      if (lane) ordered.push(lane);
    }
  }
  return ordered;
}

/** The analytics datasets of a `datasets` list (`crmDataValidation` is the CRM family's), once each. */
export function analyticsDatasets(datasets: readonly string[]): Dataset[] {
  return [...new Set(datasets)].filter((d): d is Dataset => (DATASETS as readonly string[]).includes(d));
}

function assertWithinBound(count: number, max: number): void {
  if (count > max) {
    throw new PlanTooLargeError(
      `the run would have ${count} items (contracts × datasets × 90-day windows), more than the bound of ${max} per run; ` +
        'split the range into several runs (`npm run export` does this for you) or raise maxItemsPerRun',
    );
  }
}

function skippedRecord(item: ExportItem, finishedAt: string): ItemRecord {
  return {
    contract: item.contract,
    dataset: item.dataset,
    window: { start: item.start, end: item.end },
    status: 'SKIPPED',
    key: itemKey(item),
    jobIds: [],
    attempts: 0,
    finishedAt,
  };
}
