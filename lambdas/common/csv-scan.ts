// Counts a streamed CSV's data rows (RFC 4180) and the range of one timestamp column, chunk by chunk.
import { CSV_ROWS_WASM } from './csv-rows-wasm.ts';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
/** The longest header record read to find the timestamp column; longer headers are not searched. */
const MAX_HEADER_BYTES = 64 * 1024;
/** Bytes of the timestamp field kept: `MM-DD-YYYY HH:MM:SS UTC` and a little slack. */
const MAX_FIELD_BYTES = 32;

/** The earliest and latest value of the timestamp column, and how many rows lie outside the window. */
export interface TimestampRange {
  /** The column, as named in the header. */
  column: string;
  /** ISO 8601 UTC; absent when no row had a readable timestamp. */
  earliest?: string;
  latest?: string;
  /** Rows whose timestamp is before the window's start or at/after its end. */
  outsideWindow: number;
  /** Rows whose timestamp field is missing or not `MM-DD-YYYY HH:MM:SS` (optionally ` UTC`). */
  unreadable: number;
}

export interface CsvScanOptions {
  /**
   * Also track this column's timestamps (LinkedIn's `MM-DD-YYYY HH:MM:SS`, UTC), found by its header
   * name, against the window `[start, end)` (epoch ms).
   */
  timestamps?: { column: string; start: number; end: number };
  /**
   * What takes whole plain records with their timestamp (the fast path): csv-rows.wat, 16 bytes at a
   * time, or the JavaScript reference it is tested against. Both give the same results.
   * @default 'webassembly' ('javascript' where WebAssembly SIMD is missing)
   */
  fastPath?: 'webassembly' | 'javascript';
}

/** What csv-rows.wat exports (see its header for the contract). */
interface CsvRowsModule {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  records: { value: number };
  outside: { value: number };
  minKey: { value: number };
  maxKey: { value: number };
  stop: { value: number };
  scanRows(
    from: number,
    limit: number,
    column: number,
    startKey: number,
    endKey: number,
    minKey: number,
    maxKey: number,
  ): number;
}

/** The WebAssembly API, as used here (this project's TypeScript libs have no DOM). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** undefined: not loaded yet; null: this Node cannot run it (no WebAssembly SIMD). */
let csvRows: CsvRowsModule | null | undefined;
let csvRowsMemory: Uint8Array | undefined;

/** csv-rows.wat (1.2 KB assembled), compiled once per process by the first scanner that tracks timestamps. */
function loadCsvRows(): CsvRowsModule | null {
  if (csvRows === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
      const module = new wasm.Module(Buffer.from(CSV_ROWS_WASM, 'base64'));
      csvRows = new wasm.Instance(module, {}).exports as CsvRowsModule;
    } catch {
      csvRows = null;
    }
  }
  return csvRows;
}

/** Puts `chunk` at offset 0 of the module's memory, 16 bytes of slack after it (its 16-byte loads). */
function copyIntoCsvRows(rows: CsvRowsModule, chunk: Uint8Array): void {
  const needed = chunk.length + 16;
  const size = rows.memory.buffer.byteLength;
  if (needed > size) rows.memory.grow(Math.ceil((needed - size) / 65_536));
  if (csvRowsMemory?.buffer !== rows.memory.buffer) csvRowsMemory = new Uint8Array(rows.memory.buffer);
  csvRowsMemory.set(chunk, 0);
}

/**
 * Scans a CSV as it streams past, in one pass and without copying it: counts its non-empty records
 * (RFC 4180: a newline inside a quoted field does not end a record; CRLF, a missing final newline
 * and a BOM are fine) and, optionally, the range of one timestamp column. State is carried across
 * chunks, so any split of the bytes gives the same result.
 *
 * Fast path: between quotes, records are found with `indexOf` (memchr), never byte by byte. Only the
 * leading fields of a record, up to the timestamp column, are walked byte by byte when timestamps
 * are tracked.
 */
export class CsvScanner {
  private records = 0;
  private recordHasContent = false;
  private inQuotes = false;

