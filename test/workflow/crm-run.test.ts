// ExportRun with CRM data validation items, through the local executor against the emulator: manifest, cursor, off by default.
import { afterEach, describe, expect, it } from 'vitest';
import { type CrmCursor, crmInstanceKey } from '#common/crm';
import { DEFAULT_CRM_INSTANCE } from '#local/emulator/crm';
import { crmCursorKey } from '#storage/crm-keys';
import { CONTRACT_A, FROM, startWorkflowEnv, TO, type WorkflowEnv } from '#test/support/workflow';

const INSTANCE = DEFAULT_CRM_INSTANCE;
const CRM_SETTINGS = {
  crm: { poll: { initialSeconds: 1, maxSeconds: 5 }, jobRetry: { baseSeconds: 1, maxRetries: 1 } },
};

let env: WorkflowEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const crmRequests = (e: WorkflowEnv) => e.emulator.requests.filter((r) => r.path.includes('/crm'));

describe('ExportRun with the CRM data validation family', () => {
  it('exports the lanes and the CRM instance in one run; the manifest lists both; the next run continues at the cursor', async () => {
    env = await startWorkflowEnv({ emulator: { crm: { processingMs: 40 } }, settings: CRM_SETTINGS });
    const input = {
      from: FROM,
      to: TO,
      contracts: [CONTRACT_A],
      datasets: ['activity', 'crmDataValidation'],
      crmInstances: [INSTANCE],
    };
    const first = await env.run(input, 'run-crm-1');
    expect(first.result.status).toBe('SUCCEEDED');
    expect(first.manifest?.summary).toMatchObject({ planned: 1, exported: 1, failed: 0 });
    expect(first.manifest?.summary.crm).toMatchObject({ planned: 1, exported: 1, failed: 0, parts: 3 });
    const [crm] = first.manifest?.crmItems ?? [];
    expect(crm).toMatchObject({ crmInstance: INSTANCE, status: 'EXPORTED', cursor: 'ADVANCED' });
    expect(crm?.parts.map((p) => p.key.split('/').at(-1))).toEqual([
      'part-0001.csv',
      'part-0002.csv',
      'part-0003.csv',
    ]);
    expect(crm?.parts[0]?.key).toContain(`crm-data-validation/instance=${crmInstanceKey(INSTANCE)}/export=`);
    for (const part of crm?.parts ?? [])
      expect((await env.destination.read(part.key))?.length).toBe(part.bytes);
    const cursor = (await env.destination.store.getJson(crmCursorKey(INSTANCE))) as CrmCursor;
    expect(cursor.nextExportStartAt).toBe(crm?.nextExportStartAt);

    const second = await env.run({ datasets: ['crmDataValidation'], crmInstances: [INSTANCE] }, 'run-crm-2');
    expect(second.result.status).toBe('SUCCEEDED');
    expect(second.manifest?.items).toEqual([]);
    expect(second.manifest?.crmItems?.[0]?.startAt).toBe(crm?.nextExportStartAt);
    const [job1, job2] = env.emulator.crmJobs();
    expect(job2?.exportStartAt).toBe(job1?.exportEndAt);
    // A CRM-only run asks LinkedIn for no contract list.
    expect(env.emulator.requests.filter((r) => r.path === '/v2/salesContracts')).toHaveLength(1);
  });

  it('is off when nothing is configured or asked for: no CRM call, no crmItems in the manifest', async () => {
    env = await startWorkflowEnv({ emulator: { crm: { processingMs: 40 } } });
    const run = await env.run({ from: FROM, to: TO, contracts: [CONTRACT_A], datasets: ['seat'] }, 'run-off');
    expect(run.result.status).toBe('SUCCEEDED');
    expect(run.manifest && 'crmItems' in run.manifest).toBe(false);
    expect(run.manifest?.summary.crm).toBeUndefined();
    expect(crmRequests(env)).toEqual([]);
  });

  it('takes the configured instances for a scheduled {} run', async () => {
    env = await startWorkflowEnv({
      emulator: { crm: { processingMs: 40 } },
      settings: { ...CRM_SETTINGS, crm: { ...CRM_SETTINGS.crm, instances: [INSTANCE] }, lagDays: 1 },
    });
    const run = await env.run({ datasets: ['crmDataValidation'] }, 'run-configured');
    expect(run.manifest?.crmItems?.map((i) => [i.crmInstance, i.status])).toEqual([[INSTANCE, 'EXPORTED']]);
  });

  it('a failed CRM export fails the run by name after the analytics items are exported; its cursor stays', async () => {
    env = await startWorkflowEnv({ emulator: { crm: { processingMs: 40 } }, settings: CRM_SETTINGS });
    env.emulator.setCrmScenario(INSTANCE, { unauthorized: true });
    const run = await env.run(
      {
        from: FROM,
        to: TO,
        contracts: [CONTRACT_A],
        datasets: ['seat', 'crmDataValidation'],
        crmInstances: [INSTANCE],
      },
      'run-crm-fail',
    );
    expect(run.result.status).toBe('FAILED');
    expect(run.result.error).toMatchObject({ name: 'RunIncompleteError' });
    expect(run.result.error?.message).toMatch(/1 of 1 CRM export\(s\) failed in run run-crm-fail/);
    expect(run.manifest?.summary).toMatchObject({ exported: 1, failed: 0, crm: { failed: 1 } });
    expect(run.manifest?.crmItems?.[0]).toMatchObject({
      status: 'FAILED',
      cursor: 'KEPT',
      error: { name: 'LinkedInAuthError' },
    });
    expect(await env.destination.store.getJson(crmCursorKey(INSTANCE))).toBeUndefined();
  });
});
