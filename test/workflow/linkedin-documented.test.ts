// Workflow runs against the emulator in LinkedIn's documented mode: contract URN forms, empty exports, unknown statuses.
import { describe, expect, it } from 'vitest';
import { DATASETS } from '#common/model';
import { itemKey } from '#storage/keys';
import {
  CONTRACT_A,
  CONTRACT_B,
  DESTINATIONS,
  FROM,
  item,
  laneJobs,
  REPORTABLE,
  recordOf,
  TO,
  workflowEnvs,
} from '#test/support/workflow';

const start = workflowEnvs();
const RANGE = { from: FROM, to: TO };

describe('contract URNs in LinkedIn’s documented form (urn:li:contract:<id>)', () => {
  it('plans, exports and records the contracts LinkedIn lists as urn:li:contract', async () => {
    const env = await start();
    const { result, manifest } = await env.run({ ...RANGE, datasets: ['seat'] }, 'run-documented');

    expect(result.status).toBe('SUCCEEDED');
    expect(manifest?.contracts).toEqual(['urn:li:contract:1001', 'urn:li:contract:1002']);
    for (const contract of REPORTABLE) {
      const it = item(contract, 'seat');
      expect(recordOf(manifest, it).status).toBe('EXPORTED');
      expect((await env.destination.read(itemKey(it)))?.equals(env.expectedCsv(it))).toBe(true);
    }
    // One job per contract; lanes run in parallel, so in either order.
    expect(
      env.emulator
        .jobs()
        .map((j) => j.contract)
        .sort(),
    ).toEqual([CONTRACT_A, CONTRACT_B].sort());
  });

  it('accepts a requested contract in the seed form and exports it once, as LinkedIn writes it', async () => {
    const env = await start();
    const input = { ...RANGE, datasets: ['activity'], contracts: ['urn:li:salesContract:1001', CONTRACT_A] };
    const { result, manifest } = await env.run(input, 'run-seed-input');

    expect(result.status).toBe('SUCCEEDED');
    expect(manifest?.contracts).toEqual([CONTRACT_A]);
    expect(manifest?.items).toHaveLength(1);
    expect(laneJobs(env.emulator, CONTRACT_A, 'activity')).toHaveLength(1);
    expect(await env.destination.read(itemKey(item(CONTRACT_A, 'activity')))).toBeDefined();
  });

  it('skips what an earlier run wrote against the seed spec’s form: same ids, same keys', async () => {
    const seed = await start({ emulator: { contractUrns: 'seed' } });
    const first = await seed.run({ ...RANGE, datasets: ['seat'] }, 'run-seed-urns');
    expect(first.result.status).toBe('SUCCEEDED');
    expect(first.manifest?.contracts).toEqual(['urn:li:salesContract:1001', 'urn:li:salesContract:1002']);
    const written = await seed.destination.allKeys();

    const documented = await start({ destination: seed.destination });
    const rerun = await documented.run({ ...RANGE, datasets: ['seat'] }, 'run-documented-urns');

    expect(rerun.result.status).toBe('SUCCEEDED');
    expect(rerun.manifest?.items.map((r) => [r.contract, r.status])).toEqual([
      [CONTRACT_A, 'SKIPPED'],
      [CONTRACT_B, 'SKIPPED'],
    ]);
    expect(documented.emulator.jobs()).toEqual([]);
    const dataKeys = (keys: string[]) => keys.filter((k) => k.startsWith('sales-navigator/'));
    expect(dataKeys(await documented.destination.allKeys())).toEqual(dataKeys(written));
  });
});