  // Timestamp tracking (undefined: not tracked, or the header has no such column).
  private readonly wanted: CsvScanOptions['timestamps'];
  private header: Buffer[] | undefined;
  private headerBytes = 0;
  private column: number | undefined;
  /** Walking the leading fields of the current record (up to and including the timestamp column). */
  private inPrefix = false;
  private field = 0;
  private readonly captured = new Uint8Array(MAX_FIELD_BYTES);
  /** The date bytes (`MM-DD-YYYY`, as 4 + 4 + 2 little-endian) of the last timestamp `scanRows` read, and its key at 00:00:00. */
  private date0 = -1;
  private date1 = -1;
  private date2 = -1;
  private dateKey = 0;
  private capturedLength = 0;
  private startKey = 0;
  private endKey = 0;
  private minKey = Number.POSITIVE_INFINITY;
  private maxKey = Number.NEGATIVE_INFINITY;
  private outside = 0;
  private unreadable = 0;
  /** csv-rows.wat, when it takes the fast path; and whether this chunk is in its memory yet. */
  private readonly rowsModule: CsvRowsModule | null = null;
  private chunkInModule = false;

  constructor(options: CsvScanOptions = {}) {
    this.wanted = options.timestamps;
    if (this.wanted) {
      this.header = [];
      this.startKey = keyOfMs(this.wanted.start);
      this.endKey = keyOfMs(this.wanted.end);
      if (options.fastPath !== 'javascript') this.rowsModule = loadCsvRows();
    }
  }

  /** Data rows so far: non-empty records after the header. */
  get rows(): number {
    return Math.max(0, this.records + (this.recordHasContent ? 1 : 0) - 1);
  }

  /** The timestamp column's range (call after the last chunk); undefined when not tracked or not found. */
  timestamps(): TimestampRange | undefined {
    if (!this.wanted || this.column === undefined) return undefined;
    if (this.inPrefix && this.recordHasContent) this.endRecordInPrefix();
    this.inPrefix = false;
    const found = Number.isFinite(this.minKey);
    return {
      column: this.wanted.column,
      ...(found && { earliest: isoOfKey(this.minKey), latest: isoOfKey(this.maxKey) }),
      outsideWindow: this.outside,
      unreadable: this.unreadable,
    };
  }

  update(chunk: Uint8Array): void {
    const n = chunk.length;
    this.chunkInModule = false;
    let pos = 0;
    if (this.header) {
      pos = this.scanHeader(chunk);
      if (this.header) return;
    }
    let nextQuote = -2; // not searched yet in this chunk
    while (pos < n) {
      if (this.inPrefix) {
        const fast =
          this.field === 0 && !this.inQuotes && !this.recordHasContent
            ? this.rowsModule
              ? this.scanRowsInModule(this.rowsModule, chunk, pos)
              : this.scanRows(chunk, pos)
            : pos;
        pos = fast > pos ? fast : this.scanPrefix(chunk, pos);
        continue;
      }
      if (this.inQuotes) {
        const close = chunk.indexOf(QUOTE, pos);
        if (close === -1) return;
        this.inQuotes = false;
        pos = close + 1;
        continue;
      }
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = chunk.indexOf(QUOTE, pos);
      let lf = chunk.indexOf(LF, pos);
      if (nextQuote !== -1 && (lf === -1 || nextQuote < lf)) {
        this.recordHasContent = true;
        this.inQuotes = true;
        pos = nextQuote + 1;
        continue;
      }
      if (lf === -1) {
        if (!this.recordHasContent && hasContent(chunk, pos, n)) this.recordHasContent = true;
        return;
      }
      // Records without quotes: count every LF up to the next quote without leaving this loop.
      const limit = nextQuote === -1 ? n : nextQuote;
      do {
        if (this.recordHasContent || hasContent(chunk, pos, lf)) this.records++;
        this.recordHasContent = false;
        pos = lf + 1;
        if (this.column !== undefined) {
          this.startPrefix();
          break;
        }
        lf = chunk.indexOf(LF, pos);
      } while (lf !== -1 && lf < limit);
    }
  }

