// A query result as a readable text table or as JSON rows.
import { isNumericType, type QueryResult } from './lake.ts';

/** Column-aligned text: numbers right-aligned, NULL written as NULL, and the row count below. */
export function formatTable(result: QueryResult): string {
  const numeric = result.types.map(isNumericType);
  const cells = result.rows.map((row) => row.map((v) => (v === null ? 'NULL' : String(v))));
  const widths = result.columns.map((name, c) =>
    Math.max(name.length, ...cells.map((row) => (row[c] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const count = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  return [line(result.columns), rule, ...cells.map(line), count].join('\n');
}

/** One JSON object per row, keyed by column name (a repeated name keeps its last value). */
export function formatJson(result: QueryResult): string {
  const objects = result.rows.map((row) =>
    Object.fromEntries(result.columns.map((name, c) => [name, row[c]])),
  );
  return JSON.stringify(objects, null, 2);
}
