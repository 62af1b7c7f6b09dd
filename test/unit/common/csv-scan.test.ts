import { describe, expect, it } from 'vitest';
import { CsvScanner } from '#common/csv-scan';

/** The byte-by-byte counter the scanner replaced: the reference for what a data row is. */
function referenceRows(bytes: Uint8Array): number {
  let lines = 0;
  let content = false;
  let quoted = false;
  for (const b of bytes) {
    if (b === 0x22) {
      quoted = !quoted;
      content = true;
    } else if (b === 0x0a && !quoted) {
      if (content) lines++;
      content = false;
    } else if (b !== 0x0d) content = true;
  }
  return Math.max(0, lines + (content ? 1 : 0) - 1);
}

const WINDOW = {
  column: 'createdAt',
  start: Date.parse('2025-03-01T00:00:00Z'),
  end: Date.parse('2025-03-02T00:00:00Z'),
};

function scan(chunks: Uint8Array[], timestamps = false): CsvScanner {
  const scanner = new CsvScanner(timestamps ? { timestamps: WINDOW } : {});
  for (const chunk of chunks) scanner.update(chunk);
  return scanner;
}

/** Every way of cutting `bytes` in two, and in three around each position, plus one byte at a time. */
function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes], Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))];
  for (let i = 0; i <= bytes.length; i++) {
    out.push([bytes.subarray(0, i), bytes.subarray(i)]);
    out.push([bytes.subarray(0, i), bytes.subarray(i, i + 1), Buffer.alloc(0), bytes.subarray(i + 1)]);
  }
  return out;
}

const CASES: Array<[string, string, number]> = [
  ['an empty file', '', 0],
  ['a header only, no final newline', 'a,b', 0],
  ['a header only', 'a,b\n', 0],
  ['a header only, CRLF, with a BOM', '\uFEFFa,b\r\n', 0],
  ['LF, no final newline', 'a,b\n1,2\n3,4', 2],
  ['CRLF', 'a,b\r\n1,2\r\n3,4\r\n', 2],
  ['CRLF, no final newline', 'a,b\r\n1,2\r\n3,4', 2],
  ['a trailing blank line', 'a,b\n1,2\n\n', 1],
  ['blank CRLF lines', 'a,b\r\n\r\n1,2\r\n\r\r\n3,4\r\n', 2],
  ['quoted newlines', 'a,b\n1,"x\ny"\n2,"p ""q""\r\nr"\r\n', 2],
  ['a quoted CRLF at the end', 'a,b\r\n1,"x\r\n"\r\n', 1],
  ['an escaped quote next to a newline', 'a,b\n1,""""\n2,"""\n"""\n', 2],
  ['a BOM and quoted header', '\uFEFF"a","b\nc"\n1,2\n', 1],
  ['only quotes', '""\n""\n', 1],
  ['an unterminated quote', 'a,b\n1,"never closed\n2,3\n', 1],
];

describe('CsvScanner row count', () => {
  it.each(CASES)('counts the data rows of %s on every chunk boundary', (_label, text, rows) => {
    const bytes = Buffer.from(text);
    expect(referenceRows(bytes)).toBe(rows);
    for (const chunks of splits(bytes)) {
      expect(scan(chunks).rows).toBe(rows);
      expect(scan(chunks, true).rows).toBe(rows);
    }
  });

  it('agrees with the reference on random CSV-ish bytes cut at random places', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = Buffer.from('"\r\n,ab\n"');
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.from(
        Array.from({ length: 1 + rand(200) }, () => alphabet[rand(alphabet.length)] as number),
      );
      const cuts = [
        0,
        ...Array.from({ length: rand(6) }, () => rand(bytes.length + 1)).sort((a, b) => a - b),
        bytes.length,
      ];
      const chunks = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
      expect(scan(chunks).rows).toBe(referenceRows(bytes));
      expect(scan(chunks, true).rows).toBe(referenceRows(bytes));
    }
  });
});

describe('CsvScanner createdAt range', () => {
  const header = 'activityId,activityType,createdAt,seatId,memberIdentityKey\r\n';

  it('finds the earliest and latest createdAt, on every chunk boundary', () => {
    const bytes = Buffer.from(
      `\uFEFF${header}1,"SAVED_LEAD",03-01-2025 10:11:12,7,"m, ""1""\r\nx"\r\n2,PROFILE_VIEWED,"03-01-2025 00:00:00",8,m2\r\n3,INMAIL_SENT,03-01-2025 23:59:59 UTC,9,\r\n`,
    );
    for (const chunks of splits(bytes)) {
      const scanner = scan(chunks, true);
      expect(scanner.rows).toBe(3);
      expect(scanner.timestamps()).toEqual({
        column: 'createdAt',
        earliest: '2025-03-01T00:00:00Z',
        latest: '2025-03-01T23:59:59Z',
        outsideWindow: 0,
        unreadable: 0,
      });
    }
  });

  it('counts rows outside [start, end): the end instant is outside', () => {
    const bytes = Buffer.from(
      `${header}1,A,02-28-2025 23:59:59,7,m\n2,A,03-01-2025 12:00:00,7,m\n3,A,03-02-2025 00:00:00,7,m\n4,A,soon,7,m\n5,A\n`,
    );
    for (const chunks of splits(bytes)) {
      expect(scan(chunks, true).timestamps()).toEqual({
        column: 'createdAt',
        earliest: '2025-02-28T23:59:59Z',
        latest: '2025-03-02T00:00:00Z',
        outsideWindow: 2,
        unreadable: 2,
      });
    }
  });

  it('reads a createdAt in the last column of a file without a final newline', () => {
    const bytes = Buffer.from('id,createdAt\r\n1,03-01-2025 01:02:03\r\n2,03-01-2025 04:05:06');
    for (const chunks of splits(bytes)) {
      expect(scan(chunks, true).timestamps()).toMatchObject({
        earliest: '2025-03-01T01:02:03Z',
        latest: '2025-03-01T04:05:06Z',
        outsideWindow: 0,
        unreadable: 0,
      });
    }
  });

  it('reports nothing when the header has no createdAt column, and a header-only file has no range', () => {
    expect(scan([Buffer.from('a,b\n1,2\n')], true).timestamps()).toBeUndefined();
    expect(scan([Buffer.from(header)], true).timestamps()).toEqual({
      column: 'createdAt',
      outsideWindow: 0,
      unreadable: 0,
    });
  });
});
