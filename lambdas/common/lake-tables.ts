// Tables and views over the exported CSVs, derived from the export schemas: Glue table inputs and view SQL.
import {
  DATE_FORMAT,
  EXPORT_SCHEMAS,
  type ExportColumn,
  PARTITION_KEYS,
  TIMESTAMP_FORMAT,
} from './export-schemas.ts';
import type { Dataset } from './model.ts';

/** The S3 prefix of the data files (the same as `DATA_PREFIX` of the storage layout). */
const DATA_PREFIX = 'sales-navigator';

/** The SQL engines the views are written for: DuckDB on a laptop, Athena (Trino) on AWS. */
export type SqlDialect = 'duckdb' | 'athena';

/** A column's type in the raw table over the CSV: only what a CSV reader parses without guessing. */
export type StorageType = 'string' | 'bigint' | 'double';

/**
 * Times and days stay text in the raw table and are parsed by the views with their explicit
 * format: Athena's OpenCSVSerDe reads TIMESTAMP only as epoch milliseconds and DATE only as days
 * since 1970, and DuckDB would guess the order of `MM-DD-YYYY`. A nullable number stays text too:
 * OpenCSVSerDe cannot read an empty field as a number.
 */
export function storageType(column: ExportColumn): StorageType {
  if (column.type === 'timestamp' || column.type === 'date' || column.type === 'string') return 'string';
  if (column.nullable) return 'string';
  return column.type === 'long' ? 'bigint' : 'double';
}

/** The shape of Glue's `TableInput` (CreateTable / UpdateTable), limited to what these tables set. */
export interface GlueTableInput {
  Name: string;
  Description: string;
  TableType: 'EXTERNAL_TABLE';
  Parameters: Record<string, string>;
  PartitionKeys: { Name: string; Type: 'string'; Comment: string }[];
  StorageDescriptor: {
    Columns: { Name: string; Type: StorageType; Comment: string }[];
    Location: string;
    InputFormat: string;
    OutputFormat: string;
    SerdeInfo: { SerializationLibrary: string; Parameters: Record<string, string> };
  };
}

/**
 * The Glue table of one dataset over the existing S3 layout, `dataLocation` being the export root
 * (`s3://bucket/prefix`): CSV with a header line, read by OpenCSVSerDe (fields may be quoted),
 * partitioned by `contract` and `window` like the folders. Glue and Athena keep names in lower case.
 */
export function glueTableInput(dataset: Dataset, dataLocation: string): GlueTableInput {
  const schema = EXPORT_SCHEMAS[dataset];
  return {
    Name: schema.table,
    Description: `LinkedIn Sales Navigator ${dataset} export files (raw CSV; query the ${schema.view} view).`,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'csv', 'skip.header.line.count': '1', EXTERNAL: 'TRUE' },
    PartitionKeys: PARTITION_KEYS.map((p) => ({ Name: p.name, Type: 'string', Comment: p.description })),
    StorageDescriptor: {
      Columns: schema.columns.map((c) => ({
        Name: c.name.toLowerCase(),
        Type: storageType(c),
        Comment: c.description,
      })),
      Location: `${dataLocation.replace(/\/+$/, '')}/${DATA_PREFIX}/${dataset}/`,
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      SerdeInfo: {
        SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
        Parameters: { separatorChar: ',', quoteChar: '"', escapeChar: '\\' },
      },
    },
  };
}

/** One column of a view: its name and SQL type, for the column dictionary and the tests. */
export interface ViewColumn {
  name: string;
  type: 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'TIMESTAMP' | 'DATE';
  description: string;
}

/** The columns of a dataset's view, in order: the contract, the keys, the file's columns, the window. */
export function viewColumns(dataset: Dataset): ViewColumn[] {
  const schema = EXPORT_SCHEMAS[dataset];
  const sqlType = {
    string: 'VARCHAR',
    long: 'BIGINT',
    double: 'DOUBLE',
    timestamp: 'TIMESTAMP',
    date: 'DATE',
  } as const;
  return [
    { name: 'contract_id', type: 'VARCHAR', description: PARTITION_KEYS[0].description },
    ...Object.entries(schema.keys).map(([name, columns]) => ({
      name,
      type: 'VARCHAR' as const,
      description: `\`contract_id:${columns.join(':')}\`, unique across contracts.`,
    })),
    ...schema.columns.map((c) => ({
      name: c.name,
      type: sqlType[c.type],
      description: c.description + (c.format ? ` Parsed from \`${c.format}\`.` : ''),
    })),
    {
      name: 'window_start',
      type: 'DATE',
      description: 'First UTC day of the export window the row came from.',
    },
    {
      name: 'window_end',
      type: 'DATE',
      description: 'End day (exclusive) of the export window the row came from.',
    },
  ];
}

