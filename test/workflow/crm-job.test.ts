// The ExportCrmJob definition run by aws-local-stepfunctions against the emulator, into a folder and s3rver: exactly once, incremental.
import '#local/polyfill';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterEach, describe, expect, it } from 'vitest';
import { type CrmCursor, type CrmItemRecord, crmInstanceKey } from '#common/crm';
import { DAY_MS } from '#common/days';
import { CRM_STATE } from '#lib/crm-workflow';
import { renderWorkflowAsl } from '#lib/workflow';
import { localDeps } from '#local/deps';
import { CRM_CSV_HEADER, DEFAULT_CRM_INSTANCE } from '#local/emulator/crm';
import { type Emulator, type EmulatorOptions, startEmulator } from '#local/emulator/server';
import { crmSteps } from '#steps/crm/index';
import { planCrmItems } from '#steps/crm/job';
import type { CrmState } from '#steps/crm/state';
import type { Deps } from '#steps/deps';
import { crmCursorKey, crmItemRecordKey } from '#storage/crm-keys';
import {
  DESTINATIONS,
  type Destination,
  type DestinationKind,
  openDestination,
  testSettings,
} from '#test/support/workflow';

const INSTANCE = DEFAULT_CRM_INSTANCE;
const KEY = crmInstanceKey(INSTANCE);
const asl = renderWorkflowAsl();

let emulator: Emulator | undefined;
let destination: Destination | undefined;
afterEach(async () => {
  await emulator?.close();
  await destination?.close();
  emulator = undefined;
  destination = undefined;
});

async function env(kind: DestinationKind, options: EmulatorOptions = {}) {
  emulator = await startEmulator({ crm: { processingMs: 40 }, ...options });
  destination = await openDestination(kind);
  const settings = testSettings(emulator.url, {
    crm: {
      instances: [INSTANCE],
      poll: { initialSeconds: 1, maxSeconds: 5 },
      jobRetry: { baseSeconds: 1, maxRetries: 2 },
    },
  });
  const deps = localDeps({ settings, token: emulator.token, store: destination.store });
  return { em: emulator, dest: destination, deps };
}

/** Every Task of ExportCrmJob bound to its in-process step; waits and retry intervals a few ms. */
async function runCrmItem(runId: string, deps: Deps, startedAt = new Date()) {
  const [item] = await planCrmItems(deps.settings.crm.instances, startedAt, deps);
  const handlers = {
    [CRM_STATE.createCrmJob]: (e: unknown) => crmSteps.createCrmJob.run(e, deps),
    [CRM_STATE.checkCrmJob]: (e: unknown) => crmSteps.checkCrmJob.run(e, deps),
    [CRM_STATE.copyCrmPart]: (e: unknown) => crmSteps.copyCrmPart.run(e, deps),
    [CRM_STATE.commitCrmExport]: (e: unknown) => crmSteps.commitCrmExport.run(e, deps),
    [CRM_STATE.recordCrmFailure]: (e: unknown) => crmSteps.recordCrmFailure.run(e, deps),
  };
  const retries = Object.fromEntries(
    Object.entries(asl.exportCrmJob.States)
      .filter(([, s]) => (s as { Retry?: unknown[] }).Retry)
      .map(([name, s]) => [name, (s as { Retry: unknown[] }).Retry.map(() => 5)]),
  );
  const machine = new StateMachine(asl.exportCrmJob as never);
  const execution = machine.run({ runId, item } as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: { [CRM_STATE.waitForCrmJob]: 20, [CRM_STATE.waitBeforeCrmRecreate]: 5 },
      retryIntervalOverrides: retries,
    },
  });
  try {
    return { status: 'SUCCEEDED' as const, output: (await execution.result) as CrmState['result'], item };
  } catch (err) {
    return { status: 'FAILED' as const, error: err as Error, item };
  }
}

async function partsOf(dest: Destination, record: CrmItemRecord): Promise<string[]> {
  const rows: string[] = [];
  for (const part of record.parts) {
    const text = (await dest.read(part.key))?.toString() ?? '';
    const [header, ...lines] = text.trimEnd().split('\r\n');
    expect(header).toBe(CRM_CSV_HEADER);
    rows.push(...lines);
  }
  return rows;
}

