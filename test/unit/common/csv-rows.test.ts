// CsvScanner's WebAssembly fast path (csv-rows.wat) against its JavaScript reference, on random CSVs cut at random.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { CsvScanner, type CsvScanOptions } from '#common/csv-scan';
import { CSV_ROWS_MODULE, csvRowsModuleSource } from '../../../bin/build-wasm.ts';

/** A small seeded generator (mulberry32): the same cases on every run, any failure reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const two = (n: number) => String(n).padStart(2, '0');

/**
 * A CSV with the timestamp column at `column`: mostly LinkedIn's plain rows, and every case either
 * path must step aside for: quotes (in any field, the timestamp's too, with commas and newlines
 * inside), odd timestamps (out of range, short, ` UTC`, ` XYZ`), spaces and other low bytes in the
 * leading fields, blank lines, CR without LF, a missing final newline, a BOM, long fields.
 */
function randomCsv(next: () => number, column: number, rows: number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const timestamp = (): string => {
    const r = next();
    // Mostly a date seen before (the memo), each time with a plain or an odd time of day.
    const date = `03-${two(1 + Math.floor(next() * 3))}-2025`;
    const plain = `${date} ${two(Math.floor(next() * 24))}:${two(Math.floor(next() * 60))}:${two(Math.floor(next() * 61))}`;
    if (r < 0.75) return plain;
    if (r < 0.82) return `${plain} UTC`;
    return pick([
      `${date} 24:00:00`,
      `${date} 30:00:00`,
      `${date} 23:60:00`,
      `${date} 23:59:61`,
      `${date} 23:59:70`,
      `${date} 2:00:00`,
      `${date} 10-00-00`,
      `${date}T10:00:00`,
      `${date} 1a:00:00`,
      `${plain} XYZ`,
      `${plain} UT`,
      `${plain}Z`,
      `${plain} `,
      `"${plain}"`,
      `"${plain}\r\nnext line"`,
      '13-01-2025 00:00:00',
      '00-01-2025 00:00:00',
      '03-32-2025 00:00:00',
      '03-00-2025 00:00:00',
      '03-01-25 10:00:00',
      '03/01/2025 10:00:00',
      'x3-01-2025 10:00:00',
      '03-01-20x5 10:00:00',
      '',
    ]);
  };
  const field = (): string => {
    const r = next();
    if (r < 0.7)
      return pick(['SAVED_LEAD', 'PROFILE_VIEWED', String(Math.floor(next() * 1e13)), 'mik-42', '']);
    if (r < 0.8) return pick(['two words', 'a+b', 'tab\there', '#tag', '(x)', '!', '*', 'ü-€']);
    if (r < 0.95)
      return pick(['"quoted, with comma"', '"say ""hi"""', '"multi\nline"', '"multi\r\nline"', '""']);
    return 'x'.repeat(1 + Math.floor(next() * 200));
  };
  const columns = Math.max(column + 1, 3 + Math.floor(next() * 3));
  const names = Array.from({ length: columns }, (_, i) => (i === column ? 'createdAt' : `c${i}`));
  const lines: string[] = [`${next() < 0.2 ? '\uFEFF' : ''}${names.join(',')}`];
  for (let r = 0; r < rows; r++) {
    const u = next();
    if (u < 0.03) {
      lines.push(pick(['', '\r', '\r\r']));
      continue;
    }
    const fields = Array.from({ length: columns }, (_, i) => (i === column ? timestamp() : field()));
    if (u < 0.05) fields.length = Math.max(0, column - Math.floor(next() * 2)); // a short record
    lines.push(fields.join(','));
  }
  const eol = next() < 0.5 ? '\r\n' : '\n';
  return Buffer.from(lines.join(eol) + (next() < 0.7 ? eol : ''));
}

