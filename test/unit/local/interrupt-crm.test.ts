// A local run's interruptible LinkedIn API keeps the CRM data validation calls, and refuses them after Ctrl-C.
import { describe, expect, it } from 'vitest';
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
