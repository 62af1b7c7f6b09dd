// The columns of LinkedIn's three export files: the one typed schema per dataset the emulator, tables and tests use.
import type { Dataset } from './model.ts';

/**
 * The meaning of a column's text. `timestamp` and `date` are written in an explicit `format` and
 * are never left to a reader's guess (DuckDB reads `11-01-2026` day-first, as 11 January).
 */
export type ColumnType = 'string' | 'long' | 'double' | 'timestamp' | 'date';

/** How LinkedIn writes times (exports schema page: "MM-DD-YYYY HH:MM:SS format (UTC)"). */
export const TIMESTAMP_FORMAT = 'MM-DD-YYYY HH:MM:SS';
/** A day in the same month-first order (our assumption for the seat file's day, see the notes). */
export const DATE_FORMAT = 'MM-DD-YYYY';

export interface ExportColumn {
  /** The CSV header exactly as in the file. */
  readonly name: string;
  readonly type: ColumnType;
  /** Set for `timestamp` (`TIMESTAMP_FORMAT`, UTC) and `date` (`DATE_FORMAT`). */
  readonly format?: typeof TIMESTAMP_FORMAT | typeof DATE_FORMAT;
  /** LinkedIn leaves the field empty ("Optional in response"); an empty field means NULL. */
  readonly nullable: boolean;
  readonly description: string;
  /**
   * `linkedin`: the column, its type and meaning are on LinkedIn's "Exports schema" page.
   * `assumed`: the page's part on this file could not be read or is silent; our best reading
   * (docs/linkedin-api-notes.md, "Export file schemas").
   */
  readonly source: 'linkedin' | 'assumed';
}

export interface ExportSchema {
  readonly dataset: Dataset;
  /** The name of the typed, de-duplicated view (DuckDB locally, Athena on AWS). */
  readonly view: string;
  /** The name of the raw table over the CSV files, whose view is `view`. */
  readonly table: string;
  readonly description: string;
  readonly columns: readonly ExportColumn[];
  /**
   * Columns that identify one row within one contract. Rows repeated by overlapping exports
   * (a `--force` rerun over another window) share them; the view keeps one.
   */
  readonly rowKey: readonly string[];
  /**
   * Keys the view adds, each the contract id and these columns joined by `:`: unique across
   * contracts where a bare id is not (`activityId` repeats across contracts).
   */
  readonly keys: Readonly<Record<string, readonly string[]>>;
}

/** The Hive partitions of the S3 layout (`contract=<id>/window=<start>_<end>/`), not columns of any file. */
export const PARTITION_KEYS = [
  {
    name: 'contract',
    description: 'The contract id: the last part of the contract URN (`urn:li:contract:<id>`).',
  },
  {
    name: 'window',
    description:
      'The export window `YYYY-MM-DD_YYYY-MM-DD`: first UTC day (inclusive) and end day (exclusive).',
  },
] as const;

const SEAT_ID_IN_FILE = 'Identifier of the seat holder (the `seatId` of the activity files).';