/** Cuts `bytes` at random: many small chunks (every boundary case), some large ones. */
function randomChunks(next: () => number, bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = next() < 0.8 ? Math.floor(next() * 40) : Math.floor(next() * 4000);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function scan(chunks: Buffer[], fastPath: CsvScanOptions['fastPath']) {
  const scanner = new CsvScanner({
    timestamps: {
      column: 'createdAt',
      start: Date.parse('2025-03-01T12:00:00Z'),
      end: Date.parse('2025-03-02T06:00:00Z'),
    },
    fastPath,
  });
  for (const chunk of chunks) scanner.update(chunk);
  return { rows: scanner.rows, timestamps: scanner.timestamps() };
}

describe('csv-rows.wat, the fast path in WebAssembly', () => {
  it('gives exactly what the JavaScript fast path gives, on 400 random CSVs cut at random', () => {
    const next = random(20261202);
    let plainRows = 0;
    for (let c = 0; c < 400; c++) {
      const column = Math.floor(next() * 4);
      const csv = randomCsv(next, column, 1 + Math.floor(next() * 60));
      const chunks = next() < 0.1 ? [csv] : randomChunks(next, csv);
      const javascript = scan(chunks, 'javascript');
      const webassembly = scan(chunks, 'webassembly');
      expect(webassembly, `case ${c}: ${JSON.stringify(csv.toString())}`).toEqual(javascript);
      plainRows += javascript.rows;
    }
    expect(plainRows).toBeGreaterThan(5_000);
  });

  it('takes whole chunks of plain rows the same way, the date memo shared across scanners', () => {
    const header = 'activityId,activityType,createdAt,seatId\r\n';
    const body = Array.from(
      { length: 5_000 },
      (_, i) =>
        `${i},SAVED_LEAD,03-0${1 + (i % 2)}-2025 ${two(i % 24)}:${two(i % 60)}:${two(i % 61)}${i % 7 ? '' : ' UTC'},${i}\r\n`,
    ).join('');
    const csv = Buffer.from(header + body);
    const chunks = randomChunks(random(7), csv);
    // Two scanners at once, chunk by chunk (as two copies in one process would).
    const a = new CsvScanner({
      timestamps: { column: 'createdAt', start: 0, end: Date.parse('2025-03-02T00:00:00Z') },
    });
    const b = new CsvScanner({
      timestamps: { column: 'createdAt', start: 0, end: Date.parse('2025-03-02T00:00:00Z') },
      fastPath: 'javascript',
    });
    for (const chunk of chunks) {
      a.update(chunk);
      b.update(chunk);
    }
    expect(a.rows).toBe(5_000);
    expect(a.timestamps()).toEqual(b.timestamps());
    expect(a.timestamps()).toMatchObject({
      earliest: '2025-03-01T00:00:00Z',
      outsideWindow: 2_500,
      unreadable: 0,
    });
  });

  it('takes every plain record whole (` UTC`, CRLF, leading fields), leaving none to the byte-by-byte walk', () => {
    const csv = Buffer.from(
      `id,type,createdAt,seat\r\n${Array.from(
        { length: 2_000 },
        (_, i) =>
          `${i},SAVED_LEAD,03-01-2025 ${two(i % 24)}:${two(i % 60)}:00${i % 2 ? ' UTC' : ''}${i % 3 ? `,${i}` : ''}\r\n`,
      ).join('')}`,
    );
    for (const fastPath of ['webassembly', 'javascript'] as const) {
      const walk = vi.spyOn(CsvScanner.prototype as unknown as { scanPrefix: () => number }, 'scanPrefix');
      try {
        const result = scan([csv], fastPath);
        expect(result.rows, fastPath).toBe(2_000);
        expect(result.timestamps, fastPath).toMatchObject({ unreadable: 0, latest: '2025-03-01T23:59:00Z' });
        expect(walk, fastPath).not.toHaveBeenCalled();
      } finally {
        walk.mockRestore();
      }
    }
  });

  it('is compiled once per process, by the first scanner that tracks timestamps', async () => {
    vi.resetModules();
    const wasm = (globalThis as unknown as { WebAssembly: { Instance: new (...args: never[]) => object } })
      .WebAssembly;
    const RealInstance = wasm.Instance;
    let made = 0;
    // A function declaration: the scanner calls it with `new`, which an arrow function refuses.
    function instantiate(...args: never[]): object {
      made++;
      return new RealInstance(...args);
    }
    const instances = vi.spyOn(wasm, 'Instance').mockImplementation(instantiate);
    try {
      const { CsvScanner: Fresh } = await import('#common/csv-scan');
      new Fresh();
      expect(made).toBe(0);
      const scanner = new Fresh({ timestamps: { column: 'createdAt', start: 0, end: 1 } });
      new Fresh({ timestamps: { column: 'createdAt', start: 0, end: 1 } });
      expect(made).toBe(1);
      scanner.update(Buffer.from('createdAt\n03-01-2025 10:00:00\n'));
      expect(scanner.rows).toBe(1);
    } finally {
      instances.mockRestore();
    }
  });

  it('falls back to the JavaScript fast path where the module cannot load', async () => {
    vi.resetModules();
    vi.doMock('#common/csv-rows-wasm', () => ({ CSV_ROWS_WASM: Buffer.from('not wasm').toString('base64') }));
    try {
      const { CsvScanner: Fresh } = await import('#common/csv-scan');
      const scanner = new Fresh({
        timestamps: { column: 'createdAt', start: 0, end: Date.parse('2030-01-01T00:00:00Z') },
      });
      scanner.update(Buffer.from('id,createdAt\n1,03-01-2025 10:00:00\n2,03-01-2025 11:00:00\n'));
      expect(scanner.rows).toBe(2);
      expect(scanner.timestamps()).toMatchObject({
        earliest: '2025-03-01T10:00:00Z',
        latest: '2025-03-01T11:00:00Z',
      });
    } finally {
      vi.doUnmock('#common/csv-rows-wasm');
    }
  });

  it('is what csv-rows.wat assembles to (npm run build:wasm after an edit)', async () => {
    expect(readFileSync(CSV_ROWS_MODULE, 'utf8')).toBe(await csvRowsModuleSource());
  });
});