  /** Collects the header record; when it ends, finds the column. Returns where the header ended. */
  private scanHeader(chunk: Uint8Array): number {
    const header = this.header as Buffer[];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === QUOTE) {
        this.inQuotes = !this.inQuotes;
        this.recordHasContent = true;
      } else if (b === LF && !this.inQuotes) {
        if (!this.recordHasContent) continue; // blank lines before the header
        this.records++;
        this.recordHasContent = false;
        this.keepHeader(header, chunk.subarray(0, i));
        this.endHeader(Buffer.concat(header));
        return i + 1;
      } else if (b !== CR) {
        this.recordHasContent = true;
      }
    }
    this.keepHeader(header, chunk);
    return chunk.length;
  }

  private keepHeader(header: Buffer[], bytes: Uint8Array): void {
    if (this.headerBytes >= MAX_HEADER_BYTES) return;
    const kept = bytes.subarray(0, MAX_HEADER_BYTES - this.headerBytes);
    header.push(Buffer.from(kept));
    this.headerBytes += kept.length;
  }

  private endHeader(bytes: Buffer): void {
    this.header = undefined;
    const names = parseRecord(bytes.toString('utf8').replace(/^\uFEFF/, ''));
    const index = names.findIndex((name) => name.trim() === this.wanted?.column);
    if (index === -1) return;
    this.column = index;
    this.startPrefix();
  }

  private startPrefix(): void {
    this.inPrefix = true;
    this.field = 0;
    this.capturedLength = 0;
  }

  /**
   * The fast path for the timestamp column, from the start of a record: whole records without a
   * quote, each with a well-formed timestamp, in one tight loop (the leading fields walked without
   * leaving it, the date's bytes compared with the last date seen instead of parsed, the rest found
   * with `indexOf`). Stops at the first record it cannot take whole (a quote, a blank line, an odd
   * timestamp, the chunk's end), for `scanPrefix` and the general loop. Returns where it stopped:
   * `from` when it took nothing; else the start of the next record, or the byte after the timestamp
   * field of a record whose end is not in this chunk.
   */
  private scanRows(chunk: Uint8Array, from: number): number {
    const column = this.column as number;
    const n = chunk.length;
    const quote = chunk.indexOf(QUOTE, from);
    const limit = quote === -1 ? n : quote;
    const view = new DataView(chunk.buffer, chunk.byteOffset, n);
    let pos = from;
    let records = 0;
    let minKey = this.minKey;
    let maxKey = this.maxKey;
    let outside = 0;
    let stop = -1;
    while (pos < limit) {
      let i = pos;
      let field = 0;
      while (field < column && i < limit) {
        // Every byte that matters here (comma, quote, CR, LF) is <= ','; digits and letters are above
        // it. Four bytes at a time while none of them is (a SWAR "has a byte below 0x2d" test).
        if (i + 4 <= limit) {
          const w = view.getUint32(i, true);
          if (((w - 0x2d2d2d2d) & ~w & 0x80808080) === 0) {
            i += 4;
            continue;
          }
        }
        const b = chunk[i++] as number;
        if (b > COMMA) continue;
        if (b !== COMMA) {
          i = limit;
          break;
        }
        field++;
      }
      // The timestamp and the byte after it (and a possible " UTC") must lie before the next quote.
      if (field < column || i + 20 > limit) break;
      // The date (`MM-DD-YYYY`) is compared, 4 + 4 + 2 bytes, with the last one seen, and parsed only when it differs.
      const d0 = view.getUint32(i, true);
      const d1 = view.getUint32(i + 4, true);
      const d2 = view.getUint16(i + 8, true);
      if (d0 !== this.date0 || d1 !== this.date1 || d2 !== this.date2) {
        const key = timestampKey(chunk, i, 19);
        if (key < 0) break;
        this.date0 = d0;
        this.date1 = d1;
        this.date2 = d2;
        this.dateKey = Math.floor(key / 1_000_000) * 1_000_000;
      }
      const h1 = (chunk[i + 11] as number) - DIGIT_0;
      const h2 = (chunk[i + 12] as number) - DIGIT_0;
      const m1 = (chunk[i + 14] as number) - DIGIT_0;
      const m2 = (chunk[i + 15] as number) - DIGIT_0;
      const s1 = (chunk[i + 17] as number) - DIGIT_0;
      const s2 = (chunk[i + 18] as number) - DIGIT_0;
      if (
        chunk[i + 10] !== 0x20 ||
        chunk[i + 13] !== 0x3a ||
        chunk[i + 16] !== 0x3a ||
        h1 >>> 0 > 2 ||
        h2 >>> 0 > 9 ||
        m1 >>> 0 > 5 ||
        m2 >>> 0 > 9 ||
        s1 >>> 0 > 6 ||
        s2 >>> 0 > 9
      )
        break;
      const hour = h1 * 10 + h2;
      const second = s1 * 10 + s2;
      if (hour > 23 || second > 60) break;
      let end = i + 19;
      if (chunk[end] === 0x20) {
        if (end + 5 > limit || chunk[end + 1] !== 0x55 || chunk[end + 2] !== 0x54 || chunk[end + 3] !== 0x43)
          break;
        end += 4;
      }
      const after = chunk[end];
      if (after !== COMMA && after !== CR && after !== LF) break;
      const key = this.dateKey + hour * 10_000 + (m1 * 10 + m2) * 100 + second;
      if (key < minKey) minKey = key;
      if (key > maxKey) maxKey = key;
      if (key < this.startKey || key >= this.endKey) outside++;
      const lf = chunk.indexOf(LF, end);
      if (lf === -1 || lf > limit) {
        // The rest of this record is for the general loop (it holds a quote, or goes on in the next chunk).
        stop = after === COMMA ? end + 1 : end;
        break;
      }
      records++;
      pos = lf + 1;
    }
    return this.tookRows(records, outside, minKey, maxKey, stop, pos);
  }

  /** `scanRows` by csv-rows.wat: the same contract and results, 16 bytes at a time. */
  private scanRowsInModule(rows: CsvRowsModule, chunk: Uint8Array, from: number): number {
    const quote = chunk.indexOf(QUOTE, from);
    const limit = quote === -1 ? chunk.length : quote;
    if (!this.chunkInModule) {
      copyIntoCsvRows(rows, chunk);
      this.chunkInModule = true;
    }
    const column = this.column as number;
    const pos = rows.scanRows(from, limit, column, this.startKey, this.endKey, this.minKey, this.maxKey);
    return this.tookRows(
      rows.records.value,
      rows.outside.value,
      rows.minKey.value,
      rows.maxKey.value,
      rows.stop.value,
      pos,
    );
  }

  /**
   * What a fast path took: its records and timestamps are added, and the general loop goes on at
   * `stop` (the byte after the timestamp field of a record it left unfinished, -1 when none) or `pos`.
   */
  private tookRows(
    records: number,
    outside: number,
    minKey: number,
    maxKey: number,
    stop: number,
    pos: number,
  ): number {
    this.records += records;
    this.outside += outside;
    this.minKey = minKey;
    this.maxKey = maxKey;
    if (stop === -1) return pos;
    this.inPrefix = false;
    this.recordHasContent = true;
    this.field = this.column as number;
    return stop;
  }

  /**
   * Walks the leading fields of a record, byte by byte, up to the end of the timestamp field;
   * then the fast path takes over for the rest of the record. Returns where it stopped.
   */
  private scanPrefix(chunk: Uint8Array, from: number): number {
    const column = this.column as number;
    const n = chunk.length;
    let field = this.field;
    let i = from;
    // Fast: no quote in the leading fields and the whole timestamp in this chunk.
    if (!this.inQuotes && this.capturedLength === 0) {
      while (field < column && i < n) {
        const b = chunk[i] as number;
        if (b === COMMA) field++;
        else if (b === QUOTE || b === LF || b === CR) break; // a CR alone is no content: the slow loop decides
        i++;
      }
      if (i > from) this.recordHasContent = true;
      if (field === column && i + 24 <= n && chunk[i] !== QUOTE) {
        const key = timestampKey(chunk, i, 19);
        let end = i + 19;
        if (
          chunk[end] === 0x20 &&
          chunk[end + 1] === 0x55 &&
          chunk[end + 2] === 0x54 &&
          chunk[end + 3] === 0x43
        )
          end += 4;
        const after = chunk[end];
        if (key >= 0 && (after === COMMA || after === CR || after === LF)) {
          this.recordHasContent = true;
          this.addKey(key);
          this.inPrefix = false;
          this.field = field;
          return after === COMMA ? end + 1 : end;
        }
      }
    }
    // Slow: byte by byte, any quoting, across chunk boundaries.
    let inQuotes = this.inQuotes;
    let content = this.recordHasContent;
    for (; i < n; i++) {
      const b = chunk[i] as number;
      if (inQuotes) {
        if (b === QUOTE) inQuotes = false;
        else if (field === column) this.capture(b);
        continue;
      }
      if (b === QUOTE) {
        inQuotes = true;
        content = true;
      } else if (b === COMMA) {
        content = true;
        if (field === column) {
          this.endField();
          this.inPrefix = false;
          this.inQuotes = false;
          this.recordHasContent = true;
          this.field = field;
          return i + 1;
        }
        field++;
      } else if (b === LF) {
        if (content) {
          this.field = field;
          this.endRecordInPrefix();
          this.records++;
        }
        // The next record starts: back to the caller, where the fast paths may take it.
        this.inQuotes = false;
        this.recordHasContent = false;
        this.field = 0;
        this.capturedLength = 0;
        return i + 1;
      } else if (b !== CR) {
        content = true;
        if (field === column) this.capture(b);
      }
    }
    this.inQuotes = inQuotes;
    this.recordHasContent = content;
    this.field = field;
    return n;
  }

  /** A record ended (LF or end of file) while still in its leading fields. */
  private endRecordInPrefix(): void {
    if (this.field === this.column) this.endField();
    else this.unreadable++;
  }

  private capture(b: number): void {
    if (this.capturedLength < MAX_FIELD_BYTES) this.captured[this.capturedLength++] = b;
    else this.capturedLength = MAX_FIELD_BYTES + 1;
  }

  private endField(): void {
    const key = timestampKey(this.captured, 0, this.capturedLength);
    this.capturedLength = 0;
    if (key < 0) this.unreadable++;
    else this.addKey(key);
  }

  private addKey(key: number): void {
    if (key < this.minKey) this.minKey = key;
    if (key > this.maxKey) this.maxKey = key;
    if (key < this.startKey || key >= this.endKey) this.outside++;
  }
}

