// The emulator's CSV generator: deterministic rows per dataset, contract and window.
import { createHash } from 'node:crypto';
import { csvHeader, formatExportDate, formatExportTimestamp } from '#common/export-schemas';
import type { Dataset } from '#common/model';
import { contractId } from '#storage/keys';

/**
 * Deterministic export files. Every UTC day of a (contract, dataset) is generated from its own
 * seeded PRNG, so the same request always yields the same bytes, and the file of a window is the
 * header followed by the rows of its days in order: two halves of a split window together hold
 * exactly the rows of the whole window.
 */

export const DAY_MS = 86_400_000;

export const ACTIVITY_TYPES = [
  'SAVED_LEAD',
  'SAVED_ACCOUNT',
  'SEARCH_PERFORMED',
  'PROFILE_VIEWED',
  'INMAIL_SENT',
  'MESSAGE_SENT',
  'CONNECTION_MADE',
] as const;

/** Activities that are not about a lead: LinkedIn leaves their `memberIdentityKey` empty. */
export const ACTIVITIES_WITHOUT_LEAD: ReadonlySet<string> = new Set(['SAVED_ACCOUNT', 'SEARCH_PERFORMED']);

/** Values of the outcome file's `activityType` ("Type of outcome"; the values are our assumption). */
export const OUTCOME_TYPES = ['ACCEPTED', 'DECLINED', 'REPLIED', 'NO_RESPONSE'] as const;

/** The header of each file, from the one schema of each dataset. */
export const CSV_HEADERS: Record<Dataset, readonly string[]> = {
  seat: csvHeader('seat'),
  activity: csvHeader('activity'),
  activityOutcome: csvHeader('activityOutcome'),
};

/** One export file: `[startMs, endMs)` of whole UTC days, `rowsPerDay` data rows per day. */
export interface CsvSpec {
  contract: string;
  dataset: Dataset;
  startMs: number;
  endMs: number;
  rowsPerDay: number;
}

/** Rows of a day are emitted in chunks of this many, so a large file streams in bounded memory. */
const ROWS_PER_CHUNK = 1000;

export function csvRowCount(spec: CsvSpec): number {
  return ((spec.endMs - spec.startMs) / DAY_MS) * spec.rowsPerDay;
}

/** The file as a sequence of chunks: the header, then each day's rows in time order. */
export function* csvChunks(spec: CsvSpec): Generator<Buffer> {
  yield Buffer.from(`${CSV_HEADERS[spec.dataset].join(',')}\n`);
  for (let day = spec.startMs; day < spec.endMs; day += DAY_MS) {
    const rows = dayRows(spec, day);
    for (let i = 0; i < rows.length; i += ROWS_PER_CHUNK) {
      yield Buffer.from(rows.slice(i, i + ROWS_PER_CHUNK).join(''));
    }
  }
}

/** Byte size of the file, computed by one generating pass (nothing is kept in memory). */
export function csvByteLength(spec: CsvSpec): number {
  let bytes = 0;
  for (const chunk of csvChunks(spec)) bytes += chunk.length;
  return bytes;
}

export function csvBuffer(spec: CsvSpec): Buffer {
  return Buffer.concat([...csvChunks(spec)]);
}

const FIRST_NAMES = ['Ada', 'Bruno', 'Chen', 'Dana', 'Emeka', 'Freya', 'Goran', 'Hana', 'Ines', 'Jonas'];
const LAST_NAMES = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Silva', 'Novak', 'Haddad', 'Kowalski'];

interface Seat {
  seatId: string;
  seatHolderName: string;
  totalConnections: number;
}

/** The contract's seats; the pool has `rowsPerDay` seats, stable across days and datasets. */
function seat(contract: string, index: number): Seat {
  const rand = prng(`${contract}|seat|${index}`);
  return {
    seatId: `${contractId(contract)}${String(index + 1).padStart(4, '0')}`,
    seatHolderName: `${pick(rand, FIRST_NAMES)} ${pick(rand, LAST_NAMES)}`,
    totalConnections: 50 + Math.floor(rand() * 2950),
  };
}

/** One day's activities, sorted by time. Outcome rows are the outcomes of the same activities. */
function activities(spec: CsvSpec, day: number) {
  const rand = prng(`${spec.contract}|activity|${day}`);
  const times = Array.from({ length: spec.rowsPerDay }, () => day + Math.floor(rand() * DAY_MS)).sort(
    (a, b) => a - b,
  );
  return times.map((createdAt, i) => {
    const activityType = pick(rand, ACTIVITY_TYPES);
    const lead = hex(rand, 16);
    return {
      activityId: `${day / DAY_MS}${String(i + 1).padStart(6, '0')}`,
      activityType,
      createdAt,
      seat: seat(spec.contract, Math.floor(rand() * spec.rowsPerDay)),
      memberIdentityKey: ACTIVITIES_WITHOUT_LEAD.has(activityType) ? '' : lead,
    };
  });
}

function dayRows(spec: CsvSpec, day: number): string[] {
  const line = (fields: (string | number)[]) => `${fields.map(csvField).join(',')}\n`;
  switch (spec.dataset) {
    case 'seat': {
      const rand = prng(`${spec.contract}|seat|${day}`);
      return Array.from({ length: spec.rowsPerDay }, (_, i) => {
        const s = seat(spec.contract, i);
        const active = rand() < 0.9;
        // An inactive seat has no current Social Selling Index: the optional field stays empty.
        const ssi = active ? (20 + rand() * 70).toFixed(2) : '';
        return line([
          s.seatId,
          s.seatHolderName,
          active ? 'ACTIVE' : 'INACTIVE',
          ssi,
          s.totalConnections + Math.floor((day - Date.UTC(2020, 0, 1)) / DAY_MS / 30),
          formatExportDate(day),
        ]);
      });
    }
    case 'activity':
      return activities(spec, day).map((a) =>
        line([
          a.activityId,
          a.activityType,
          formatExportTimestamp(a.createdAt),
          a.seat.seatId,
          a.memberIdentityKey,
        ]),
      );
    case 'activityOutcome': {
      const rand = prng(`${spec.contract}|activityOutcome|${day}`);
      return activities(spec, day).map((a) => {
        // The outcome happens later the same day, so every row stays inside the window.
        const outcomeAt = a.createdAt + Math.floor(rand() * (day + DAY_MS - a.createdAt));
        return line([
          a.activityId,
          pick(rand, OUTCOME_TYPES),
          formatExportTimestamp(outcomeAt),
          a.seat.seatId,
        ]);
      });
    }
  }
}

/** A CSV field: quoted (RFC 4180) only when it holds a comma, a quote or a line break. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** mulberry32 seeded from a SHA-256 of `seed`: small, fast and identical on every platform. */
function prng(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32BE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(rand: () => number, values: readonly T[]): T {
  return values[Math.floor(rand() * values.length)] as T;
}

function hex(rand: () => number, length: number): string {
  return Array.from({ length }, () => Math.floor(rand() * 16).toString(16)).join('');
}
