import { describe, expect, it } from 'vitest';
import { renderWorkflowAsl } from '#lib/workflow';
import type { Emulator, EmulatorContract } from '#local/emulator/server';
import { runExportLocally, withLocalItemReaders } from '#local/executor';
import { workflowEnvs } from '#test/support/workflow';

const start = workflowEnvs();

/** Six reportable contracts: twelve lanes with two datasets. */
const CONTRACTS: EmulatorContract[] = Array.from({ length: 6 }, (_, i) => ({
  contract: `urn:li:salesContract:${2001 + i}`,
  name: `Team ${i + 1}`,
  hasReportingAccess: true,
}));
/** 181 days: three windows (90 + 90 + 1) per lane. */
const RANGE = { from: '2026-01-01', to: '2026-07-01', datasets: ['seat', 'activity'] };

interface JobSpan {
  lane: string;
  contract: string;
  created: number;
  /** When its file was downloaded (the emulator's request log). */
  downloaded: number;
}

/** Every job of the run, from its creation to the download of its file. */
function spans(emulator: Emulator): JobSpan[] {
  return emulator.jobs().map((job) => {
    const download = emulator.requests.find((r) => r.path.startsWith(`/media/exports/${job.id}/`));
    if (!download) throw new Error(`job ${job.id} was never downloaded`);
    return {
      lane: `${job.contract} ${job.dataset}`,
      contract: job.contract,
      created: job.createdAt,
      downloaded: download.at,
    };
  });
}

/** The largest number of jobs in flight at one instant. */
function peakInFlight(all: JobSpan[]): number {
  const edges = all.flatMap((s) => [
    { t: s.created, d: 1 },
    { t: s.downloaded, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let peak = 0;
  for (const edge of edges) {
    now += edge.d;
    peak = Math.max(peak, now);
  }
  return peak;
}

describe('fan-out over lanes (ExportEach Distributed Map, run by the local executor)', () => {
  it('runs lanes of different contracts at once, and the windows of one lane one after another', async () => {
    const env = await start({
      // Jobs long enough that creating twelve of them takes less than one, even on a busy machine.
      emulator: { contracts: CONTRACTS, jobTimings: { queuedMs: 100, processingMs: 1500 } },
    });

    const { result, manifest } = await env.run(RANGE, 'run-fan-out');

    expect(result.status).toBe('SUCCEEDED');
    expect(manifest?.summary).toMatchObject({ planned: 36, exported: 36, failed: 0 });
    const all = spans(env.emulator);
    expect(all).toHaveLength(36);

    // Two windows of one lane never overlap: the next job is created after the previous file arrived.
    const lanes = new Map<string, JobSpan[]>();
    for (const span of all) lanes.set(span.lane, [...(lanes.get(span.lane) ?? []), span]);
    expect(lanes.size).toBe(12);
    for (const [lane, jobs] of lanes) {
      jobs.sort((a, b) => a.created - b.created);
      expect(jobs).toHaveLength(3);
      for (let i = 1; i < jobs.length; i++) {
        expect(jobs[i]?.created, `${lane} window ${i}`).toBeGreaterThanOrEqual(jobs[i - 1]?.downloaded ?? 0);
      }
    }
    // Lanes of different contracts overlap: every lane's first job was created before any file arrived.
    const firsts = [...lanes.values()].map((jobs) => jobs[0] as JobSpan);
    expect(new Set(firsts.map((s) => s.contract)).size).toBe(6);
    const lastCreated = Math.max(...firsts.map((s) => s.created));
    const firstDownloaded = Math.min(...all.map((s) => s.downloaded));
    expect(lastCreated).toBeLessThan(firstDownloaded);
    expect(peakInFlight(all)).toBe(12);
  });

  it('honours the lane concurrency (the Map MaxConcurrency) locally', async () => {
    const env = await start({
      emulator: { contracts: CONTRACTS.slice(0, 3), jobTimings: { queuedMs: 20, processingMs: 60 } },
      mapConcurrency: 2,
    });

    const { result } = await env.run({ ...RANGE, datasets: ['seat'] }, 'run-two-at-once');

    expect(result.status).toBe('SUCCEEDED');
    const all = spans(env.emulator);
    expect(all).toHaveLength(9);
    expect(peakInFlight(all)).toBe(2);
  });
});

describe('the local stand-in for the ItemReader', () => {
  it('reads the lanes from the store: a missing lanes object fails the run with States.ItemReaderFailed', async () => {
    const env = await start();
    const store = env.deps.store;
    const withoutLanes = {
      ...env.deps,
      store: {
        location: store.location,
        exists: (key: string) => store.exists(key),
        list: (prefix: string) => store.list(prefix),
        tagsOf: (key: string) => store.tagsOf(key),
        remove: (key: string) => store.remove(key),
        upload: store.upload.bind(store),
        putJson: (key: string, value: unknown) =>
          key.endsWith('/lanes.json') ? Promise.resolve() : store.putJson(key, value),
        getJson: (key: string) => store.getJson(key),
      },
    };

    const result = await runExportLocally({}, { deps: withoutLanes, runId: 'run-no-lanes', timeScale: 0.01 });

    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ name: 'States.ItemReaderFailed' });
    expect(result.error?.message).toContain('manifests/run-no-lanes/lanes.json');
    expect(env.emulator.jobs()).toEqual([]);
  });

  it('rewrites only the copy the engine runs, and takes the Map items from the context', () => {
    const asl = renderWorkflowAsl({ mapConcurrency: 5 });
    const before = JSON.stringify(asl.exportRun);

    const local = withLocalItemReaders(asl.exportRun);

    expect(JSON.stringify(asl.exportRun)).toBe(before);
    expect(local.readers).toEqual([{ state: 'ExportEach.ItemReader', map: 'ExportEach' }]);
    const states = local.definition.States as Record<string, Record<string, unknown>>;
    expect(states.PlanRun?.Next).toBe('ExportEach.ItemReader');
    expect(states['ExportEach.ItemReader']).toMatchObject({
      Type: 'Task',
      Parameters: { Bucket: 'local-store', 'Key.$': '$.lanesKey' },
      ResultPath: null,
      Next: 'ExportEach',
    });
    expect(states.ExportEach).toMatchObject({
      ItemsPath: '$$.ItemReaderItems.ExportEach',
      MaxConcurrency: 5,
    });
    expect(states.ExportEach).not.toHaveProperty('ItemReader');
  });
});