function hasContent(chunk: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (chunk[i] !== CR) return true;
  return false;
}

/** The fields of one CSV record (RFC 4180 quoting; a trailing CR is dropped). */
function parseRecord(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c !== '\r') field += c;
  }
  fields.push(field);
  return fields;
}

const DIGIT_0 = 0x30;

function digits(bytes: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = (bytes[i] as number) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * `MM-DD-YYYY HH:MM:SS` (optionally followed by ` UTC`) as the number YYYYMMDDhhmmss, which orders
 * like the time it names; -1 when the bytes are not such a timestamp.
 */
export function timestampKey(bytes: Uint8Array, at: number, length: number): number {
  if (length === 23) {
    if (
      bytes[at + 19] !== 0x20 ||
      bytes[at + 20] !== 0x55 ||
      bytes[at + 21] !== 0x54 ||
      bytes[at + 22] !== 0x43
    )
      return -1;
  } else if (length !== 19) return -1;
  if (
    bytes[at + 2] !== 0x2d ||
    bytes[at + 5] !== 0x2d ||
    bytes[at + 10] !== 0x20 ||
    bytes[at + 13] !== 0x3a ||
    bytes[at + 16] !== 0x3a
  )
    return -1;
  const month = digits(bytes, at, 2);
  const day = digits(bytes, at + 3, 2);
  const year = digits(bytes, at + 6, 4);
  const hour = digits(bytes, at + 11, 2);
  const minute = digits(bytes, at + 14, 2);
  const second = digits(bytes, at + 17, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return -1;
  if (second < 0 || second > 60 || year < 0) return -1;
  return ((((year * 100 + month) * 100 + day) * 100 + hour) * 100 + minute) * 100 + second;
}

function keyOfMs(ms: number): number {
  const d = new Date(ms);
  return (
    ((((d.getUTCFullYear() * 100 + d.getUTCMonth() + 1) * 100 + d.getUTCDate()) * 100 + d.getUTCHours()) *
      100 +
      d.getUTCMinutes()) *
      100 +
    d.getUTCSeconds()
  );
}

function isoOfKey(key: number): string {
  const s = String(key).padStart(14, '0');
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}Z`;
}
