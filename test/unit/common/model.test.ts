// The domain model's contract URN and job status schemas.
import { describe, expect, it } from 'vitest';
import { ContractUrnSchema, contractUrnId, isKnownJobStatus, JobStatusSchema } from '#common/model';
import { itemKey } from '#storage/keys';

describe('ContractUrnSchema', () => {
  it.each([
    ['urn:li:contract:123456', '123456'], // LinkedIn's reference
    ['urn:li:salesContract:12345', '12345'], // the seed spec
  ])('accepts %s, whose id is %s', (urn, id) => {
    expect(ContractUrnSchema.parse(urn)).toBe(urn);
    expect(contractUrnId(urn)).toBe(id);
  });

  it.each([
    'urn:li:organization:123',
    'urn:li:contract:',
    'urn:li:contract:12/34',
    'urn:li:contract:(a,b)',
    'contract:123',
    `urn:li:contract:${'9'.repeat(65)}`,
  ])('refuses %s, showing both accepted forms', (urn) => {
    const result = ContractUrnSchema.safeParse(urn);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/urn:li:contract:<id>.*urn:li:salesContract:<id>/);
    expect(contractUrnId(urn)).toBeUndefined();
  });

  it('gives both forms of one id the same S3 key, so objects written under the seed form stay covered', () => {
    const window = { dataset: 'seat' as const, start: '2026-01-01', end: '2026-01-02' };
    expect(itemKey({ contract: 'urn:li:contract:1001', ...window })).toBe(
      itemKey({ contract: 'urn:li:salesContract:1001', ...window }),
    );
    expect(itemKey({ contract: 'urn:li:contract:1001', ...window })).toBe(
      'sales-navigator/seat/contract=1001/window=2026-01-01_2026-01-02/seat.csv',
    );
  });
});

describe('JobStatusSchema', () => {
  it('accepts documented and undocumented status names, and refuses what is not a name', () => {
    expect(JobStatusSchema.parse('COMPLETED')).toBe('COMPLETED');
    expect(JobStatusSchema.parse('ARCHIVED')).toBe('ARCHIVED');
    expect(isKnownJobStatus('COMPLETED')).toBe(true);
    expect(isKnownJobStatus('ARCHIVED')).toBe(false);
    for (const bad of ['', 'has space', 'x'.repeat(81), '<b>'])
      expect(JobStatusSchema.safeParse(bad).success).toBe(false);
  });
});
