// Step FinishRun: gathers every item record into the run manifest, nothing dropped.
import * as z from 'zod';
import { mapLimit } from '#common/concurrency';
import type { CrmItemRecord } from '#common/crm';
import { ConfigurationError, LakeCatalogError, RunIncompleteError } from '#common/errors';
import { type ExportItem, type ItemRecord, ItemRecordSchema, RunIdSchema } from '#common/model';
import { logger } from '#common/powertools';
import { gapsOf, parseWindowKey } from '#storage/coverage';
import { contractId, itemKey, itemRecordPrefix, manifestKey, planKey } from '#storage/keys';
import type { LakeRegistration } from '#storage/lake-catalog';
import { releaseLease } from '#storage/lease';
import { type CrmRunSummary, collectCrmItems, summariseCrm } from './crm/run.ts';
import type { Deps } from './deps.ts';
import { type LaneCoverageSummary, type PlanDocument, PlanDocumentSchema } from './plan.ts';

export const FinishRunEventSchema = z.object({ runId: RunIdSchema });
export type FinishRunEvent = z.infer<typeof FinishRunEventSchema>;

/** `manifests/<runId>.json`. Public: other tools read it; fields are only ever added. */
export interface Manifest {
  version: 1;
  runId: string;
  startedAt: string;
  finishedAt: string;
  window: PlanDocument['window'];
  contracts: string[];
  datasets: string[];
  force: boolean;
  /** Where the data came from: `linkedin`, or `emulator` for the demo (absent before this was recorded). */
  source?: 'linkedin' | 'emulator';
  /** Host of the API the run read from, e.g. `api.linkedin.com`. */
  apiHost?: string;
  /** Per lane: days of the range, days existing objects already held, days planned (absent before this was recorded). */
  coverage?: LaneCoverageSummary[];
  /**
   * `force` runs that replaced differently-cut objects: the keys removed (their days are held by this
   * run's EXPORTED objects) and the keys kept (some day of theirs was not exported again).
   */
  superseded?: { removed: string[]; kept: string[] };
  /** Present (true) when the run was stopped by the user before every item finished. */
  interrupted?: boolean;
  summary: RunSummary;
  items: ItemRecord[];
  /** The CRM data validation exports of the run, one per instance (only when the run had any). */
  crmItems?: CrmItemRecord[];
}

export interface RunSummary {
  planned: number;
  exported: number;
  skipped: number;
  /** Of `skipped`: items another run was exporting at the time (reason heldByAnotherRun); absent when none. */
  heldByAnotherRun?: number;
  failed: number;
  /** Interrupted runs only: items no LinkedIn job was created for. */
  notStarted?: number;
  /** Interrupted runs only: items whose job was under way when the run stopped. */
  interrupted?: number;
  bytes: number;
  rows: number;
  /** The CRM data validation exports (only when the run had any); the figures above are the analytics ones. */
  crm?: CrmRunSummary;
}

/** How FinishRun lists a planned window nothing was recorded for. */
export interface FinishOptions {
  /**
   * The run was stopped by the user: a window without a record is NOT_STARTED (no job for it) or
   * INTERRUPTED (`jobIdsOf` knows its jobs), not FAILED, and the run does not fail for it.
   */
  interrupted?: { jobIdsOf: (item: ExportItem) => number[] };
}

export interface FinishRunOutput {
  runId: string;
  manifestKey: string;
  summary: RunSummary;
  /** The Glue partitions of the run's objects (AWS with the lake on). */
  lake?: LakeRegistration;
}

/**
 * FinishRun: gathers every item record of the run into the manifest. A planned window with no
 * record (its execution died before recording) is listed as FAILED, never silently dropped.
 * Throws RunIncompleteError after writing the manifest if any item FAILED.
 */
