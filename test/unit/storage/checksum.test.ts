import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Base64, crc32Combine } from '#storage/checksum';

describe('crc32Combine', () => {
  it.each([
    [0, 0],
    [0, 1],
    [1, 0],
    [5, 3],
    [1000, 8 * 1024 * 1024 + 17],
  ])('gives the CRC32 of the concatenation (%i + %i bytes)', (a, b) => {
    const left = randomBytes(a);
    const right = randomBytes(b);
    expect(crc32Combine(crc32(left), crc32(right), b)).toBe(crc32(Buffer.concat([left, right])));
  });

  it('combines many parts into the whole object’s CRC32', () => {
    const parts = [7, 5 * 1024 * 1024, 1, 65_536, 3].map((n) => randomBytes(n));
    const combined = parts.reduce((crc, part) => crc32Combine(crc, crc32(part), part.length), 0);
    expect(combined).toBe(crc32(Buffer.concat(parts)));
  });

  it('writes S3’s base64 form (big-endian bytes)', () => {
    // CRC32("123456789") = 0xCBF43926, the standard check value.
    expect(crc32Base64(crc32(Buffer.from('123456789')))).toBe(
      Buffer.from([0xcb, 0xf4, 0x39, 0x26]).toString('base64'),
    );
    expect(crc32Base64(0)).toBe('AAAAAA==');
  });
});