export const EXPORT_SCHEMAS: Record<Dataset, ExportSchema> = {
  seat: {
    dataset: 'seat',
    view: 'seat',
    table: 'seat_csv',
    description:
      'A daily summary per seat holder: name, seat status, Social Selling Index, total connections. One row per seat per day.',
    columns: [
      { name: 'seatId', type: 'long', nullable: false, description: SEAT_ID_IN_FILE, source: 'assumed' },
      {
        name: 'seatHolderName',
        type: 'string',
        nullable: false,
        description: 'Name of the seat holder.',
        source: 'assumed',
      },
      {
        name: 'seatStatus',
        type: 'string',
        nullable: false,
        description: 'Status of the seat on that day, e.g. ACTIVE or INACTIVE.',
        source: 'assumed',
      },
      {
        name: 'socialSellingIndex',
        type: 'double',
        nullable: true,
        description:
          "The seat holder's Social Selling Index (0 to 100); empty (NULL) when there is no score.",
        source: 'assumed',
      },
      {
        name: 'totalConnections',
        type: 'long',
        nullable: false,
        description: 'Number of LinkedIn connections of the seat holder.',
        source: 'assumed',
      },
      {
        name: 'reportDate',
        type: 'date',
        format: DATE_FORMAT,
        nullable: false,
        description: 'The UTC day this row summarises.',
        source: 'assumed',
      },
    ],
    rowKey: ['seatId', 'reportDate'],
    keys: { seat_key: ['seatId'] },
  },
  activity: {
    dataset: 'activity',
    view: 'activity',
    table: 'activity_csv',
    description: 'Activities performed by seat holders: one row per activity.',
    columns: [
      {
        name: 'activityId',
        type: 'string',
        nullable: false,
        description: 'Unique ID for the sales activity (unique within a contract, not across contracts).',
        source: 'linkedin',
      },
      {
        name: 'activityType',
        type: 'string',
        nullable: false,
        description:
          'Type of activity: SAVED_LEAD, SAVED_ACCOUNT, SEARCH_PERFORMED, PROFILE_VIEWED, INMAIL_SENT, MESSAGE_SENT, CONNECTION_MADE.',
        source: 'linkedin',
      },
      {
        name: 'createdAt',
        type: 'timestamp',
        format: TIMESTAMP_FORMAT,
        nullable: false,
        description: 'The time the sales activity took place (UTC).',
        source: 'linkedin',
      },
      {
        name: 'seatId',
        type: 'long',
        nullable: false,
        description: 'Identifier of the seat holder who took the action.',
        source: 'linkedin',
      },
      {
        name: 'memberIdentityKey',
        type: 'string',
        nullable: true,
        description:
          'Unique identifier of the lead the activity is about; empty (NULL) for activities not about a lead (e.g. SAVED_ACCOUNT).',
        source: 'linkedin',
      },
    ],
    rowKey: ['activityId'],
    keys: { activity_key: ['activityId'], seat_key: ['seatId'] },
  },
  activityOutcome: {
    dataset: 'activityOutcome',
    view: 'activity_outcome',
    table: 'activity_outcome_csv',
    description: 'Outcome events of activities (e.g. an InMail accepted): one row per outcome event.',
    columns: [
      {
        name: 'activityId',
        type: 'string',
        nullable: false,
        description: 'Unique ID of the activity associated with this outcome event.',
        source: 'linkedin',
      },
      {
        name: 'activityType',
        type: 'string',
        nullable: false,
        description:
          "Type of outcome (not the activity's type); the emulator writes ACCEPTED, DECLINED, REPLIED, NO_RESPONSE.",
        source: 'linkedin',
      },
      {
        name: 'createdAt',
        type: 'timestamp',
        format: TIMESTAMP_FORMAT,
        nullable: false,
        description: 'The time the outcome event happened (UTC).',
        source: 'assumed',
      },
      { name: 'seatId', type: 'long', nullable: false, description: SEAT_ID_IN_FILE, source: 'assumed' },
    ],
    rowKey: ['activityId', 'activityType', 'createdAt'],
    keys: { activity_key: ['activityId'], seat_key: ['seatId'] },
  },
};

/** The header line of a dataset's file, in column order. */
export function csvHeader(dataset: Dataset): readonly string[] {
  return EXPORT_SCHEMAS[dataset].columns.map((c) => c.name);
}

/** `MM-DD-YYYY HH:MM:SS` (UTC) of an epoch-ms instant: how LinkedIn writes `createdAt`. */
export function formatExportTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${formatExportDate(ms)} ${iso.slice(11, 19)}`;
}

/** `MM-DD-YYYY` of the UTC day of an epoch-ms instant. */
export function formatExportDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(5, 7)}-${iso.slice(8, 10)}-${iso.slice(0, 4)}`;
}