describe.each(DESTINATIONS)('ExportCrmJob into %s', (kind) => {
  it('exports every part, moves the cursor, and the next run continues there: each row exactly once', async () => {
    const { em, dest, deps } = await env(kind);
    const first = await runCrmItem('run-1', deps);
    expect(first.status).toBe('SUCCEEDED');
    expect(first.output).toMatchObject({ status: 'EXPORTED', crmInstance: INSTANCE, parts: 3 });
    const cursor = (await dest.store.getJson(crmCursorKey(INSTANCE))) as CrmCursor;
    const [job] = em.crmJobs();
    expect(cursor.nextExportStartAt).toBe(job?.exportEndAt);
    expect(first.output?.rows).toBe(
      em.expectedCrmRows(INSTANCE, job?.exportStartAt as number, job?.exportEndAt as number).length,
    );
    expect(first.output?.rows).toBeGreaterThanOrEqual(60);
    const record1 = (await dest.store.getJson(crmItemRecordKey('run-1', INSTANCE))) as CrmItemRecord;
    expect(record1.parts.map((p) => p.key)).toEqual(
      [1, 2, 3].map(
        (n) =>
          `crm-data-validation/instance=${KEY}/export=${job?.exportStartAt}_${job?.exportEndAt}/part-000${n}.csv`,
      ),
    );
    if (kind === 's3') {
      expect(await dest.metadata(record1.parts[0]?.key as string)).toMatchObject({
        dataset: 'crmDataValidation',
        part: '1/3',
        crminstance: INSTANCE,
      });
    }

    // A day later (the emulator's clock is the wall clock: its range ends at the second job's creation).
    const second = await runCrmItem('run-2', deps, new Date(Date.now() + DAY_MS));
    expect(second.status).toBe('SUCCEEDED');
    const [, job2] = em.crmJobs();
    expect(job2?.exportStartAt).toBe(job?.exportEndAt);
    const record2 = (await dest.store.getJson(crmItemRecordKey('run-2', INSTANCE))) as CrmItemRecord;
    const all = [...(await partsOf(dest, record1)), ...(await partsOf(dest, record2))];
    expect(all).toEqual(
      em.expectedCrmRows(INSTANCE, job?.exportStartAt as number, job2?.exportEndAt as number),
    );
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('ExportCrmJob failures (folder)', () => {
  it('refreshes expired URLs and retries a download that broke off, then commits', async () => {
    const { em, dest, deps } = await env('folder');
    em.setCrmScenario(INSTANCE, { expiredUrls: 1, truncateDownloads: 1 });
    const run = await runCrmItem('run-1', deps);
    expect(run.status).toBe('SUCCEEDED');
    expect(em.crmScenario(INSTANCE)).toEqual({ expiredUrls: 0, truncateDownloads: 0 });
    expect(await dest.store.getJson(crmCursorKey(INSTANCE))).toBeDefined();
    expect((await dest.allKeys()).filter((k) => k.endsWith('.partial'))).toEqual([]);
  });

  it('re-creates a job that ended FAILED_DUE_TO_INTERNAL_ERROR from the same start', async () => {
    const { em, deps } = await env('folder');
    em.setCrmScenario(INSTANCE, { failJobs: 1 });
    const run = await runCrmItem('run-1', deps);
    expect(run.status).toBe('SUCCEEDED');
    const [a, b] = em.crmJobs();
    expect([a?.status, b?.status]).toEqual(['FAILED_DUE_TO_INTERNAL_ERROR', 'COMPLETED']);
    expect(b?.exportStartAt).toBe(a?.exportStartAt);
  });

  it('a run that fails after some parts keeps the cursor; the next run exports the whole range again', async () => {
    const { em, dest, deps } = await env('folder');
    // Every upload of part 2 is interrupted: the retrier tries again, then the item fails.
    let downloads = 0;
    const flaky: Deps = {
      ...deps,
      store: {
        ...deps.store,
        location: deps.store.location,
        exists: (k) => deps.store.exists(k),
        getJson: (k) => deps.store.getJson(k),
        putJson: (k, v) => deps.store.putJson(k, v),
        list: (p) => deps.store.list(p),
        upload: async (key, body, options) => {
          if (key.endsWith('part-0002.csv') && downloads++ < 10) {
            throw Object.assign(new Error(`upload of ${key} interrupted`), {
              name: 'DownloadIncompleteError',
            });
          }
          return deps.store.upload(key, body, options);
        },
      },
    };
    const failed = await runCrmItem('run-1', flaky);
    expect(failed.status).toBe('FAILED');
    expect(await dest.store.getJson(crmCursorKey(INSTANCE))).toBeUndefined();
    const record = (await dest.store.getJson(crmItemRecordKey('run-1', INSTANCE))) as CrmItemRecord;
    expect(record).toMatchObject({
      status: 'FAILED',
      cursor: 'KEPT',
      error: { name: 'DownloadIncompleteError' },
    });
    expect(record.parts).toHaveLength(1);

    const again = await runCrmItem('run-2', deps);
    expect(again.status).toBe('SUCCEEDED');
    const [j1, j2] = em.crmJobs();
    expect(j2?.exportStartAt).toBe(j1?.exportStartAt);
    const cursor = (await dest.store.getJson(crmCursorKey(INSTANCE))) as CrmCursor;
    expect(cursor.lastExport.jobId).toBe(j2?.id);
  });

  it('a 401 fails the item by name without retries, and the cursor stays', async () => {
    const { em, dest, deps } = await env('folder');
    em.setCrmScenario(INSTANCE, { unauthorized: true });
    const run = await runCrmItem('run-1', deps);
    expect(run.status).toBe('FAILED');
    const record = (await dest.store.getJson(crmItemRecordKey('run-1', INSTANCE))) as CrmItemRecord;
    expect(record).toMatchObject({ status: 'FAILED', cursor: 'KEPT', error: { name: 'LinkedInAuthError' } });
    expect(em.requests.filter((r) => r.path.startsWith('/v2/crmDataValidationExportJobs'))).toHaveLength(1);
  });
});
