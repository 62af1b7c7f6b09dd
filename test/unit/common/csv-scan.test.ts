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

/**
 * The createdAt range by the plain byte-by-byte reading of RFC 4180 (quotes toggle, a record ends at an
 * unquoted LF, CRs outside quotes are dropped): the reference for the scanner's fast and slow paths.
 */
function referenceTimestamps(bytes: Buffer, column: string, window: { start: number; end: number }) {
  const keyOf = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
  let header: string[] | undefined;
  let index = -1;
  let inQuotes = false;
  let content = false;
  let field = 0;
  let value: number[] = [];
  let fields: string[] = [];
  const times: string[] = [];
  let unreadable = 0;
  let evaluated = false;
  const evaluate = () => {
    evaluated = true;
    const m = /^(\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)( UTC)?$/.exec(
      Buffer.from(value).toString('latin1'),
    );
    const [mo = 0, d = 0, , h = 0, mi = 0, s = 0] = (m?.slice(1, 7) ?? []).map(Number);
    if (!m || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) unreadable++;
    else times.push(`${m[3]}-${m[1]}-${m[2]}T${m[4]}:${m[5]}:${m[6]}Z`);
  };
  const endRecord = () => {
    if (!header) {
      fields.push(Buffer.from(value).toString('utf8'));
      header = fields;
      index = header.findIndex((name, i) => (i === 0 ? name.replace(/^\uFEFF/, '') : name).trim() === column);
    } else if (index >= 0 && !evaluated) {
      if (field === index) evaluate();
      else unreadable++;
    }
    content = false;
    field = 0;
    value = [];
    fields = [];
    evaluated = false;
  };
  for (const b of bytes) {
    const capturing = header ? field === index && !evaluated : true;
    if (inQuotes) {
      if (b === 0x22) inQuotes = false;
      else if (capturing) value.push(b);
      continue;
    }
    if (b === 0x22) {
      inQuotes = true;
      content = true;
    } else if (b === 0x2c) {
      content = true;
      if (!header) fields.push(Buffer.from(value).toString('utf8'));
      else if (field === index && !evaluated) evaluate();
      field++;
      if (!header) value = [];
    } else if (b === 0x0a) {
      if (content) endRecord();
      else {
        field = 0;
        value = [];
      }
    } else if (b !== 0x0d) {
      content = true;
      if (capturing) value.push(b);
    }
  }
  if (content) endRecord();
  if (index < 0) return undefined;
  const sorted = [...times].sort();
  const start = keyOf(window.start);
  const end = keyOf(window.end);
  return {
    column,
    ...(sorted.length > 0 && { earliest: sorted[0], latest: sorted.at(-1) }),
    outsideWindow: times.filter((t) => t < start || t >= end).length,
    unreadable,
  };
}

describe('CsvScanner createdAt range, against the byte-by-byte reference', () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)] as T;
  const times = [
    '03-01-2025 00:00:00',
    '03-01-2025 23:59:59',
    '03-01-2025 12:34:56 UTC',
    '03-01-2025 10:00:60',
    '03-01-2025 10:00:61',
    '02-28-2025 23:59:59',
    '03-02-2025 00:00:00',
    '12-31-2024 08:00:00',
    '03-01-2025 24:00:00',
    '03-01-2025 10:60:00',
    '13-01-2025 10:00:00',
    '00-01-2025 10:00:00',
    '03-32-2025 10:00:00',
    '03-01-2025 10:00:0',
    '03-01-2025 1O:00:00',
    '03/01/2025 10:00:00',
    '03-01-2025T10:00:00',
    '03-01-2025 10:00:00 GMT',
    '03-01-2025 10:00:00Z',
    '"03-01-2025 11:00:00"',
    '"03-0""1-2025 11:00:00"',
    '03-01-2025 11:00:00\r',
    '',
  ];
  const leads = ['1700000000000', '42', '', 'a b', '"1,2"', 'x\ry', '-', '9999999999999999'];
  const types = ['SAVED_LEAD', 'PROFILE_VIEWED', '"A,B"', 'SEARCH PERFORMED', '_', '"""q"""'];
  const tails = ['100000,mik-1', '7,"m, ""1""\r\nx"', '8,', '', '9,"never\nclosed', ',,,'];
  const row = (cols: number, at: number) => {
    const fields = Array.from({ length: cols }, (_, i) =>
      i === at ? pick(times) : pick(i < at ? (i === 0 ? leads : types) : tails),
    );
    return fields.slice(0, rand(8) === 0 ? rand(cols + 1) : cols).join(',');
  };

  it('agrees on random activity files: every timestamp shape, quoting, CRLF, blank lines, BOM, random cuts', () => {
    for (let round = 0; round < 400; round++) {
      const cols = 2 + rand(4);
      const at = rand(cols);
      const names = Array.from({ length: cols }, (_, i) =>
        i === at ? pick(['createdAt', '"createdAt"', ' createdAt ']) : `c${i}`,
      );
      const eol = () => pick(['\n', '\r\n', '\r\n', '\n\n', '\r\n\r\n']);
      let text = `${rand(3) === 0 ? '\uFEFF' : ''}${names.join(',')}${eol()}`;
      const rows = rand(40);
      for (let r = 0; r < rows; r++) text += row(cols, at) + (r === rows - 1 && rand(3) === 0 ? '' : eol());
      const bytes = Buffer.from(text);
      const cuts = [
        0,
        ...Array.from({ length: rand(12) }, () => rand(bytes.length + 1)).sort((a, b) => a - b),
        bytes.length,
      ];
      const chunks = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
      const scanner = scan(chunks, true);
      expect({ rows: scanner.rows, range: scanner.timestamps() }, text).toEqual({
        rows: referenceRows(bytes),
        range: referenceTimestamps(bytes, 'createdAt', WINDOW),
      });
      const whole = scan([bytes], true);
      expect(whole.timestamps(), text).toEqual(scanner.timestamps());
    }
  });

  it('takes long runs of plain rows in any chunking, a date change, and a quote in the middle', () => {
    const header = 'activityId,activityType,createdAt,seatId,memberIdentityKey\r\n';
    const lines = Array.from({ length: 500 }, (_, i) => {
      const day = i < 250 ? '03-01-2025' : i < 499 ? '02-28-2025' : '03-02-2025';
      const member = i === 300 ? '"m, ""x""\r\ny"' : `mik-${i}`;
      return `${1_700_000_000_000 + i},SAVED_LEAD,${day} ${String(i % 24).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')},7,${member}\r\n`;
    });
    const bytes = Buffer.from(header + lines.join(''));
    for (const size of [1, 7, 64, 333, 4096, bytes.length]) {
      const chunks = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      const scanner = scan(chunks, true);
      expect(scanner.rows).toBe(500);
      expect(scanner.timestamps()).toEqual({
        column: 'createdAt',
        earliest: '2025-02-28T00:00:00Z',
        latest: '2025-03-02T19:00:19Z',
        outsideWindow: 250,
        unreadable: 0,
      });
    }
  });
});
