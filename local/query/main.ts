// `npm run query`: SQL over a local export folder with DuckDB, printed as a table or JSON.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXPORT_SCHEMAS } from '#common/export-schemas';
import { DATASETS } from '#common/model';
import { formatJson, formatTable } from './format.ts';
import { LocalLake } from './lake.ts';

export const QUERY_USAGE = `Query a local export folder with DuckDB SQL.

Usage:
  npm run query -- [--dest DIR] [--json] "SQL"

Views (typed, one row per record even after overlapping exports): ${DATASETS.map((d) => EXPORT_SCHEMAS[d].view).join(', ')}
Raw CSV tables (text as written, with the contract and window partitions): ${DATASETS.map((d) => EXPORT_SCHEMAS[d].table).join(', ')}

Options:
  --dest DIR   the export folder (default ./exports, the export CLI's default)
  --json       print the rows as a JSON array of objects
  -h, --help   this help

Example:
  npm run query -- "SELECT activityType, count(*) AS activities FROM activity GROUP BY 1 ORDER BY 2 DESC"

Exit codes: 0 done, 1 the query failed, 2 bad arguments.`;

export interface QueryIo {
  out(text: string): void;
  err(text: string): void;
}

export async function runQueryCli(argv: string[], io: QueryIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n\n${QUERY_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(QUERY_USAGE);
    return 0;
  }
  const dest = values.dest ?? './exports';
  if (positionals.length !== 1 || !positionals[0]?.trim()) {
    io.err(`error: give exactly one SQL statement (quote it)\n\n${QUERY_USAGE}`);
    return 2;
  }
  if (dest.startsWith('s3://')) {
    io.err(
      'error: --dest must be a local folder; on AWS, query the same views with Athena (README "Query your data")',
    );
    return 2;
  }
  const root = resolve(dest);
  if (!(await stat(root).catch(() => undefined))?.isDirectory()) {
    io.err(
      `error: no export folder at ${root}; export first (npm run demo) or name the folder with --dest DIR`,
    );
    return 2;
  }
  let lake: LocalLake | undefined;
  try {
    lake = await LocalLake.open(root);
    const result = await lake.query(positionals[0]);
    io.out(values.json ? formatJson(result) : formatTable(result));
    return 0;
  } catch (err) {
    io.err(`error: ${(err as Error).message}`);
    return 1;
  } finally {
    lake?.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dest: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
