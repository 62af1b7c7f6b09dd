// CRC32 of an object streamed in parts: each part's CRC32 and the whole object's, in one pass.
import type * as z from 'zod';
import type { ObjectChecksumSchema } from '#common/model';

/**
 * How an object's checksum is recorded (item record, manifest); `value` is base64, as S3 shows it.
 * FULL_OBJECT: the CRC32 of the whole file, so a downloaded copy is checked with any CRC32 tool.
 */
export type ObjectChecksum = z.infer<typeof ObjectChecksumSchema>;

/** S3's base64 form of a CRC32 (4 bytes, big-endian). */
export function crc32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

/**
 * The CRC32 of A followed by B, from CRC32(A), CRC32(B) and B's length (zlib's crc32_combine): the
 * whole object's checksum from its parts' without reading any byte twice.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the CRC-32 polynomial, reflected
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  square(even, odd); // 2 zero bits
  square(odd, even); // 4 zero bits
  let crc = crcA >>> 0;
  let length = lengthB;
  // Apply length zero bytes to crcA, one power of two of the length at a time.
  for (;;) {
    square(even, odd);
    if (length % 2 === 1) crc = times(even, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
    square(odd, even);
    if (length % 2 === 1) crc = times(odd, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}

function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0, v = vector >>> 0; v !== 0; i++, v >>>= 1) if (v & 1) sum ^= matrix[i] as number;
  return sum >>> 0;
}

function square(target: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) target[n] = times(matrix, matrix[n] as number);
}
