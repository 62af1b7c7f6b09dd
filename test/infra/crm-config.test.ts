// Deploy config and runtime settings of the CRM data validation family: off by default, instances validated by field.
import { describe, expect, it } from 'vitest';
import { parseSettings } from '#common/settings';
import { loadConfig } from '#lib/config';

const DYNAMICS = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';
const SFDC = 'urn:li:crmInstance:(SFDC,00D5e000000abcd)';

describe('CRM data validation configuration', () => {
  it('is off by default: no instances, documented defaults for the rest', () => {
    expect(loadConfig({}).settings.crm).toEqual({
      instances: [],
      firstExportDays: 30,
      poll: { initialSeconds: 300, factor: 1.5, maxSeconds: 1800, deadlineSeconds: 21600 },
      jobRetry: { baseSeconds: 600, maxSeconds: 3600, maxRetries: 3 },
    });
  });

  it.each([
    ['a JSON array (cdk.json or -c)', JSON.stringify([DYNAMICS, SFDC])],
    ['URNs separated by spaces or ;', `${DYNAMICS}; ${SFDC}`],
    ['a real array', [DYNAMICS, SFDC]],
  ])('reads crmInstances from %s into settings.crm.instances', (_, value) => {
    expect(loadConfig({ crmInstances: value }).settings.crm.instances).toEqual([DYNAMICS, SFDC]);
  });

  it('lets crmInstances win over settings.crm.instances and keeps the other crm settings', () => {
    const config = loadConfig({
      crmInstances: DYNAMICS,
      settings: JSON.stringify({ crm: { instances: [SFDC], firstExportDays: 7 } }),
    });
    expect(config.settings.crm.instances).toEqual([DYNAMICS]);
    expect(config.settings.crm.firstExportDays).toBe(7);
  });

  it.each([
    [
      'crmInstances',
      'urn:li:crmInstance:sf-instance-001',
      /crmInstances\.0: must look like urn:li:crmInstance:\(<CRM_KEY>,<instance id>\)/,
    ],
    ['crmInstances', 'urn:li:crmInstance:(DYNAMICS,../../etc)', /crmInstances\.0: must look like/],
    ['crmInstances', 'urn:li:crmInstance:(dynamics,abc)', /crmInstances\.0: must look like/],
    ['settings', '{"crm":{"instances":["x"]}}', /settings\.crm\.instances\.0: must look like/],
    ['settings', '{"crm":{"firstExportDays":0}}', /settings\.crm\.firstExportDays: .*>=1/],
    ['settings', '{"crm":{"poll":{"maxseconds":5}}}', /settings\.crm\.poll: Unrecognized key: "maxseconds"/],
  ])('rejects %s=%s, naming the field', (key, value, message) => {
    expect(() => loadConfig({ [key]: value })).toThrow(message);
  });

  it('names the field in EXPORT_SETTINGS-style runtime settings too', () => {
    expect(() => parseSettings({ crm: { instances: [DYNAMICS, 'nope'] } }, 'EXPORT_SETTINGS')).toThrow(
      /EXPORT_SETTINGS: crm\.instances\.1: must look like/,
    );
  });
});