/**
 * `CREATE OR REPLACE VIEW <view>` over the raw table `<table>`: typed columns (times parsed with
 * their explicit format, empty fields as NULL), the contract id and composite keys, the window's
 * days as dates (`window` itself, a reserved word, is not exposed), and one row per `rowKey` of a
 * contract even when overlapping exports hold it twice (the copy of the latest window is kept).
 */
export function viewSql(dataset: Dataset, dialect: SqlDialect): string {
  return `CREATE OR REPLACE VIEW ${EXPORT_SCHEMAS[dataset].view} AS\n${viewQuery(dataset, dialect)}`;
}

/** The `SELECT` of `viewSql`, without `CREATE VIEW` (what an Athena view stores as its `originalSql`). */
export function viewQuery(dataset: Dataset, dialect: SqlDialect): string {
  const schema = EXPORT_SCHEMAS[dataset];
  const raw = (name: string) => quote(name, dialect);
  const contract = quote('contract', dialect);
  const window = quote('window', dialect);
  const keyExpr = (columns: readonly string[]) =>
    [contract, ...columns.map((c) => `CAST(${raw(c)} AS VARCHAR)`)].join(" || ':' || ");
  const selects = [
    `${contract} AS contract_id`,
    ...Object.entries(schema.keys).map(([name, columns]) => `${keyExpr(columns)} AS ${name}`),
    ...schema.columns.map((c) => `${typedExpr(c, raw(c.name), dialect)} AS ${raw(c.name)}`),
    `CAST(substr(${window}, 1, 10) AS DATE) AS window_start`,
    `CAST(substr(${window}, 12, 10) AS DATE) AS window_end`,
    `row_number() OVER (PARTITION BY ${[contract, ...schema.rowKey.map(raw)].join(', ')} ORDER BY ${window} DESC) AS copy_rank`,
  ];
  const outer = viewColumns(dataset).map((c) => quote(c.name, dialect));
  return [
    `SELECT ${outer.join(', ')}`,
    'FROM (',
    `  SELECT\n    ${selects.join(',\n    ')}`,
    `  FROM ${schema.table}`,
    ') AS copies',
    'WHERE copy_rank = 1',
  ].join('\n');
}

function typedExpr(column: ExportColumn, ref: string, dialect: SqlDialect): string {
  const text = column.nullable ? `NULLIF(${ref}, '')` : ref;
  switch (column.type) {
    case 'string':
      return text;
    case 'long':
      return `CAST(${text} AS BIGINT)`;
    case 'double':
      return `CAST(${text} AS DOUBLE)`;
    case 'timestamp':
    case 'date': {
      const pattern =
        PARSE_PATTERNS[column.format ?? (column.type === 'date' ? DATE_FORMAT : TIMESTAMP_FORMAT)];
      const parsed =
        dialect === 'duckdb'
          ? `strptime(${text}, '${pattern.duckdb}')`
          : `date_parse(${text}, '${pattern.athena}')`;
      return column.type === 'date' ? `CAST(${parsed} AS DATE)` : parsed;
    }
  }
}

/** Each export format as a DuckDB `strptime` and an Athena (Trino) `date_parse` pattern. */
const PARSE_PATTERNS = {
  [TIMESTAMP_FORMAT]: { duckdb: '%m-%d-%Y %H:%M:%S', athena: '%m-%d-%Y %H:%i:%s' },
  [DATE_FORMAT]: { duckdb: '%m-%d-%Y', athena: '%m-%d-%Y' },
} as const;

/** Identifiers are always quoted: `window` is reserved, and Athena would fold the camelCase otherwise. */
function quote(name: string, dialect: SqlDialect): string {
  return `"${(dialect === 'athena' ? name.toLowerCase() : name).replaceAll('"', '""')}"`;
}

