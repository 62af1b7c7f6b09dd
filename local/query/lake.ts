// DuckDB over a local export folder: the raw CSV tables and the typed views of the export schemas.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { csvHeader, EXPORT_SCHEMAS } from '#common/export-schemas';
import { storageType, viewSql } from '#common/lake-tables';
import { DATASETS, type Dataset } from '#common/model';

/** The data prefix of the S3 layout (`sales-navigator/<dataset>/contract=<id>/window=<start>_<end>/<dataset>.csv`). */
const DATA_PREFIX = 'sales-navigator';

const DUCKDB_TYPE = { string: 'VARCHAR', bigint: 'BIGINT', double: 'DOUBLE' } as const;

/** A query's answer: column names and DuckDB types, and the rows as JSON-safe values in column order. */
export interface QueryResult {
  columns: string[];
  types: string[];
  rows: (string | number | boolean | null)[][];
}

/** A file whose header is not the dataset's documented one: reading it by position would mislabel columns. */
export class UnexpectedHeaderError extends Error {
  override readonly name = 'UnexpectedHeaderError';
}

/**
 * An in-memory DuckDB with, per dataset, the raw table `<dataset>_csv` over the folder's export
 * files (every column typed as written, nothing auto-detected, `contract` and `window` from the
 * folder names) and the typed, de-duplicated view of `viewSql` (`seat`, `activity`, `activity_outcome`).
 */
export class LocalLake {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: Awaited<ReturnType<DuckDBInstance['connect']>>,
  ) {}

  static async open(root: string): Promise<LocalLake> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const lake = new LocalLake(instance, connection);
    try {
      for (const dataset of DATASETS) {
        await connection.run(rawTableSql(dataset, await exportFiles(root, dataset)));
        await connection.run(viewSql(dataset, 'duckdb'));
      }
    } catch (err) {
      lake.close();
      throw err;
    }
    return lake;
  }

  async query(sql: string): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql);
    const types = reader.columnTypes().map(String);
    const rows = reader.getRowsJson().map((row) => row.map((value, i) => jsonCell(value, types[i] ?? '')));
    return { columns: reader.columnNames(), types, rows };
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** The dataset's export files under `root`, each checked to start with the dataset's header. */
export async function exportFiles(root: string, dataset: Dataset): Promise<string[]> {
  const dir = join(root, DATA_PREFIX, dataset);
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const file = new RegExp(`^contract=[^/\\\\]+[/\\\\]window=[^/\\\\]+[/\\\\]${dataset}\\.csv$`);
  const files = entries
    .filter((e) => file.test(e))
    .sort()
    .map((e) => join(dir, e));
  const expected = csvHeader(dataset).join(',');
  for (const path of files) {
    const header = (await firstLine(path)).replace(/\r$/, '');
    if (header !== expected) {
      throw new UnexpectedHeaderError(
        `${path}: header is "${header}", expected "${expected}" (LinkedIn's ${dataset} columns). ` +
          'Re-export this window with --force, or move the file out of the export folder.',
      );
    }
  }
  return files;
}

async function firstLine(path: string): Promise<string> {
  const file = await open(path);
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.indexOf('\n');
    return end < 0 ? text : text.slice(0, end);
  } finally {
    await file.close();
  }
}

/** `CREATE VIEW <dataset>_csv`: the files read with the schema's columns, or no rows when there are none. */
export function rawTableSql(dataset: Dataset, files: readonly string[]): string {
  const schema = EXPORT_SCHEMAS[dataset];
  const columns = schema.columns.map((c) => [c.name, DUCKDB_TYPE[storageType(c)]] as const);
  if (files.length === 0) {
    const nulls = [...columns, ['contract', 'VARCHAR'], ['window', 'VARCHAR']].map(
      ([name, type]) => `CAST(NULL AS ${type}) AS "${name}"`,
    );
    return `CREATE OR REPLACE VIEW ${schema.table} AS SELECT ${nulls.join(', ')} WHERE false`;
  }
  const struct = (entries: readonly (readonly [string, string])[]) =>
    `{${entries.map(([k, v]) => `${literal(k)}: ${literal(v)}`).join(', ')}}`;
  return [
    `CREATE OR REPLACE VIEW ${schema.table} AS SELECT * FROM read_csv(`,
    `  [${files.map(literal).join(', ')}],`,
    `  header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',`,
    `  columns = ${struct(columns)},`,
    `  hive_partitioning = true, hive_types = ${struct([
      ['contract', 'VARCHAR'],
      ['window', 'VARCHAR'],
    ])}`,
    ')',
  ].join('\n');
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)\b/;

/** Whether a DuckDB column type (as `QueryResult.types` names it) is a number. */
export function isNumericType(type: string): boolean {
  return NUMERIC.test(type);
}

/** DuckDB hands 64-bit integers over as text to keep them exact; a number when it is exactly representable. */
function jsonCell(value: unknown, type: string): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (isNumericType(type)) {
      const n = Number(value);
      if (Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
    }
    return value;
  }
  return JSON.stringify(value);
}
