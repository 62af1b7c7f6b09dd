// The CLI's CRM flags: --datasets crmDataValidation and --crm-instance URN (repeatable), checked before anything runs.
import { describe, expect, it } from 'vitest';
import { parseCli } from '#local/cli/args';
import { UsageError } from '#local/cli/types';
import { DEFAULT_CRM_INSTANCE } from '#local/emulator/crm';

const A = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';
const B = 'urn:li:crmInstance:(SFDC,00D5e000000abcd)';
const emulator = ['--local', '--emulator'];

describe('CLI CRM flags', () => {
  it('passes repeatable --crm-instance and crmDataValidation in --datasets into the execution input', () => {
    const args = parseCli([
      ...emulator,
      '--datasets',
      'activity,crmDataValidation',
      '--crm-instance',
      A,
      '--crm-instance',
      B,
    ]);
    expect(args).toMatchObject({
      input: { datasets: ['activity', 'crmDataValidation'], crmInstances: [A, B] },
    });
  });

  it('the demo includes the emulator’s CRM instance, unless --datasets leaves the family out', () => {
    expect(parseCli(['--demo'])).toMatchObject({ input: { crmInstances: [DEFAULT_CRM_INSTANCE] } });
    const analyticsOnly = parseCli(['--demo', '--datasets', 'seat']);
    expect(analyticsOnly !== 'help' && analyticsOnly.input.crmInstances).toBeUndefined();
  });

  it('leaves existing invocations unchanged: no CRM field in the input', () => {
    const args = parseCli([...emulator, '--from', '2026-10-01', '--to', '2026-10-02']);
    expect(args !== 'help' && args.input).toEqual({ from: '2026-10-01', to: '2026-10-02' });
  });

  it.each([
    [
      ['--crm-instance', 'urn:li:crmInstance:sf-instance-001'],
      /--crm-instance urn:li:crmInstance:sf-instance-001: must look like urn:li:crmInstance:\(<CRM_KEY>,<instance id>\)/,
    ],
    [
      ['--datasets', 'seat', '--crm-instance', A],
      /--crm-instance: given, but --datasets does not include crmDataValidation; add it \(--datasets seat,crmDataValidation\)/,
    ],
    [
      ['--datasets', 'crmDataValidation'],
      /a local run needs the CRM instances to export: add --crm-instance URN/,
    ],
    [
      ['--datasets', 'crmDataValidaton'],
      /unknown dataset "crmDataValidaton" \(did you mean crmDataValidation\?\)/,
    ],
  ])('refuses %j naming the flag', (flags, message) => {
    expect(() => parseCli([...emulator, ...flags])).toThrow(UsageError);
    expect(() => parseCli([...emulator, ...flags])).toThrow(message);
  });

  it('refuses --crm-instance with --stop', () => {
    expect(() =>
      parseCli(['--stop', 'arn:aws:states:us-east-1:123456789012:execution:x:y', '--crm-instance', A]),
    ).toThrow(/--crm-instance does not apply to --stop/);
  });
});