/** Each view column type as Hive names it (the Glue columns) and as Trino names it (the view JSON). */
const VIEW_TYPES = {
  VARCHAR: { hive: 'string', trino: 'varchar' },
  BIGINT: { hive: 'bigint', trino: 'bigint' },
  DOUBLE: { hive: 'double', trino: 'double' },
  TIMESTAMP: { hive: 'timestamp', trino: 'timestamp' },
  DATE: { hive: 'date', trino: 'date' },
} as const satisfies Record<ViewColumn['type'], { hive: string; trino: string }>;

/** The JSON an Athena (Trino) view keeps base64-encoded in its Glue table's `ViewOriginalText`. */
export interface PrestoViewDefinition {
  originalSql: string;
  catalog: 'awsdatacatalog';
  schema: string;
  columns: { name: string; type: string }[];
}

/** The shape of Glue's `TableInput` for an Athena view, limited to what these views set. */
export interface GlueViewInput {
  Name: string;
  Description: string;
  TableType: 'VIRTUAL_VIEW';
  Parameters: { presto_view: 'true'; comment: 'Presto View' };
  PartitionKeys: [];
  ViewOriginalText: string;
  ViewExpandedText: '/* Presto View */';
  StorageDescriptor: { Columns: { Name: string; Type: string; Comment: string }[] };
}

const PRESTO_VIEW_PREFIX = '/* Presto View: ';
const PRESTO_VIEW_SUFFIX = ' */';

/**
 * The Glue table that IS the dataset's Athena view in `database`, the way Athena stores one it
 * created with `CREATE VIEW` (Trino's Hive connector reads it back): `TableType: VIRTUAL_VIEW`, the
 * `presto_view` flag, and `ViewOriginalText` = `/* Presto View: <base64 JSON> *\/`, the JSON holding
 * `viewQuery(dataset, 'athena')` and its columns in Trino types. The columns must be the ones the
 * query yields, by name, order and type, or Athena refuses the view as stale; both come from
 * `viewColumns`. An Athena `NamedQuery` would only save the `CREATE VIEW` text, never run it.
 */
export function glueViewInput(dataset: Dataset, database: string): GlueViewInput {
  const columns = viewColumns(dataset);
  const definition: PrestoViewDefinition = {
    originalSql: viewQuery(dataset, 'athena'),
    catalog: 'awsdatacatalog',
    schema: database,
    columns: columns.map((c) => ({ name: c.name.toLowerCase(), type: VIEW_TYPES[c.type].trino })),
  };
  const encoded = Buffer.from(JSON.stringify(definition), 'utf8').toString('base64');
  return {
    Name: EXPORT_SCHEMAS[dataset].view,
    Description: `LinkedIn Sales Navigator ${dataset} exports: typed columns, one row per ${EXPORT_SCHEMAS[dataset].rowKey.join(' + ')} of a contract.`,
    TableType: 'VIRTUAL_VIEW',
    Parameters: { presto_view: 'true', comment: 'Presto View' },
    PartitionKeys: [],
    ViewOriginalText: `${PRESTO_VIEW_PREFIX}${encoded}${PRESTO_VIEW_SUFFIX}`,
    ViewExpandedText: '/* Presto View */',
    StorageDescriptor: {
      Columns: columns.map((c) => ({
        Name: c.name.toLowerCase(),
        Type: VIEW_TYPES[c.type].hive,
        Comment: c.description.slice(0, 255),
      })),
    },
  };
}

/** The view JSON of a `ViewOriginalText` (the inverse of `glueViewInput`'s encoding), for checks. */
export function decodePrestoView(viewOriginalText: string): PrestoViewDefinition {
  if (!viewOriginalText.startsWith(PRESTO_VIEW_PREFIX) || !viewOriginalText.endsWith(PRESTO_VIEW_SUFFIX)) {
    throw new Error('not a Presto view text (expected /* Presto View: <base64> */)');
  }
  const encoded = viewOriginalText.slice(PRESTO_VIEW_PREFIX.length, -PRESTO_VIEW_SUFFIX.length);
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as PrestoViewDefinition;
}