export async function finishRun(
  event: FinishRunEvent,
  deps: Deps,
  options: FinishOptions = {},
): Promise<FinishRunOutput> {
  const planJson = await deps.store.getJson(planKey(event.runId));
  if (planJson === undefined) {
    throw new ConfigurationError(
      `no plan for run ${event.runId} at ${planKey(event.runId)}: PlanRun did not finish`,
    );
  }
  const plan = PlanDocumentSchema.parse(planJson);
  const keys = await deps.store.list(itemRecordPrefix(event.runId));
  const records = await mapLimit(keys, 32, async (key) =>
    ItemRecordSchema.parse(await deps.store.getJson(key)),
  );

  const finishedAt = deps.now().toISOString();
  // Records grouped by lane: a run of thousands of items is matched in linear time, not quadratic.
  const byLane = new Map<string, ItemRecord[]>();
  for (const record of records) {
    const lane = `${record.contract} ${record.dataset}`;
    const list = byLane.get(lane);
    if (list) list.push(record);
    else byLane.set(lane, [record]);
  }
  const items = plan.items.flatMap((planned) =>
    recordsFor(
      planned,
      byLane.get(`${planned.contract} ${planned.dataset}`) ?? [],
      finishedAt,
      options.interrupted?.jobIdsOf,
    ),
  );
  const held = items.filter((i) => i.reason === 'heldByAnotherRun').length;
  const summary: RunSummary = {
    planned: plan.items.length,
    exported: items.filter((i) => i.status === 'EXPORTED').length,
    skipped: items.filter((i) => i.status === 'SKIPPED').length,
    ...(held > 0 && { heldByAnotherRun: held }),
    failed: items.filter((i) => i.status === 'FAILED').length,
    ...(options.interrupted && {
      notStarted: items.filter((i) => i.status === 'NOT_STARTED').length,
      interrupted: items.filter((i) => i.status === 'INTERRUPTED').length,
    }),
    bytes: items.reduce((sum, i) => sum + (i.bytes ?? 0), 0),
    rows: items.reduce((sum, i) => sum + (i.rows ?? 0), 0),
  };
  const crmItems = plan.crmItems
    ? await collectCrmItems(event.runId, plan.crmItems, deps, finishedAt)
    : undefined;
  if (crmItems) summary.crm = summariseCrm(crmItems);
  const manifest: Manifest = {
    version: 1,
    runId: plan.runId,
    startedAt: plan.startedAt,
    finishedAt,
    window: plan.window,
    contracts: plan.contracts,
    datasets: plan.datasets,
    force: plan.force,
    ...(plan.source && { source: plan.source }),
    ...(plan.apiHost && { apiHost: plan.apiHost }),
    ...(plan.coverage && { coverage: plan.coverage }),
    ...(options.interrupted && { interrupted: true }),
    summary,
    items,
    ...(crmItems && { crmItems }),
  };
  if (plan.superseded?.length) manifest.superseded = await removeSuperseded(plan.superseded, items, deps);
  const key = manifestKey(event.runId);
  await deps.store.putJson(key, manifest);
  await releaseRunLeases(plan.items, event.runId, deps);
  // After the manifest: a transient Glue fault (AwsTransientError) retries FinishRun, which is idempotent.
  const { lake, lakeError } = await registerObjects(items, deps);
  const crmFailed = summary.crm?.failed ?? 0;
  if (summary.failed > 0 || crmFailed > 0) {
    const what = [
      summary.failed > 0 && `${summary.failed} of ${items.length} item(s)`,
      crmFailed > 0 && `${crmFailed} of ${crmItems?.length} CRM export(s)`,
    ]
      .filter(Boolean)
      .join(' and ');
    throw new RunIncompleteError(
      // The window in the message: it reaches the run notification as the execution's cause.
      `${what} failed in run ${event.runId}; see ${key} in ${deps.store.location}; window ${plan.window.from} to ${plan.window.to} (exclusive)` +
        (lakeError ? `; also: ${lakeError.message}` : ''),
      { exported: summary.exported, failed: summary.failed },
    );
  }
  if (lakeError) {
    lakeError.counts = { exported: summary.exported, failed: summary.failed };
    throw lakeError;
  }
  return { runId: event.runId, manifestKey: key, summary, ...(lake && { lake }) };
}

/**
 * Registers the Glue partition of every object the run exported or relied on (SKIPPED: an object
 * an earlier run wrote, e.g. one whose run never reached FinishRun, or written before the lake
 * existed), so each is queryable in Athena. A no-op without a lake (local runs).
 */
async function registerObjects(
  items: ItemRecord[],
  deps: Pick<Deps, 'lake'>,
): Promise<{ lake?: LakeRegistration; lakeError?: LakeCatalogError }> {
  if (!deps.lake) return {};
  const objects = items
    .filter((r) => r.status === 'EXPORTED' || r.status === 'SKIPPED')
    .map((r) => ({ contract: r.contract, dataset: r.dataset, start: r.window.start, end: r.window.end }));
  try {
    return { lake: await deps.lake.registerPartitions(objects) };
  } catch (err) {
    if (err instanceof LakeCatalogError) return { lakeError: err };
    throw err;
  }
}

