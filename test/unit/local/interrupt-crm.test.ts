// A local run's interruptible LinkedIn API keeps the CRM data validation calls, and refuses them after Ctrl-C.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderStore } from '#local/folder-store';
import { interruptibleDeps } from '#local/interrupt';
import { crmApi } from '#steps/crm/crm-api';
import { FakeCrmLinkedIn } from '#test/support/fake-crm';
import { fakeDeps } from '#test/support/fake-linkedin';

const INSTANCE = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';

describe('interruptibleDeps and the CRM calls', () => {
  it('forwards them while the run goes on, and refuses them once it is interrupted', async () => {
    const linkedin = new FakeCrmLinkedIn();
    const controller = new AbortController();
    const deps = interruptibleDeps(fakeDeps({ now: '2026-11-20T07:00:00Z', linkedin }), controller.signal);
    await expect(crmApi(deps).createCrmValidationJob(INSTANCE, 1)).resolves.toEqual({ id: 148 });
    await expect(crmApi(deps).getCrmValidationJob(148, INSTANCE)).resolves.toMatchObject({
      status: 'PROCESSING',
    });
    controller.abort();
    await expect(crmApi(deps).createCrmValidationJob(INSTANCE, 1)).rejects.toMatchObject({
      name: 'RunInterruptedError',
    });
    expect(linkedin.crmCreated).toHaveLength(1);
  });
});

describe('interruptibleDeps and leases', () => {
  it('keeps the store’s conditional writes, so a local run with Ctrl-C handling still takes item leases', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'interrupt-lease-'));
    try {
      const store = new FolderStore(dir);
      const deps = interruptibleDeps(
        { ...fakeDeps({ now: '2026-11-20T07:00:00Z' }), store },
        new AbortController().signal,
      );
      expect(deps.store.conditional).toBe(store.conditional);
      expect(deps.store.conditional).toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
