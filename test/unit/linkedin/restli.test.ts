// The Rest.li 2.0 query encoder, checked against the encoded URNs in LinkedIn's own sample requests.
import { describe, expect, it } from 'vitest';
import { encodeRestliValue, restliQuery } from '#linkedin/restli';

describe('encodeRestliValue', () => {
  it.each([
    // "Sales Analytics Export Jobs", get: GET …/salesAnalyticsExportJobs/100004?contract=urn%3Ali%3Acontract%3A123456
    ['urn:li:contract:123456', 'urn%3Ali%3Acontract%3A123456'],
    // "CRM Data Validation Export Jobs": POST …/crmDataValidationExportJobs?crmInstanceId=urn%3Ali%3AcrmInstance%3A%28DYNAMICS%2C362a…%29
    [
      'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)',
      'urn%3Ali%3AcrmInstance%3A%28DYNAMICS%2C362a3584-0d9b-44a1-a547-25de5cd95d08%29',
    ],
    // "Protocol Versions": GET …/endorsement/urn%3Ali%3Aendorsement%3A%28urn%3Ali%3Aperson%3A2qXA98-mVk%2C65761962366%29
    [
      'urn:li:endorsement:(urn:li:person:2qXA98-mVk,65761962366)',
      'urn%3Ali%3Aendorsement%3A%28urn%3Ali%3Aperson%3A2qXA98-mVk%2C65761962366%29',
    ],
  ])('encodes %s as LinkedIn’s sample does', (urn, encoded) => {
    expect(encodeRestliValue(urn)).toBe(encoded);
  });

  it("escapes everything outside the unreserved set, where encodeURIComponent leaves ( ) ! ' *", () => {
    expect(encodeRestliValue("(a,b):!'*")).toBe('%28a%2Cb%29%3A%21%27%2A');
    expect(encodeRestliValue('A-Z_a.z~09')).toBe('A-Z_a.z~09');
    expect(encodeRestliValue('a b&c=d/é')).toBe('a%20b%26c%3Dd%2F%C3%A9');
    expect(encodeURIComponent('(a,b)')).toBe('(a%2Cb)'); // why encodeURIComponent alone is not enough
  });
});

describe('restliQuery', () => {
  it('joins the parameters in order, each value encoded', () => {
    expect(restliQuery({ q: 'contractsByMember', start: 0, count: 10 })).toBe(
      'q=contractsByMember&start=0&count=10',
    );
    expect(restliQuery({ crmInstanceId: 'urn:li:crmInstance:(DYNAMICS,1)' })).toBe(
      'crmInstanceId=urn%3Ali%3AcrmInstance%3A%28DYNAMICS%2C1%29',
    );
  });
});
