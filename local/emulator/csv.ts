// The emulator's CSV generator: deterministic rows per dataset, contract and window.
import { createHash } from 'node:crypto';
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

const OUTCOME_TYPES = ['REPLIED', 'ACCEPTED', 'DECLINED', 'NO_RESPONSE'] as const;
const SEAT_ROLES = ['SALES_SEAT_TIER1', 'SALES_SEAT_TIER2', 'SALES_SEAT_TIER3'] as const;

export const CSV_HEADERS: Record<Dataset, readonly string[]> = {
  seat: [
    'seatId',
    'contract',
    'memberIdentityKey',
    'seatRole',
    'seatStatus',
    'assignedAt',
    'lastActivityAt',
    'reportDate',
  ],
  activity: ['activityId', 'activityType', 'createdAt', 'seatId', 'memberIdentityKey'],
  activityOutcome: ['activityId', 'activityType', 'outcomeType', 'outcomeAt', 'seatId'],
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

/** `MM-DD-YYYY HH:MM:SS UTC`, the timestamp format of LinkedIn's export files. */
export function formatLinkedInTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(5, 7)}-${iso.slice(8, 10)}-${iso.slice(0, 4)} ${iso.slice(11, 19)} UTC`;
}

interface Seat {
  seatId: string;
  memberIdentityKey: string;
  seatRole: string;
  assignedAt: number;
}

/** The contract's seats; the pool has `rowsPerDay` seats, stable across days and datasets. */
function seat(contract: string, index: number): Seat {
  const rand = prng(`${contract}|seat|${index}`);
  return {
    seatId: `${contractId(contract)}${String(index + 1).padStart(4, '0')}`,
    memberIdentityKey: hex(rand, 16),
    seatRole: pick(rand, SEAT_ROLES),
    // Assigned some time in 2023: before any window a test is likely to ask for.
    assignedAt: Date.UTC(2023, 0, 1) + Math.floor(rand() * 364) * DAY_MS,
  };
}

/** One day's activities, sorted by time. Outcome rows are the outcomes of the same activities. */
function activities(spec: CsvSpec, day: number) {
  const rand = prng(`${spec.contract}|activity|${day}`);
  const times = Array.from({ length: spec.rowsPerDay }, () => day + Math.floor(rand() * DAY_MS)).sort(
    (a, b) => a - b,
  );
  return times.map((createdAt, i) => ({
    activityId: `${day / DAY_MS}${String(i + 1).padStart(6, '0')}`,
    activityType: pick(rand, ACTIVITY_TYPES),
    createdAt,
    seat: seat(spec.contract, Math.floor(rand() * spec.rowsPerDay)),
  }));
}

function dayRows(spec: CsvSpec, day: number): string[] {
  const line = (fields: (string | number)[]) => `${fields.join(',')}\n`;
  switch (spec.dataset) {
    case 'seat': {
      const rand = prng(`${spec.contract}|seat|${day}`);
      return Array.from({ length: spec.rowsPerDay }, (_, i) => {
        const s = seat(spec.contract, i);
        const status = rand() < 0.9 ? 'ACTIVE' : 'INACTIVE';
        return line([
          s.seatId,
          spec.contract,
          s.memberIdentityKey,
          s.seatRole,
          status,
          formatLinkedInTimestamp(s.assignedAt),
          formatLinkedInTimestamp(day + Math.floor(rand() * DAY_MS)),
          formatLinkedInTimestamp(day).slice(0, 10),
        ]);
      });
    }
    case 'activity':
      return activities(spec, day).map((a) =>
        line([
          a.activityId,
          a.activityType,
          formatLinkedInTimestamp(a.createdAt),
          a.seat.seatId,
          a.seat.memberIdentityKey,
        ]),
      );
    case 'activityOutcome': {
      const rand = prng(`${spec.contract}|activityOutcome|${day}`);
      return activities(spec, day).map((a) => {
        // The outcome happens later the same day, so every row stays inside the window.
        const outcomeAt = a.createdAt + Math.floor(rand() * (day + DAY_MS - a.createdAt));
        return line([
          a.activityId,
          a.activityType,
          pick(rand, OUTCOME_TYPES),
          formatLinkedInTimestamp(outcomeAt),
          a.seat.seatId,
        ]);
      });
    }
  }
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
