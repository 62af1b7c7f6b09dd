// Which CRM instances a run exports (execution input vs settings), and the CRM records of the manifest.
import { describe, expect, it } from 'vitest';
import type { CrmItemRecord } from '#common/crm';
import { InvalidInputError } from '#common/errors';
import { parseSettings } from '#common/settings';
import { collectCrmItems, crmInstancesOfRun, summariseCrm } from '#steps/crm/run';
import { crmItemRecordKey } from '#storage/crm-keys';
import { MemoryStore } from '#test/support/memory-store';

const A = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';
const B = 'urn:li:crmInstance:(SFDC,00D5e000000abcd)';
const off = parseSettings({});
const on = parseSettings({ crm: { instances: [A] } });

describe('crmInstancesOfRun', () => {
  it('is off with nothing configured and nothing asked: an existing input plans no CRM item', () => {
    expect(crmInstancesOfRun({}, off)).toEqual([]);
    expect(crmInstancesOfRun({ datasets: ['seat', 'activity'] }, off)).toEqual([]);
  });

  it('takes the configured instances when datasets is absent, none when datasets leaves the family out', () => {
    expect(crmInstancesOfRun({}, on)).toEqual([A]);
    expect(crmInstancesOfRun({ datasets: ['activity'] }, on)).toEqual([]);
    expect(crmInstancesOfRun({ datasets: ['crmDataValidation'] }, on)).toEqual([A]);
  });

  it("lets the input's crmInstances replace the configured ones, once each", () => {
    expect(crmInstancesOfRun({ crmInstances: [B, B] }, on)).toEqual([B]);
    expect(crmInstancesOfRun({ datasets: ['crmDataValidation', 'seat'], crmInstances: [B] }, off)).toEqual([
      B,
    ]);
  });

  it.each([
    [
      { datasets: ['crmDataValidation'] },
      /datasets: crmDataValidation needs CRM instances: give crmInstances/,
    ],
    [
      { datasets: ['seat'], crmInstances: [A] },
      /crmInstances: given, but datasets does not include crmDataValidation/,
    ],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => crmInstancesOfRun(input, off)).toThrow(InvalidInputError);
    expect(() => crmInstancesOfRun(input, off)).toThrow(message);
  });
});

describe('collectCrmItems and summariseCrm', () => {
  it('lists each planned item by its record, and a missing record as FAILED with the cursor kept', async () => {
    const store = new MemoryStore();
    const exported: CrmItemRecord = {
      dataset: 'crmDataValidation',
      crmInstance: A,
      status: 'EXPORTED',
      startAt: 1,
      endAt: 9,
      nextExportStartAt: 9,
      parts: [
        { key: 'p1', bytes: 10, rows: 2 },
        { key: 'p2', bytes: 5, rows: 1 },
      ],
      bytes: 15,
      rows: 3,
      jobIds: [148],
      attempts: 1,
      cursor: 'ADVANCED',
      finishedAt: 'x',
    };
    await store.putJson(crmItemRecordKey('run-1', A), exported);
    const items = await collectCrmItems(
      'run-1',
      [
        { crmInstance: A, startAt: 1 },
        { crmInstance: B, startAt: 2 },
      ],
      { store },
      'now',
    );
    expect(items[0]).toEqual(exported);
    expect(items[1]).toMatchObject({
      crmInstance: B,
      status: 'FAILED',
      cursor: 'KEPT',
      error: { name: 'ItemNotRecorded' },
    });
    expect(summariseCrm(items)).toEqual({ planned: 2, exported: 1, failed: 1, parts: 2, bytes: 15, rows: 3 });
  });
});