/**
 * Releases every lease this run still holds: the items' own steps release theirs, but a split item's
 * lease is held until its halves are done (no step runs after them), and a step's release may have
 * failed. A lease of another run is left alone (released by run id, see releaseLease). Best effort:
 * a lease left behind expires after the item budget.
 */
async function releaseRunLeases(
  items: ExportItem[],
  runId: string,
  deps: Pick<Deps, 'store'>,
): Promise<void> {
  if (!deps.store.conditional) return;
  await mapLimit(items, 32, async (item) => {
    try {
      await releaseLease(deps.store, item, runId);
    } catch (err) {
      logger.warn('FinishRun could not release an item lease; it expires after the item budget', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  });
}

/**
 * Removes each superseded object whose every day an EXPORTED record of this run holds in the same
 * lane: the new objects are whole (uploads are atomic) before the old one goes, so no day is ever
 * missing; an object with a day not exported again (an item failed) is kept, so none is lost.
 */
export async function removeSuperseded(
  keys: string[],
  items: ItemRecord[],
  deps: Pick<Deps, 'store'>,
): Promise<{ removed: string[]; kept: string[] }> {
  const removed: string[] = [];
  const kept: string[] = [];
  for (const key of keys) {
    const old = parseWindowKey(key);
    const fresh = items.filter(
      (r) =>
        r.status === 'EXPORTED' &&
        r.key !== key &&
        r.dataset === old?.dataset &&
        contractId(r.contract) === old?.contractId,
    );
    if (
      old &&
      gapsOf(
        old,
        fresh.map((r) => r.window),
      ).length === 0
    ) {
      await deps.store.remove(key);
      removed.push(key);
    } else kept.push(key);
  }
  return { removed, kept };
}

/**
 * The records covering one planned window, in window order: its own record, or the records of the
 * pieces it was split into. Any stretch of the window no record covers becomes a FAILED entry.
 */
export function recordsFor(
  planned: ExportItem,
  records: ItemRecord[],
  finishedAt: string,
  /** Set for an interrupted run: gaps are NOT_STARTED / INTERRUPTED instead of FAILED. */
  interruptedJobIdsOf?: (item: ExportItem) => number[],
): ItemRecord[] {
  const mine = records
    .filter(
      (r) =>
        r.contract === planned.contract &&
        r.dataset === planned.dataset &&
        r.window.start >= planned.start &&
        r.window.end <= planned.end &&
        (r.splitFrom
          ? r.splitFrom.start === planned.start && r.splitFrom.end === planned.end
          : r.window.start === planned.start && r.window.end === planned.end),
    )
    .sort((a, b) => a.window.start.localeCompare(b.window.start));

  const result: ItemRecord[] = [];
  let cursor = planned.start;
  const gap = (end: string): void => {
    const piece = { ...planned, start: cursor, end };
    const splitFrom =
      piece.start !== planned.start || piece.end !== planned.end
        ? { splitFrom: { start: planned.start, end: planned.end } }
        : {};
    if (interruptedJobIdsOf) {
      const jobIds = interruptedJobIdsOf(piece);
      result.push({
        contract: planned.contract,
        dataset: planned.dataset,
        window: { start: piece.start, end: piece.end },
        status: jobIds.length ? 'INTERRUPTED' : 'NOT_STARTED',
        key: itemKey(piece),
        jobIds,
        attempts: jobIds.length,
        ...splitFrom,
        finishedAt,
      });
      return;
    }
    result.push({
      contract: planned.contract,
      dataset: planned.dataset,
      window: { start: piece.start, end: piece.end },
      status: 'FAILED',
      key: itemKey(piece),
      jobIds: [],
      attempts: 0,
      error: {
        name: 'ItemNotRecorded',
        message:
          'no outcome was recorded for this window: its ExportJob execution stopped before recording one (see its execution history)',
      },
      ...splitFrom,
      finishedAt,
    });
  };
  for (const record of mine) {
    if (record.window.start < cursor) continue; // a duplicate of a piece already listed
    if (record.window.start > cursor) gap(record.window.start);
    result.push(record);
    cursor = record.window.end;
  }
  if (cursor < planned.end) gap(planned.end);
  return result;
}