describe.each(DESTINATIONS)('an empty export into %s', (destination) => {
  it('COMPLETED with rowCount 0 and no downloadUrl is EXPORTED with 0 rows, and covers its days next time', async () => {
    const env = await start({
      destination,
      emulator: { scenarios: { [CONTRACT_A]: { activity: { emptyExport: true } } } },
    });
    const empty = item(CONTRACT_A, 'activity');

    const { result, manifest } = await env.run(RANGE, 'run-empty');

    expect(result.status).toBe('SUCCEEDED');
    expect(recordOf(manifest, empty)).toMatchObject({ status: 'EXPORTED', bytes: 0, rows: 0, attempts: 1 });
    expect((await env.destination.read(itemKey(empty)))?.length).toBe(0);
    if (destination === 's3') {
      expect(await env.destination.metadata(itemKey(empty))).toMatchObject({
        rowcount: '0',
        emptyexport: 'completed-without-download-url',
        runid: 'run-empty',
      });
    }
    for (const contract of REPORTABLE) {
      for (const dataset of DATASETS) {
        if (contract === CONTRACT_A && dataset === 'activity') continue;
        expect(recordOf(manifest, item(contract, dataset)).status).toBe('EXPORTED');
      }
    }

    const rerun = await env.run(RANGE, 'run-empty-again');
    expect(recordOf(rerun.manifest, empty).status).toBe('SKIPPED');
    expect(laneJobs(env.emulator, CONTRACT_A, 'activity')).toHaveLength(1);
  });
});

describe('a COMPLETED job with rows but no downloadUrl yet', () => {
  it('is read again until the URL appears, then copied whole', async () => {
    const env = await start({
      emulator: { scenarios: { [CONTRACT_A]: { seat: { completedWithoutUrl: 2 } } } },
    });
    const it = item(CONTRACT_A, 'seat');

    const { result, manifest } = await env.run(
      { ...RANGE, datasets: ['seat'], contracts: [CONTRACT_A] },
      'run-late-url',
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(env.emulator.scenario(CONTRACT_A, 'seat')).toEqual({ completedWithoutUrl: 0 });
    expect(recordOf(manifest, it)).toMatchObject({ status: 'EXPORTED', attempts: 1 });
    expect((await env.destination.read(itemKey(it)))?.equals(env.expectedCsv(it))).toBe(true);
  });
});

describe('a job status LinkedIn does not document', () => {
  it('is reported by name and polled on; the export completes once a known status returns', async () => {
    const env = await start({
      emulator: {
        scenarios: { [CONTRACT_A]: { seat: { unknownStatus: { status: 'ARCHIVED', times: 2 } } } },
      },
    });
    const it = item(CONTRACT_A, 'seat');

    const { result, manifest, events } = await env.run(
      { ...RANGE, datasets: ['seat'], contracts: [CONTRACT_A] },
      'run-unknown-status',
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(events.filter((e) => e.type === 'status' && e.status === 'ARCHIVED')).toHaveLength(2);
    expect(recordOf(manifest, it).status).toBe('EXPORTED');
    expect((await env.destination.read(itemKey(it)))?.equals(env.expectedCsv(it))).toBe(true);
  });

  it('that never goes away fails the item at its polling deadline, naming the status', async () => {
    // The pipeline's clock runs 100× faster than the wall clock, so the 60 s deadline passes in 0.6 s.
    const t0 = Date.now();
    const env = await start({
      now: () => new Date(t0 + (Date.now() - t0) * 100),
      settings: { poll: { initialSeconds: 1, maxSeconds: 5, deadlineSeconds: 60 } },
      emulator: {
        scenarios: { [CONTRACT_A]: { seat: { unknownStatus: { status: 'ARCHIVED', times: 1_000_000 } } } },
      },
    });

    const { result, manifest } = await env.run(
      { ...RANGE, datasets: ['seat'], contracts: [CONTRACT_A] },
      'run-unknown-forever',
    );

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('RunIncompleteError');
    const record = recordOf(manifest, item(CONTRACT_A, 'seat'));
    expect(record.status).toBe('FAILED');
    expect(record.error?.name).toBe('LinkedInResponseError');
    expect(record.error?.message).toMatch(/is still in status ARCHIVED, which this pipeline does not know/);
    expect(await env.destination.read(itemKey(item(CONTRACT_A, 'seat')))).toBeUndefined();
  });
});
